/** The recording-deletion worker's decisions: how long to wait, what to record. */
import assert from "node:assert/strict";
import {
  deletionFailure,
  MAX_TRANSIENT_RETRY_SECONDS,
  PERMANENT_RETRY_SECONDS,
  retryDelaySeconds,
} from "../../supabase/functions/_shared/retention/recording-deletions.ts";
import {
  classifyTwilioError,
  TwilioRestError,
} from "../../supabase/functions/_shared/twilio/rest-client.ts";

const twilioError = (status: number, code?: number) =>
  new TwilioRestError(`Twilio DELETE /x failed: ${status}`, {
    method: "DELETE",
    path: "/x",
    status,
    code,
    errorClass: classifyTwilioError(status, code),
    outcomeUnknown: status === 0 || status >= 500,
  });

Deno.test("retry delay: transient failures back off 60 s, doubling, up to an hour", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelaySeconds("transient", n)), [
    60,
    120,
    240,
    480,
    960,
    1920,
    MAX_TRANSIENT_RETRY_SECONDS,
    MAX_TRANSIENT_RETRY_SECONDS,
  ]);
  assert.equal(retryDelaySeconds("transient", 0), 60);
});

Deno.test("retry delay: permanent and compliance refusals wait a day", () => {
  assert.equal(retryDelaySeconds("permanent", 1), PERMANENT_RETRY_SECONDS);
  assert.equal(retryDelaySeconds("compliance", 9), PERMANENT_RETRY_SECONDS);
});

Deno.test("failure: class, status and code first, for operators to filter and group", () => {
  const lost = deletionFailure(twilioError(0), 1);
  assert.equal(lost.permanent, false);
  assert.equal(lost.reason, "transient: HTTP 0");
  assert.equal(lost.retryAfterSeconds, 60);
  assert.equal(lost.error, "transient: HTTP 0: Twilio DELETE /x failed: 0");

  const busy = deletionFailure(twilioError(503, 20503), 3);
  assert.deepEqual([busy.permanent, busy.reason, busy.retryAfterSeconds], [
    false,
    "transient: HTTP 503 (20503)",
    240,
  ]);

  const refused = deletionFailure(twilioError(401, 20003), 1);
  assert.deepEqual([refused.permanent, refused.reason, refused.retryAfterSeconds], [
    true,
    "permanent: HTTP 401 (20003)",
    PERMANENT_RETRY_SECONDS,
  ]);
});

Deno.test("failure: anything that is not Twilio's answer is retried as transient", () => {
  const odd = deletionFailure(new TypeError("boom"), 2);
  assert.equal(odd.permanent, false);
  assert.equal(odd.retryAfterSeconds, 120);
  assert.match(odd.error, /^transient: TypeError: boom$/);
});
