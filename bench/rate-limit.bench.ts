/**
 * The limiter (rate_limit_take: GCRA, one row per key) next to a naive
 * limiter that inserts one row per request and counts the rows in the window,
 * its table already holding 1,000,000 rows. Same database, same concurrency,
 * same run; prints checks per second, p50/p99 latency, and the ratios.
 *
 *   scripts/start                      # in another terminal (or any database)
 *   .tools/bin/deno task bench:rate-limit [requests] [concurrency]
 *
 * HOTLINE_BENCH_DB_URL overrides the database (default: the running local
 * stack's, from .local/stack.json, whatever its port).
 */
import postgres from "postgres";
import { readStackState } from "../scripts/lib/stack-state.ts";

const DB_URL = Deno.env.get("HOTLINE_BENCH_DB_URL") ?? readStackState().dbUrl;
const REQUESTS = Number(Deno.args[0] ?? 20_000);
const CONCURRENCY = Number(Deno.args[1] ?? 32);
const KEYS = 1_000;
const NAIVE_ROWS = 1_000_000;

const sql = postgres(DB_URL, { prepare: true, max: CONCURRENCY, onnotice: () => {} });

async function setUp() {
  await sql`insert into rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode)
            values ('bench', 'custom', 1000000, 60, 'open')
            on conflict (endpoint, key_kind) do update set max_requests = excluded.max_requests`;
  await sql`create table if not exists bench_naive_hits (key text not null, at timestamptz not null)`;
  await sql`create index if not exists bench_naive_hits_key_at on bench_naive_hits (key, at)`;
  await sql`truncate bench_naive_hits`;
  // A million past requests, spread over the keys and the last minute: what a
  // row-per-request limiter holds on a busy day before its cleanup runs.
  await sql`insert into bench_naive_hits (key, at)
            select 'k' || (g % ${KEYS}), now() - (g % 60000) * interval '1 millisecond'
            from generate_series(1, ${NAIVE_ROWS}) g`;
  await sql`analyze bench_naive_hits`;
}

async function tearDown() {
  await sql`drop table if exists bench_naive_hits`;
  await sql`delete from rate_limit_state where endpoint = 'bench'`;
  await sql`delete from rate_limit_policies where endpoint = 'bench'`;
}

const limiter = (key: string) => sql`select public.rate_limit_take('bench', 'custom', ${key})`;
// One request: count the window, then record the hit (one statement, so the
// comparison is of storage and work, not of round trips).
const naive = (key: string) =>
  sql`with hit as (insert into bench_naive_hits (key, at) values (${key}, clock_timestamp()))
      select count(*) < 1000000 as allowed from bench_naive_hits
      where key = ${key} and at > clock_timestamp() - interval '60 seconds'`;

async function run(name: string, check: (key: string) => PromiseLike<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const key = `k${next++ % KEYS}`;
      const t = performance.now();
      await check(key);
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { name, perSecond: REQUESTS / seconds, p50: pct(0.5), p99: pct(0.99) };
}

try {
  await setUp();
  await run("warm-up", limiter);
  const fast = await run("rate_limit_take (GCRA, row per key)", limiter);
  const slow = await run(`naive (row per request, ${NAIVE_ROWS.toLocaleString("en")} rows)`, naive);
  const [{ rows }] =
    await sql`select count(*)::int as rows from rate_limit_state where endpoint = 'bench'`;
  const [{ naiveRows }] = await sql`select count(*)::int as "naiveRows" from bench_naive_hits`;
  console.log(`${REQUESTS} checks over ${KEYS} keys, ${CONCURRENCY} concurrent connections\n`);
  console.log(
    "limiter".padEnd(44),
    "checks/s".padStart(10),
    "p50 ms".padStart(8),
    "p99 ms".padStart(8),
  );
  for (const r of [fast, slow]) {
    console.log(
      r.name.padEnd(44),
      r.perSecond.toFixed(0).padStart(10),
      r.p50.toFixed(2).padStart(8),
      r.p99.toFixed(2).padStart(8),
    );
  }
  console.log(
    `\nthroughput ratio ${(fast.perSecond / slow.perSecond).toFixed(2)}x, p99 ratio ${
      (slow.p99 / fast.p99).toFixed(2)
    }x`,
  );
  console.log(`state rows afterwards: limiter ${rows}, naive ${naiveRows}`);
} finally {
  await tearDown();
  await sql.end();
}
