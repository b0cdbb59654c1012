/**
 * voice-health over HTTP: healthy against the real database, unhealthy (503)
 * within 3 s when the database is down or hangs.
 */
import assert from "node:assert/strict";
import { hangingDatabase, stoppedDatabaseUrl } from "../support/broken-database.ts";
import { exampleEnv, startFunction } from "../support/function-process.ts";
import { functionsUrl, testDbUrl, testSql } from "../support/stack.ts";

async function probe(url: string, init?: RequestInit) {
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  return { res, body: text ? JSON.parse(text) : null, ms: performance.now() - started };
}

Deno.test("voice-health: healthy against the running database, through the gateway", async () => {
  const { res, body } = await probe(`${functionsUrl()}/voice-health`);
  assert.equal(res.status, 200);
  assert.equal(body.status, "healthy");
  assert.equal(body.checks.database.state, "pass");
  assert.equal(typeof body.checks.database.latency_ms, "number");
  assert.equal(body.checks.configuration.state, "pass");
  assert.equal(body.checks.call_path.state, "pass");
  assert.match(body.version, /^\d+\.\d+\.\d+$/);
  assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
});

Deno.test("voice-health: never echoes configured values", async () => {
  const { body } = await probe(`${functionsUrl()}/voice-health`);
  const text = JSON.stringify(body);
  for (const value of Object.values(exampleEnv())) {
    assert.ok(!text.includes(value), "a configured value leaked");
  }
  assert.ok(!text.includes(testDbUrl()));
});

Deno.test("voice-health: other methods get 405", async () => {
  const { res } = await probe(`${functionsUrl()}/voice-health`, { method: "POST", body: "x" });
  assert.equal(res.status, 405);
});

Deno.test("voice-health: database stopped → 503 unhealthy within 3 s", async () => {
  const fn = await startFunction("voice-health", {
    ...exampleEnv(),
    SUPABASE_DB_URL: stoppedDatabaseUrl(),
  });
  try {
    const { res, body, ms } = await probe(fn.url);
    assert.equal(res.status, 503);
    assert.equal(body.status, "unhealthy");
    assert.equal(body.checks.database.state, "fail");
    assert.equal(body.checks.configuration.state, "pass");
    assert.ok(ms < 3000, `answered in ${Math.round(ms)} ms`);
    // Which check failed, in our words; the driver's text stays in the log.
    const text = JSON.stringify(body);
    const port = new URL(fn.url).port;
    for (const leak of ["127.0.0.1", "ECONNREFUSED", "connect", "postgres", port]) {
      assert.ok(!text.includes(leak), `the public answer carries "${leak}": ${text}`);
    }
    assert.equal(body.checks.database.detail, "unreachable or refusing queries");
  } finally {
    await fn.stop();
  }
});

for (const mode of ["access exclusive", "exclusive"]) {
  Deno.test(`voice-health: a ${mode} lock on call_logs (calls wait and are rescued) → degraded, 200`, async () => {
    const sql = testSql({ max: 1 });
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(`lock table public.call_logs in ${mode} mode`);
        const { res, body, ms } = await probe(`${functionsUrl()}/voice-health`);
        assert.equal(res.status, 200);
        assert.equal(body.status, "degraded");
        assert.equal(body.checks.call_path.state, "warn");
        assert.match(body.checks.call_path.detail, /locked/);
        assert.equal(body.checks.database.state, "pass");
        assert.ok(ms < 3000, `answered in ${Math.round(ms)} ms`);
      });
      // Released: healthy again.
      const { body } = await probe(`${functionsUrl()}/voice-health`);
      assert.equal(body.status, "healthy");
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
}

Deno.test("voice-health: database hangs (accepts, never answers) → 503 within 3 s", async () => {
  const hanging = hangingDatabase();
  const fn = await startFunction("voice-health", {
    ...exampleEnv(),
    SUPABASE_DB_URL: hanging.url,
  });
  try {
    const { res, body, ms } = await probe(fn.url);
    assert.equal(res.status, 503);
    assert.equal(body.checks.database.state, "fail");
    assert.ok(ms < 3000, `answered in ${Math.round(ms)} ms`);
  } finally {
    await fn.stop();
    hanging.close();
  }
});

Deno.test("voice-health: invalid configuration → 503, the variable named, no value", async () => {
  const fn = await startFunction("voice-health", {
    ...exampleEnv(),
    HOTLINE_E164: "not-a-number",
    SUPABASE_DB_URL: testDbUrl(),
  });
  try {
    const { res, body } = await probe(fn.url);
    assert.equal(res.status, 503);
    assert.equal(body.checks.configuration.state, "fail");
    assert.match(body.checks.configuration.detail, /HOTLINE_E164 must be/);
    assert.ok(!JSON.stringify(body).includes("not-a-number"));
  } finally {
    await fn.stop();
  }
});

Deno.test({
  name:
    "voice-health: its check runs on a connection of its own, closed after (the driver is not loaded)",
  // Through PgBouncer the role cannot log in (its auth file), and the pooler
  // keeps server connections open whoever closed theirs.
  ignore: Deno.env.get("HOTLINE_TEST_POOLER") !== undefined,
  fn: async () => {
    // The driver's pool keeps a connection open for 30 s after use; the probe
    // (platform/pg-probe.ts) closes its own. A role of the test's own tells
    // this process's connections from every other.
    const sql = testSql({ max: 1 });
    const role = "voice_health_cold_probe";
    await sql.unsafe(`drop role if exists ${role}`);
    await sql.unsafe(`create role ${role} login password 'probe-secret'`);
    const url = new URL(testDbUrl());
    url.username = role;
    url.password = "probe-secret";
    const fn = await startFunction("voice-health", {
      ...exampleEnv(),
      SUPABASE_DB_URL: url.toString(),
    });
    try {
      const { res, body } = await probe(fn.url);
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.status, "healthy");
      let open = -1;
      for (let i = 0; i < 50 && open !== 0; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        [{ open }] =
          await sql`select count(*)::int as open from pg_stat_activity where usename = ${role}`;
      }
      assert.equal(open, 0, "a connection of voice-health's stayed open: the driver's pool");
    } finally {
      await fn.stop();
      await sql.unsafe(`drop role if exists ${role}`);
      await sql.end({ timeout: 1 });
    }
  },
});
