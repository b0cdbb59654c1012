/**
 * The limiter against the real database, with real concurrent connections.
 * The same harness run against a naive read-then-write limiter must
 * over-admit: proof that the harness can see lost updates at all.
 */
import assert from "node:assert/strict";
import { hangingDatabase, stoppedDatabaseUrl } from "../support/broken-database.ts";
import postgres from "postgres";
import { takeRateLimit } from "../../supabase/functions/_shared/platform/rate-limit.ts";
import { testDbUrl, testSql } from "../support/stack.ts";

const CONNECTIONS = 200;
const REQUESTS = 1_000;
const LIMIT = 50;

async function withPolicy<T>(
  endpoint: string,
  max: number,
  windowSeconds: number,
  fn: () => Promise<T>,
): Promise<T> {
  const sql = testSql();
  try {
    await sql`insert into rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode)
              values (${endpoint}, 'custom', ${max}, ${windowSeconds}, 'closed')`;
    return await fn();
  } finally {
    await sql`delete from rate_limit_policies where endpoint = ${endpoint}`;
    await sql`delete from rate_limit_state where endpoint = ${endpoint}`;
    await sql`delete from rate_limit_violation_counts where endpoint = ${endpoint}`;
    await sql.end();
  }
}

/**
 * Opens every connection first, so the requests really run at once. Through a
 * pooler (scripts/test's PgBouncer pass) the server connections are opened by
 * the pooler, which opens them gradually: on a loaded machine one round of
 * sleeps ended with 91 of them, so the rounds go on (at most 5) until the server
 * holds at least half; PgBouncer keeps them open for the requests after.
 */
async function concurrentClients() {
  const sql = postgres(testDbUrl(), { prepare: false, max: CONNECTIONS, onnotice: () => {} });
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: CONNECTIONS }, () => sql`select pg_sleep(0.3)`));
    if ((await serverBackends(sql)) >= CONNECTIONS / 2) break;
  }
  return sql;
}

/** Client connections the server itself holds (not the pooler's clients). */
async function serverBackends(sql: postgres.Sql): Promise<number> {
  const [{ backends }] = await sql`select count(*)::int as backends from pg_stat_activity
                                    where datname = current_database() and backend_type = 'client backend'`;
  return backends;
}

Deno.test(`rate limit: ${REQUESTS} concurrent requests on one key, limit ${LIMIT} → exactly ${LIMIT} admitted`, async () => {
  const endpoint = `test-concurrency-${crypto.randomUUID()}`;
  await withPolicy(endpoint, LIMIT, 3600, async () => {
    const sql = await concurrentClients();
    try {
      const results = await Promise.all(
        Array.from(
          { length: REQUESTS },
          () =>
            sql`select (public.rate_limit_take(${endpoint}, 'custom', 'one-key')->>'allowed')::boolean as ok`,
        ),
      );
      const admitted = results.filter(([r]) => r.ok).length;
      assert.equal(admitted, LIMIT);
      const backends = await serverBackends(sql);
      assert.ok(backends >= CONNECTIONS / 2, `only ${backends} concurrent connections were open`);
      const [{ rows }] =
        await sql`select count(*)::int as rows from rate_limit_state where endpoint = ${endpoint}`;
      assert.equal(rows, 1, "state grows with keys, not with requests");
      const [v] = await sql`select denied from rate_limit_violations where endpoint = ${endpoint}`;
      assert.equal(Number(v.denied), REQUESTS - LIMIT, "every denial is recorded");
    } finally {
      await sql.end();
    }
  });
});

Deno.test("rate limit: the same harness catches a naive read-then-write limiter over-admitting", async () => {
  const sql = await concurrentClients();
  const table = `naive_hits_${crypto.randomUUID().replaceAll("-", "")}`;
  await sql.unsafe(
    `create table ${table} (key text not null, at timestamptz not null default clock_timestamp())`,
  );
  try {
    // Read the count, then write: two statements, no lock — the classic lost update.
    const naiveTake = async () => {
      const [{ n }] = await sql.unsafe(
        `select count(*)::int as n from ${table} where key = 'one-key'`,
      );
      if (n >= LIMIT) return false;
      await sql.unsafe(`insert into ${table} (key) values ('one-key')`);
      return true;
    };
    const results = await Promise.all(Array.from({ length: REQUESTS }, naiveTake));
    const admitted = results.filter(Boolean).length;
    console.log(
      `naive read-then-write limiter admitted ${admitted} of ${REQUESTS} (limit ${LIMIT})`,
    );
    assert.ok(
      admitted > LIMIT,
      `the naive limiter admitted ${admitted}; the harness must expose its race`,
    );
  } finally {
    await sql.unsafe(`drop table ${table}`);
    await sql.end();
  }
});

Deno.test("rate limit: the window slides on the database clock", async () => {
  const endpoint = `test-window-${crypto.randomUUID()}`;
  await withPolicy(endpoint, 2, 1, async () => {
    const sql = testSql();
    try {
      const take = async () =>
        (await sql`select public.rate_limit_take(${endpoint}, 'custom', 'k') as d`)[0].d;
      assert.equal((await take()).allowed, true);
      const second = await take();
      assert.equal(second.allowed, true);
      assert.equal(second.remaining, 0);
      const third = await take();
      assert.equal(third.allowed, false);
      assert.equal(third.retry_after_seconds, 1);
      await sql`select pg_sleep(0.6)`; // one request's share of the 1 s window
      assert.equal((await take()).allowed, true);
    } finally {
      await sql.end();
    }
  });
});

Deno.test("rate limit: no policy means no limit; policies are per endpoint and key kind", async () => {
  const sql = testSql();
  try {
    const [{ d }] =
      await sql`select public.rate_limit_take('no-such-endpoint', 'caller', '+15875550000') as d`;
    assert.equal(d.allowed, true);
    const [policy] =
      await sql`select max_requests, window_seconds, failure_mode from rate_limit_policies
                                where endpoint = 'voice-frontdoor' and key_kind = 'caller'`;
    assert.deepEqual({ ...policy }, { max_requests: 10, window_seconds: 60, failure_mode: "open" });
  } finally {
    await sql.end();
  }
});

Deno.test("rate limit: cleanup removes idle keys and is scheduled with pg_cron", async () => {
  const sql = testSql();
  try {
    await sql`insert into rate_limit_state (endpoint, key_kind, key, tat)
              select 'test-cleanup', 'custom', 'k' || g, now() - interval '1 minute' from generate_series(1, 12000) g`;
    await sql`insert into rate_limit_state (endpoint, key_kind, key, tat)
              values ('test-cleanup', 'custom', 'still-active', now() + interval '1 minute')`;
    const [{ removed }] = await sql`select public.rate_limit_cleanup(5000) as removed`;
    assert.ok(removed >= 12000, `removed ${removed}`);
    const left = await sql`select key from rate_limit_state where endpoint = 'test-cleanup'`;
    assert.deepEqual(left.map((r) => r.key), ["still-active"]);
    await sql`delete from rate_limit_state where endpoint = 'test-cleanup'`;
    const [job] =
      await sql`select schedule, command from cron.job where jobname = 'rate-limit-cleanup'`;
    assert.equal(job.schedule, "* * * * *");
    assert.match(job.command, /rate_limit_cleanup/);
  } finally {
    await sql.end();
  }
});

Deno.test("rate limit: database down → fail open admits, fail closed refuses", async () => {
  const sql = postgres(stoppedDatabaseUrl(), {
    max: 1,
    connect_timeout: 1,
  });
  try {
    const opts = { endpoint: "voice-frontdoor", keyKind: "caller" as const, key: "+15875550000" };
    const open = await takeRateLimit(sql, { ...opts, failureMode: "open" });
    assert.deepEqual([open.allowed, open.decidedBy], [true, "failure-policy"]);
    const closed = await takeRateLimit(sql, { ...opts, failureMode: "closed" });
    assert.deepEqual([closed.allowed, closed.decidedBy], [false, "failure-policy"]);
  } finally {
    await sql.end({ timeout: 0 });
  }
});

Deno.test("rate limit: database hangs → the failure policy answers within the deadline", async () => {
  const hanging = hangingDatabase();
  const sql = postgres(
    hanging.url,
    {
      max: 1,
      connect_timeout: 30,
    },
  );
  try {
    const started = performance.now();
    const d = await takeRateLimit(sql, {
      endpoint: "voice-frontdoor",
      keyKind: "caller",
      key: "+15875550000",
      failureMode: "open",
      deadlineMs: 300,
    });
    const ms = performance.now() - started;
    assert.equal(d.allowed, true);
    assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
    hanging.close();
  }
});

Deno.test("rate limit: live takeRateLimit against the database admits and counts", async () => {
  const endpoint = `test-live-${crypto.randomUUID()}`;
  await withPolicy(endpoint, 1, 60, async () => {
    const sql = testSql();
    try {
      const opts = {
        endpoint,
        keyKind: "custom" as const,
        key: "k",
        failureMode: "closed" as const,
      };
      const first = await takeRateLimit(sql, opts);
      assert.deepEqual([first.allowed, first.decidedBy, first.limit], [true, "database", 1]);
      const second = await takeRateLimit(sql, opts);
      assert.equal(second.allowed, false);
      assert.ok(second.retryAfterSeconds >= 1 && second.retryAfterSeconds <= 60);
    } finally {
      await sql.end();
    }
  });
});
