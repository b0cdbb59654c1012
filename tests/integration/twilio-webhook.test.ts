/**
 * The pipeline every Twilio-facing function runs (serveTwilioWebhook): the
 * signature gate before any work, and the error boundary that still answers a
 * live call with TwiML and records the error.
 */
import assert from "node:assert/strict";
import twilio from "twilio";
import {
  serveTwilioWebhook,
  type WebhookStep,
} from "../../supabase/functions/_shared/twilio/webhook.ts";
import { hangup, say } from "../../supabase/functions/_shared/twilio/twiml.ts";
import { exampleEnv } from "../support/function-process.ts";
import { newCallSid, testDbUrl, testSql } from "../support/stack.ts";

const env: Record<string, string> = {
  ...exampleEnv(),
  PUBLIC_BASE_URL: "https://hotline.example/functions/v1",
  SUPABASE_DB_URL: testDbUrl(),
};
for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);

const SLUG = "voice-test-step";
let handled = 0;
const step = (handle: WebhookStep["handle"]): WebhookStep => ({
  slug: SLUG,
  handle: (ctx) => {
    handled++;
    return handle(ctx);
  },
  rescue: () => [say("Sorry, connecting you to a person."), hangup()],
});

function signedRequest(
  fields: Record<string, string>,
  opts: { query?: string; token?: string; headers?: Record<string, string> } = {},
) {
  const params = { AccountSid: env.TWILIO_ACCOUNT_SID, ...fields };
  const query = opts.query ?? "";
  const signature = twilio.getExpectedTwilioSignature(
    opts.token ?? env.TWILIO_AUTH_TOKEN,
    `${env.PUBLIC_BASE_URL}/${SLUG}${query}`,
    params,
  );
  // The function sees an internal URL, as behind the Supabase gateway.
  return new Request(`http://127.0.0.1:9999/${SLUG}${query}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
      ...opts.headers,
    },
    body: new URLSearchParams(params),
  });
}

Deno.test("webhook: a signed request reaches the step, with params and query", async () => {
  const callSid = newCallSid();
  const seen: Record<string, unknown> = {};
  const handler = serveTwilioWebhook(step((ctx) => {
    Object.assign(seen, {
      callSid: ctx.callSid,
      digits: ctx.params.get("Digits"),
      attempt: ctx.query.get("attempt"),
    });
    return Promise.resolve({ twiml: [say("ok")] });
  }));
  const res = await handler(
    signedRequest({ CallSid: callSid, Digits: "1" }, { query: "?attempt=2" }),
  );
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<Say>ok<\/Say>/);
  assert.deepEqual(seen, { callSid, digits: "1", attempt: "2" });
});

Deno.test("webhook: a bad signature is 403 and a missing one 400, with no work done", async () => {
  const before = handled;
  const handler = serveTwilioWebhook(step(() => Promise.resolve({ twiml: [] })));
  const wrongToken = await handler(
    signedRequest({ CallSid: newCallSid() }, { token: "0".repeat(32) }),
  );
  assert.equal(wrongToken.status, 403);
  assert.equal(await wrongToken.text(), "");
  const otherQuery = signedRequest({ CallSid: newCallSid() }, { query: "?attempt=1" });
  const tampered = new Request(otherQuery.url.replace("attempt=1", "attempt=2"), otherQuery);
  assert.equal((await handler(tampered)).status, 403);
  const unsigned = new Request(`http://127.0.0.1:9999/${SLUG}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "CallSid=x",
  });
  assert.equal((await handler(unsigned)).status, 400);
  assert.equal(handled, before, "the step ran for an unverified request");
});

Deno.test("webhook: GET is 405", async () => {
  const handler = serveTwilioWebhook(step(() => Promise.resolve({ twiml: [] })));
  const res = await handler(new Request(`http://127.0.0.1:9999/${SLUG}`));
  assert.equal(res.status, 405);
  await res.body?.cancel();
});

Deno.test("webhook: an exception in the step still answers 200 TwiML, and lands in error_logs", async () => {
  const callSid = newCallSid();
  const handler = serveTwilioWebhook(
    step(() => Promise.reject(new TypeError("routing table exploded"))),
  );
  const res = await handler(signedRequest({ CallSid: callSid }));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/xml; charset=utf-8");
  assert.match(await res.text(), /connecting you to a person/);
  const sql = testSql();
  try {
    const rows =
      await sql`select function_slug, error_name, message from error_logs where call_sid = ${callSid}`;
    assert.deepEqual([...rows], [{
      function_slug: SLUG,
      error_name: "TypeError",
      message: "routing table exploded",
    }]);
  } finally {
    await sql.end();
  }
});
