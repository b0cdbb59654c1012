import assert from "node:assert/strict";
import {
  decisionFromRow,
  failurePolicyDecision,
  rateLimitedHttpResponse,
  rejectBusyTwiml,
} from "../../supabase/functions/_shared/platform/rate-limit.ts";
import {
  isCacheableStatus,
  requestFingerprint,
  responseForClaim,
} from "../../supabase/functions/_shared/platform/idempotency.ts";
import { renderTwiml } from "../../supabase/functions/_shared/twilio/twiml.ts";

Deno.test("rate limit: fail open admits, fail closed refuses", () => {
  assert.equal(failurePolicyDecision("open").allowed, true);
  assert.equal(failurePolicyDecision("closed").allowed, false);
});

Deno.test("rate limit: HTTP refusal is 429 with Retry-After and a JSON error", async () => {
  const res = rateLimitedHttpResponse(
    decisionFromRow({ allowed: false, remaining: 0, limit: 5, retry_after_seconds: 17 }),
  );
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "17");
  const body = await res.json();
  assert.equal(body.error.code, "rate_limited");
  assert.equal(body.error.retryAfterSeconds, 17);
});

Deno.test("rate limit: a voice call over the limit is rejected busy, unanswered", () => {
  assert.match(renderTwiml(rejectBusyTwiml()), /<Response><Reject reason="busy"\/><\/Response>/);
});

Deno.test("idempotency: 5xx, 429 and 401 are never cached", () => {
  for (const s of [200, 201, 204, 400, 404, 409, 422]) {
    assert.equal(isCacheableStatus(s), true, String(s));
  }
  for (const s of [500, 502, 503, 429, 401]) assert.equal(isCacheableStatus(s), false, String(s));
});

Deno.test("idempotency: the fingerprint changes with method, path and body", async () => {
  const a = await requestFingerprint("POST", "/x", "{}");
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(a, await requestFingerprint("post", "/x", "{}"));
  assert.notEqual(a, await requestFingerprint("PUT", "/x", "{}"));
  assert.notEqual(a, await requestFingerprint("POST", "/y", "{}"));
  assert.notEqual(a, await requestFingerprint("POST", "/x", "{ }"));
});

Deno.test("idempotency: claim outcomes map to replay, 409 and 422; started runs", async () => {
  assert.equal(responseForClaim({ outcome: "started", lease_id: "x" }), null);
  assert.equal(responseForClaim({ outcome: "taken_over", lease_id: "x" }), null);
  const replay = responseForClaim({
    outcome: "replay",
    status: 201,
    response: { body: { id: 7 } },
  })!;
  assert.equal(replay.status, 201);
  assert.deepEqual(await replay.json(), { id: 7 });
  assert.equal(responseForClaim({ outcome: "in_progress" })!.status, 409);
  assert.equal(responseForClaim({ outcome: "mismatch" })!.status, 422);
});
