/**
 * A bad signature at every step that stores anything: 403, and nothing
 * written. (voice-fallback answers an unverified request with a DB-free
 * voicemail instead: tests/integration/fallback-unverified.test.ts.)
 */
import assert from "node:assert/strict";
import { callRows, hotline, newCaller, sql } from "./hotline.ts";
import { randomSid } from "./twilio-driver.ts";
import twilio from "twilio";

const driver = hotline();

const steps = [
  "voice-frontdoor",
  "voice-menu-handler?attempt=1&repeats=0",
  "voice-action?dept=sales",
  "voice-action?step=screened&call=CA00000000000000000000000000000000",
  "voice-voicemail?event=recording",
  "voice-voicemail?event=transcription",
  "voice-status?forged=1",
];

for (const step of steps) {
  Deno.test(`flow: bad signature at ${step} → 403, no rows`, async () => {
    const callSid = randomSid("CA");
    const [{ n: before }] = await sql`select count(*)::int as n from idempotency_keys`;
    const params = {
      CallSid: callSid,
      From: newCaller(),
      To: "+15877428885",
      Digits: "1",
      CallStatus: "completed",
      RecordingSid: randomSid("RE"),
      DialCallStatus: "completed",
    };
    const forged = await driver.post(driver.url(step), params, {
      signature: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    });
    assert.equal(forged.status, 403);
    assert.equal(forged.body, "");
    const unsigned = await driver.post(driver.url(step), params, { signature: "" });
    assert.ok([400, 403].includes(unsigned.status));
    // Correctly signed, but for another step's URL (a replay against this one).
    const signedElsewhere = await fetch(driver.url(step), {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilio.getExpectedTwilioSignature(
          driver.authToken,
          driver.url("voice-status"),
          params,
        ),
      },
      body: new URLSearchParams(params),
    });
    assert.equal(signedElsewhere.status, 403);
    await signedElsewhere.body?.cancel();
    const rows = await callRows(callSid);
    assert.equal(rows.call, undefined);
    const [{ n: after }] = await sql`select count(*)::int as n from idempotency_keys`;
    assert.equal(after, before);
  });
}
