/**
 * After the <Dial>, and the agent's side of it:
 * - `?step=screen`: the agent's leg hears "press any key to accept";
 * - `?step=screened&call=CA…`: the agent pressed a key; the legs connect;
 * - otherwise: the Dial's outcome. Connected → goodbye; busy, no answer,
 *   failed, canceled or not accepted at screening → voicemail.
 */
import { callParties, intParam, requireCallSid, runStep } from "../_shared/call/step.ts";
import { afterDialTwiml, screeningTwiml, toFallbackTwiml } from "../_shared/call/twiml.ts";
import { optOutQuery, parseMenuState } from "../_shared/call/menu.ts";
import { decideAfterDial, parseDialCallStatus } from "../_shared/call/dial-outcome.ts";
import { param } from "../_shared/twilio/form.ts";
import { inlineSql } from "../_shared/platform/sql-literal.ts";
import { serveTwilioWebhook } from "../_shared/twilio/webhook.ts";
import { hangup } from "../_shared/twilio/twiml.ts";

/** The parent call named in our own screening URL, when it is a well-formed CallSid. */
const parentCall = (query: URLSearchParams) => {
  const call = query.get("call") ?? "";
  return /^CA[0-9a-f]{32}$/.test(call) ? call : undefined;
};

Deno.serve(serveTwilioWebhook({
  slug: "voice-action",
  async handle(ctx) {
    const base = ctx.config.PUBLIC_BASE_URL;
    const step = ctx.query.get("step");
    if (step === "screen") {
      return {
        twiml: screeningTwiml(base, ctx.query.get("dept") ?? "", parentCall(ctx.query)),
        outcome: "screen:prompt",
      };
    }
    if (step === "screened") {
      const call = parentCall(ctx.query);
      if (call) {
        await runStep(ctx, inlineSql`select public.voice_screening_accept(${call}) as r`);
      }
      // An empty document ends the agent's TwiML, which connects the two legs.
      return { twiml: [], outcome: "screen:accepted" };
    }

    const callSid = requireCallSid(ctx);
    const { from, to } = callParties(ctx);
    // One <Dial> per call: the CallSid is the step's natural key
    // (voice_dial_outcome), and what follows is decided from the stored outcome,
    // so a redelivery hears what the first delivery heard.
    const saved = await runStep<{
      dial_call_status: string | null;
      screening_accepted: boolean;
      voicemail_allowed: boolean;
    }>(
      ctx,
      inlineSql`select public.voice_dial_outcome(
            ${callSid}, ${from}, ${to},
            ${parseDialCallStatus(param(ctx.params, "DialCallStatus")) ?? null}, ${
        intParam(ctx.params, "DialCallDuration")
      }) as r`,
    );
    const status = parseDialCallStatus(saved.dial_call_status ?? undefined);
    const next = decideAfterDial({ status, screeningAccepted: saved.screening_accepted === true });
    return {
      twiml: afterDialTwiml(base, next, saved.voicemail_allowed),
      outcome: `dial:${status ?? "unknown"}:${next}`,
    };
  },
  rescue(ctx) {
    const step = ctx.query.get("step");
    // Screening: drop the agent's leg (the caller then gets voicemail) /
    // connect an agent who already accepted.
    if (step === "screen") return [hangup()];
    if (step === "screened") return [];
    // The acceptance could not be read: an answered leg may have been only an
    // agent's voicemail, so the caller is offered a voicemail, never a goodbye.
    const status = parseDialCallStatus(param(ctx.params, "DialCallStatus"));
    const next = decideAfterDial({ status, screeningAccepted: undefined });
    // `optout` rides along: a caller who pressed 0 is not recorded there either.
    return toFallbackTwiml(ctx.config?.PUBLIC_BASE_URL, {
      step: next === "unconfirmed" ? "unconfirmed" : "voicemail",
      ...optOutQuery(parseMenuState(ctx.query)),
    });
  },
}));
