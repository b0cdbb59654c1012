/** Dial outcomes and agent screening. */
import assert from "node:assert/strict";
import { callRows, hotline, newCaller, SALES } from "./hotline.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";

const driver = hotline();

for (const agent of ["busy", "no-answer", "fails"] as const) {
  Deno.test(`flow: dial ${agent} → voicemail, outcome on the call`, async () => {
    const call = await driver.call({
      from: newCaller(),
      script: [{ press: "1" }, { speak: 12 }],
      agent,
    });
    assert.ok(call.heard.includes(PROMPTS.nobodyAvailable));
    assert.ok(call.heard.includes(PROMPTS.voicemailPrompt));
    assert.equal(call.heard.at(-1), PROMPTS.voicemailSaved);
    const rows = await callRows(call.callSid);
    assert.equal(rows.call.dial_call_status, agent === "fails" ? "failed" : agent);
    assert.equal(rows.call.screening_accepted_at, null);
    assert.equal(rows.voicemails.length, 1);
    assert.equal(rows.voicemails[0].duration_seconds, 12);
  });
}

Deno.test("flow: an agent who accepts with # is connected (Twilio's default finishOnKey would drop it)", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "2" }],
    agent: "accepts-with-hash",
  });
  const accepted = call.exchanges.find((e) => e.url.includes("step=screened"));
  assert.ok(accepted, "the agent's # never reached voice-action");
  assert.equal(accepted.params.Digits, "#");
  assert.equal(call.heard.at(-1), PROMPTS.goodbye);
  const rows = await callRows(call.callSid);
  assert.notEqual(rows.call.screening_accepted_at, null);
});

Deno.test("flow: screening declined (agent's voicemail answers) → caller goes to voicemail", async () => {
  const call = await driver.call({
    from: newCaller(),
    script: [{ press: "1" }, { hangup: true }],
    agent: "declines",
  });
  // The agent leg heard the screening prompt and was dropped.
  const screen = call.exchanges.find((e) => e.url.includes("step=screen"));
  assert.ok(screen && screen.body.includes(PROMPTS.screening.sales));
  assert.ok(!call.exchanges.some((e) => e.url.includes("step=screened")));
  assert.ok(
    call.heard.includes(PROMPTS.voicemailPrompt),
    "Twilio reported completed, yet the caller got voicemail",
  );
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.dial_call_status, "completed");
  assert.equal(rows.call.screening_accepted_at, null);
  assert.equal(rows.call.dial_target, SALES);
});

Deno.test("flow: a redelivered Dial action changes nothing and answers the same", async () => {
  const call = await driver.call({ from: newCaller(), script: [{ press: "1" }], agent: "accepts" });
  const action = call.exchanges.find((e) => e.url.endsWith("voice-action?dept=sales"))!;
  const again = await driver.post(action.url, action.params, { token: action.token });
  assert.equal(again.status, 200);
  assert.equal(again.body, action.body);
  const rows = await callRows(call.callSid);
  assert.equal(rows.events.filter((e) => e === "dial.outcome").length, 1);
});
