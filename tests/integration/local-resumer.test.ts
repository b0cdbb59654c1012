/**
 * The local stack's resumer: scripts/serve-functions.ts --resume-every calls
 * telephony-provision's resume endpoint on a timer (hosted Supabase uses
 * pg_cron + pg_net, absent here). A transaction whose process died after its
 * last step, before marking itself completed, is finished by it.
 */
import assert from "node:assert/strict";
import { freePort } from "../../scripts/lib/function-workers.ts";
import { testDbUrl, testSql } from "../support/stack.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("local stack: the gateway's timer resumes an expired transaction", async () => {
  const sql = testSql();
  const [tx] = await sql`
    insert into public.telephony_transactions (kind, status, request, lease_owner, lease_expires_at, attempts)
    values ('release_number', 'running', '{"e164": "+15870000009"}', 'dead-process',
            now() - interval '1 second', 1)
    returning id`;
  await sql`
    insert into public.telephony_transaction_steps (transaction_id, position, name, status, intent, result)
    select ${tx.id}, p - 1, n, 'completed', '{}'::jsonb, '{"e164": "+15870000009"}'::jsonb
      from unnest(array['mark_releasing', 'release_at_twilio', 'mark_released']) with ordinality as s(n, p)`;
  const port = freePort();
  const gateway = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-run",
      "--allow-sys=hostname",
      `${ROOT}/scripts/serve-functions.ts`,
      "--port",
      String(port),
      "--db-url",
      testDbUrl(),
      "--env-file",
      `${ROOT}/supabase/functions/.env.example`,
      "--resume-every",
      "1",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let status = "running";
    for (let i = 0; i < 150 && status !== "completed"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      [{ status }] =
        await sql`select status from public.telephony_transactions where id = ${tx.id}`;
    }
    assert.equal(status, "completed");
  } finally {
    gateway.kill("SIGTERM");
    await gateway.status;
    await sql.end();
  }
});
