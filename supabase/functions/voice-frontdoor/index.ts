/**
 * The call comes in: rate limit, the call row, then the recording disclosure
 * and the menu. Over the limit: <Reject reason="busy"/> (never answered,
 * never billed). Database down or slow: the caller goes on to a person
 * through voice-fallback (fail open). A redelivery gets the first answer:
 * the CallSid is the step's natural key (voice_frontdoor_answer).
 */
import { callParties, requireCallSid, runStep } from "../_shared/call/step.ts";
import { greetingTwiml, toFallbackTwiml } from "../_shared/call/twiml.ts";
import { DISCLOSURE_VERSION } from "../_shared/call/prompts.ts";
import { rejectBusyTwiml } from "../_shared/platform/rate-limit.ts";
import { param } from "../_shared/twilio/form.ts";
import { inlineSql } from "../_shared/platform/sql-literal.ts";
import { serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

Deno.serve(serveTwilioWebhook({
  slug: "voice-frontdoor",
  async handle(ctx) {
    const callSid = requireCallSid(ctx);
    const { from, to } = callParties(ctx);
    const answer = await runStep<{ action: "menu" | "reject"; known_number: boolean }>(
      ctx,
      inlineSql`select public.voice_frontdoor_answer(
            ${callSid}, ${param(ctx.params, "AccountSid") ?? ""}, ${from}, ${to},
            ${DISCLOSURE_VERSION}) as r`,
    );
    if (answer.action === "reject") return { twiml: rejectBusyTwiml(), outcome: "rate-limited" };
    return {
      twiml: greetingTwiml(ctx.config.PUBLIC_BASE_URL),
      outcome: answer.known_number ? "menu" : "menu:unconfigured-number",
    };
  },
  rescue: (ctx) => toFallbackTwiml(ctx.config?.PUBLIC_BASE_URL),
}));
