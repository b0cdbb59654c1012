/** Scenarios through the menu, driven over HTTP like Twilio, checked against the database. */
import assert from "node:assert/strict";
import { callRows, HOTLINE, hotline, newCaller, SALES, SUPPORT } from "./hotline.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";

const driver = hotline();

Deno.test("flow: press 1, agent accepts → sales answered, recorded with implied consent", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "1" }],
    agent: "accepts",
    statusCallbacks: true,
  });
  assert.equal(call.end, "completed");
  assert.ok(call.heard.includes(PROMPTS.disclosure), "the recording disclosure was played");
  assert.deepEqual(call.dials, [{
    number: SALES,
    record: "record-from-answer-dual",
    callerId: HOTLINE,
  }]);
  assert.equal(call.heard.at(-1), PROMPTS.goodbye);
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.status, "completed");
  assert.equal(rows.call.menu_choice, "sales");
  assert.equal(rows.call.dial_target, SALES);
  assert.equal(rows.call.dial_call_status, "completed");
  assert.ok(rows.call.screening_accepted_at, "screening acceptance recorded");
  assert.equal(rows.call.duration_seconds, 37);
  assert.equal(rows.consent, "granted/implied");
  assert.deepEqual(rows.lifecycle, ["ringing", "in-progress", "completed"]);
  assert.deepEqual(rows.voicemails, []);
  assert.deepEqual(rows.events, ["call.answered", "menu.sales", "dial.outcome"]);
});

Deno.test("flow: press 2 → support target", async () => {
  const call = await driver.call({ from: newCaller(), script: [{ press: "2" }], agent: "accepts" });
  assert.equal(call.dials[0].number, SUPPORT);
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.menu_choice, "support");
  assert.equal(rows.call.dial_target, SUPPORT);
});

Deno.test("flow: star repeats the menu, then 2 reaches support", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "*" }, { press: "2" }],
    agent: "accepts",
  });
  assert.equal(call.heard.filter((h) => h === PROMPTS.menu).length, 2);
  assert.equal(call.dials[0].number, SUPPORT);
  const rows = await callRows(call.callSid);
  assert.deepEqual(rows.events, ["call.answered", "menu.repeat", "menu.support", "dial.outcome"]);
});

Deno.test("flow: 0 continues without recording: the dial is not recorded, consent declined", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "0" }, { press: "1" }],
    agent: "accepts",
  });
  assert.ok(call.heard.includes(PROMPTS.optedOut));
  assert.equal(call.dials[0].record, undefined);
  const rows = await callRows(call.callSid);
  assert.equal(rows.consent, "declined/opt-out-key");
  assert.equal(rows.call.menu_choice, "sales");
});

Deno.test("flow: * * * 0 → declined, no voicemail: the caller hears why and goodbye", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "*" }, { press: "*" }, { press: "*" }, { press: "0" }, { speak: 10 }],
  });
  assert.ok(!call.heard.includes("[beep]"), "nothing is recorded after a 0");
  assert.ok(!call.heard.includes(PROMPTS.voicemailPrompt));
  assert.equal(call.heard.at(-1), PROMPTS.unrecordedGoodbye);
  const rows = await callRows(call.callSid);
  assert.equal(rows.consent, "declined/opt-out-key");
  assert.deepEqual(rows.voicemails, []);
});

Deno.test("flow: 0, then 1 and nobody answers → no voicemail for a caller who pressed 0", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "0" }, { press: "1" }, { speak: 10 }],
    agent: "no-answer",
  });
  assert.ok(call.heard.includes(PROMPTS.menuUnrecorded), "the menu after 0 offers no voicemail");
  assert.equal(call.dials[0].record, undefined);
  assert.ok(call.heard.includes(PROMPTS.nobodyAvailable));
  assert.ok(!call.heard.includes("[beep]"));
  assert.equal(call.heard.at(-1), PROMPTS.unrecordedGoodbye);
  const rows = await callRows(call.callSid);
  assert.equal(rows.consent, "declined/opt-out-key");
  assert.deepEqual(rows.voicemails, []);
});

Deno.test("flow: invalid twice → one retry with an explanation, then voicemail", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "5" }, { press: "7" }, { hangup: true }],
  });
  assert.equal(call.heard.filter((h) => h === PROMPTS.retryInvalid).length, 1);
  assert.ok(call.heard.includes(PROMPTS.voicemailPrompt));
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.menu_choice, "voicemail");
  assert.equal(rows.call.menu_attempts, 2);
  assert.deepEqual(rows.events, ["call.answered", "menu.retry", "menu.voicemail"]);
});

Deno.test("flow: silence twice → one retry, then voicemail", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ silence: true }, { silence: true }, { hangup: true }],
  });
  assert.equal(call.heard.filter((h) => h === PROMPTS.retrySilence).length, 1);
  assert.ok(call.heard.includes(PROMPTS.voicemailPrompt));
});

Deno.test("flow: star pressed forever still ends in voicemail (no loop)", async () => {
  const call = await driver.call({ from: newCaller(), script: Array(20).fill({ press: "*" }) });
  assert.ok(call.heard.includes(PROMPTS.voicemailPrompt));
  const menus = call.heard.filter((h) => h === PROMPTS.menu).length;
  assert.ok(menus <= 4, `menu heard ${menus} times`);
});

Deno.test("flow: caller hangs up mid-menu → a clean record: completed, no choice, no voicemail", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ hangup: true }],
    statusCallbacks: true,
  });
  assert.equal(call.end, "caller-hung-up");
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.status, "completed");
  assert.equal(rows.call.menu_choice, null);
  assert.equal(rows.consent, "unknown/unknown");
  assert.deepEqual(rows.voicemails, []);
});

Deno.test("flow: a number missing from telephony_numbers is still answered, with default routing", async () => {
  const call = await driver.call({
    from: newCaller(),
    to: "+15875559999",
    script: [{ press: "2" }],
    agent: "accepts",
  });
  assert.ok(call.heard.includes(PROMPTS.menu));
  assert.equal(call.dials[0].number, SUPPORT);
  assert.equal(call.dials[0].callerId, "+15875559999");
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.number_id, null);
  assert.equal(rows.events[0], "call.unconfigured_number");
});
