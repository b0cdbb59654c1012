/**
 * The local stack's resumer: scripts/serve-functions.ts --resume-every calls
 * telephony-provision's resume endpoint on a timer (hosted Supabase uses
 * pg_cron + pg_net, absent here). A transaction whose process died after its
 * last step, before marking itself completed, is finished by it, and a
 * recording queued for deletion is deleted at Twilio (a stand-in).
 */
import { spawnGateway } from "../../scripts/lib/gateway-process.ts";
import assert from "node:assert/strict";
import { freePort } from "../../scripts/lib/function-workers.ts";
import { exampleEnv } from "../support/function-process.ts";
import { newCallSid, testDbUrl, testSql } from "../support/stack.ts";
import { TwilioStandIn } from "../support/twilio-stand-in.ts";

Deno.test("local stack: the gateway's timer resumes an expired transaction and deletes queued recordings", async () => {
  const sql = testSql();
  // The gateway's functions run with the committed .env.example: the stand-in holds that account.
  const env = exampleEnv();
  const standIn = new TwilioStandIn({ sid: env.TWILIO_ACCOUNT_SID, token: env.TWILIO_AUTH_TOKEN })
    .start();
  const callSid = newCallSid();
  const recording = standIn.addRecording(callSid);
  await sql`insert into call_logs (call_sid, account_sid, from_number, to_number, status)
            values (${callSid}, ${standIn.mainSid}, '+15875550100', '+15877428885', 'completed')`;
  await sql`insert into voicemails (call_sid, recording_sid) values (${callSid}, ${recording.sid})`;
  await sql`delete from call_logs where call_sid = ${callSid}`;
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
  const gateway = spawnGateway({
    port,
    dbUrl: testDbUrl(),
    args: ["--resume-every", "1"],
    // Variables in the environment win over the env file: Twilio is the stand-in.
    env: { TWILIO_API_BASE_URL: standIn.url },
  });
  try {
    let status = "running";
    let deletedAt = null;
    for (let i = 0; i < 150 && (status !== "completed" || !deletedAt); i++) {
      await new Promise((r) => setTimeout(r, 100));
      [{ status }] =
        await sql`select status from public.telephony_transactions where id = ${tx.id}`;
      [{ deleted_at: deletedAt }] = await sql`select deleted_at from twilio_recording_deletions
                                               where recording_sid = ${recording.sid}`;
    }
    assert.equal(status, "completed");
    assert.ok(deletedAt, "the queued recording deletion was done");
    assert.equal(standIn.effects.recordingsDeleted.get(recording.sid), 1);
  } finally {
    gateway.kill("SIGTERM");
    await gateway.status;
    await sql`delete from twilio_recording_deletions where recording_sid = ${recording.sid}`;
    await standIn.stop();
    await sql.end();
  }
});
