/**
 * The caller is never stranded: with the database down or hanging, every
 * step still answers 200 with TwiML that reaches a person or voicemail, and
 * voice-fallback works with no database at all.
 */
import assert from "node:assert/strict";
import { hangingDatabase, stoppedDatabaseUrl } from "../support/broken-database.ts";
import {
  exampleEnv,
  startFunction,
  startIsolated as isolated,
} from "../support/function-process.ts";
import { parseTwiml } from "../flow/twilio-driver.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";

const callParams = (extra: Record<string, string> = {}) => ({
  AccountSid: exampleEnv().TWILIO_ACCOUNT_SID,
  CallSid: "CA" + crypto.randomUUID().replaceAll("-", ""),
  From: "+15875550000",
  To: "+15877428885",
  CallStatus: "in-progress",
  ...extra,
});

// Absolute URLs show the configuration was loaded: these are database
// rescues, not the configuration rescue (which can only use relative URLs).
const FALLBACK = "https://hotline.example/functions/v1/voice-fallback";
const rescueCases: [string, string, Record<string, string>, string][] = [
  ["voice-frontdoor", "", {}, `<Redirect method="POST">${FALLBACK}</Redirect>`],
  [
    "voice-menu-handler",
    "?attempt=1&repeats=0",
    { Digits: "1" },
    `<Redirect method="POST">${FALLBACK}?step=dial&amp;dept=sales</Redirect>`,
  ],
  ["voice-action", "?dept=sales", { DialCallStatus: "no-answer" }, `${FALLBACK}?step=voicemail`],
  // The caller pressed 0: the mark goes to the fallback, which then takes no
  // voicemail (tests/unit/call-fallback.test.ts, "a caller who pressed 0 …").
  [
    "voice-action",
    "?dept=sales&optout=1",
    { DialCallStatus: "no-answer" },
    `${FALLBACK}?step=voicemail&amp;optout=1`,
  ],
  ["voice-voicemail", "?event=recorded", { RecordingSid: "RE" + "a".repeat(32) }, "<Hangup/>"],
];

for (const [slug, query, extra, expected] of rescueCases) {
  Deno.test(`rescue: ${slug}${query} with the database down → 200 TwiML that goes on`, async () => {
    const { fn, driver } = await isolated(slug, stoppedDatabaseUrl());
    try {
      const res = await driver.post(driver.url(slug + query), callParams(extra));
      assert.equal(res.status, 200);
      assert.ok(res.body.includes(expected), res.body);
      parseTwiml(res.body);
    } finally {
      await fn.stop();
    }
  });
}

Deno.test("rescue: voice-frontdoor with a hanging database answers within 3 s, then at once while the circuit is open", async () => {
  const hanging = hangingDatabase();
  const { fn, driver } = await isolated(
    "voice-frontdoor",
    hanging.url,
  );
  try {
    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const res = await driver.post(driver.url("voice-frontdoor"), callParams());
      latencies.push(Math.round(performance.now() - started));
      assert.equal(res.status, 200);
      assert.match(res.body, /https:\/\/hotline\.example\/functions\/v1\/voice-fallback/);
    }
    console.log(`hanging database: voice-frontdoor answered in ${latencies.join(", ")} ms`);
    const [first, ...rest] = latencies;
    assert.ok(first >= 2_000, `answered in ${first} ms: it did not wait for the database at all`);
    assert.ok(first < 3_000, `first answer in ${first} ms (the error log must not add to it)`);
    assert.ok(Math.max(...rest) < 1_000, `after the first failure: ${rest} ms`);
  } finally {
    await fn.stop();
    hanging.close();
  }
});

Deno.test("rescue: the menu's rescue keeps the caller's choice (1 sales, 2 support, 9 voicemail)", async () => {
  const menu = await isolated("voice-menu-handler", stoppedDatabaseUrl());
  const fallback = await isolated("voice-fallback", stoppedDatabaseUrl());
  const env = exampleEnv();
  try {
    const cases: [string, (verbs: ReturnType<typeof parseTwiml>) => void][] = [
      [
        "1",
        (v) =>
          assert.equal(v.find((x) => x.verb === "Dial")!.children[0].text, env.SALES_TARGET_E164),
      ],
      [
        "2",
        (v) =>
          assert.equal(v.find((x) => x.verb === "Dial")!.children[0].text, env.SUPPORT_TARGET_E164),
      ],
      ["9", (v) => {
        assert.ok(v.some((x) => x.verb === "Record"), "voicemail");
        assert.ok(!v.some((x) => x.verb === "Dial"));
      }],
    ];
    for (const [digits, check] of cases) {
      const call = callParams({ Digits: digits });
      const res = await menu.driver.post(
        menu.driver.url("voice-menu-handler?attempt=1&repeats=0"),
        call,
      );
      assert.equal(res.status, 200);
      const redirect = parseTwiml(res.body).find((v) => v.verb === "Redirect")!;
      const next = await fallback.driver.post(redirect.text, call);
      assert.equal(next.status, 200);
      check(parseTwiml(next.body));
    }
  } finally {
    await menu.fn.stop();
    await fallback.fn.stop();
  }
});

Deno.test("rescue: a completed dial whose screening acceptance cannot be read offers a voicemail, never goodbye", async () => {
  const action = await isolated("voice-action", stoppedDatabaseUrl());
  const fallback = await isolated("voice-fallback", stoppedDatabaseUrl());
  try {
    const call = callParams({ DialCallStatus: "completed", DialCallDuration: "12" });
    const res = await action.driver.post(action.driver.url("voice-action?dept=sales"), call);
    assert.equal(res.status, 200);
    const redirect = parseTwiml(res.body).find((v) => v.verb === "Redirect");
    assert.ok(redirect, `not handed on: ${res.body}`);
    const next = parseTwiml((await fallback.driver.post(redirect.text, call)).body);
    assert.ok(next.some((v) => v.text === PROMPTS.dialUnconfirmed), JSON.stringify(next));
    assert.ok(next.some((v) => v.verb === "Record"));
    assert.ok(!next.some((v) => v.text === PROMPTS.goodbye));

    // The fallback's own Dial (no database at all) decides the same way.
    const after = parseTwiml(
      (await fallback.driver.post(fallback.driver.url("voice-fallback?step=after-dial"), call))
        .body,
    );
    assert.ok(after.some((v) => v.text === PROMPTS.dialUnconfirmed));
    assert.ok(!after.some((v) => v.text === PROMPTS.goodbye));
  } finally {
    await action.fn.stop();
    await fallback.fn.stop();
  }
});

Deno.test("fallback: no database needed — dials support with screening, then voicemail if unanswered", async () => {
  const { fn, driver } = await isolated("voice-fallback", stoppedDatabaseUrl());
  try {
    const first = await driver.post(
      driver.url("voice-fallback"),
      callParams({ ErrorCode: "11200" }),
    );
    assert.equal(first.status, 200);
    const verbs = parseTwiml(first.body);
    assert.equal(verbs[0].text, PROMPTS.troubleConnecting);
    const dialVerb = verbs.find((v) => v.verb === "Dial")!;
    assert.equal(dialVerb.children[0].text, exampleEnv().SUPPORT_TARGET_E164);
    assert.match(dialVerb.children[0].attrs.url, /voice-action\?step=screen/);
    assert.equal(dialVerb.attrs.record, undefined, "no consent was asked: nothing recorded");

    const after = await driver.post(
      dialVerb.attrs.action,
      callParams({ DialCallStatus: "no-answer" }),
    );
    const afterVerbs = parseTwiml(after.body);
    const rec = afterVerbs.find((v) => v.verb === "Record")!;
    assert.ok(
      afterVerbs.some((v) => v.text === PROMPTS.voicemailPrompt),
      "the caller is told the message is recorded",
    );
    assert.match(rec.attrs.recordingStatusCallback, /voice-voicemail\?event=recording/);

    const done = await driver.post(
      rec.attrs.action,
      callParams({ RecordingSid: "RE" + "c".repeat(32) }),
    );
    assert.ok(parseTwiml(done.body).some((v) => v.text === PROMPTS.voicemailSaved));
  } finally {
    await fn.stop();
  }
});

Deno.test("fallback: with no configuration at all it still takes a voicemail, once", async () => {
  const fn = await startFunction("voice-fallback", { TWILIO_AUTH_TOKEN: "" });
  try {
    const res = await fetch(fn.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(callParams()),
    });
    assert.equal(res.status, 200);
    const verbs = parseTwiml(await res.text());
    assert.ok(verbs.some((v) => v.verb === "Record"));
    assert.equal(
      verbs.find((v) => v.verb === "Record")!.attrs.action,
      "voice-fallback?step=recorded",
    );
    // The Record's action, resolved as Twilio would: goodbye, not a second voicemail.
    const after = await fetch(`${fn.url}?step=recorded`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(callParams({ RecordingSid: "RE" + "e".repeat(32) })),
    });
    const afterVerbs = parseTwiml(await after.text());
    assert.ok(!afterVerbs.some((v) => v.verb === "Record"), "a second voicemail in a loop");
    assert.ok(afterVerbs.some((v) => v.text === PROMPTS.voicemailSaved));
    assert.ok(afterVerbs.some((v) => v.verb === "Hangup"));
  } finally {
    await fn.stop();
  }
});

Deno.test("callbacks: without configuration a status callback is refused (503) so Twilio sends it again", async () => {
  const fn = await startFunction("voice-status", { TWILIO_AUTH_TOKEN: "" });
  try {
    const res = await fetch(fn.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(callParams({ CallStatus: "completed" })),
    });
    await res.body?.cancel();
    assert.equal(res.status, 503, "nothing was stored: never acknowledged");
  } finally {
    await fn.stop();
  }
});
