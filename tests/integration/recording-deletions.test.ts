/**
 * The recording-deletion worker against the Twilio stand-in and the real
 * database: a deleted voicemail's recording is deleted at Twilio once, under
 * the account that owns it; 404 counts as done; a Twilio that fails, hangs or
 * drops the connection after acting leaves the row for a later run, which
 * finishes it; a permanent refusal is recorded where operators look; two
 * workers on their own connections at once never delete a recording twice.
 *
 * The fault tests run it the way the schedule does: POST
 * /telephony-provision/transactions/resume (in process, as the provisioning
 * tests drive that function).
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { deleteQueuedRecordings } from "../../supabase/functions/_shared/retention/recording-deletions.ts";
import { TwilioRestClient } from "../../supabase/functions/_shared/twilio/rest-client.ts";
import { provisioningClient } from "../support/provisioning.ts";
import { newCallSid, testDbUrl, testSql } from "../support/stack.ts";
import { type Fault, TwilioStandIn } from "../support/twilio-stand-in.ts";

const sql = testSql();
const standIn = new TwilioStandIn().start();
const call = provisioningClient(standIn);
const mySids: string[] = [];

/** A voicemail whose recording Twilio holds, then deleted: its deletion is queued. */
async function queueDeletion(accountSid = standIn.mainSid, atTwilio = true): Promise<string> {
  const callSid = newCallSid();
  const recordingSid = atTwilio
    ? standIn.addRecording(callSid, accountSid).sid
    : "RE" + crypto.randomUUID().replaceAll("-", "");
  mySids.push(recordingSid);
  await sql`insert into call_logs (call_sid, account_sid, from_number, to_number, status)
            values (${callSid}, ${accountSid}, '+15875550100', '+15877428885', 'completed')`;
  await sql`insert into voicemails (call_sid, recording_sid, recording_url)
            values (${callSid}, ${recordingSid},
                    ${`https://api.twilio.com/2010-04-01/Accounts/${accountSid}/Recordings/${recordingSid}`})`;
  await sql`delete from voicemails where call_sid = ${callSid}`;
  return recordingSid;
}

async function outboxRow(recordingSid: string) {
  const [row] = await sql`
    select attempts, claimed_by, last_error, deleted_at,
           extract(epoch from not_before - clock_timestamp())::int as due_in_s
      from twilio_recording_deletions where recording_sid = ${recordingSid}`;
  return row;
}

/** DELETE requests the stand-in received for this recording. */
const deleteRequests = (recordingSid: string) =>
  standIn.requests.filter((r) => r.method === "DELETE" && r.path.includes(recordingSid)).length;

async function resume() {
  const res = await call("POST", "/transactions/resume");
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.recordingDeletions;
}

/** What waiting out a retry's pause does. */
const makeDue = (recordingSid: string) =>
  sql`update twilio_recording_deletions set not_before = clock_timestamp()
       where recording_sid = ${recordingSid}`;

Deno.test("recording deletions: deleted at Twilio once, under the owning account; 404 counts as done", async () => {
  const sub = "AC" + crypto.randomUUID().replaceAll("-", "");
  standIn.accounts.set(sub, {
    sid: sub,
    owner_account_sid: standIn.mainSid,
    friendly_name: "a client's subaccount",
    status: "active",
    auth_token: "0".repeat(32),
  });
  const inMain = await queueDeletion();
  const inSub = await queueDeletion(sub);
  const gone = await queueDeletion(standIn.mainSid, false);

  const run = await resume();
  assert.equal(run.deleted, 2, JSON.stringify(run));
  assert.ok(run.alreadyGone >= 1, JSON.stringify(run));
  assert.equal(standIn.recordings.size, 0);
  assert.equal(standIn.effects.recordingsDeleted.get(inMain), 1);
  assert.equal(standIn.effects.recordingsDeleted.get(inSub), 1);
  // The subaccount's recording was reached under its own AccountSid, with the main credentials.
  assert.ok(
    standIn.requests.some((r) =>
      r.method === "DELETE" && r.path.includes(`${sub}/Recordings/${inSub}`)
    ),
  );
  for (const sid of [inMain, inSub, gone]) {
    const row = await outboxRow(sid);
    assert.ok(row.deleted_at, `${sid} done`);
    assert.equal(row.last_error, null);
    assert.equal(row.attempts, 1);
  }

  // Done is done: a later run sends nothing for them.
  await resume();
  for (const sid of [inMain, inSub, gone]) assert.equal(deleteRequests(sid), 1, sid);
});

const FAULTS: [string, Fault][] = [
  ["fails (503, 20503)", { kind: "fail", status: 503, code: 20503 }],
  ["hangs past the client's timeout", { kind: "hang" }],
  ["acts, then drops the connection", { kind: "drop" }],
];

for (const [label, fault] of FAULTS) {
  Deno.test(`recording deletions: Twilio ${label} on every try → retried later, deleted once`, async () => {
    const sid = await queueDeletion();
    // The client retries a DELETE blindly 3 times: the fault outlasts all of them.
    standIn.faultOn("DELETE", new RegExp(`/Recordings/${sid}\\.json$`), fault, 3);
    const run = await resume();
    assert.ok(run.retryLater >= 1, JSON.stringify(run));
    const failed = await outboxRow(sid);
    assert.equal(failed.deleted_at, null);
    assert.equal(failed.claimed_by, null, "the claim is given back");
    assert.match(failed.last_error, /^transient: HTTP (0|503)/);
    assert.ok(
      failed.due_in_s >= 50 && failed.due_in_s <= 60,
      `backs off: due in ${failed.due_in_s} s`,
    );
    assert.equal(deleteRequests(sid), 3);
    const deletedByFault = fault.kind === "drop" ? 1 : 0;
    assert.equal(standIn.effects.recordingsDeleted.get(sid) ?? 0, deletedByFault);

    // Before its time, the next run leaves it alone.
    await resume();
    assert.equal(deleteRequests(sid), 3);

    await makeDue(sid);
    await resume();
    const done = await outboxRow(sid);
    assert.ok(done.deleted_at, "finished by the later run");
    assert.equal(done.last_error, null);
    assert.equal(done.attempts, 2);
    assert.equal(standIn.effects.recordingsDeleted.get(sid), 1, "deleted at Twilio exactly once");
    assert.equal(standIn.recordings.has(sid), false);
  });
}

Deno.test("recording deletions: a permanent refusal is recorded for operators and not retried soon", async () => {
  const sid = await queueDeletion();
  standIn.faultOn("DELETE", new RegExp(`/Recordings/${sid}\\.json$`), {
    kind: "fail",
    status: 401,
    code: 20003,
  });
  const run = await resume();
  assert.ok(run.failed >= 1, JSON.stringify(run));
  assert.equal(deleteRequests(sid), 1, "a refusal is not resent blindly");
  const row = await outboxRow(sid);
  assert.equal(row.deleted_at, null);
  assert.match(row.last_error, /^permanent: HTTP 401 \(20003\)/);
  assert.ok(row.due_in_s > 86_000, `tried again in a day: ${row.due_in_s} s`);
  const [{ call_sid: callSid }] =
    await sql`select call_sid from twilio_recording_deletions where recording_sid = ${sid}`;
  const errors = await sql`select function_slug, error_name, message from error_logs
                            where call_sid = ${callSid}`;
  assert.deepEqual([...errors], [{
    function_slug: "recording-deletions",
    error_name: "RecordingDeletionFailed",
    message: "Twilio refused to delete a recording: permanent: HTTP 401 (20003)",
  }]);
  const [shown] = await sql`select occurrences from recent_errors
                             where function_slug = 'recording-deletions'`;
  assert.ok(Number(shown.occurrences) >= 1, "recent_errors shows it");

  // Once the cause is fixed (or the day has passed), it goes through.
  await makeDue(sid);
  await resume();
  assert.ok((await outboxRow(sid)).deleted_at);
  assert.equal(standIn.effects.recordingsDeleted.get(sid), 1);
  await sql`delete from error_logs where call_sid = ${callSid}`;
});

Deno.test("recording deletions: a claim whose worker died is taken over after its lease", async () => {
  const sid = await queueDeletion();
  // As twilio_recording_deletion_claim leaves it, for a worker that then died.
  await sql`update twilio_recording_deletions
               set claimed_by = 'dead-worker', claimed_until = clock_timestamp() + interval '60 seconds',
                   attempts = attempts + 1
             where recording_sid = ${sid}`;
  await resume();
  assert.equal(deleteRequests(sid), 0);
  await sql`update twilio_recording_deletions set claimed_until = clock_timestamp() - interval '1 second'
             where recording_sid = ${sid}`;
  await resume();
  assert.ok((await outboxRow(sid)).deleted_at);
  assert.equal(standIn.effects.recordingsDeleted.get(sid), 1);
});

Deno.test("recording deletions: two workers on their own connections at once delete each recording once", async () => {
  const COUNT = 40;
  const sids = [];
  for (let i = 0; i < COUNT; i++) sids.push(await queueDeletion());
  standIn.latencyMs = 15;
  const twilio = new TwilioRestClient({
    baseUrl: standIn.url,
    accountSid: standIn.mainSid,
    authToken: standIn.mainToken,
    timeoutMs: 2_000,
  });
  const connections = [0, 1].map(() =>
    postgres(testDbUrl(), { prepare: false, max: 3, onnotice: () => {} })
  );
  try {
    const runs = await Promise.all(
      connections.map((db, w) =>
        deleteQueuedRecordings(db, twilio, { worker: `worker-${w}`, concurrency: 3 })
      ),
    );
    assert.ok(runs.every((r) => r.deleted > 0), `both took part: ${JSON.stringify(runs)}`);
    assert.equal(runs[0].deleted + runs[1].deleted, COUNT);
    for (const sid of sids) {
      assert.equal(deleteRequests(sid), 1, `${sid}: one DELETE`);
      assert.equal(standIn.effects.recordingsDeleted.get(sid), 1);
      assert.ok((await outboxRow(sid)).deleted_at);
    }
  } finally {
    standIn.latencyMs = 0;
    await Promise.all(connections.map((c) => c.end()));
  }
});

Deno.test("teardown", async () => {
  const calls =
    await sql`delete from twilio_recording_deletions where recording_sid = any(${mySids})
                          returning call_sid`;
  await sql`delete from call_logs where call_sid = any(${calls.map((c) => c.call_sid)})`;
  await standIn.stop();
  await sql.end();
});
