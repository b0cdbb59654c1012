/**
 * voice-fallback is what Twilio calls when everything else failed, so a
 * wrong PUBLIC_BASE_URL or a rotated auth token must not give callers
 * Twilio's application error: an unverified request still gets a DB-free
 * voicemail that reveals no number and no configuration, and an error log
 * line operators can alert on. Storing still needs a valid signature. And
 * during a rotation, both tokens verify.
 */
import assert from "node:assert/strict";
import twilio from "twilio";
import { exampleEnv, startFunction } from "../support/function-process.ts";
import { stoppedDatabaseUrl } from "../support/broken-database.ts";
import { functionsUrl, newCallSid, testDbUrl, testSql } from "../support/stack.ts";
import { parseTwiml, TwilioDriver } from "../flow/twilio-driver.ts";
import { PROMPTS } from "../../supabase/functions/_shared/call/prompts.ts";

const env = exampleEnv();
const PUBLIC_BASE = "https://hotline.example/functions/v1";
const callParams = (extra: Record<string, string> = {}) => ({
  AccountSid: env.TWILIO_ACCOUNT_SID,
  CallSid: newCallSid(),
  From: "+15875550123",
  To: "+15877428885",
  CallStatus: "in-progress",
  ErrorCode: "11200",
  ...extra,
});

/** Nothing of the configuration: no configured number, no base URL, no absolute URL. */
function assertRevealsNothing(body: string) {
  for (const value of [env.SUPPORT_TARGET_E164, env.SALES_TARGET_E164, env.HOTLINE_E164]) {
    assert.ok(!body.includes(value.slice(2)), `the answer names ${value}`);
  }
  assert.ok(!body.includes("hotline.example"), "the answer names the public base URL");
  assert.ok(!/https?:/.test(body), "the answer holds an absolute URL");
  assert.ok(!body.includes("<Dial"), "the answer dials someone");
}

Deno.test("fallback unverified: bad, missing or foreign signatures still get a DB-free voicemail, logged", async () => {
  const fn = await startFunction("voice-fallback", {
    ...env,
    PUBLIC_BASE_URL: PUBLIC_BASE,
    SUPABASE_DB_URL: stoppedDatabaseUrl(),
  }, { captureLogs: true });
  try {
    const params = callParams();
    const cases: [string, Record<string, string>, string][] = [
      ["unsigned", {}, "unverified:unsigned"],
      // A rotated token: Twilio signs with one we do not have.
      [
        "rotated token",
        {
          "x-twilio-signature": twilio.getExpectedTwilioSignature(
            "0".repeat(32),
            `${PUBLIC_BASE}/voice-fallback`,
            params,
          ),
        },
        "unverified:bad-signature",
      ],
      // A wrong PUBLIC_BASE_URL: Twilio signed the URL it really called.
      [
        "wrong base URL",
        {
          "x-twilio-signature": twilio.getExpectedTwilioSignature(
            env.TWILIO_AUTH_TOKEN,
            "https://other.example/functions/v1/voice-fallback",
            params,
          ),
        },
        "unverified:bad-signature",
      ],
    ];
    for (const [what, headers, outcome] of cases) {
      const res = await fetch(fn.url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(params),
      });
      assert.equal(res.status, 200, what);
      const body = await res.text();
      const verbs = parseTwiml(body);
      assert.equal(verbs[0].text, PROMPTS.troubleVoicemail, what);
      const rec = verbs.find((v) => v.verb === "Record");
      assert.ok(rec, `${what}: no voicemail`);
      assert.equal(rec.attrs.action, "voice-fallback?step=recorded");
      assertRevealsNothing(body);
      const line = fn.logs().split("\n").find((l) => l.includes(`"outcome":"${outcome}"`));
      assert.ok(line, `${what}: no log line with ${outcome}`);
      assert.equal(JSON.parse(line).level, "error");
    }
    // After the recording: goodbye, never a second voicemail.
    const recorded = await fetch(`${fn.url}?step=recorded`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(callParams({ RecordingSid: "RE" + "c".repeat(32) })),
    });
    const verbs = parseTwiml(await recorded.text());
    assert.ok(verbs.some((v) => v.text === PROMPTS.voicemailSaved));
    assert.ok(!verbs.some((v) => v.verb === "Record"));
    // voice-voicemail's own Record action failed verification too: same goodbye.
    const afterVoicemail = await fetch(fn.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(
        callParams({ ErrorUrl: `${PUBLIC_BASE}/voice-voicemail?event=recorded` }),
      ),
    });
    const afterVerbs = parseTwiml(await afterVoicemail.text());
    assert.ok(!afterVerbs.some((v) => v.verb === "Record"), "a second voicemail was offered");
  } finally {
    await fn.stop();
  }
});

Deno.test("fallback unverified: its voicemail is stored only when the callbacks verify", async () => {
  const sql = testSql();
  try {
    const fallbackUrl = `${functionsUrl()}/voice-fallback`;
    const params = callParams();
    const res = await fetch(fallbackUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(params),
    });
    const rec = parseTwiml(await res.text()).find((v) => v.verb === "Record")!;
    const callback = new URL(rec.attrs.recordingStatusCallback, fallbackUrl);
    callback.hash = ""; // connection overrides (#rc=…) are Twilio's, not part of the signed URL
    const callbackUrl = callback.toString();
    const recording = {
      AccountSid: env.TWILIO_ACCOUNT_SID,
      CallSid: params.CallSid,
      RecordingSid: "RE" + crypto.randomUUID().replaceAll("-", ""),
      RecordingUrl: "https://api.twilio.com/2010-04-01/Accounts/x/Recordings/y",
      RecordingDuration: "9",
      RecordingStatus: "completed",
    };
    const forged = new TwilioDriver({
      baseUrl: functionsUrl(),
      authToken: "0".repeat(32),
      accountSid: env.TWILIO_ACCOUNT_SID,
    });
    assert.equal((await forged.post(callbackUrl, recording)).status, 403);
    const none = await sql`select 1 from voicemails where call_sid = ${params.CallSid}`;
    assert.equal(none.length, 0, "an unverified callback stored a voicemail");
    const twilioItself = new TwilioDriver({
      baseUrl: functionsUrl(),
      authToken: env.TWILIO_AUTH_TOKEN,
      accountSid: env.TWILIO_ACCOUNT_SID,
    });
    assert.equal((await twilioItself.post(callbackUrl, recording)).status, 200);
    const stored =
      await sql`select duration_seconds from voicemails where call_sid = ${params.CallSid}`;
    assert.deepEqual([...stored], [{ duration_seconds: 9 }]);
  } finally {
    await sql.end();
  }
});

Deno.test("rotation: webhooks signed with TWILIO_AUTH_TOKEN_PREVIOUS verify, any other token does not", async () => {
  const newToken = "abcdef0123456789abcdef0123456789";
  const fn = await startFunction("voice-frontdoor", {
    ...env,
    PUBLIC_BASE_URL: PUBLIC_BASE,
    SUPABASE_DB_URL: testDbUrl(),
    TWILIO_AUTH_TOKEN: newToken,
    TWILIO_AUTH_TOKEN_PREVIOUS: env.TWILIO_AUTH_TOKEN,
  });
  const local = fn.url.slice(0, fn.url.lastIndexOf("/"));
  try {
    for (
      const [token, status] of [[newToken, 200], [env.TWILIO_AUTH_TOKEN, 200], [
        "1".repeat(32),
        403,
      ]] as const
    ) {
      const driver = new TwilioDriver({
        baseUrl: PUBLIC_BASE,
        authToken: token,
        accountSid: env.TWILIO_ACCOUNT_SID,
        route: (url) => url.replace(PUBLIC_BASE, local),
      });
      const res = await driver.post(
        driver.url("voice-frontdoor"),
        callParams({ From: "+1780" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0") }),
      );
      assert.equal(res.status, status, `token ${token.slice(0, 4)}…`);
      if (status === 200) assert.ok(parseTwiml(res.body).some((v) => v.verb === "Gather"));
    }
  } finally {
    await fn.stop();
  }
});
