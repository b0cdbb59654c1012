/**
 * The caller is never stranded: with the database down or hanging, every
 * step still answers 200 with TwiML that reaches a person or voicemail, and
 * voice-fallback works with no database at all.
 */
import assert from "node:assert/strict";
import { hangingDatabase, stoppedDatabaseUrl } from "../support/broken-database.ts";
import { exampleEnv, type RunningFunction, startFunction } from "../support/function-process.ts";
import { parseTwiml, TwilioDriver } from "../flow/twilio-driver.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";

const PUBLIC_BASE = "https://hotline.example/functions/v1";

/**
 * Runs one function alone with the given database. Twilio signs the public
 * URL; the driver delivers to the function's own port, as the gateway would.
 */
async function isolated(
  slug: string,
  dbUrl: string,
): Promise<{ fn: RunningFunction; driver: TwilioDriver }> {
  const env = exampleEnv();
  const fn = await startFunction(slug, {
    ...env,
    SUPABASE_DB_URL: dbUrl,
    PUBLIC_BASE_URL: PUBLIC_BASE,
  });
  const local = fn.url.slice(0, fn.url.lastIndexOf("/"));
  const driver = new TwilioDriver({
    baseUrl: PUBLIC_BASE,
    authToken: env.TWILIO_AUTH_TOKEN,
    accountSid: env.TWILIO_ACCOUNT_SID,
    route: (url) => url.replace(PUBLIC_BASE, local),
  });
  return { fn, driver };
}

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
    `<Redirect method="POST">${FALLBACK}</Redirect>`,
  ],
  ["voice-action", "?dept=sales", { DialCallStatus: "no-answer" }, `${FALLBACK}?step=voicemail`],
  ["voice-voicemail", "?event=recorded", { RecordingSid: "RE" + "a".repeat(32) }, "<Hangup/>"],
];

for (const [slug, query, extra, expected] of rescueCases) {
  Deno.test(`rescue: ${slug} with the database down → 200 TwiML that goes on`, async () => {
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

Deno.test("rescue: voice-frontdoor with a hanging database answers within Twilio's 15 s (fails open)", async () => {
  const hanging = hangingDatabase();
  const { fn, driver } = await isolated(
    "voice-frontdoor",
    hanging.url,
  );
  try {
    const started = performance.now();
    const res = await driver.post(driver.url("voice-frontdoor"), callParams());
    const ms = performance.now() - started;
    assert.equal(res.status, 200);
    assert.match(res.body, /https:\/\/hotline\.example\/functions\/v1\/voice-fallback/);
    assert.ok(
      ms >= 2_000,
      `answered in ${Math.round(ms)} ms: it did not wait for the database at all`,
    );
    assert.ok(ms < 5_000, `answered in ${Math.round(ms)} ms`);
  } finally {
    await fn.stop();
    hanging.close();
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

Deno.test("fallback: with no configuration at all it still takes a voicemail", async () => {
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
  } finally {
    await fn.stop();
  }
});
