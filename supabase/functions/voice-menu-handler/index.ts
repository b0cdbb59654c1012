/** The caller's key press: 1 sales, 2 support, 9 voicemail, * repeat, 0 no recording. */
import { decideMenu, menuChoiceName, optOutQuery, parseMenuState } from "../_shared/call/menu.ts";
import { callParties, hotlineCallerId, requireCallSid, runStep } from "../_shared/call/step.ts";
import { menuAnswerTwiml, toFallbackTwiml, unrecordedGoodbyeTwiml } from "../_shared/call/twiml.ts";
import { param } from "../_shared/twilio/form.ts";
import { inlineSql } from "../_shared/platform/sql-literal.ts";
import { serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

Deno.serve(serveTwilioWebhook({
  slug: "voice-menu-handler",
  async handle(ctx) {
    const callSid = requireCallSid(ctx);
    const { from, to } = callParties(ctx);
    const state = parseMenuState(ctx.query);
    const digits = param(ctx.params, "Digits");
    const decision = decideMenu(state, digits);
    // The step's natural key within the call: each key press moves one of them on.
    const step = `${state.attempt}:${state.repeats}`;
    const saved = await runStep<{ target: string | null; record: boolean }>(
      ctx,
      inlineSql`select public.voice_menu_choice(
            ${callSid}, ${from}, ${to}, ${menuChoiceName(decision)}, ${
        digits ?? ""
      }, ${state.attempt},
            ${step},
            ${ctx.config.SALES_TARGET_E164}, ${ctx.config.SUPPORT_TARGET_E164}) as r`,
    );
    return {
      outcome: `${decision.kind}:${menuChoiceName(decision)}`,
      twiml: menuAnswerTwiml({
        base: ctx.config.PUBLIC_BASE_URL,
        decision,
        optedOut: state.optedOut,
        record: saved.record,
        target: saved.target,
        callerId: hotlineCallerId(ctx),
        callSid,
      }),
    };
  },
  // The caller's choice stands when the database is down: 1 sales, 2 support,
  // 9 voicemail; anything else reaches a person (support).
  rescue(ctx) {
    const state = parseMenuState(ctx.query);
    const decision = decideMenu(state, param(ctx.params, "Digits"));
    const base = ctx.config?.PUBLIC_BASE_URL;
    const optout = optOutQuery({
      optedOut: state.optedOut || decision.kind === "unrecorded-goodbye",
    });
    if (decision.kind === "dial") {
      return toFallbackTwiml(base, { step: "dial", dept: decision.department, ...optout });
    }
    if (decision.kind === "voicemail") return toFallbackTwiml(base, { step: "voicemail" });
    if (decision.kind === "unrecorded-goodbye") return unrecordedGoodbyeTwiml();
    return toFallbackTwiml(base, optout);
  },
}));
