/**
 * Status callbacks: the call's lifecycle, forward-only, duplicates ignored
 * (voice_status_apply). The lifecycle row's natural key (CallSid + status) is
 * the idempotency record: no separate key is computed or stored.
 */
import { parseStatusCallback, statusForLog } from "../_shared/call/lifecycle.ts";
import { callParties, runStep } from "../_shared/call/step.ts";
import { param } from "../_shared/twilio/form.ts";
import { inlineSql } from "../_shared/platform/sql-literal.ts";
import { notStoredResponse, serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

Deno.serve(serveTwilioWebhook({
  slug: "voice-status",
  async handle(ctx) {
    const parsed = parseStatusCallback(ctx.params);
    // A signed callback we cannot use is acknowledged (a retry would not fix it) and logged.
    if (!parsed.ok) return { twiml: [], outcome: `ignored:${parsed.reason}` };
    const cb = parsed.value;
    const { from, to } = callParties(ctx);
    const applied = await runStep<{ duplicate: boolean; status: string }>(
      ctx,
      inlineSql`select public.voice_status_apply(
            ${cb.callSid}, ${param(ctx.params, "AccountSid") ?? ""}, ${from}, ${to}, ${cb.status},
            ${cb.event ?? null}, ${cb.sequence ?? null}, ${cb.occurredAt ?? null}, ${
        cb.durationSeconds ?? null
      }) as r`,
      { callback: true },
    );
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
