/** Voicemail: recording and transcription callbacks in either order, redelivered, stored once. */
import assert from "node:assert/strict";
import { callRows, HOTLINE, hotline, newCaller, sql } from "./hotline.ts";
import { randomSid } from "./twilio-driver.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";

const driver = hotline();

for (const order of ["before-recording-callback", "after-recording-callback"] as const) {
  Deno.test(`flow: press 9, transcription ${order} → one voicemail with both halves`, async () => {
    const call = await driver.call({
      from: newCaller(),
      script: [{ press: "9" }, { speak: 25 }],
      transcription: order,
    });
    assert.equal(call.heard.at(-1), PROMPTS.voicemailSaved);
    const rows = await callRows(call.callSid);
    assert.equal(rows.call.menu_choice, "voicemail");
    assert.equal(rows.voicemails.length, 1);
    const vm = rows.voicemails[0];
    assert.match(vm.recording_sid, /^RE[0-9a-f]{32}$/);
    assert.match(vm.recording_url, /^https:\/\//);
    assert.equal(vm.duration_seconds, 25);
    assert.equal(vm.transcription_status, "completed");
    assert.match(vm.transcription_text, /call me back/);
    assert.deepEqual(rows.events, [
      "call.answered",
      "menu.voicemail",
      "voicemail.recorded",
      "voicemail.transcribed",
    ]);
  });
}

Deno.test("flow: transcription delivered first (before Record's action) → the recorded event has the duration", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "9" }, { speak: 25 }],
    transcription: "first",
  });
  const callbacks = call.exchanges.map((e) => new URL(e.url).searchParams.get("event"))
    .filter((e) => e);
  assert.deepEqual(callbacks, ["transcription", "recorded", "recording"], "the driver's order");
  const rows = await callRows(call.callSid);
  assert.equal(rows.voicemails[0].duration_seconds, 25);
  assert.match(rows.voicemails[0].transcription_text, /call me back/);
  const [event] = await sql`select properties from analytics_events
                             where call_sid = ${call.callSid} and event_type = 'voicemail.recorded'`;
  assert.equal(event.properties.duration_seconds, 25);
});

Deno.test("flow: every voicemail callback delivered twice (and concurrently) → still one row, one event each", async () => {
  const call = await driver.call({ from: newCaller(), script: [{ press: "9" }, { speak: 8 }] });
  const callbacks = call.exchanges.filter((e) =>
    /event=(recorded|recording|transcription)/.test(e.url)
  );
  assert.equal(callbacks.length, 3);
  const replays = await Promise.all(
    callbacks.flatMap((
      e,
    ) => [driver.post(e.url, e.params, { token: e.token }), driver.post(e.url, e.params)]),
  );
  assert.ok(replays.every((r) => r.status === 200));
  const rows = await callRows(call.callSid);
  assert.equal(rows.voicemails.length, 1);
  assert.equal(rows.events.filter((e) => e === "voicemail.recorded").length, 1);
  assert.equal(rows.events.filter((e) => e === "voicemail.transcribed").length, 1);
});

Deno.test("flow: caller hangs up during the voicemail prompt → clean record, no voicemail, no error", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "9" }, { hangup: true }],
    statusCallbacks: true,
  });
  assert.equal(call.end, "caller-hung-up");
  assert.ok(call.exchanges.every((e) => e.status === 200));
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.status, "completed");
  assert.equal(rows.call.menu_choice, "voicemail");
  assert.deepEqual(rows.voicemails, []);
});

Deno.test("flow: caller hangs up while recording → the message is still kept", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "9" }, { speak: 30, thenHangup: true }],
  });
  const rows = await callRows(call.callSid);
  assert.equal(rows.voicemails.length, 1);
  assert.equal(rows.voicemails[0].duration_seconds, 30);
});

Deno.test("flow: a call first seen through its recording callback gets From/To from the next webhook", async () => {
  const callSid = randomSid("CA");
  const recordingSid = randomSid("RE");
  const recording = await driver.post(driver.url("voice-voicemail?event=recording"), {
    AccountSid: driver.accountSid,
    CallSid: callSid,
    RecordingSid: recordingSid,
    RecordingUrl:
      `https://api.twilio.com/2010-04-01/Accounts/${driver.accountSid}/Recordings/${recordingSid}`,
    RecordingDuration: "9",
    RecordingStatus: "completed",
  });
  assert.equal(recording.status, 200);
  assert.equal((await callRows(callSid)).call.from_number, "unknown");
  const from = newCaller();
  await driver.postStatus(callSid, "completed", { from, to: HOTLINE });
  const rows = await callRows(callSid);
  assert.equal(rows.call.from_number, from);
  assert.equal(rows.call.to_number, HOTLINE);
  assert.ok(rows.call.number_id, "the real To links the hotline number");
});
