/**
 * telephony-provision in a process of its own, as a cold isolate meets it: a
 * refused request is audited before its answer without loading the Postgres
 * driver (admin/audit.ts writes it over the probe's own connection), and a
 * burst of refusals is audited in full.
 */
import assert from "node:assert/strict";
import { exampleEnv, startFunction } from "../support/function-process.ts";
import { serverConnections } from "../support/pg-connections.ts";
import { testDbUrl, testSql } from "../support/stack.ts";

const sql = testSql();

async function auditedAs(userAgent: string) {
  return await sql`select actor, method, path, status, outcome
                     from public.admin_audit_log where user_agent = ${userAgent} order by id`;
}

/** telephony-provision in a fresh process of its own, on the test database. */
function coldProvision() {
  return startFunction("telephony-provision", { ...exampleEnv(), SUPABASE_DB_URL: testDbUrl() });
}

function refusedRequest(url: string, userAgent: string): Promise<Response> {
  return fetch(`${url}/numbers`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": userAgent },
    body: JSON.stringify({ client: "Nobody", areaCode: "587" }),
  });
}

Deno.test({
  name: "admin audit: a cold isolate audits a refusal without the driver (no pooled connection)",
  // Through PgBouncer, Postgres sees the pooler's connections, not the function's.
  ignore: Deno.env.get("HOTLINE_TEST_POOLER") !== undefined,
  fn: async () => {
    const fn = await coldProvision();
    try {
      const userAgent = `cold-audit-${crypto.randomUUID()}`;
      const res = await refusedRequest(fn.url, userAgent);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, "admin_key_missing");
      // Written before the answer: no waiting for it here.
      assert.deepEqual([...await auditedAs(userAgent)], [{
        actor: "anonymous",
        method: "POST",
        path: "/numbers",
        status: 401,
        outcome: "admin_key_missing",
      }]);
      // The driver's pool would keep its connection for 30 s after use; the
      // probe closes its own once the row is written.
      let held = -1;
      for (let i = 0; i < 50 && held !== 0; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        held = (await serverConnections([fn.pid])).total;
      }
      assert.equal(held, 0, "the refusal left a pooled connection open: the driver was loaded");
    } finally {
      await fn.stop();
    }
  },
});

Deno.test("admin audit: a burst of refusals on a cold isolate is audited in full", async () => {
  const fn = await coldProvision();
  try {
    const userAgent = `cold-burst-${crypto.randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => refusedRequest(fn.url, userAgent)),
    );
    for (const res of answers) {
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
    const rows = await auditedAs(userAgent);
    assert.equal(rows.length, 12);
    assert.ok(rows.every((r) => r.outcome === "admin_key_missing" && r.status === 401));
  } finally {
    await fn.stop();
  }
});

Deno.test("teardown", async () => {
  await sql.end();
});
