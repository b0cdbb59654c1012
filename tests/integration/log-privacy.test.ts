/**
 * Personal information stays out of the logs: a hostile set of requests
 * (numbers of every length in every field Twilio sends, numbers hidden in the
 * CallSid and the ErrorCode, signed and unsigned, a foreign account, the
 * database up, and down for the fallback) is
 * run against real function processes; their stdout and stderr are captured
 * and scanned for any full number sent.
 */
import assert from "node:assert/strict";
import twilio from "twilio";
import { exampleEnv, type RunningFunction, startFunction } from "../support/function-process.ts";
import { stoppedDatabaseUrl } from "../support/broken-database.ts";
import { testDbUrl } from "../support/stack.ts";
import { randomSid } from "../flow/twilio-driver.ts";
import { findLeaks } from "../support/log-scan.ts";

const env = exampleEnv();
const PUBLIC_BASE = "https://hotline.example/functions/v1";

/** The numbers sent; none may appear whole in any log line. */
const NUMBERS = [
  "+50012345",
  "+1234567",
  "+5875550199",
  "+15875550199",
  "+447911123456",
  "+861391234567890",
  "5875550188",
];

function hostileRequests(): { query: string; params: Record<string, string>; sign: boolean }[] {
  const requests = [];
  for (const number of NUMBERS) {
    const fields = {
      AccountSid: env.TWILIO_ACCOUNT_SID,
      CallSid: randomSid("CA"),
      From: number,
      To: number,
      Caller: number,
      Called: number,
      CallStatus: "completed",
      Digits: number,
      ErrorCode: `11200 ${number}`,
    };
    requests.push({ query: "", params: fields, sign: true });
    requests.push({ query: "", params: fields, sign: false });
    // The number where a CallSid or ErrorCode should be.
    requests.push({
      query: "?step=" + encodeURIComponent(number),
      params: { ...fields, CallSid: number, ErrorCode: number },
      sign: true,
    });
    requests.push({ query: "", params: { ...fields, CallSid: number }, sign: false });
    // A foreign account, and a huge caller ID made of the number.
    requests.push({ query: "", params: { ...fields, AccountSid: randomSid("AC") }, sign: true });
    requests.push({ query: "", params: { ...fields, From: number.repeat(500) }, sign: true });
  }
  return requests;
}

async function send(
  fn: RunningFunction,
  slug: string,
  query: string,
  params: Record<string, string>,
  sign: boolean,
) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (sign) {
    headers["x-twilio-signature"] = twilio.getExpectedTwilioSignature(
      env.TWILIO_AUTH_TOKEN,
      `${PUBLIC_BASE}/${slug}${query}`,
      params,
    );
  }
  const res = await fetch(fn.url + query, {
    method: "POST",
    headers,
    body: new URLSearchParams(params),
  });
  await res.body?.cancel();
}

Deno.test("logs: a hostile run leaves no full caller number in any function's stdout or stderr", async () => {
  const functions: [string, string][] = [
    ["voice-frontdoor", testDbUrl()],
    ["voice-status", testDbUrl()],
    ["voice-fallback", stoppedDatabaseUrl()],
  ];
  let logs = "";
  for (const [slug, dbUrl] of functions) {
    const fn = await startFunction(slug, {
      ...env,
      PUBLIC_BASE_URL: PUBLIC_BASE,
      SUPABASE_DB_URL: dbUrl,
    }, { captureLogs: true });
    try {
      for (const r of hostileRequests()) await send(fn, slug, r.query, r.params, r.sign);
    } finally {
      await fn.stop();
    }
    logs += fn.logs();
  }
  const lines = logs.split("\n").filter((l) => l.startsWith("{"));
  assert.ok(
    lines.length >= functions.length * hostileRequests().length,
    "the run logged too little",
  );
  const leaks = findLeaks(logs, {
    secrets: [env.TWILIO_AUTH_TOKEN, env.ADMIN_API_KEY ?? ""],
    numbers: NUMBERS,
    transcripts: [],
  });
  assert.deepEqual(leaks, []);
  const longest = Math.max(...lines.map((l) => l.length));
  assert.ok(longest < 2000, `a log line of ${longest} characters`);
});
