/** The caller's key press: 1 sales, 2 support, 9 voicemail, * repeat, 0 no recording. */
import { decideMenu, menuChoiceName, parseMenuState } from "../_shared/call/menu.ts";
import { callParties, hotlineCallerId, requireCallSid, runStep } from "../_shared/call/step.ts";
import { menuAnswerTwiml, toFallbackTwiml } from "../_shared/call/twiml.ts";
import { webhookIdempotencyKey } from "../_shared/platform/idempotency.ts";
import { param } from "../_shared/twilio/form.ts";
import { serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

Deno.serve(serveTwilioWebhook({
  slug: "voice-menu-handler",
  async handle(ctx) {
    const callSid = requireCallSid(ctx);
    const { from, to } = callParties(ctx);
    const state = parseMenuState(ctx.query);
    const digits = param(ctx.params, "Digits");
    const decision = decideMenu(state, digits);
    const step = `menu:${state.attempt}:${state.repeats}`;
    const key = await webhookIdempotencyKey(ctx, callSid, step);
    const saved = await runStep<{ target: string | null; record: boolean }>(
      ctx,
      (sql) =>
        sql`select public.voice_menu_choice(
            ${callSid}, ${from}, ${to}, ${menuChoiceName(decision)}, ${
          digits ?? ""
        }, ${state.attempt},
            ${key},
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
  rescue: (ctx) => toFallbackTwiml(ctx.config?.PUBLIC_BASE_URL),
}));
