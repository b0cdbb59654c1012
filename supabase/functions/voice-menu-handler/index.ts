/** The caller's key press: 1 sales, 2 support, 9 voicemail, * repeat, 0 no recording. */
import { decideMenu, menuChoiceName, parseMenuState } from "../_shared/call/menu.ts";
import { callParties, hotlineCallerId, requireCallSid, runStep } from "../_shared/call/step.ts";
import {
  dialAgentTwiml,
  menuAgainTwiml,
  toFallbackTwiml,
  voicemailTwiml,
} from "../_shared/call/twiml.ts";
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
    const base = ctx.config.PUBLIC_BASE_URL;
    const step = `menu:${state.attempt}:${state.repeats}`;
    const saved = await runStep<{ target: string | null; record: boolean }>(
      ctx,
      (sql) =>
        sql`select public.voice_menu_choice(
            ${callSid}, ${from}, ${to}, ${menuChoiceName(decision)}, ${
          digits ?? ""
        }, ${state.attempt},
            ${webhookIdempotencyKey(ctx.idempotencyToken, callSid, step)},
            ${ctx.config.SALES_TARGET_E164}, ${ctx.config.SUPPORT_TARGET_E164}) as r`,
    );
    const outcome = `${decision.kind}:${menuChoiceName(decision)}`;
    switch (decision.kind) {
      case "dial":
        return {
          outcome,
          twiml: dialAgentTwiml({
            base,
            department: decision.department,
            target: saved.target!,
            callerId: hotlineCallerId(ctx),
            callSid,
            record: saved.record,
          }),
        };
      case "voicemail":
        return { outcome, twiml: voicemailTwiml(base) };
      case "menu":
        return { outcome, twiml: menuAgainTwiml(base, decision) };
    }
  },
  // The caller's choice stands when the database is down: 1 sales, 2 support,
  // 9 voicemail; anything else reaches a person (support).
  rescue(ctx) {
    const decision = decideMenu(parseMenuState(ctx.query), param(ctx.params, "Digits"));
    const base = ctx.config?.PUBLIC_BASE_URL;
    if (decision.kind === "dial") {
      return toFallbackTwiml(base, { step: "dial", dept: decision.department });
    }
    if (decision.kind === "voicemail") return toFallbackTwiml(base, { step: "voicemail" });
    return toFallbackTwiml(base);
  },
}));
