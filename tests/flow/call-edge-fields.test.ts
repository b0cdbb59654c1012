/**
 * Signed but hostile values are normalised at the edge (edge-validation.ts),
 * so the database never refuses them: the call row is written. And webhooks
 * whose AccountSid is not ours are refused before any work.
 */
import assert from "node:assert/strict";
import { callRows, HOTLINE, hotline, newCaller, sql } from "./hotline.ts";
import { parseTwiml, randomSid } from "./twilio-driver.ts";

const driver = hotline();

const frontdoor = (params: Record<string, string>) =>
  driver.post(driver.url("voice-frontdoor"), {
    AccountSid: driver.accountSid,
    ApiVersion: "2010-04-01",
    CallStatus: "ringing",
    Direction: "inbound",
    ...params,
  });

async function errorsFor(callSid: string): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from error_logs where call_sid = ${callSid}`;
  return n;
}

Deno.test("edge: a NUL byte in every field → the call row is still written, without it", async () => {
  const callSid = randomSid("CA");
  const caller = newCaller();
  const res = await frontdoor({
    CallSid: callSid,
    From: caller + "\u0000",
    To: HOTLINE + "\u0000",
    Caller: "\u0000" + caller,
    Called: HOTLINE,
    CallerName: "Mallory\u0000",
    FromCity: "\u0000",
  });
  assert.equal(res.status, 200);
  assert.ok(parseTwiml(res.body).some((v) => v.verb === "Gather"), "the caller was not answered");
  const rows = await callRows(callSid);
  assert.ok(rows.call, "no call row was written");
  assert.equal(rows.call.from_number, caller);
  assert.equal(rows.call.to_number, HOTLINE);
  assert.equal(await errorsFor(callSid), 0);
});

Deno.test("edge: an 8 KB From → the call row is written with the caller unknown", async () => {
  const callSid = randomSid("CA");
  const res = await frontdoor({ CallSid: callSid, From: "+1" + "5".repeat(8192), To: HOTLINE });
  assert.equal(res.status, 200);
  assert.ok(parseTwiml(res.body).some((v) => v.verb === "Gather"));
  const rows = await callRows(callSid);
  assert.ok(rows.call, "no call row was written");
  assert.equal(rows.call.from_number, "unknown");
  assert.equal(await errorsFor(callSid), 0);
});

Deno.test("edge: a NUL byte in the transcription → stored without it", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "9" }, { speak: 6 }],
    transcription: "none",
  });
  const recording = call.exchanges.find((e) => e.url.includes("event=recording"))!;
  const res = await driver.post(driver.url("voice-voicemail?event=transcription"), {
    AccountSid: driver.accountSid,
    CallSid: call.callSid,
    RecordingSid: recording.params.RecordingSid,
    TranscriptionSid: randomSid("TR"),
    TranscriptionStatus: "completed",
    TranscriptionText: "Call me\u0000 back",
  });
  assert.equal(res.status, 200);
  const rows = await callRows(call.callSid);
  assert.equal(rows.voicemails.length, 1);
  assert.equal(rows.voicemails[0].transcription_text, "Call me back");
  assert.equal(await errorsFor(call.callSid), 0);
});

Deno.test("edge: an AccountSid that is malformed or not ours → 403, nothing written", async () => {
  for (const accountSid of ["AC123", "AC" + "F".repeat(32), randomSid("AC"), ""]) {
    const callSid = randomSid("CA");
    const res = await frontdoor({
      AccountSid: accountSid,
      CallSid: callSid,
      From: newCaller(),
      To: HOTLINE,
    });
    assert.equal(res.status, 403, `AccountSid=${accountSid}`);
    assert.equal(res.body, "");
    assert.equal((await callRows(callSid)).call, undefined);
  }
});
