/**
 * The TwiML of each call step. Action URLs are absolute (built from
 * PUBLIC_BASE_URL, the URL Twilio signs) and their query strings hold only
 * short ASCII values we chose, so Twilio's signatures on the callbacks stay
 * verifiable. Without configuration (a rescue) they are relative, which
 * Twilio resolves against the URL it just called.
 */
import type { Department, MenuDecision, MenuState } from "./menu.ts";
import { PROMPTS, VOICE } from "./prompts.ts";
import {
  dial,
  gather,
  hangup,
  number,
  record,
  redirect,
  say,
  type TwimlNode,
} from "../twilio/twiml.ts";

/** The URL of a step, absolute when the public base URL is known. */
export function stepUrl(
  base: string | undefined,
  slug: string,
  query: Record<string, string | number> = {},
): string {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  const path = qs ? `${slug}?${qs}` : slug;
  return base ? `${base}/${path}` : path;
}

const speak = (text: string) => say(text, VOICE);

/** The menu inside a Gather. actionOnEmptyResult: silence reaches the handler, which decides the retry. */
export function menuTwiml(base: string, state: MenuState, lead: string[]): TwimlNode[] {
  const action = stepUrl(base, "voice-menu-handler", {
    attempt: state.attempt,
    repeats: state.repeats,
  });
  return [
    gather(
      {
        input: "dtmf",
        numDigits: 1,
        timeout: 5,
        finishOnKey: "",
        actionOnEmptyResult: true,
        action,
        method: "POST",
      },
      [...lead.map(speak), speak(PROMPTS.menu)],
    ),
    // Unreachable with actionOnEmptyResult; a guard so the call can never fall off the end.
    redirect(action, { method: "POST" }),
  ];
}

/** First words of a call: welcome, the recording disclosure, the menu. */
export function greetingTwiml(base: string): TwimlNode[] {
  return menuTwiml(base, { attempt: 1, repeats: 0 }, [PROMPTS.welcome, PROMPTS.disclosure]);
}

/** The menu again, after a repeat, an opt-out or a retry. */
export function menuAgainTwiml(
  base: string,
  decision: Extract<MenuDecision, { kind: "menu" }>,
): TwimlNode[] {
  const lead = decision.reason === "opt-out"
    ? [PROMPTS.optedOut]
    : decision.reason === "retry"
    ? [decision.heard === "silence" ? PROMPTS.retrySilence : PROMPTS.retryInvalid]
    : [];
  return menuTwiml(base, decision.next, lead);
}

/**
 * Ring an agent for 20 s with the hotline as caller ID. The agent's leg first
 * runs the screening prompt (voice-action?step=screen): no key, no call, so an
 * agent's own voicemail can never take it. Recorded only with consent.
 */
export function dialAgentTwiml(opts: {
  base: string;
  department: Department;
  target: string;
  callerId: string;
  callSid: string;
  record: boolean;
}): TwimlNode[] {
  return [
    speak(PROMPTS.connecting[opts.department]),
    dial({
      timeout: 20,
      callerId: opts.callerId,
      action: stepUrl(opts.base, "voice-action", { dept: opts.department }),
      method: "POST",
      record: opts.record ? "record-from-answer-dual" : undefined,
    }, [
      number(opts.target, {
        url: stepUrl(opts.base, "voice-action", {
          step: "screen",
          dept: opts.department,
          call: opts.callSid,
        }),
        method: "POST",
      }),
    ]),
  ];
}

/**
 * The agent's leg: accept with any key, or the leg hangs up. `finishOnKey=""`
 * because Twilio's default (`#`) would swallow `#` as "end of input" and
 * report no digits, so an agent pressing # would be dropped.
 */
export function screeningTwiml(
  base: string | undefined,
  department: string,
  callSid: string | undefined,
): TwimlNode[] {
  const text = department === "sales" || department === "support"
    ? PROMPTS.screening[department]
    : PROMPTS.screening.other;
  const query: Record<string, string> = { step: "screened" };
  if (callSid) query.call = callSid;
  return [
    gather({
      input: "dtmf",
      numDigits: 1,
      timeout: 8,
      finishOnKey: "",
      action: stepUrl(base, "voice-action", query),
      method: "POST",
    }, [
      speak(text),
    ]),
    speak(PROMPTS.screeningMissed),
    hangup(),
  ];
}

/**
 * Voicemail: the caller chose it (or nobody answered), and the prompt says it
 * is recorded, so the message is recorded whatever the call's consent was.
 */
export function voicemailTwiml(
  base: string | undefined,
  opts: { recordedAction?: string } = {},
): TwimlNode[] {
  return [
    speak(PROMPTS.voicemailPrompt),
    record({
      action: opts.recordedAction ?? stepUrl(base, "voice-voicemail", { event: "recorded" }),
      method: "POST",
      maxLength: 180,
      timeout: 10,
      finishOnKey: "#",
      playBeep: true,
      transcribe: true,
      transcribeCallback: stepUrl(base, "voice-voicemail", { event: "transcription" }),
      recordingStatusCallback: stepUrl(base, "voice-voicemail", { event: "recording" }),
      recordingStatusCallbackMethod: "POST",
      recordingStatusCallbackEvent: "completed",
    }),
    speak(PROMPTS.voicemailEmpty),
    hangup(),
  ];
}

export const goodbyeTwiml = (
  text: string = PROMPTS.goodbye,
): TwimlNode[] => [speak(text), hangup()];

/** Hand the call to voice-fallback, which needs no database. */
export function toFallbackTwiml(base: string | undefined, step?: string): TwimlNode[] {
  return [redirect(stepUrl(base, "voice-fallback", step ? { step } : {}), { method: "POST" })];
}
