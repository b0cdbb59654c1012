/**
 * Twilio's Fallback URL: fetched when a primary webhook fails (timeout, 5xx,
 * bad TwiML; ErrorCode/ErrorUrl say which), and where the other steps send a
 * call they cannot serve. It uses no database, so it works when that is down.
 * It follows where the call was (fallback.ts): the menu choice stands, a
 * recorded voicemail ends the call, an agent's leg stays the agent's; anything
 * else reaches a person (support, screened), else a voicemail.
 *
 * A request it cannot verify (a wrong PUBLIC_BASE_URL, a rotated auth token)
 * still gets the same decision without configuration: relative URLs only, no
 * number and no configuration in it, and the recording is stored only if its
 * callbacks to voice-voicemail verify.
 */
import { decideFallback, fallbackOptedOut } from "../_shared/call/fallback.ts";
import { hotlineCallerId } from "../_shared/call/step.ts";
import { fallbackTwiml } from "../_shared/call/twiml.ts";
import { param } from "../_shared/twilio/form.ts";
import { serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

Deno.serve(serveTwilioWebhook({
  slug: "voice-fallback",
  usesDatabase: false,
  handle(ctx) {
    const action = decideFallback(ctx);
    const reason = param(ctx.params, "ErrorCode") ?? ctx.query.get("step") ?? "rescue";
    return Promise.resolve({
      outcome: `${action.kind}${"department" in action ? `-${action.department}` : ""}:${reason}`,
      twiml: fallbackTwiml(action, {
        base: ctx.config.PUBLIC_BASE_URL,
        targets: { sales: ctx.config.SALES_TARGET_E164, support: ctx.config.SUPPORT_TARGET_E164 },
        callerId: hotlineCallerId(ctx),
        optedOut: fallbackOptedOut(ctx),
      }),
    });
  },
  // No configuration: no number to ring, but the same decision otherwise, so
  // a recorded voicemail still ends the call instead of asking for another.
  unverified: (ctx) =>
    fallbackTwiml(decideFallback(ctx), { base: undefined, optedOut: fallbackOptedOut(ctx) }),
  rescue: (ctx) =>
    fallbackTwiml(decideFallback(ctx), {
      base: ctx.config?.PUBLIC_BASE_URL,
      optedOut: fallbackOptedOut(ctx),
    }),
}));
