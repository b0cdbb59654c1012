import assert from "node:assert/strict";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";
import { dialAgentTwiml, voicemailTwiml } from "../../supabase/functions/_shared/call/twiml.ts";
import { renderTwiml } from "../../supabase/functions/_shared/twilio/twiml.ts";

Deno.test("prompts: the disclosure promises 0 only where a menu listens for it", () => {
  // A connected dial and a voicemail have no <Gather>: 0 does nothing there,
  // so the disclosure must not promise "at any time".
  const dial = renderTwiml(dialAgentTwiml({
    base: "https://h.example/functions/v1",
    department: "sales",
    target: "+15875550101",
    callerId: "+15877428885",
    callSid: "CA" + "a".repeat(32),
    record: true,
  }));
  assert.ok(!dial.includes("<Gather"), "the caller's side of a dial listens for no key");
  assert.ok(!renderTwiml(voicemailTwiml(undefined)).includes("<Gather"));
  assert.doesNotMatch(PROMPTS.disclosure, /at any time/i);
  assert.match(PROMPTS.disclosure, /press 0 at any point in this menu\.$/);
});

Deno.test("prompts: docs/telephony.md quotes every prompt verbatim", async () => {
  const docs = await Deno.readTextFile(new URL("../../docs/telephony.md", import.meta.url));
  const texts = Object.values(PROMPTS).flatMap((p) =>
    typeof p === "string" ? [p] : Object.values(p)
  );
  for (const text of texts) assert.ok(docs.includes(text), `docs/telephony.md lacks: ${text}`);
});
