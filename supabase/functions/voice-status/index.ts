/**
 * Status callbacks: the call's lifecycle, forward-only, duplicates ignored
 * (voice_status_apply). The lifecycle row's natural key (CallSid + status) is
 * the idempotency record: no separate key is computed or stored. Callbacks
 * that arrive together are stored together (call/status-writes.ts), each
 * answered once its own row committed.
 */
import { parseStatusCallback, statusForLog } from "../_shared/call/lifecycle.ts";
import { storeStatusCallback } from "../_shared/call/status-writes.ts";
import { callParties } from "../_shared/call/step.ts";
import { param } from "../_shared/twilio/form.ts";
import { notStoredResponse, serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

Deno.serve(serveTwilioWebhook({
  slug: "voice-status",
  async handle(ctx) {
    const parsed = parseStatusCallback(ctx.params);
    // A signed callback we cannot use is acknowledged (a retry would not fix it) and logged.
    if (!parsed.ok) return { twiml: [], outcome: `ignored:${parsed.reason}` };
    const cb = parsed.value;
    const applied = await storeStatusCallback(ctx.sql(), {
      callback: cb,
      accountSid: param(ctx.params, "AccountSid") ?? "",
      ...callParties(ctx),
    });
    return {
      twiml: [],
      outcome: `status:${statusForLog(cb)}${
        applied.duplicate ? ":duplicate" : ""
      }->${applied.status}`,
    };
  },
  // Nobody waits on a status callback: one that was not stored is answered
  // 503 so Twilio sends it again (the status callback URL asks for retries).
  rescue: () => notStoredResponse(),
}));
