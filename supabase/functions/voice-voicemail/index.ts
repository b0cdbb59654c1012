/**
 * Voicemail: the prompt and <Record> (no `event`), then Twilio's three
 * callbacks, in any order and possibly twice, each stored once:
 * `event=recorded` (Record's action: the caller is still on the line),
 * `event=recording` (recordingStatusCallback), `event=transcription`.
 */
import { callParties, intParam, requireCallSid, runStep } from "../_shared/call/step.ts";
import { goodbyeTwiml, voicemailTwiml } from "../_shared/call/twiml.ts";
import { PROMPTS } from "../_shared/call/prompts.ts";
import { param } from "../_shared/twilio/form.ts";
import { inlineSql } from "../_shared/platform/sql-literal.ts";
import { notStoredResponse, serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

const EVENTS = ["recorded", "recording", "transcription"] as const;
type VoicemailEvent = typeof EVENTS[number];

/** A value that matches Twilio's format, else null (the table's checks would refuse it). */
const matching = (value: string | undefined, format: RegExp) =>
  value && format.test(value) ? value : null;

Deno.serve(serveTwilioWebhook({
  slug: "voice-voicemail",
  async handle(ctx) {
    const base = ctx.config.PUBLIC_BASE_URL;
    const event = ctx.query.get("event") as VoicemailEvent | null;
    if (!event || !EVENTS.includes(event)) {
      return { twiml: voicemailTwiml(base), outcome: "voicemail:prompt" };
    }

    // A signed callback without a usable CallSid can never be stored: a 503
    // would only make Twilio send it again, in vain. It is acknowledged and
    // logged, as voice-status does (found by tests/reliability/hostile-input.test.ts).
    if (event !== "recorded" && !ctx.callSid) {
      return { twiml: [], outcome: "ignored:CallSid missing or malformed" };
    }
    const callSid = requireCallSid(ctx);
    const { from, to } = callParties(ctx);
    const p = ctx.params;
    const recordingSid = matching(param(p, "RecordingSid"), /^RE[0-9a-f]{32}$/);
    if (event === "recorded" && !recordingSid) {
      return { twiml: goodbyeTwiml(PROMPTS.voicemailEmpty), outcome: "voicemail:empty" };
    }
    const transcription = event === "transcription";
    await runStep(
      ctx,
      inlineSql`select public.voice_voicemail_save(
            ${callSid}, ${from}, ${to}, ${recordingSid},
            ${matching(param(p, "RecordingUrl"), /^https:\/\//)}, ${
        intParam(p, "RecordingDuration")
      },
            ${transcription ? matching(param(p, "TranscriptionSid"), /^TR[0-9a-f]{32}$/) : null},
            ${
        transcription ? matching(param(p, "TranscriptionStatus"), /^(completed|failed)$/) : null
      },
            ${transcription ? param(p, "TranscriptionText") ?? null : null}) as r`,
      // Only Record's action has a caller listening; the other two are callbacks.
      { callback: event !== "recorded" },
    );
    return {
      twiml: event === "recorded" ? goodbyeTwiml(PROMPTS.voicemailSaved) : [],
      outcome: `voicemail:${event}`,
    };
  },
  rescue(ctx) {
    const event = ctx.query.get("event");
    // Twilio holds the recording; the recording callback can still store it.
    if (event === "recorded") return goodbyeTwiml();
    // The recording and transcription callbacks have no caller on the line:
    // not stored → 503, and Twilio delivers them again (#rc=… on their URLs).
    if (event) return notStoredResponse();
    return voicemailTwiml(ctx.config?.PUBLIC_BASE_URL);
  },
}));
