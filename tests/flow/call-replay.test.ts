/**
 * `I-Twilio-Idempotency-Token` is not signed: anyone holding a captured signed
 * request can send it again with any token. Deduplication rests on each
 * step's natural key (the call, and the menu's step), never on the token.
 */
import assert from "node:assert/strict";
import { callRows, hotline, newCaller, sql } from "./hotline.ts";
import { randomSid } from "./twilio-driver.ts";

const driver = hotline();

/** Sends each exchange `times` more times, each with a fresh token, ten at a time. */
async function replay(exchanges: { url: string; params: Record<string, string> }[], times: number) {
  const statuses: number[] = [];
  for (const e of exchanges) {
    for (let i = 0; i < times; i += 10) {
      const batch = await Promise.all(
        Array.from(
          { length: 10 },
          () => driver.post(e.url, e.params, { token: crypto.randomUUID() }),
        ),
      );
      statuses.push(...batch.map((r) => r.status));
    }
  }
  return statuses;
}

Deno.test("flow: a captured call replayed 100 times with fresh tokens → one of each event, and the caller's next call is answered", async () => {
  const from = newCaller();
  const call = await driver.call({ from, script: [{ press: "1" }], agent: "busy" });
  const frontdoor = call.exchanges.find((e) => e.url.includes("/voice-frontdoor"))!;
  const menu = call.exchanges.find((e) => e.url.includes("/voice-menu-handler"))!;
  const dial = call.exchanges.find((e) => e.url.includes("/voice-action?dept="))!;
  const replays = [frontdoor, menu, dial].map((e) => ({ ...e, body: e.body }));
  const statuses = await replay(replays, 100);
  assert.ok(statuses.every((s) => s === 200));
  const rows = await callRows(call.callSid);
  assert.deepEqual(rows.events, ["call.answered", "menu.sales", "dial.outcome"]);
  // A replay answers exactly what the first delivery answered.
  for (const e of replays) {
    const again = await driver.post(e.url, e.params, { token: crypto.randomUUID() });
    assert.equal(again.body, e.body, e.url);
  }
  // The replays took nothing from the caller's allowance.
  const next = await driver.call({ from, script: [{ hangup: true }] });
  assert.equal(next.end, "caller-hung-up", "the caller's next real call is answered, not busy");
});

Deno.test("flow: one token on two calls' status callbacks → both stored", async () => {
  const token = crypto.randomUUID();
  const a = randomSid("CA");
  const b = randomSid("CA");
  assert.equal((await driver.postStatus(a, "completed", { from: newCaller(), token })).status, 200);
  assert.equal((await driver.postStatus(b, "completed", { from: newCaller(), token })).status, 200);
  assert.equal((await callRows(a)).call.status, "completed");
  const rowsB = await callRows(b);
  assert.equal(rowsB.call?.status, "completed", "the second call's callback was stored");
  assert.deepEqual(rowsB.lifecycle, ["completed"]);
});

Deno.test("flow: one token on two calls' recording callbacks → both voicemails stored", async () => {
  const token = crypto.randomUUID();
  const recording = (callSid: string) => {
    const recordingSid = randomSid("RE");
    return {
      AccountSid: driver.accountSid,
      CallSid: callSid,
      RecordingSid: recordingSid,
      RecordingUrl:
        `https://api.twilio.com/2010-04-01/Accounts/${driver.accountSid}/Recordings/${recordingSid}`,
      RecordingDuration: "14",
      RecordingStatus: "completed",
    };
  };
  const url = driver.url("voice-voicemail?event=recording");
  const a = randomSid("CA");
  const b = randomSid("CA");
  assert.equal((await driver.post(url, recording(a), { token })).status, 200);
  assert.equal((await driver.post(url, recording(b), { token })).status, 200);
  for (const callSid of [a, b]) {
    const rows = await callRows(callSid);
    assert.equal(
      rows.voicemails.length,
      1,
      `${callSid === a ? "first" : "second"} call's voicemail`,
    );
    assert.equal(rows.voicemails[0].duration_seconds, 14);
  }
  const [{ n }] = await sql`select count(*)::int as n from analytics_events
                             where call_sid in (${a}, ${b}) and event_type = 'voicemail.recorded'`;
  assert.equal(n, 2);
});

Deno.test("flow: the Dial outcome answers once per call: a redelivery naming another status hears the first answer", async () => {
  const call = await driver.call({ from: newCaller(), script: [{ press: "1" }], agent: "accepts" });
  const dial = call.exchanges.find((e) => e.url.includes("/voice-action?dept="))!;
  // Connected and accepted: the caller hears goodbye.
  const other = await driver.post(dial.url, { ...dial.params, DialCallStatus: "busy" });
  assert.equal(other.status, 200);
  assert.equal(other.body, dial.body, "the redelivery is told what the first delivery was told");
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.dial_call_status, "completed");
  assert.deepEqual(rows.events.filter((e) => e === "dial.outcome"), ["dial.outcome"]);
  // The call row is the record: the Dial action writes no idempotency key (issue 11).
  const [{ n }] = await sql`select count(*)::int as n from public.idempotency_keys
                             where scope = 'voice-action' and fingerprint like ${
    call.callSid + "%"
  }`;
  assert.equal(n, 0);
});
