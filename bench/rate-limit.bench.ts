/**
 * The limiter (rate_limit_take: GCRA, one row per key) next to a naive
 * limiter that inserts one row per request and counts the rows in the window,
 * its table already holding 1,000,000 rows. Same database, same concurrency,
 * same run. Part of `deno task bench`; alone, against any database:
 *
 *   HOTLINE_BENCH_DB_URL=postgresql://… .tools/bin/deno task bench:rate-limit [requests] [concurrency] [rounds]
 *
 * Reproducible: each round starts from the same state (the naive table
 * reloaded, vacuumed and analysed; the limiter's rows for the bench deleted),
 * the two limiters alternate round by round, and the ratio reported is the
 * median over the rounds, each round's ratio printed beside it. A single
 * run against a long-lived database depended on what autovacuum had done
 * and on what earlier runs left behind.
 */
import postgres from "postgres";
import { readStackState } from "../scripts/lib/stack-state.ts";

const KEYS = 1_000;
const NAIVE_ROWS = 1_000_000;

export interface LimiterRun {
  perSecond: number;
  p50: number;
  p99: number;
}

export interface RateLimitComparison {
  limiter: LimiterRun;
  naive: LimiterRun;
  /** Each round's throughput ratio (limiter / naive). */
  roundRatios: number[];
  medianRatio: number;
  limiterRows: number;
  naiveRows: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs both limiters `rounds` times, alternating, and compares them. */
export async function compareRateLimiters(opts: {
  dbUrl: string;
  /** The cluster's superuser, for the CHECKPOINT before each round (the API role may not). */
  adminUrl: string;
  requests: number;
  concurrency: number;
  rounds: number;
}): Promise<RateLimitComparison> {
  const sql = postgres(opts.dbUrl, { prepare: true, max: opts.concurrency, onnotice: () => {} });
  const limiter = (key: string) => sql`select public.rate_limit_take('bench', 'custom', ${key})`;
  // One request: count the window, then record the hit (one statement, so the
  // comparison is of storage and work, not of round trips).
  const naive = (key: string) =>
    sql`with hit as (insert into bench_naive_hits (key, at) values (${key}, clock_timestamp()))
        select count(*) < 1000000 as allowed from bench_naive_hits
        where key = ${key} and at > clock_timestamp() - interval '60 seconds'`;

  async function freshState() {
    await sql`delete from rate_limit_state where endpoint = 'bench'`;
    await sql`truncate bench_naive_hits`;
    // A million past requests, spread over the keys and the last minute: what a
    // row-per-request limiter holds on a busy day before its cleanup runs.
    await sql`insert into bench_naive_hits (key, at)
              select 'k' || (g % ${KEYS}), now() - (g % 60000) * interval '1 millisecond'
              from generate_series(1, ${NAIVE_ROWS}) g`;
    await sql`vacuum analyze bench_naive_hits`;
    await sql`vacuum analyze rate_limit_state`;
    // Every round starts with no dirty pages from the one before.
    const admin = postgres(opts.adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin`checkpoint`;
    } finally {
      await admin.end();
    }
  }

  async function drive(check: (key: string) => PromiseLike<unknown>): Promise<LimiterRun> {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.requests) {
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
    return { perSecond: opts.requests / seconds, p50: pct(0.5), p99: pct(0.99) };
  }

  try {
    await sql`insert into rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode)
              values ('bench', 'custom', 1000000, 60, 'open')
              on conflict (endpoint, key_kind) do update set max_requests = excluded.max_requests`;
    await sql`create table if not exists bench_naive_hits (key text not null, at timestamptz not null)`;
    await sql`create index if not exists bench_naive_hits_key_at on bench_naive_hits (key, at)`;
    const fast: LimiterRun[] = [];
    const slow: LimiterRun[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      await freshState();
      // Warm both paths (plans, caches, connections) before timing either.
      await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => limiter(`w${i}`)));
      await Promise.all(Array.from({ length: opts.concurrency }, (_, i) => naive(`w${i}`)));
      // Alternate which limiter goes first, so neither always meets a warmer machine.
      if (round % 2 === 0) {
        fast.push(await drive(limiter));
        slow.push(await drive(naive));
      } else {
        slow.push(await drive(naive));
        fast.push(await drive(limiter));
      }
    }
    const [{ rows }] =
      await sql`select count(*)::int as rows from rate_limit_state where endpoint = 'bench'`;
    const [{ naiveRows }] = await sql`select count(*)::int as "naiveRows" from bench_naive_hits`;
    const roundRatios = fast.map((f, i) => f.perSecond / slow[i].perSecond);
    const medianRun = (runs: LimiterRun[]): LimiterRun => ({
      perSecond: median(runs.map((r) => r.perSecond)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
    });
    return {
      limiter: medianRun(fast),
      naive: medianRun(slow),
      roundRatios,
      medianRatio: median(roundRatios),
      limiterRows: rows,
      naiveRows,
    };
  } finally {
    await sql`drop table if exists bench_naive_hits`;
    await sql`delete from rate_limit_state where endpoint = 'bench'`;
    await sql`delete from rate_limit_policies where endpoint = 'bench'`;
    await sql.end();
  }
}

if (import.meta.main) {
  // The running local stack's database (.local/stack.json, whatever its port), unless named.
  const dbUrl = Deno.env.get("HOTLINE_BENCH_DB_URL") ?? readStackState().dbUrl;
  // The local stack's superuser has the same password as `postgres` (scripts/lib/postgres.sh).
  const adminUrl = Deno.env.get("HOTLINE_BENCH_ADMIN_URL") ??
    dbUrl.replace("://postgres:", "://supabase_admin:");
  const [requests, concurrency, rounds] = [20_000, 32, 3].map((d, i) => Number(Deno.args[i] ?? d));
  const r = await compareRateLimiters({ dbUrl, adminUrl, requests, concurrency, rounds });
  console.log(`${requests} checks over ${KEYS} keys, ${concurrency} connections, ${rounds} rounds`);
  console.log(
    `limiter ${r.limiter.perSecond.toFixed(0)}/s p50 ${r.limiter.p50.toFixed(2)} ms p99 ${
      r.limiter.p99.toFixed(2)
    } ms`,
  );
  console.log(
    `naive   ${r.naive.perSecond.toFixed(0)}/s p50 ${r.naive.p50.toFixed(2)} ms p99 ${
      r.naive.p99.toFixed(2)
    } ms`,
  );
  console.log(
    `throughput ratio, median of rounds: ${r.medianRatio.toFixed(2)}x (rounds: ${
      r.roundRatios.map((x) => x.toFixed(2)).join(", ")
    })`,
  );
}
