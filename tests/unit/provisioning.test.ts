import assert from "node:assert/strict";
import { classifyTwilioError } from "../../supabase/functions/_shared/twilio/rest-client.ts";
import {
  stepFailureFromTwilio,
  transactionTag,
  webhookUrls,
} from "../../supabase/functions/_shared/provisioning/number-transactions.ts";
import {
  failureFor,
  parseProvisionRequest,
} from "../../supabase/functions/_shared/provisioning/api.ts";
import type { TransactionView } from "../../supabase/functions/_shared/provisioning/runner.ts";
import { TwilioRestError } from "../../supabase/functions/_shared/twilio/rest-client.ts";
import { AdminError } from "../../supabase/functions/_shared/admin/errors.ts";

Deno.test("twilio errors: permanent, transient and compliance classes", () => {
  for (const code of [21421, 21422, 21452]) {
    assert.equal(classifyTwilioError(400, code), "permanent");
  }
  for (const code of [20429, 20500, 20503]) {
    assert.equal(classifyTwilioError(code === 20429 ? 429 : 500, code), "transient");
  }
  for (const code of [21631, 21649]) assert.equal(classifyTwilioError(400, code), "compliance");
  assert.equal(classifyTwilioError(0, undefined), "transient", "no answer");
  assert.equal(classifyTwilioError(502, undefined), "transient");
  assert.equal(classifyTwilioError(429, undefined), "transient");
  assert.equal(classifyTwilioError(400, 21999), "permanent");
});

Deno.test("twilio errors: a refusal had no effect, a POST timeout may have", () => {
  const refused = stepFailureFromTwilio(
    new TwilioRestError("x", {
      method: "POST",
      path: "/p",
      status: 400,
      code: 21422,
      errorClass: "permanent",
      outcomeUnknown: false,
    }),
  );
  assert.equal(refused.code, "number_unavailable");
  assert.equal(refused.details.outcomeUnknown, false);
  const timedOut = stepFailureFromTwilio(
    new TwilioRestError("x", {
      method: "POST",
      path: "/p",
      status: 0,
      errorClass: "transient",
      outcomeUnknown: true,
    }),
  );
  assert.equal(timedOut.code, "twilio_failed");
  assert.equal(timedOut.details.outcomeUnknown, true);
  assert.equal(stepFailureFromTwilio(new Error("boom")).details.outcomeUnknown, true);
});

Deno.test("tag: fits Twilio's 64-character FriendlyName and ends with the transaction id", () => {
  const id = crypto.randomUUID();
  for (const client of ["A", "Acme Dental & Orthodontics of Southern Alberta", "ç".repeat(100)]) {
    const tag = transactionTag(id, client);
    assert.ok(tag.length <= 64, tag);
    assert.ok(tag.endsWith(id), tag);
    assert.match(tag, /^hotline:[A-Za-z0-9_.-]*:/);
  }
});

Deno.test("webhooks: every URL from PUBLIC_BASE_URL", () => {
  const urls = webhookUrls("https://x.supabase.co/functions/v1/");
  assert.equal(urls.VoiceUrl, "https://x.supabase.co/functions/v1/voice-frontdoor");
  assert.equal(urls.VoiceFallbackUrl, "https://x.supabase.co/functions/v1/voice-fallback");
  assert.equal(urls.StatusCallback, "https://x.supabase.co/functions/v1/voice-status");
  assert.equal(urls.SmsUrl, "https://x.supabase.co/functions/v1/webcomms-sms-reply");
});

Deno.test("provision request: valid shapes pass, each problem is named", () => {
  assert.deepEqual(parseProvisionRequest({ client: "Acme", areaCode: "587" }), {
    client: "Acme",
    areaCode: "587",
  });
  parseProvisionRequest({
    client: "Acme",
    phoneNumber: "+15875550000",
    salesTarget: "+15875550001",
    subaccount: true,
  });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ areaCode: "587" }, /client/],
    [{ client: "", areaCode: "587" }, /client/],
    [{ client: "A" }, /exactly one/],
    [{ client: "A", areaCode: "587", phoneNumber: "+15875550000" }, /exactly one/],
    [{ client: "A", areaCode: 587 }, /areaCode/],
    [{ client: "A", phoneNumber: "15875550000" }, /phoneNumber/],
    [{ client: "A", areaCode: "587", supportTarget: "x" }, /supportTarget/],
    [{ client: "A", areaCode: "587", subaccount: "yes" }, /subaccount/],
    [{ client: "A", areaCode: "587", other: 1 }, /unknown field/],
  ];
  for (const [body, message] of bad) {
    assert.throws(() => parseProvisionRequest(body), (e: unknown) => {
      assert.ok(e instanceof AdminError);
      assert.equal(e.status, 422);
      assert.equal(e.code, "invalid_request");
      assert.match(e.message, message);
      return true;
    });
  }
});

function view(status: string, code: string | null, errorClass: string | null = null) {
  return {
    id: "t1",
    status,
    response: { errorClass },
    error: code ? { code, message: "m", externalCode: null } : null,
  } as unknown as TransactionView;
}

Deno.test("failures: a distinct HTTP status and code per cause", () => {
  const cases: [TransactionView, number, string][] = [
    [view("compensated", "number_unavailable"), 409, "number_unavailable"],
    [view("failed", "no_numbers_available"), 409, "no_numbers_available"],
    [view("compensated", "invalid_phone_number"), 422, "invalid_phone_number"],
    [
      view("compensated", "twilio_compliance_required", "compliance"),
      502,
      "twilio_compliance_required",
    ],
    [view("compensated", "twilio_failed", "transient"), 502, "twilio_failed"],
    [view("running", null), 502, "twilio_unavailable"],
    [view("compensating", "twilio_failed"), 502, "twilio_unavailable"],
    [view("needs_attention", "twilio_failed"), 502, "transaction_needs_attention"],
  ];
  for (const [v, status, code] of cases) {
    const e = failureFor(v);
    assert.equal(e.status, status, code);
    assert.equal(e.code, code);
    assert.equal(e.extra.transactionId, "t1");
  }
});
