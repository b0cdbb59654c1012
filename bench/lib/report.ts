/** docs/benchmarks.md from one run's figures: tables, goals met or missed, the capacity model. */
import type { ColdStart } from "../cold-start.bench.ts";
import type { RateLimitComparison } from "../rate-limit.bench.ts";
import type { LoadResult } from "./load.ts";
import { BARE_CALL_ROW, type PgbenchResult } from "./pgbench.ts";
import { latencyChart } from "./chart.ts";
import { HOT_PATH } from "./webhooks.ts";

const DOCS = new URL("../../docs/", import.meta.url).pathname;

/**
 * Writes docs/benchmarks.md, its chart (docs/benchmarks-latency.svg) and the
 * run's figures (docs/benchmarks.json, from which \`deno task bench:render\`
 * redraws both); returns the summary table.
 */
export async function publishReport(r: SuiteResults): Promise<string> {
  const saturation = (label: string) => {
    const e = r.e2e.find((x) => x.via === "direct" && x.label === label)!;
    return e.levels[e.levels.length - 1].throughput;
  };
  const chart = latencyChart(
    `Latency against throughput, ${r.clients} connections, direct at each process (${
      r.date.slice(0, 10)
    })`,
    r.e2e.filter((e) => e.via === "direct").map((e) => ({ label: e.label, points: e.levels })),
    [
      { label: "insert ceiling (pgbench)", perSecond: r.sql.ceiling.tps },
      { label: "bare server", perSecond: saturation("bare Deno.serve (constant TwiML)") },
      { label: "naive peer", perSecond: saturation("naive peer (one insert)") },
    ],
  );
  await Deno.writeTextFile(`${DOCS}/benchmarks-latency.svg`, chart);
  const { markdown, table } = renderReport(r);
  await Deno.writeTextFile(`${DOCS}/benchmarks.md`, markdown);
  await Deno.writeTextFile(`${DOCS}/benchmarks.json`, JSON.stringify(r, null, 2) + "\n");
  // Committed as written: formatted the way `deno fmt --check` (in scripts/test) expects.
  const files = ["benchmarks.md", "benchmarks-latency.svg", "benchmarks.json"].map((f) => DOCS + f);
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", ...files] }).output();
  return table;
}

export interface CallPath {
  name: string;
  webhooks: number;
  bySlug: Record<string, number>;
  errors: number;
}

/** CPU per request over a saturation run, in ms: the server's process, Postgres's, the whole machine's. */
export interface CpuPerRequest {
  server: number;
  postgres: number;
  machine: number;
  /** Share of the machine's cores busy over the run (1: every core, all the time). */
  busy?: number;
}

export interface SuiteResults {
  command: string;
  date: string;
  seconds: number;
  clients: number;
  machine: {
    cores: number;
    cpu: string;
    memoryGiB: number;
    postgres: string;
    deno: string;
    wrk: string;
    pgbench: string;
    /** V8 flags every function process (and the bare server and naive peer) ran with. */
    functionV8Flags?: string[];
  };
  sql: {
    ceiling: PgbenchResult;
    steps: Record<string, PgbenchResult>;
    /** One call row inserted alone: as call_logs stands, and into a bare table (pgbench.ts). */
    callRow?: Record<string, PgbenchResult>;
    /** voice-status's SQL in batches of the mean size its coalescer sent at saturation. */
    statusBatch?: {
      size: number;
      meanBatch: number;
      callbacksPerSecond: number;
      latencyMs: number;
    };
  };
  perWebhook: {
    step: string;
    answered2xx: number;
    roundTrips: number;
    /** SET LOCAL statement_timeout per webhook, sent in the same message as the statement. */
    timeoutSettings?: number;
    nestedStatements: number;
    tables: {
      table: string;
      inserted: number;
      updated: number;
      deleted: number;
      hotUpdated: number;
      indexes: number;
    }[];
  }[];
  callPaths: CallPath[];
  e2e: {
    label: string;
    via: "direct" | "gateway";
    levels: LoadResult[];
    /** CPU per request at saturation (direct runs, where the server's process is known). */
    cpu?: CpuPerRequest;
    /** Callbacks per batch statement at saturation (voice-status, which coalesces). */
    meanBatch?: number;
  }[];
  coldStart: ColdStart[];
  coldRuns: number;
  rateLimit: RateLimitComparison;
  memory: {
    fn: string;
    /** Median of the run's first readings, and of its last (RSS sampled every few seconds). */
    startMiB: number;
    endMiB: number;
    /** The highest reading of the run. */
    peakMiB?: number;
    throughput: number;
    errors: number;
    wrapped: number;
  }[];
  memorySeconds: number;
}

/** How the memory run reads RSS: this often, start and end each the median of this many readings. */
export const MEMORY_SAMPLING = { everySeconds: 5, readingsAtEachEnd: 3 } as const;

/** Assumptions of the capacity model, stated in the report. */
export const CAPACITY = {
  /** Mean time a call holds the line, from its first webhook to its last. */
  callSeconds: 180,
  /** Cores of the largest database one deployment is assumed to run on (Supabase's 4XL compute). */
  deploymentCores: 16,
  goalCalls: 100_000,
};

const n0 = (x: number) => Math.round(x).toLocaleString("en");
const f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${Math.round(x * 100)}%`;
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const table = (head: string[], rows: (string | number)[][]) =>
  [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
const cpuSplit = (c: CpuPerRequest) =>
  `${f2(c.server)} ms in the server process + ${f2(c.postgres)} ms in Postgres + ${
    f2(c.machine - c.server - c.postgres)
  } ms elsewhere = ${f2(c.machine)} ms`;
const verdict = (ok: boolean) => (ok ? "**met**" : "**missed**");
const saturationOf = (r: { levels: LoadResult[] }) => r.levels[r.levels.length - 1];
const halfOf = (r: { levels: LoadResult[] }) =>
  r.levels.find((l) => l.offered !== undefined && l === r.levels[1])!;

/** The capacity model's figures, from the measured SQL cost and the call flow's webhook count. */
export function capacityModel(r: SuiteResults) {
  const steps = Object.values(r.sql.steps);
  // The longest path's webhooks, each charged the SQL seconds of its function's
  // measured steps (their mean: the voicemail's three), or, for a function with
  // none measured (voice-action's Dial outcome), of the costliest step.
  const longest = r.callPaths.reduce((a, p) => (p.webhooks > a.webhooks ? p : a));
  const costliest = Math.max(...steps.map((s) => 1 / s.tps));
  const secondsOf = (slug: string) => {
    const own = HOT_PATH.filter((s) => s.slug === slug && r.sql.steps[s.label])
      .map((s) => 1 / r.sql.steps[s.label].tps);
    return own.length ? own.reduce((a, x) => a + x, 0) / own.length : costliest;
  };
  const charged = Object.entries(longest.bySlug)
    .reduce((sum, [slug, count]) => sum + count * secondsOf(slug), 0);
  const webhooksPerCall = longest.webhooks;
  const meanTps = webhooksPerCall / charged;
  const perCore = meanTps / r.machine.cores;
  const callsPerCore = (perCore * CAPACITY.callSeconds) / webhooksPerCall;
  const webhookRate = (CAPACITY.goalCalls * webhooksPerCall) / CAPACITY.callSeconds;
  const coresForGoal = webhookRate / perCore;
  const callsPerDeployment = callsPerCore * CAPACITY.deploymentCores;
  // Little's law: connections busy = rate × time each transaction holds one.
  const holdMs = Math.max(...steps.map((s) => s.latencyMs / r.clients)) * r.machine.cores;
  const cpu = r.e2e.filter((e) =>
    e.via === "direct" && e.cpu !== undefined && !e.label.startsWith("bare") &&
    !e.label.startsWith("naive")
  );
  const edgeCpuMs = Math.max(...cpu.map((e) => e.cpu!.server));
  return {
    meanTps,
    perCore,
    webhooksPerCall,
    callsPerCore,
    webhookRate,
    coresForGoal,
    callsPerDeployment,
    holdMs,
    connections: (webhookRate * holdMs) / 1000,
    edgeCpuMs,
  };
}

/** The report (markdown) and the summary table printed at the end of a run. */
export function renderReport(r: SuiteResults): { markdown: string; table: string } {
  const ceiling = r.sql.ceiling.tps;
  const direct = (label: string) => r.e2e.find((e) => e.via === "direct" && e.label === label)!;
  const gateway = (label: string) => r.e2e.find((e) => e.via === "gateway" && e.label === label);
  const bare = saturationOf(direct("bare Deno.serve (constant TwiML)"));
  const naive = saturationOf(direct("naive peer (one insert)"));
  const steps = Object.keys(r.sql.steps);
  const statusBatch = r.sql.statusBatch;
  /**
   * A step's SQL per webhook as it ran end to end: voice-status's in the
   * batches its coalescer sent at saturation, the others' one webhook a
   * transaction. For the end-to-end bound only: the SQL goal is judged on one
   * webhook a transaction, as the ceiling writes one row a transaction.
   */
  const sqlPerSecond = (s: string) =>
    s === "voice-status" && statusBatch ? statusBatch.callbacksPerSecond : r.sql.steps[s].tps;

  const summary = table(
    [
      "what",
      "req/s",
      "share of the insert ceiling",
      "share of the naive peer",
      "p50 ms",
      "p99 ms",
      "errors",
    ],
    [
      [
        `Postgres single-row insert ceiling (pgbench, ${r.clients} clients)`,
        n0(ceiling),
        "100%",
        "",
        f2(r.sql.ceiling.latencyMs),
        "",
        0,
      ],
      [
        "bare Deno.serve, constant TwiML (edge ceiling)",
        n0(bare.throughput),
        pct(bare.throughput / ceiling),
        "",
        f2(bare.p50),
        f2(bare.p99),
        bare.errors,
      ],
      [
        "naive peer: bare Deno.serve + one plain insert",
        n0(naive.throughput),
        pct(naive.throughput / ceiling),
        "100%",
        f2(naive.p50),
        f2(naive.p99),
        naive.errors,
      ],
      ...steps.map((
        s,
      ) => [
        `\`${s}\` SQL alone (pgbench, ${r.clients} clients)`,
        n0(r.sql.steps[s].tps),
        pct(r.sql.steps[s].tps / ceiling),
        "",
        f2(r.sql.steps[s].latencyMs),
        "",
        0,
      ]),
      ...(statusBatch
        ? [[
          `\`voice-status\` SQL, batches of ${statusBatch.size} callbacks as coalesced (pgbench, ${r.clients} clients; callbacks/s)`,
          n0(statusBatch.callbacksPerSecond),
          pct(statusBatch.callbacksPerSecond / ceiling),
          "",
          f2(statusBatch.latencyMs),
          "",
          0,
        ]]
        : []),
      ...steps.flatMap((s) => {
        const d = saturationOf(direct(s));
        const g = gateway(s) && saturationOf(gateway(s)!);
        return [
          [
            `\`${s}\` process, direct`,
            n0(d.throughput),
            pct(d.throughput / ceiling),
            pct(d.throughput / naive.throughput),
            f2(d.p50),
            f2(d.p99),
            d.errors,
          ],
          ...(g
            ? [[
              `\`${s}\` through the local gateway`,
              n0(g.throughput),
              pct(g.throughput / ceiling),
              pct(g.throughput / naive.throughput),
              f2(g.p50),
              f2(g.p99),
              g.errors,
            ]]
            : []),
        ];
      }),
    ],
  );

  const levels = table(
    [
      "target",
      "via",
      "offered req/s",
      "achieved req/s",
      "p50 ms",
      "p90 ms",
      "p99 ms",
      "max ms",
      "errors",
      "requests",
      "replayed",
    ],
    r.e2e.flatMap((e) =>
      e.levels.map((
        l,
      ) => [
        e.label,
        e.via,
        l.offered ? n0(l.offered) : "saturation",
        n0(l.throughput),
        f2(l.p50),
        f2(l.p90),
        f2(l.p99),
        f2(l.max),
        l.errors,
        n0(l.requests),
        l.wrapped ? `${l.wrapped} wraps` : "none",
      ])
    ),
  );

  const perWebhook = table(
    [
      "step",
      "answered 2xx",
      "round trips (statements sent)",
      "SET LOCAL in the same message",
      "statements inside the SQL function",
      "rows inserted",
      "rows updated (HOT)",
      "rows deleted",
      "tables written (indexes each)",
    ],
    r.perWebhook.map((p) => {
      const sum = (k: "inserted" | "updated" | "deleted" | "hotUpdated") =>
        p.tables.reduce((a, t) => a + t[k], 0);
      return [
        p.step,
        pct(p.answered2xx),
        f2(p.roundTrips),
        p.timeoutSettings === undefined ? "not counted" : f2(p.timeoutSettings),
        f2(p.nestedStatements),
        f2(sum("inserted")),
        `${f2(sum("updated"))} (${f2(sum("hotUpdated"))})`,
        f2(sum("deleted")),
        p.tables.map((t) => `${t.table} (${t.indexes})`).join(", "),
      ];
    }),
  );

  const cold = table(
    ["function", "median ms", "ratio to the bare server"],
    r.coldStart.map((c) => [c.name, c.medianMs.toFixed(1), f2(c.ratio)]),
  );

  const memory = table(
    [
      "function",
      "offered and achieved req/s",
      "RSS start MiB",
      "RSS end MiB",
      "RSS peak MiB",
      "change",
      "errors",
    ],
    r.memory.map((
      m,
    ) => [
      m.fn,
      n0(m.throughput),
      m.startMiB.toFixed(1),
      m.endMiB.toFixed(1),
      m.peakMiB?.toFixed(1) ?? "",
      `${((m.endMiB / m.startMiB - 1) * 100).toFixed(1)}%`,
      m.errors,
    ]),
  );

  const paths = table(
    [
      "call path (Twilio stand-in, status callbacks on)",
      "webhooks per call",
      "by function",
      "errors",
    ],
    r.callPaths.map((
      p,
    ) => [
      p.name,
      p.webhooks,
      Object.entries(p.bySlug).map(([k, v]) => `${k} ${v}`).join(", "),
      p.errors,
    ]),
  );

  const cap = capacityModel(r);
  const rl = r.rateLimit;

  // Goals, each with the measurement that decides it.
  const goals: string[][] = [];
  for (const s of steps) {
    const share = r.sql.steps[s].tps / ceiling;
    const how = s === "voice-status" && statusBatch
      ? ` (in batches of ${statusBatch.size}, the mean it sent at saturation: ${
        pct(statusBatch.callbacksPerSecond / ceiling)
      } per callback)`
      : "";
    goals.push([
      `\`${s}\` SQL ≥ 50% of the insert ceiling`,
      pct(share) + how,
      verdict(share >= 0.5),
    ]);
  }
  const fd = saturationOf(direct("voice-frontdoor"));
  const st = saturationOf(direct("voice-status"));
  goals.push([
    "`voice-frontdoor` direct ≥ 80% of the naive peer",
    pct(fd.throughput / naive.throughput),
    verdict(fd.throughput / naive.throughput >= 0.8),
  ]);
  goals.push([
    "`voice-status` direct ≥ 100% of the naive peer",
    pct(st.throughput / naive.throughput),
    verdict(st.throughput / naive.throughput >= 1),
  ]);
  for (const s of steps) {
    const d = direct(s);
    const errs = d.levels.reduce((a, l) => a + l.errors, 0);
    const half = halfOf(d);
    goals.push([
      `\`${s}\`: zero errors; p99 ≤ 10× p50 at half saturation`,
      `${errs} errors; p99/p50 ${f2(half.p99 / half.p50)} (${f2(half.p99)} / ${f2(half.p50)} ms)`,
      verdict(errs === 0 && half.p99 <= 10 * half.p50),
    ]);
  }
  for (const p of r.perWebhook) {
    goals.push([
      `\`${p.step}\`: one database round trip per webhook`,
      f2(p.roundTrips),
      verdict(Math.abs(p.roundTrips - 1) < 0.01),
    ]);
  }
  const worstCold = r.coldStart.filter((c) => !c.name.startsWith("bare")).reduce((
    a,
    c,
  ) => (c.ratio > a.ratio ? c : a));
  goals.push([
    "cold start ≤ 2× the bare server, every function",
    `worst: ${worstCold.name} ${f2(worstCold.ratio)}×`,
    verdict(worstCold.ratio <= 2),
  ]);
  goals.push([
    `capacity ≥ ${
      n0(CAPACITY.goalCalls)
    } concurrent calls per deployment (${CAPACITY.deploymentCores}-core database)`,
    n0(cap.callsPerDeployment),
    verdict(cap.callsPerDeployment >= CAPACITY.goalCalls),
  ]);
  const worstMem = r.memory.reduce((
    a,
    m,
  ) => (Math.abs(m.endMiB / m.startMiB - 1) > Math.abs(a.endMiB / a.startMiB - 1) ? m : a));
  goals.push([
    `memory flat over ${r.memorySeconds} s (±10%)`,
    `worst: ${worstMem.fn} ${((worstMem.endMiB / worstMem.startMiB - 1) * 100).toFixed(1)}%`,
    verdict(Math.abs(worstMem.endMiB / worstMem.startMiB - 1) <= 0.1),
  ]);

  // What limits each missed goal, from this run's own measurements.
  const limits: string[] = [];
  for (const p of r.perWebhook) {
    const rows = p.tables.reduce((a, t) => a + t.inserted + t.updated + t.deleted, 0);
    const indexEntries = p.tables.reduce(
      (a, t) => a + (t.inserted + t.updated - t.hotUpdated) * t.indexes,
      0,
    );
    const tps = r.sql.steps[p.step]?.tps;
    if (tps === undefined || tps / ceiling >= 0.5) continue;
    limits.push(
      `\`${p.step}\` SQL at ${pct(tps / ceiling)} of the ceiling: per webhook it runs ${
        f2(p.nestedStatements)
      } statements inside its function and writes ${f2(rows)} rows in ${p.tables.length} tables, ` +
        `about ${
          f2(indexEntries)
        } index entries (non-HOT writes × indexes), where the ceiling writes one row, ` +
        `no index, one statement. Work per webhook, not round trips, sets this figure.`,
    );
  }
  const naiveCpu = direct("naive peer (one insert)").cpu;
  for (const [label, goal] of [["voice-frontdoor", 0.8], ["voice-status", 1]] as const) {
    const d = direct(label);
    const got = saturationOf(d).throughput;
    if (got / naive.throughput >= goal) continue;
    const sqlAlone = `its SQL alone${
      label === "voice-status" && statusBatch
        ? `, in batches of ${statusBatch.size} as its coalescer sent them at saturation,`
        : ""
    } reaches ${n0(sqlPerSecond(label))}/s in pgbench, ${
      pct(sqlPerSecond(label) / naive.throughput)
    } of the naive peer${
      sqlPerSecond(label) < naive.throughput * goal
        ? ", so the function cannot reach the goal before its SQL does"
        : ""
    }.`;
    // With every core busy, throughput is cores / CPU per request: the totals' ratio predicts the goal's.
    const cpu = d.cpu && naiveCpu
      ? ` CPU per webhook at saturation, measured: ${cpuSplit(d.cpu)}; the naive peer's: ${
        cpuSplit(naiveCpu)
      }. Throughput is cores / CPU per request when every core is busy (cores busy: ${
        pct(d.cpu.busy ?? 0)
      } in its run, ${pct(naiveCpu.busy ?? 0)} in the naive peer's): ${
        pct(naiveCpu.machine / d.cpu.machine)
      } of the naive peer by CPU, ${pct(got / naive.throughput)} measured. Postgres alone spends ${
        f2(d.cpu.postgres / naiveCpu.postgres)
      }× the naive peer's CPU per webhook, the function process ${
        f2(d.cpu.server / naiveCpu.server)
      }×.`
      : "";
    limits.push(
      `\`${label}\` direct at ${pct(got / naive.throughput)} of the naive peer (goal ${
        pct(goal)
      }): ${sqlAlone}${cpu}`,
    );
  }
  // The smallest write a step makes, alone: what the call table's integrity costs.
  const callRow = Object.entries(r.sql.callRow ?? {});
  const asStands = callRow[0]?.[1];
  // The best of the rows that keep every guarantee: as the table stands, or its checks as domains.
  const guarded = Math.max(
    ...callRow.filter(([label]) => label !== BARE_CALL_ROW).map(([, p]) => p.tps),
  );
  const callRowSection = asStands
    ? `
What one call row costs, in this run (pgbench, ${r.clients} clients, a plain INSERT per transaction):

${
      table(
        ["write", "rows/s", "share of the insert ceiling", "latency ms"],
        [
          [
            "the ceiling: one row, two columns, no index",
            n0(ceiling),
            "100%",
            f2(r.sql.ceiling.latencyMs),
          ],
          ...callRow.map(([label, p]) => [label, n0(p.tps), pct(p.tps / ceiling), f2(p.latencyMs)]),
        ],
      )
    }

Every hot-path step writes at least one call row, inside a function, with its own logic besides.
The row alone, with the table's indexes, CHECK constraints and domains, reaches ${
      pct(asStands.tps / ceiling)
    } of the ceiling, and ${
      pct(guarded / ceiling)
    } with the same guarantees in the cheapest form measured${
      guarded / ceiling < 0.5
        ? ": below the goal of half before any step logic runs. A step's SQL reaches half the ceiling only by giving up what the table guarantees, or by writing many webhooks per transaction, as voice-status does with the callbacks that arrive together"
        : ""
    }.
`
    : "";

  const markdown = `# Benchmarks

Generated by the suite itself (\`bench/suite.ts\`); every figure below comes from one run, ${
    r.date.slice(0, 16).replace("T", " ")
  } UTC.
Speed is judged as ratios to this machine's own ceilings measured in the same run, never as absolute
times: the machine is shared and noisy.

\`\`\`sh
${r.command}
\`\`\`

\`deno task bench\` runs \`bench/run.sh\`: it installs what is missing (Deno, Postgres, \`wrk\`; pgbench ships with
Postgres), starts a throwaway Postgres cluster with \`pg_stat_statements\` (fsync and synchronous commit off,
as \`scripts/test\`'s: the figures are of CPU work, not of this disk), applies the migrations and seed, and
runs every part. Options: \`--seconds N\` per load level (default 8), \`--memory-seconds N\` (default 300;
shorter for trial runs), \`--cold-runs N\` (default 15), \`--clients N\` (default 16). Take the machine-wide
lock when others share the machine: \`flock /work/wt/loadtest.lock deno task bench\`.

**Machine**: ${r.machine.cores} cores (${r.machine.cpu}), ${
    r.machine.memoryGiB.toFixed(1)
  } GiB memory; ${r.machine.postgres};
Deno ${r.machine.deno}; ${r.machine.wrk}; ${r.machine.pgbench}. The load generator, the function, the gateway and
Postgres all share these cores, as they do for every target alike.

![latency against throughput](benchmarks-latency.svg)

## Summary (${r.clients} clients / connections, saturation)

${summary}

## Goals

${table(["goal", "measured", "verdict"], goals)}

## What limits the missed goals

${limits.map((l) => `- ${l}`).join("\n") || "- None missed."}

## SQL cost per step

Each step's SQL function, driven by pgbench with ${r.clients} clients for ${
    Math.max(5, r.seconds)
  } s, fresh CallSid and caller per
transaction, against the single-row insert (\`bench_insert_ceiling\`, no index).
Statements and rows per webhook, counted by Postgres over 200 signed webhooks sent to each function
process (\`pg_stat_statements\` with \`track = all\`: the client's statements are its round trips, the
function's own statements are nested; a step's \`set local statement_timeout\` travels in the same
simple-protocol Query message as its statement, so it is counted apart; rows from
\`pg_stat_user_tables\`):

${perWebhook}

Where a step's time goes in Postgres (a one-off profile, not part of this run: \`perf record -g -p
<backend pid>\` while pgbench drives the step with one client, 2026-11-26). Before the
\`20261126100000_lean_call_steps\` migration, most of \`voice_status_apply\`'s time was parsing and
planning, on every call, the SQL-language helpers it called (a SQL function with \`set search_path\`
is never inlined, and from PL/pgSQL it is planned afresh each time); they are PL/pgSQL now, whose
plans stay cached. What remains is spread over the executor's per-statement start-up, not one hot
spot: each write statement decodes and prepares its table's CHECK constraints and domain checks
again (\`ExecConstraints\`, 14–20% of the backend), runs its foreign-key triggers (~7%), inserts its
index entries (~9%) and starts its plan (~10%). A single-row insert into an unindexed table pays
none of that, and a step writes two to six rows (rate limit, call, consent, event, lifecycle).
${callRowSection}
## Hot path end to end

\`wrk\` (2 threads, ${r.clients} connections, ${r.seconds} s per level) replaying pre-signed webhooks, each with a fresh CallSid
and caller (\`bench/lib/replay.lua\`; "replayed" says whether a level ran out of fresh ones). First saturation
(closed loop), then 25%, 50% and 75% of it offered (each connection waits connections/rate between
answers). "direct" is the function's own process; "gateway" goes through \`scripts/serve-functions.ts\`,
the local stand-in for Supabase's gateway. The bare server and the naive peer get the voice-frontdoor
requests; they may run out of fresh ones at saturation (they answer tens of thousands a second), which
changes nothing for them: neither checks a signature or a key, and the naive insert has no unique key.
Steps after voice-frontdoor get CallSids the database has not seen, so each also creates the call's
row (as it would for a call whose first webhook was lost): a conservative figure for them.

${levels}

CPU per request over each direct saturation run, in ms (user + system time from \`/proc\`: the
server's process; every process of this run's Postgres cluster; the whole machine, whose remainder is
the load generator, the kernel's share of the sockets, and anything else the machine ran). With
every core busy, throughput is cores divided by the machine's CPU per request, so this table says
where each target's time goes:

${
    table(
      ["target", "server process", "Postgres", "rest", "machine", "cores busy", "req/s"],
      r.e2e.filter((e) => e.cpu !== undefined).map((e) => [
        e.label,
        f2(e.cpu!.server),
        f2(e.cpu!.postgres),
        f2(e.cpu!.machine - e.cpu!.server - e.cpu!.postgres),
        f2(e.cpu!.machine),
        e.cpu!.busy === undefined ? "" : pct(e.cpu!.busy),
        n0(saturationOf(e).throughput),
      ]),
    )
  }

## Cold start

Process start to first response, median of ${r.coldRuns} interleaved runs (a fresh process per run). Twilio-facing
functions get an unsigned POST (answered 400 once every module is loaded, before any database work);
telephony-provision an unauthenticated request (401, after writing its audit row); voice-health a
GET (after its database check). Those two are timed against a refused port and, as "live database",
against this run's Postgres (connect, SCRAM, the audit row's insert or the health query, all before
the first answer). No function loads an npm package or a \`node:\` module before its first answer
(\`tests/unit/cold-start-imports.test.ts\`): the driver is imported on first database work. The health
check and a cold isolate's first admin audit row go over a small client of their own
(\`_shared/platform/pg-probe.ts\`, \`tests/integration/admin-audit-cold.test.ts\`), whose deadline
uses \`AbortSignal.timeout\`: Deno loads \`setTimeout\`'s timers on first use, ~5 ms of a cold start.

${cold}

## Rate limiter

\`rate_limit_take\` (GCRA, one row per key) against a naive limiter that inserts a row per request and
counts its window, its table preloaded with 1,000,000 rows; 20,000 checks over 1,000 keys, 32
connections, 3 rounds. Each round starts from the same state (naive table reloaded, vacuumed, analysed;
checkpoint), the limiters alternate which goes first, and the figures are medians over the rounds.

${
    table(["limiter", "checks/s", "p50 ms", "p99 ms"], [
      [
        "rate_limit_take (row per key)",
        n0(rl.limiter.perSecond),
        f2(rl.limiter.p50),
        f2(rl.limiter.p99),
      ],
      [
        "naive (row per request, 1,000,000 rows)",
        n0(rl.naive.perSecond),
        f2(rl.naive.p50),
        f2(rl.naive.p99),
      ],
    ])
  }

Throughput ratio ${f2(rl.medianRatio)}× (median; rounds: ${
    rl.roundRatios.map(f2).join(", ")
  }). Afterwards the limiter holds
${n0(rl.limiterRows)} rows, the naive table ${n0(rl.naiveRows)}.

Correctness under concurrency is tested in \`scripts/test\`, not here:
\`tests/integration/rate-limit.test.ts\` sends 1,000 concurrent requests over 200 real connections on one
key with limit 50 and admits exactly 50; the same harness with a naive read-then-write limiter admits
more than 50, proving the harness sees lost updates.

## Memory

Each hot-path function in a fresh process (the voicemail's three webhooks share one, as deployed),
each step offered half of its own saturation divided by ${
    Object.keys(r.sql.steps).length
  } (all at once: they share the machine): 20 s of warm-up, then ${r.memorySeconds} s more with the
resident size (VmRSS) read every ${MEMORY_SAMPLING.everySeconds} s. Start and end are each the median of the first and of the last
${MEMORY_SAMPLING.readingsAtEachEnd} readings (one reading can land on a garbage-collection peak); the peak is the highest reading.${
    r.machine.functionV8Flags?.length
      ? ` Every process ran with \`${
        r.machine.functionV8Flags.join(" ")
      }\` (\`FUNCTION_V8_FLAGS\`, \`scripts/lib/function-workers.ts\`), as the local stack and the tests run them: V8 otherwise grows its young generation under load and keeps it. Hosted Supabase's edge runtime sizes its isolates' heaps itself, so these figures are the local stack's.`
      : ""
  }

${memory}

## Capacity model

Webhooks per call, counted on the real call flow (the Twilio stand-in of the flow tests, through the
gateway, status callbacks ringing/answered/completed on):

${paths}

- A call costs at most **${cap.webhooksPerCall} webhooks** (the longest path above; conservative: the voicemail prompt and
  agent screening webhooks do no database work, and every webhook is charged as one SQL step).
- One webhook's SQL costs, averaged over that path's webhooks, each charged its function's step as
  measured above (the mean of the voicemail's three; voice-action, with no step of its own measured,
  the costliest): ${n0(cap.meanTps)} webhooks/s on this ${r.machine.cores}-core
  machine, **${
    n0(cap.perCore)
  } per core** (pgbench's own CPU counted against the database: conservative).
- Assumed mean call length: **${CAPACITY.callSeconds} s** from the first webhook to the last.
- Concurrent calls per database core = ${
    n0(cap.perCore)
  } × ${CAPACITY.callSeconds} / ${cap.webhooksPerCall} = **${n0(cap.callsPerCore)}**.
- ${n0(CAPACITY.goalCalls)} concurrent calls = ${n0(cap.webhookRate)} webhooks/s, which takes **${
    cap.coresForGoal.toFixed(1)
  } database cores** at
  this cost; a ${CAPACITY.deploymentCores}-core database (assumed deployment, Supabase's 4XL compute) carries **${
    n0(cap.callsPerDeployment)
  }**.

What limits it on hosted Supabase:
- **Pooler connections**: each webhook holds a transaction-mode pooler connection for its one
  transaction (~${cap.holdMs.toFixed(2)} ms of database time measured here, Little's law) → about ${
    Math.ceil(cap.connections)
  } busy server
  connections at ${
    n0(CAPACITY.goalCalls)
  } calls, plus queueing; the pooler's pool size per compute size caps this.
- **Commit rate**: every webhook commits once. Here commits are not flushed (fsync off); on hosted
  Postgres each waits for a WAL flush, which group commit shares among concurrent transactions. Not
  measured here.
- **Edge CPU time per request**: at most ${
    cap.edgeCpuMs.toFixed(2)
  } ms measured per webhook here (Supabase's limit is 2 s of
  CPU per request); the edge scales out, the database does not.
`;
  return { markdown, table: summary };
}
