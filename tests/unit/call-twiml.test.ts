import assert from "node:assert/strict";
import { XMLValidator } from "fast-xml-parser";
import {
  dialAgentTwiml,
  greetingTwiml,
  menuAgainTwiml,
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
    const query = (url.split("?")[1] ?? "").replaceAll("&amp;", "&");
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
      next: { attempt: 2, repeats: 0 },
    }),
  );
  assert.ok(xml.indexOf(PROMPTS.retryInvalid) < xml.indexOf(PROMPTS.menu.slice(0, 20)));
  assert.match(xml, /attempt=2/);
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
  assert.match(xml, /transcribeCallback="https:[^"]*event=transcription"/);
  assert.match(xml, /recordingStatusCallback="https:[^"]*event=recording"/);
  assertOpaqueUrls(xml);
});

Deno.test("call twiml: without a base URL (rescue), URLs are relative to the current step", () => {
  assert.equal(
    stepUrl(undefined, "voice-fallback", { step: "voicemail" }),
    "voice-fallback?step=voicemail",
  );
  assert.equal(stepUrl(BASE, "voice-voicemail"), `${BASE}/voice-voicemail`);
});
