/**
 * voice-fallback's decision: it follows where the call was (our step, or
 * Twilio's ErrorUrl) and what the caller chose; it never asks for a second
 * voicemail and never tells a caller goodbye after an unconfirmed dial.
 */
import assert from "node:assert/strict";
import {
  decideFallback,
  fallbackOptedOut,
} from "../../supabase/functions/_shared/call/fallback.ts";
import { fallbackTwiml } from "../../supabase/functions/_shared/call/twiml.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";
import { renderTwiml } from "../../supabase/functions/_shared/twilio/twiml.ts";

const BASE = "https://hotline.example/functions/v1";

const decide = (query: Record<string, string>, params: Record<string, string> = {}) =>
  decideFallback({ query: new URLSearchParams(query), params: new URLSearchParams(params) });

const failed = (url: string, params: Record<string, string> = {}) =>
  decide({}, { ErrorCode: "11200", ErrorUrl: url, ...params });

Deno.test("fallback: a failed menu step keeps the caller's choice", () => {
  const menu = `${BASE}/voice-menu-handler?attempt=1&repeats=0`;
  assert.deepEqual(failed(menu, { Digits: "1" }), { kind: "dial", department: "sales" });
  assert.deepEqual(failed(menu, { Digits: "2" }), { kind: "dial", department: "support" });
  assert.deepEqual(failed(menu, { Digits: "9" }), { kind: "voicemail", lead: "trouble" });
  // No valid choice on the last attempt: the menu would have taken a voicemail.
  assert.deepEqual(
    failed(`${BASE}/voice-menu-handler?attempt=2&repeats=0`, { Digits: "7" }),
    { kind: "voicemail", lead: "trouble" },
  );
  // A repeat or a first invalid key: a person.
  assert.deepEqual(failed(menu, { Digits: "*" }), { kind: "dial", department: "support" });
});

Deno.test("fallback: our own steps (from the other steps' rescues)", () => {
  assert.deepEqual(decide({ step: "dial", dept: "sales" }), { kind: "dial", department: "sales" });
  assert.deepEqual(decide({ step: "dial", dept: "x" }), { kind: "dial", department: "support" });
  assert.deepEqual(decide({ step: "voicemail" }), { kind: "voicemail", lead: "trouble" });
  assert.deepEqual(decide({ step: "recorded" }), { kind: "goodbye", saved: true });
  assert.deepEqual(decide({}), { kind: "dial", department: "support" });
});

Deno.test("fallback: after a voicemail it says goodbye, never records a second one", () => {
  const rid = { RecordingSid: "RE" + "a".repeat(32) };
  assert.deepEqual(failed(`${BASE}/voice-voicemail?event=recorded`, rid), {
    kind: "goodbye",
    saved: true,
  });
  // Relative, as a rescue without configuration writes it.
  assert.deepEqual(failed("voice-fallback?step=recorded"), { kind: "goodbye", saved: true });
  // The voicemail prompt itself failed: the voicemail is still taken.
  assert.deepEqual(failed(`${BASE}/voice-voicemail`), { kind: "voicemail", lead: "trouble" });
});

Deno.test("fallback: an agent's screening leg stays the agent's", () => {
  assert.deepEqual(failed(`${BASE}/voice-action?step=screen&dept=sales`), {
    kind: "hang-up-agent",
  });
  assert.deepEqual(failed(`${BASE}/voice-action?step=screened&call=CA1`), {
    kind: "connect-agent",
  });
});

Deno.test("fallback: a completed dial whose acceptance is unknown offers a voicemail, not goodbye", () => {
  for (const status of ["completed", "answered"]) {
    assert.deepEqual(decide({ step: "after-dial" }, { DialCallStatus: status }), {
      kind: "voicemail",
      lead: "unconfirmed",
    });
    assert.deepEqual(failed(`${BASE}/voice-action?dept=sales`, { DialCallStatus: status }), {
      kind: "voicemail",
      lead: "unconfirmed",
    });
  }
  assert.deepEqual(decide({ step: "after-dial" }, { DialCallStatus: "no-answer" }), {
    kind: "voicemail",
    lead: "nobody-available",
  });
});

Deno.test("fallback twiml: without configuration a dial becomes a voicemail, and goodbye stays goodbye", () => {
  const noConfig = renderTwiml(fallbackTwiml({ kind: "dial", department: "sales" }, {
    base: undefined,
  }));
  assert.match(noConfig, /<Record [^>]*action="voice-fallback\?step=recorded"/);
  assert.doesNotMatch(noConfig, /<Dial/);
  const bye = renderTwiml(fallbackTwiml({ kind: "goodbye", saved: true }, { base: undefined }));
  assert.ok(bye.includes(PROMPTS.voicemailSaved));
  assert.doesNotMatch(bye, /<Record/);
  const unconfirmed = renderTwiml(
    fallbackTwiml({ kind: "voicemail", lead: "unconfirmed" }, { base: BASE }),
  );
  assert.ok(unconfirmed.includes(PROMPTS.dialUnconfirmed));
  assert.doesNotMatch(unconfirmed, new RegExp(PROMPTS.goodbye));
});

Deno.test("fallback: a caller who pressed 0 is never recorded, wherever the call failed", () => {
  const unrecorded = { kind: "unrecorded-goodbye" };
  // Our own steps, with the mark the rescues carry.
  assert.deepEqual(decide({ step: "voicemail", optout: "1" }), unrecorded);
  assert.deepEqual(decide({ step: "unconfirmed", optout: "1" }), unrecorded);
  assert.deepEqual(
    decide({ step: "after-dial", optout: "1" }, { DialCallStatus: "no-answer" }),
    unrecorded,
  );
  // Twilio's ErrorUrl: the failed step's own query carries the mark.
  const menu = `${BASE}/voice-menu-handler?attempt=1&repeats=0&optout=1`;
  assert.deepEqual(failed(menu, { Digits: "9" }), unrecorded);
  // The 0 pressed on the very step that failed counts too: a person, then no voicemail.
  const justPressed = {
    ErrorCode: "11200",
    ErrorUrl: `${BASE}/voice-menu-handler?attempt=1&repeats=0`,
    Digits: "0",
  };
  assert.deepEqual(decide({}, justPressed), { kind: "dial", department: "support" });
  assert.equal(
    fallbackOptedOut({ query: new URLSearchParams(), params: new URLSearchParams(justPressed) }),
    true,
  );
  assert.deepEqual(
    failed(`${BASE}/voice-action?dept=sales&optout=1`, { DialCallStatus: "busy" }),
    unrecorded,
  );
  // A person is still reached; only the recording is withheld.
  assert.deepEqual(decide({ step: "dial", dept: "sales", optout: "1" }), {
    kind: "dial",
    department: "sales",
  });
});

Deno.test("fallback: its own Dial carries the 0 to the after-dial step, and no Record follows", () => {
  const twiml = renderTwiml(
    fallbackTwiml({ kind: "dial", department: "sales" }, {
      base: BASE,
      targets: { sales: "+15875550101", support: "+15875550102" },
      optedOut: true,
    }),
  );
  assert.match(twiml, /voice-fallback\?step=after-dial&amp;optout=1/);
  const goodbye = renderTwiml(fallbackTwiml({ kind: "unrecorded-goodbye" }, { base: BASE }));
  assert.ok(!goodbye.includes("<Record"), goodbye);
  assert.ok(goodbye.includes(PROMPTS.unrecordedGoodbye), goodbye);
});
