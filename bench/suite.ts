/**
 * The benchmark suite: every figure of docs/benchmarks.md, measured side by
 * side in one run on this machine, as ratios to this machine's own ceilings.
 * Run by bench/run.sh (`deno task bench`), which gives it a throwaway
 * Postgres with pg_stat_statements; prints the table and rewrites
 * docs/benchmarks.md and docs/benchmarks-latency.svg.
 *
 *   --db-url URL --pg-bin DIR     the throwaway cluster (from bench/run.sh)
 *   --admin-url URL               its superuser (to switch statement tracking)
 *   --seconds N                   per load level (default 8)
 *   --memory-seconds N            the memory run (default 300)
 *   --cold-runs N                 cold-start runs per function (default 15)
 *   --clients N                   pgbench clients and wrk connections (default 16)
 *   --command "…"                 how the suite was invoked, for the report
 */
import { spawnGateway } from "../scripts/lib/gateway-process.ts";
import { freePort, FUNCTION_V8_FLAGS } from "../scripts/lib/function-workers.ts";
import postgres from "postgres";
import { parseDotenv } from "../scripts/lib/dotenv.ts";
import { TwilioDriver } from "../tests/flow/twilio-driver.ts";
import { measureColdStarts } from "./cold-start.bench.ts";
import { compareRateLimiters } from "./rate-limit.bench.ts";
import { loadLevel, type LoadResult } from "./lib/load.ts";
import {
  CALL_ROW_SCRIPTS,
  INSERT_CEILING_SCRIPT,
  pgbench,
  type PgbenchResult,
  statusBatchScript,
  STEP_SCRIPTS,
} from "./lib/pgbench.ts";
import {
  clusterCpuMs,
  cpuMs,
  machineCpuMs,
  residentMiB,
  run,
  type ServerProcess,
  startServer,
} from "./lib/processes.ts";
import { HOT_PATH, type HotPathStep, writeSignedWebhooks } from "./lib/webhooks.ts";
import {
  type CallPath,
  type CpuPerRequest,
  MEMORY_SAMPLING,
  publishReport,
  type SuiteResults,
} from "./lib/report.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function arg(name: string, fallback?: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  const value = i >= 0 ? Deno.args[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const DB_URL = arg("db-url");
const ADMIN_URL = arg("admin-url");
const PG_BIN = arg("pg-bin");
const SECONDS = Number(arg("seconds", "8"));
const MEMORY_SECONDS = Number(arg("memory-seconds", "300"));
const COLD_RUNS = Number(arg("cold-runs", "15"));
const CLIENTS = Number(arg("clients", "16"));
const COMMAND = arg("command", "deno task bench");
/** Offered load as fractions of each target's saturation; then saturation itself. */
const LEVELS = [0.25, 0.5, 0.75];
/** Load before the memory run's first reading, in seconds. */
const WARM_UP_SECONDS = 20;

const example = parseDotenv(Deno.readTextFileSync(`${ROOT}/supabase/functions/.env.example`));
const WORK = await Deno.makeTempDir({ prefix: "hotline-bench-" });
const sql = postgres(DB_URL, { max: 2, onnotice: () => {} });
/** The superuser: pg_stat_statements' creation, reset and tracking switch. */
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const log = (line: string) => console.error(`[bench] ${line}`);
let runCounter = 1;

// The URL Twilio signs. The gateway listens there; direct runs send the same
// signed requests to the function's own port (it rebuilds the URL from this).
const GATEWAY_PORT = freePort();
const PUBLIC_BASE = `http://127.0.0.1:${GATEWAY_PORT}/functions/v1`;
const functionEnv = { ...example, SUPABASE_DB_URL: DB_URL, PUBLIC_BASE_URL: PUBLIC_BASE };

const startFunction = (slug: string) =>
  startServer(`${ROOT}/supabase/functions/${slug}/index.ts`, {
    ...functionEnv,
    SB_FUNCTION_SLUG: slug,
  });

/** A fresh file of `count` signed webhooks for `step` (new CallSids and callers each time). */
async function freshWebhooks(step: HotPathStep, count: number): Promise<string> {
  const file = `${WORK}/${step.slug}-${runCounter}.tsv`;
  await writeSignedWebhooks({
    file,
    step,
    count,
    run: runCounter++,
    publicBaseUrl: PUBLIC_BASE,
    authToken: example.TWILIO_AUTH_TOKEN,
    accountSid: example.TWILIO_ACCOUNT_SID,
    hotline: example.HOTLINE_E164,
  });
  return file;
}

async function setUpTables() {
  // Not a trusted extension: its creation needs the superuser.
  await admin`create extension if not exists pg_stat_statements`;
  await sql`create table if not exists bench_insert_ceiling (call_sid text, from_number text)`;
  await sql`create table if not exists bench_naive_webhooks (call_sid text, from_number text)`;
  // call_logs' columns with their defaults, as plain types, and no index but the key.
  await sql`create table if not exists bench_call_row_bare (
    call_sid text primary key, account_sid text, number_id uuid, from_number text not null,
    to_number text not null, direction text not null default 'inbound',
    status text not null default 'ringing', menu_choice text, menu_attempts smallint not null default 0,
    dial_target text, dial_call_status text, dial_duration_seconds integer, duration_seconds integer,
    started_at timestamptz not null default now(), answered_at timestamptz, ended_at timestamptz,
    updated_at timestamptz not null default now(), screening_accepted_at timestamptz,
    frontdoor_answer jsonb)`;
  // call_logs as it stands, but each check on one column is a domain with the
  // same condition: the same guarantees, checked where Postgres keeps them
  // prepared (the type cache) rather than re-reading the table's checks on
  // every statement. Built from the catalog, so it follows call_logs.
  await sql.unsafe(`
    drop table if exists bench_call_row_domains;
    create table bench_call_row_domains (like public.call_logs including defaults including indexes);
    do $$
    declare
      c record;
    begin
      for c in
        select a.attname, format_type(a.atttypid, a.atttypmod) as type,
               string_agg(regexp_replace(pg_get_constraintdef(k.oid), '\\m' || a.attname || '\\M', 'VALUE', 'g'), ' ') as checks
          from pg_constraint k
          join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
         where k.conrelid = 'public.call_logs'::regclass and k.contype = 'c' and cardinality(k.conkey) = 1
         group by a.attname, a.atttypid, a.atttypmod
      loop
        execute format('drop domain if exists %I cascade', 'bench_' || c.attname);
        execute format('create domain %I as %s %s', 'bench_' || c.attname, c.type, c.checks);
        execute format('alter table bench_call_row_domains alter column %I type %I', c.attname, 'bench_' || c.attname);
      end loop;
      -- A check over several columns stays a table check.
      for c in
        select pg_get_constraintdef(k.oid) as def from pg_constraint k
         where k.conrelid = 'public.call_logs'::regclass and k.contype = 'c' and cardinality(k.conkey) > 1
      loop
        execute format('alter table bench_call_row_domains add %s', c.def);
      end loop;
    end
    $$`);
}

async function machine(): Promise<SuiteResults["machine"]> {
  const [{ version }] = await sql`select version()`;
  const mem = /MemTotal:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/meminfo"))!;
  const cpu = /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"));
  return {
    cores: navigator.hardwareConcurrency,
    cpu: cpu?.[1] ?? "unknown",
    memoryGiB: Number(mem[1]) / 1024 / 1024,
    postgres: String(version).split(" on ")[0],
    deno: Deno.version.deno,
    // `wrk -v` prints its version and exits non-zero.
    wrk: new TextDecoder().decode((await new Deno.Command("wrk", { args: ["-v"] }).output()).stdout)
      .split("\n")[0].trim(),
    pgbench: (await run(`${PG_BIN}/pgbench`, ["--version"])).trim(),
    functionV8Flags: FUNCTION_V8_FLAGS,
  };
}

/** Each labelled script under pgbench at CLIENTS clients, one after another. */
async function pgbenchEach(scripts: Record<string, string>, seconds: number) {
  const out: Record<string, PgbenchResult> = {};
  for (const [label, script] of Object.entries(scripts)) {
    log(`pgbench: ${label}`);
    out[label] = await pgbench({ pgBin: PG_BIN, dbUrl: DB_URL, script, clients: CLIENTS, seconds });
  }
  return out;
}

/** The SQL alone: the insert ceiling and each step's function, pgbench at CLIENTS clients. */
async function sqlCosts() {
  const seconds = Math.max(5, SECONDS);
  log(`pgbench: insert ceiling, ${CLIENTS} clients, ${seconds} s`);
  const ceiling = await pgbench({
    pgBin: PG_BIN,
    dbUrl: DB_URL,
    script: INSERT_CEILING_SCRIPT,
    clients: CLIENTS,
    seconds,
  });
  const callRow = await pgbenchEach(CALL_ROW_SCRIPTS, seconds);
  const steps = await pgbenchEach(STEP_SCRIPTS, seconds);
  return { ceiling, steps, callRow };
}

/**
 * voice-status's SQL as it runs under load: batches of the size its coalescer
 * sent at saturation (the mean, rounded down), driven by pgbench at CLIENTS
 * clients, in callbacks per second: shown beside the one-callback figure the
 * goal is judged on, and the Postgres cost per callback of the end-to-end run.
 */
async function statusBatchCost(meanBatch: number | undefined) {
  if (meanBatch === undefined) return undefined;
  const size = Math.max(1, Math.floor(meanBatch));
  log(`pgbench: voice-status SQL in batches of ${size}`);
  const r = await pgbench({
    pgBin: PG_BIN,
    dbUrl: DB_URL,
    script: statusBatchScript(size),
    clients: CLIENTS,
    seconds: Math.max(5, SECONDS),
  });
  return { size, meanBatch, callbacksPerSecond: r.tps * size, latencyMs: r.latencyMs };
}

const TABLE_WRITES = `
  select relname as table, n_tup_ins::int as ins, n_tup_upd::int as upd, n_tup_del::int as del,
         n_tup_hot_upd::int as hot,
         (select count(*)::int from pg_index i where i.indrelid = s.relid) as indexes
  from pg_stat_user_tables s where schemaname = 'public' and relname not like 'bench_%'`;

/**
 * Statements and rows per webhook, counted by Postgres: pg_stat_statements
 * (track = all: the client's statements as top level, the SQL function's own
 * as nested) and the table statistics, over N webhooks of each step. The
 * function process is stopped before each reading, so its backends have
 * flushed their statistics.
 */
async function countPerWebhook(n: number) {
  const counts: SuiteResults["perWebhook"] = [];
  // pg_cron's cleanup jobs (rate limits every minute, idempotency keys every
  // five) would be counted against whichever step was running: paused here.
  await sql`update cron.job set active = false`;
  const track = async (what: "all" | "top") => {
    await admin.unsafe(`alter system set pg_stat_statements.track = '${what}'`);
    await admin`select pg_reload_conf()`;
  };
  try {
    await track("all");
    await countSteps(n, counts);
  } finally {
    await track("top");
    await sql`update cron.job set active = true`;
  }
  return counts;
}

async function countSteps(n: number, counts: SuiteResults["perWebhook"]) {
  for (const step of HOT_PATH) {
    const warm = await freshWebhooks(step, 20);
    const fresh = await freshWebhooks(step, n);
    let fn = await startFunction(step.slug);
    await sendSequentially(fn, warm);
    await fn.stop();
    await new Promise((r) => setTimeout(r, 300));
    const before = await sql.unsafe(TABLE_WRITES);
    await admin`select pg_stat_statements_reset()`;
    fn = await startFunction(step.slug);
    const answers = await sendSequentially(fn, fresh);
    await fn.stop();
    await new Promise((r) => setTimeout(r, 500));
    await sql`select pg_stat_clear_snapshot()`;
    // A step's statement timeout (SET LOCAL) rides in the same simple-protocol
    // Query message as its statement (platform/db.ts, timedInlineQuery):
    // counted apart, so that a round trip is a statement the client sent.
    const statements = await sql`
      select toplevel, query ilike 'set local statement_timeout%' as timeout_setting,
             sum(calls)::int as calls
      from pg_stat_statements
      where query not ilike '%pg_stat%' and query not ilike '%pg_type%' and query not ilike '%pg_catalog%'
      group by 1, 2`;
    const after = await sql.unsafe(TABLE_WRITES);
    const tables = after.map((a) => {
      const b = before.find((x) => x.table === a.table)!;
      return {
        table: a.table as string,
        inserted: (a.ins - b.ins) / n,
        updated: (a.upd - b.upd) / n,
        deleted: (a.del - b.del) / n,
        hotUpdated: (a.hot - b.hot) / n,
        indexes: a.indexes as number,
      };
    }).filter((t) => t.inserted || t.updated || t.deleted);
    counts.push({
      step: step.label,
      answered2xx: answers.ok / n,
      roundTrips: (statements.find((s) => s.toplevel && !s.timeout_setting)?.calls ?? 0) / n,
      timeoutSettings: (statements.find((s) => s.toplevel && s.timeout_setting)?.calls ?? 0) / n,
      nestedStatements: (statements.find((s) => !s.toplevel)?.calls ?? 0) / n,
      tables,
    });
  }
}

async function sendSequentially(fn: ServerProcess, file: string) {
  let ok = 0;
  for (const line of (await Deno.readTextFile(file)).trim().split("\n")) {
    const [path, signature, body] = line.split("\t");
    const res = await fetch(`http://127.0.0.1:${fn.port}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
        "i-twilio-idempotency-token": crypto.randomUUID(),
      },
      body,
    });
    await res.body?.cancel();
    if (res.ok) ok++;
  }
  return { ok };
}

interface Target {
  label: string;
  /** wrk's URL: the origin plus the path prefix before each webhook's path. */
  url: string;
  step: HotPathStep;
  pid?: number;
  /**
   * The step's batch statement (a pattern for pg_stat_statements): its calls
   * at saturation give the mean batch the step's coalescer sent.
   */
  batchStatement?: string;
}

/** The throwaway cluster's postmaster: its processes' CPU is the database's share of a run. */
async function postmasterPid(): Promise<number> {
  const [{ dir }] = await admin`select current_setting('data_directory') as dir`;
  return Number((await Deno.readTextFile(`${dir}/postmaster.pid`)).split("\n")[0]);
}

/** Saturation at CLIENTS connections, then LEVELS of it offered; fresh webhooks every level. */
async function rampUp(
  t: Target,
): Promise<{ levels: LoadResult[]; cpu?: CpuPerRequest; meanBatch?: number }> {
  const pool = (rate: number) => Math.ceil(rate * SECONDS * 1.3) + 1000;
  const requestsFile = await freshWebhooks(t.step, pool(4000));
  if (t.batchStatement) await admin`select pg_stat_statements_reset()`;
  // Read around the saturation run when the server's own process is known (direct runs).
  const postmaster = t.pid ? await postmasterPid() : undefined;
  const reading = () =>
    t.pid && postmaster
      ? { server: cpuMs(t.pid), postgres: clusterCpuMs(postmaster), machine: machineCpuMs() }
      : undefined;
  const before = reading();
  const saturation = await loadLevel({
    url: t.url,
    requestsFile,
    runTag: `sat-${runCounter}`,
    connections: CLIENTS,
    seconds: SECONDS,
  });
  const after = reading();
  let cpu: CpuPerRequest | undefined;
  if (before && after) {
    const perRequest = (k: keyof typeof before) => (after[k] - before[k]) / saturation.requests;
    const seconds = saturation.requests / saturation.throughput;
    cpu = {
      server: perRequest("server"),
      postgres: perRequest("postgres"),
      machine: perRequest("machine"),
      busy: (after.machine - before.machine) / (seconds * 1000 * navigator.hardwareConcurrency),
    };
  }
  let meanBatch: number | undefined;
  if (t.batchStatement) {
    const [{ calls }] = await admin`
      select coalesce(sum(calls), 0)::int as calls from pg_stat_statements
       where toplevel and query ilike ${t.batchStatement}`;
    // Answered requests only: a refused one reaches no batch.
    meanBatch = calls > 0 ? (saturation.requests - saturation.errors) / calls : undefined;
  }
  const levels: LoadResult[] = [];
  for (const fraction of LEVELS) {
    const rate = saturation.throughput * fraction;
    levels.push(
      await loadLevel({
        url: t.url,
        requestsFile: await freshWebhooks(t.step, pool(rate)),
        runTag: `lvl-${runCounter}`,
        connections: CLIENTS,
        seconds: SECONDS,
        rate,
      }),
    );
  }
  levels.push(saturation);
  log(
    `${t.label}: saturation ${saturation.throughput.toFixed(0)}/s p50 ${
      saturation.p50.toFixed(2)
    } ms p99 ${saturation.p99.toFixed(2)} ms errors ${saturation.errors}`,
  );
  return { levels, cpu, meanBatch };
}

/** Webhooks per call on each path of the real call flow, through the gateway. */
async function callPaths(): Promise<CallPath[]> {
  const driver = new TwilioDriver({
    baseUrl: PUBLIC_BASE,
    authToken: example.TWILIO_AUTH_TOKEN,
    accountSid: example.TWILIO_ACCOUNT_SID,
  });
  const paths: { name: string; opts: Parameters<TwilioDriver["call"]>[0] }[] = [
    { name: "sales, agent answers", opts: { script: [{ press: "1" }], agent: "accepts" } },
    {
      name: "support, no answer → voicemail",
      opts: {
        script: [{ press: "2" }, { speak: 20 }],
        agent: "no-answer",
        transcription: "after-recording-callback",
      },
    },
    {
      name: "voicemail (9)",
      opts: { script: [{ press: "9" }, { speak: 20 }], transcription: "after-recording-callback" },
    },
    {
      name: "silence → retry → voicemail",
      opts: {
        script: [{ silence: true }, { silence: true }, { speak: 20 }],
        transcription: "after-recording-callback",
      },
    },
  ];
  const out: CallPath[] = [];
  for (const p of paths) {
    const call = await driver.call({
      ...p.opts,
      from: `+1403${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`,
      statusCallbacks: true,
    });
    const bySlug: Record<string, number> = {};
    for (const e of call.exchanges) {
      const slug = new URL(e.url).pathname.split("/").pop()!;
      bySlug[slug] = (bySlug[slug] ?? 0) + 1;
    }
    out.push({
      name: p.name,
      webhooks: call.exchanges.length,
      bySlug,
      errors: call.exchanges.filter((e) => e.status >= 400).length,
    });
  }
  return out;
}

/**
 * RSS of each hot-path function at the start and end of a run at half
 * capacity: one process per function (the voicemail's three webhooks share
 * theirs, as deployed), every step offered half its own saturation divided by
 * the number of steps, all at once.
 */
async function memoryRun(saturation: Record<string, number>) {
  const slugs = [...new Set(HOT_PATH.map((s) => s.slug))];
  const fns = new Map<string, ServerProcess>();
  for (const slug of slugs) fns.set(slug, await startFunction(slug));
  try {
    const rate = (s: HotPathStep) => saturation[s.label] / 2 / HOT_PATH.length;
    // Every run's webhooks are signed before any load starts: signing takes
    // seconds, and a process left idle that long shrinks its heap, which the
    // first readings would take for the start.
    const webhooksFor = (seconds: number) =>
      Promise.all(HOT_PATH.map((s) => freshWebhooks(s, Math.ceil(rate(s) * seconds * 1.2) + 500)));
    const atHalf = (seconds: number, files: string[]) =>
      Promise.all(HOT_PATH.map(async (s, i) => ({
        slug: s.slug,
        load: await loadLevel({
          url: `http://127.0.0.1:${fns.get(s.slug)!.port}`,
          requestsFile: files[i],
          runTag: `mem-${i}-${runCounter}`,
          connections: 4,
          seconds,
          rate: rate(s),
        }),
      })));
    const warmUp = await webhooksFor(WARM_UP_SECONDS);
    const measured = await webhooksFor(MEMORY_SECONDS);
    // A warm-up at the same load first (modules loaded, pool open, JIT and heap
    // grown to their working size): the start figure is of a process in service.
    await atHalf(WARM_UP_SECONDS, warmUp);
    // RSS every few seconds through the run. One reading can land on a
    // garbage-collection peak (a 98 → 83 MiB "change" in one run, nothing
    // grown), so start and end are each the median of their first and last
    // readings; the peak shows any growth in between.
    const samples = new Map(slugs.map((slug) => [slug, [] as number[]]));
    const sample = () => {
      for (const slug of slugs) samples.get(slug)!.push(residentMiB(fns.get(slug)!.pid));
    };
    sample();
    const sampler = setInterval(sample, MEMORY_SAMPLING.everySeconds * 1000);
    const results = await atHalf(MEMORY_SECONDS, measured).finally(() => clearInterval(sampler));
    sample();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return slugs.map((slug) => {
      const loads = results.filter((r) => r.slug === slug).map((r) => r.load);
      const rss = samples.get(slug)!;
      return {
        fn: slug,
        startMiB: median(rss.slice(0, MEMORY_SAMPLING.readingsAtEachEnd)),
        endMiB: median(rss.slice(-MEMORY_SAMPLING.readingsAtEachEnd)),
        peakMiB: Math.max(...rss),
        throughput: loads.reduce((a, l) => a + l.throughput, 0),
        errors: loads.reduce((a, l) => a + l.errors, 0),
        wrapped: loads.reduce((a, l) => a + l.wrapped, 0),
      };
    });
  } finally {
    for (const f of fns.values()) await f.stop();
  }
}

async function main() {
  await setUpTables();
  const results: Partial<SuiteResults> = { command: COMMAND, seconds: SECONDS, clients: CLIENTS };
  results.machine = await machine();
  results.date = new Date().toISOString();
  results.sql = await sqlCosts();
  log("statements and rows per webhook");
  results.perWebhook = await countPerWebhook(200);

  // End to end: the ceilings, each function direct, each through the gateway.
  const bare = await startServer(`${ROOT}/bench/fixtures/bare-twiml.ts`, {});
  const naive = await startServer(`${ROOT}/bench/fixtures/naive-peer.ts`, {
    SUPABASE_DB_URL: DB_URL,
  });
  const gateway = spawnGateway({
    port: GATEWAY_PORT,
    dbUrl: DB_URL,
    env: { PUBLIC_BASE_URL: PUBLIC_BASE },
  });
  const direct = new Map<string, ServerProcess>();
  try {
    // One process per function: the voicemail's three webhooks share theirs, as they do deployed.
    for (const s of HOT_PATH) {
      if (!direct.has(s.slug)) direct.set(s.slug, await startFunction(s.slug));
    }
    for (let i = 0; i < 100; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: GATEWAY_PORT })).close();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    log("webhooks per call, from the call flow");
    results.callPaths = await callPaths();
    const e2e: SuiteResults["e2e"] = [];
    const frontdoor = HOT_PATH[0];
    for (
      const [label, p] of [["bare Deno.serve (constant TwiML)", bare], [
        "naive peer (one insert)",
        naive,
      ]] as const
    ) {
      e2e.push({
        label,
        via: "direct",
        ...(await rampUp({
          label,
          url: `http://127.0.0.1:${p.port}`,
          step: frontdoor,
          pid: p.pid,
        })),
      });
    }
    for (const s of HOT_PATH) {
      const fn = direct.get(s.slug)!;
      e2e.push({
        label: s.label,
        via: "direct",
        ...(await rampUp({
          label: s.label,
          url: `http://127.0.0.1:${fn.port}`,
          step: s,
          pid: fn.pid,
          batchStatement: s.slug === "voice-status" ? "%voice_status_apply_batch%" : undefined,
        })),
      });
    }
    for (const s of HOT_PATH) {
      e2e.push({
        label: s.label,
        via: "gateway",
        ...(await rampUp({
          label: `${s.label} (gateway)`,
          url: `http://127.0.0.1:${GATEWAY_PORT}/functions/v1`,
          step: s,
        })),
      });
    }
    results.e2e = e2e;
    results.sql.statusBatch = await statusBatchCost(
      e2e.find((e) => e.via === "direct" && e.label === "voice-status")?.meanBatch,
    );
  } finally {
    for (const p of [bare, naive, ...direct.values()]) await p.stop();
    try {
      gateway.kill("SIGTERM");
    } catch { /* gone */ }
    await gateway.status;
  }

  log(`cold start, ${COLD_RUNS} interleaved runs`);
  results.coldStart = await measureColdStarts(COLD_RUNS, { databaseUrl: DB_URL });
  results.coldRuns = COLD_RUNS;
  log("rate limiter vs naive, 3 rounds");
  results.rateLimit = await compareRateLimiters({
    dbUrl: DB_URL,
    adminUrl: ADMIN_URL,
    requests: 20_000,
    concurrency: 32,
    rounds: 3,
  });
  log(`memory, ${MEMORY_SECONDS} s at half capacity`);
  const saturation = Object.fromEntries(
    results.e2e!.filter((r) => r.via === "direct").map((
      r,
    ) => [r.label, r.levels[r.levels.length - 1].throughput]),
  );
  results.memory = await memoryRun(saturation);
  results.memorySeconds = MEMORY_SECONDS;

  console.log(await publishReport(results as SuiteResults));
}

try {
  await main();
} finally {
  await sql.end();
  await admin.end();
  await Deno.remove(WORK, { recursive: true });
}
