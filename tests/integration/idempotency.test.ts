/** Idempotency keys against the real database, with real concurrent connections. */
import assert from "node:assert/strict";
import postgres from "postgres";
import { withIdempotency } from "../../supabase/functions/_shared/platform/idempotency.ts";
import { testDbUrl, testSql } from "../support/stack.ts";

// Lives for the whole file; the throwaway database goes with the test run.
const sql = testSql({ max: 60 });
await sql`create table if not exists test_side_effects (id bigint generated always as identity, key text not null)`;

/** The work: one side effect row, then a response. */
const sideEffect = (key: string, status = 201) => async () => {
  await sql`insert into test_side_effects (key) values (${key})`;
  return { status, body: { provisioned: key } };
};
const count = async (key: string) =>
  (await sql`select count(*)::int as n from test_side_effects where key = ${key}`)[0].n as number;

Deno.test("idempotency: 50 concurrent requests with one new key run the work exactly once", async () => {
  const key = crypto.randomUUID();
  const many = postgres(testDbUrl(), { prepare: false, max: 50, onnotice: () => {} });
  try {
    await Promise.all(Array.from({ length: 50 }, () => many`select 1`)); // 50 open connections
    const responses = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          withIdempotency(many, { scope: "test:provision", key, fingerprint: "fp" }, async () => {
            await many`select pg_sleep(0.2)`; // long enough for the others to arrive while it runs
            await many`insert into test_side_effects (key) values (${key})`;
            return { status: 201, body: { ok: true } };
          }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    assert.equal(await count(key), 1);
    assert.equal(statuses.filter((s) => s === 201).length >= 1, true);
    assert.ok(statuses.every((s) => s === 201 || s === 409), `statuses: ${statuses}`);
    assert.ok(statuses.includes(409), "concurrent duplicates are told the first is in progress");
  } finally {
    await many.end();
  }
});

Deno.test("idempotency: same key and request → the stored response, work not redone", async () => {
  const key = crypto.randomUUID();
  const opts = { scope: "test:provision", key, fingerprint: "fp-a" };
  const first = await withIdempotency(sql, opts, sideEffect(key));
  const second = await withIdempotency(sql, opts, sideEffect(key));
  assert.equal(first.status, 201);
  assert.equal(second.status, 201);
  assert.deepEqual(await second.json(), await first.json());
  assert.equal(second.headers.get("idempotent-replayed"), "true");
  assert.equal(await count(key), 1);
});

Deno.test("idempotency: same key with a different request → 422, work not done", async () => {
  const key = crypto.randomUUID();
  await withIdempotency(
    sql,
    { scope: "test:provision", key, fingerprint: "fp-a" },
    sideEffect(key),
  );
  const other = await withIdempotency(
    sql,
    { scope: "test:provision", key, fingerprint: "fp-b" },
    sideEffect(key),
  );
  assert.equal(other.status, 422);
  assert.equal((await other.json()).error.code, "idempotency_key_reused");
  assert.equal(await count(key), 1);
});

Deno.test("idempotency: scopes keep equal keys apart", async () => {
  const key = crypto.randomUUID();
  await withIdempotency(sql, { scope: "test:a", key, fingerprint: "fp" }, sideEffect(key));
  const b = await withIdempotency(
    sql,
    { scope: "test:b", key, fingerprint: "fp" },
    sideEffect(key),
  );
  assert.equal(b.status, 201);
  assert.equal(await count(key), 2);
});

for (const status of [500, 503, 429, 401]) {
  Deno.test(`idempotency: a ${status} is not stored; the retry runs the work again`, async () => {
    const key = crypto.randomUUID();
    const opts = { scope: "test:provision", key, fingerprint: "fp" };
    const failed = await withIdempotency(sql, opts, sideEffect(key, status));
    assert.equal(failed.status, status);
    const retry = await withIdempotency(sql, opts, sideEffect(key, 201));
    assert.equal(retry.status, 201);
    assert.equal(await count(key), 2);
  });
}

Deno.test("idempotency: a thrown error releases the key", async () => {
  const key = crypto.randomUUID();
  const opts = { scope: "test:provision", key, fingerprint: "fp" };
  await assert.rejects(withIdempotency(sql, opts, () => Promise.reject(new Error("boom"))));
  const retry = await withIdempotency(sql, opts, sideEffect(key));
  assert.equal(retry.status, 201);
});

Deno.test("idempotency: a crash between started and done → 409 within the lease, taken over after it", async () => {
  const key = crypto.randomUUID();
  // The first holder starts, records its side effect, and dies before completing.
  const [{ claim }] =
    await sql`select public.idempotency_begin('test:provision', ${key}, 'fp', 1) as claim`;
  assert.equal(claim.outcome, "started");
  await sql`insert into test_side_effects (key) values (${key})`;

  const during = await withIdempotency(
    sql,
    { scope: "test:provision", key, fingerprint: "fp" },
    sideEffect(key),
  );
  assert.equal(during.status, 409);

  await sql`select pg_sleep(1.1)`;
  let takenOver: boolean | undefined;
  const after = await withIdempotency(
    sql,
    { scope: "test:provision", key, fingerprint: "fp" },
    async ({ takenOver: t }) => {
      takenOver = t;
      // A taker-over checks what its predecessor completed before acting.
      if ((await count(key)) === 0) await sql`insert into test_side_effects (key) values (${key})`;
      return { status: 201, body: { ok: true } };
    },
  );
  assert.equal(after.status, 201);
  assert.equal(takenOver, true);
  assert.equal(await count(key), 1, "the completed side effect was not done twice");

  // The first holder comes back late: its completion is refused.
  await assert.rejects(
    sql`select public.idempotency_complete('test:provision', ${key}, 201, '{}', ${claim.lease_id}::uuid)`,
    (e: Error & { code?: string }) => e.code === "40001",
  );
});

Deno.test("idempotency: a completed key is never run again, even long after its lease", async () => {
  const key = crypto.randomUUID();
  const opts = { scope: "test:provision", key, fingerprint: "fp", leaseSeconds: 1 };
  await withIdempotency(sql, opts, sideEffect(key));
  await sql`select pg_sleep(1.1)`;
  const again = await withIdempotency(sql, opts, sideEffect(key));
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.equal(await count(key), 1);
});

Deno.test("idempotency: expired keys are removed by the cleanup pg_cron runs, and reusable", async () => {
  const key = crypto.randomUUID();
  await sql`select public.idempotency_begin('test:expiry', ${key}, 'fp', 30, 1)`;
  await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = ${key}`;
  const [{ claim }] =
    await sql`select public.idempotency_begin('test:expiry', ${key}, 'other', 30, 60) as claim`;
  assert.equal(claim.outcome, "started", "an expired key starts afresh");
  await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = ${key}`;
  const [{ removed }] = await sql`select public.idempotency_cleanup() as removed`;
  assert.ok(removed >= 1);
  const left = await sql`select 1 from idempotency_keys where key = ${key}`;
  assert.equal(left.length, 0);
  const [job] = await sql`select schedule from cron.job where jobname = 'idempotency-cleanup'`;
  assert.equal(job.schedule, "*/5 * * * *");
});

Deno.test("idempotency: keys default to a 24 h expiry", async () => {
  const key = crypto.randomUUID();
  await sql`select public.idempotency_begin('test:ttl', ${key}, 'fp')`;
  const [{ hours }] =
    await sql`select round(extract(epoch from expires_at - created_at) / 3600) as hours
                                 from idempotency_keys where key = ${key}`;
  assert.equal(Number(hours), 24);
});
