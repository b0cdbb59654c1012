import assert from "node:assert/strict";
import { XMLValidator } from "fast-xml-parser";
import {
  afterDialTwiml,
  dialAgentTwiml,
  greetingTwiml,
  menuAgainTwiml,
  menuAnswerTwiml,
  screeningTwiml,
  stepUrl,
  voicemailTwiml,
} from "../../supabase/functions/_shared/call/twiml.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";
import { renderTwiml } from "../../supabase/functions/_shared/twilio/twiml.ts";

const BASE = "https://abc.supabase.co/functions/v1";
const CALL = "CA" + "b".repeat(32);

/** Every URL in a document: its query holds only short opaque ASCII values. */
function assertOpaqueUrls(xml: string) {
  for (
    const [, url] of xml.matchAll(/(?:action|url|Callback|>)="?(https?:\/\/[^"<]+|voice-[^"<]+)/g)
  ) {
    // The fragment (Twilio's connection overrides) is never sent: not part of the query.
    const query = (url.split("#")[0].split("?")[1] ?? "").replaceAll("&amp;", "&");
    assert.match(query, /^[A-Za-z0-9=&_.-]*$/, `query not opaque ASCII: ${url}`);
  }
}

Deno.test("call twiml: the greeting plays the disclosure before the menu, inside one Gather", () => {
  const xml = renderTwiml(greetingTwiml(BASE));
  assert.equal(XMLValidator.validate(xml), true);
  const disclosure = xml.indexOf(PROMPTS.disclosure.slice(0, 30));
  const menu = xml.indexOf(PROMPTS.menu.slice(0, 20));
  assert.ok(disclosure > 0 && menu > disclosure);
  assert.match(xml, /<Gather [^>]*actionOnEmptyResult="true"/);
  assert.match(
    xml,
    /action="https:\/\/abc\.supabase\.co\/functions\/v1\/voice-menu-handler\?attempt=1&amp;repeats=0"/,
  );
  assertOpaqueUrls(xml);
});

Deno.test("call twiml: a retry explains, then the menu", () => {
  const xml = renderTwiml(
    menuAgainTwiml(BASE, {
      kind: "menu",
      reason: "retry",
      heard: "invalid",
      next: { attempt: 2, repeats: 0, optedOut: false },
    }),
  );
  assert.ok(xml.indexOf(PROMPTS.retryInvalid) < xml.indexOf(PROMPTS.menu.slice(0, 20)));
  assert.match(xml, /attempt=2/);
});

Deno.test("call twiml: after 0 the menu no longer offers voicemail, and the URL carries optout", () => {
  const xml = renderTwiml(
    menuAgainTwiml(BASE, {
      kind: "menu",
      reason: "opt-out",
      next: { attempt: 1, repeats: 1, optedOut: true },
    }),
  );
  assert.ok(xml.indexOf(PROMPTS.optedOut) < xml.indexOf(PROMPTS.menuUnrecorded));
  assert.ok(!xml.includes("press 9"), "voicemail is not offered to a caller who pressed 0");
  assert.match(xml, /voice-menu-handler\?attempt=1&amp;repeats=1&amp;optout=1"/);
  assertOpaqueUrls(xml);
});

Deno.test("call twiml: a menu that ends in voicemail records only with stored consent", () => {
  const answer = (record: boolean, kind: "voicemail" | "unrecorded-goodbye") =>
    renderTwiml(menuAnswerTwiml({
      base: BASE,
      decision: { kind, reason: "chosen" },
      optedOut: kind === "unrecorded-goodbye",
      record,
      target: null,
      callerId: "+15877428885",
      callSid: CALL,
    }));
  assert.match(answer(true, "voicemail"), /<Record /);
  for (const xml of [answer(false, "voicemail"), answer(true, "unrecorded-goodbye")]) {
    assert.ok(!xml.includes("<Record"), xml);
    assert.ok(xml.includes(PROMPTS.unrecordedGoodbye));
    assert.match(xml, /<Hangup\/><\/Response>$/);
  }
});

Deno.test("call twiml: after an unanswered dial, a voicemail only when consent allows it", () => {
  assert.match(renderTwiml(afterDialTwiml(BASE, "voicemail", true)), /<Record /);
  const declined = renderTwiml(afterDialTwiml(BASE, "voicemail", false));
  assert.ok(!declined.includes("<Record"));
  assert.ok(
    declined.includes(PROMPTS.nobodyAvailable) && declined.includes(PROMPTS.unrecordedGoodbye),
  );
  assert.equal(
    renderTwiml(afterDialTwiml(BASE, "connected", false)).includes(PROMPTS.goodbye),
    true,
  );
});

Deno.test("call twiml: dial rings 20 s with the hotline as caller ID and screening on the agent's leg", () => {
  const opts = {
    base: BASE,
    department: "sales" as const,
    target: "+15875550101",
    callerId: "+15877428885",
    callSid: CALL,
  };
  const recorded = renderTwiml(dialAgentTwiml({ ...opts, record: true }));
  assert.match(recorded, /<Dial [^>]*timeout="20"/);
  assert.match(recorded, /callerId="\+15877428885"/);
  assert.match(recorded, /record="record-from-answer-dual"/);
  assert.match(
    recorded,
    new RegExp(`<Number url="[^"]*step=screen&amp;dept=sales&amp;call=${CALL}"`),
  );
  assertOpaqueUrls(recorded);
  const unrecorded = renderTwiml(dialAgentTwiml({ ...opts, record: false }));
  assert.ok(!unrecorded.includes("record="), "no consent, no recording");
});

Deno.test("call twiml: screening needs a key; no key hangs the agent's leg up", () => {
  const xml = renderTwiml(screeningTwiml(BASE, "support", CALL));
  assert.match(xml, /<Gather [^>]*numDigits="1"/);
  assert.ok(xml.includes(PROMPTS.screening.support));
  assert.match(xml, /<\/Gather>.*<Hangup\/>/);
});

Deno.test("call twiml: screening accepts any key, # included (no finishOnKey)", () => {
  const xml = renderTwiml(screeningTwiml(BASE, "sales", CALL));
  // Twilio's default finishOnKey is #, which would end the Gather with no digits.
  assert.match(xml, /<Gather [^>]*finishOnKey=""/);
});

Deno.test("call twiml: voicemail records up to 180 s, transcribed, callbacks for both", () => {
  const xml = renderTwiml(voicemailTwiml(BASE));
  assert.match(xml, /maxLength="180"/);
  assert.match(xml, /transcribe="true"/);
  assert.match(xml, /finishOnKey="#"/);
  assert.match(xml, /transcribeCallback="https:[^"]*event=transcription#/);
  assert.match(xml, /recordingStatusCallback="https:[^"]*event=recording#/);
  assertOpaqueUrls(xml);
});

Deno.test("call twiml: callbacks nobody waits on ask Twilio to retry (connection overrides)", () => {
  const xml = renderTwiml(voicemailTwiml(BASE)).replaceAll("&amp;", "&");
  for (const name of ["transcribeCallback", "recordingStatusCallback"]) {
    const url = xml.match(new RegExp(`${name}="([^"]+)"`))![1];
    const overrides = new URLSearchParams(new URL(url).hash.slice(1));
    assert.equal(overrides.get("rc"), "5", url);
    assert.deepEqual(overrides.get("rp")!.split(",").sort(), ["5xx", "ct", "rt"], url);
  }
  // The Record's action has a caller waiting: a failure there goes to the
  // Fallback URL at once instead of being retried.
  assert.doesNotMatch(xml, /action="[^"]*#/);
});

Deno.test("call twiml: without a base URL (rescue), URLs are relative to the current step", () => {
  assert.equal(
    stepUrl(undefined, "voice-fallback", { step: "voicemail" }),
    "voice-fallback?step=voicemail",
  );
  assert.equal(stepUrl(BASE, "voice-voicemail"), `${BASE}/voice-voicemail`);
});
