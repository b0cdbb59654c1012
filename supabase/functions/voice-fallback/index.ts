/**
 * Twilio's Fallback URL: fetched when a primary webhook fails (timeout, 5xx,
 * bad TwiML; ErrorCode/ErrorUrl say which), and where the other steps send a
 * call they cannot serve. It uses no database, so it works when that is down:
 * the caller reaches a person (support, screened), else leaves a voicemail.
 *
 * A request it cannot verify (a wrong PUBLIC_BASE_URL, a rotated auth token)
 * still gets a voicemail, with relative URLs only: no number and no
 * configuration in it, and the recording is stored only if its callbacks to
 * voice-voicemail verify.
 */
import { hotlineCallerId } from "../_shared/call/step.ts";
import { goodbyeTwiml, stepUrl, voicemailTwiml } from "../_shared/call/twiml.ts";
import { parseDialCallStatus } from "../_shared/call/dial-outcome.ts";
import { PROMPTS, VOICE } from "../_shared/call/prompts.ts";
import { param } from "../_shared/twilio/form.ts";
import { serveTwilioWebhook } from "../_shared/twilio/webhook.ts";
import { dial, number, say } from "../_shared/twilio/twiml.ts";

const AFTER_RECORDING = /\/(voice-voicemail\?event=recorded|voice-fallback\?step=recorded)\b/;

const fallbackVoicemail = (base: string | undefined) =>
  voicemailTwiml(base, { recordedAction: stepUrl(base, "voice-fallback", { step: "recorded" }) });

Deno.serve(serveTwilioWebhook({
  slug: "voice-fallback",
  usesDatabase: false,
  handle(ctx) {
    const base = ctx.config.PUBLIC_BASE_URL;
    const step = ctx.query.get("step");
    const reason = param(ctx.params, "ErrorCode") ?? step ?? "rescue";
    if (step === "recorded") {
      return Promise.resolve({ twiml: goodbyeTwiml(PROMPTS.voicemailSaved), outcome: "recorded" });
    }
    if (step === "voicemail") {
      return Promise.resolve({
        twiml: [say(PROMPTS.troubleVoicemail, VOICE), ...fallbackVoicemail(base)],
        outcome: reason,
      });
    }
    if (step === "after-dial") {
      const status = parseDialCallStatus(param(ctx.params, "DialCallStatus"));
      // Without the database the screening result is unknown; an answered leg counts.
      if (status === "completed" || status === "answered") {
        return Promise.resolve({ twiml: goodbyeTwiml(), outcome: "connected" });
      }
      return Promise.resolve({
        twiml: [say(PROMPTS.nobodyAvailable, VOICE), ...fallbackVoicemail(base)],
        outcome: `dial:${status}`,
      });
    }
    return Promise.resolve({
      outcome: `dial-support:${reason}`,
      twiml: [
        say(PROMPTS.troubleConnecting, VOICE),
        dial({
          timeout: 20,
          callerId: hotlineCallerId(ctx),
          action: stepUrl(base, "voice-fallback", { step: "after-dial" }),
          method: "POST",
        }, [
          // Screening without a call to mark: voice-action connects without the database.
          number(ctx.config.SUPPORT_TARGET_E164, {
            url: stepUrl(base, "voice-action", { step: "screen", dept: "support" }),
            method: "POST",
          }),
        ]),
      ],
    });
  },
  // After a recording (ours, or voice-voicemail's that failed): goodbye, never a second one.
  unverified: (ctx) =>
    ctx.query.get("step") === "recorded" ||
      AFTER_RECORDING.test(param(ctx.params, "ErrorUrl") ?? "")
      ? goodbyeTwiml(PROMPTS.voicemailSaved)
      : [say(PROMPTS.troubleVoicemail, VOICE), ...fallbackVoicemail(undefined)],
  // No configuration: no number to dial, but a voicemail can still be taken.
  rescue: (
    ctx,
  ) => [say(PROMPTS.troubleVoicemail, VOICE), ...fallbackVoicemail(ctx.config?.PUBLIC_BASE_URL)],
}));
