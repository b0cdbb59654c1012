/**
 * The TwiML of each call step. Action URLs are absolute (built from
 * PUBLIC_BASE_URL, the URL Twilio signs) and their query strings hold only
 * short ASCII values we chose, so Twilio's signatures on the callbacks stay
 * verifiable. Without configuration (a rescue) they are relative, which
 * Twilio resolves against the URL it just called.
 */
import type { AfterDial } from "./dial-outcome.ts";
import type { FallbackAction } from "./fallback.ts";
import {
  type Department,
  FIRST_HEARING,
  type MenuDecision,
  type MenuState,
  menuStateQuery,
  optOutQuery,
} from "./menu.ts";
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

/**
 * Twilio's connection overrides for callbacks nobody waits on (recording,
 * transcription, status): up to 5 retries (Twilio's maximum) on a refused or
 * timed-out connection and on a 5xx, which is what a callback we could not
 * store answers. Not on a 4xx: a refused signature will not get better.
 * Retries fit in Twilio's total timeout for the webhook (15 s by default).
 * The fragment is never sent to us, so the signed URL is the URL without it.
 */
export const CALLBACK_RETRIES = "rc=5&rp=ct,rt,5xx";

/** The URL of a callback step, with the retry overrides in its fragment. */
export function callbackUrl(
  base: string | undefined,
  slug: string,
  query: Record<string, string | number> = {},
): string {
  return `${stepUrl(base, slug, query)}#${CALLBACK_RETRIES}`;
}

const speak = (text: string) => say(text, VOICE);

/** The menu inside a Gather. actionOnEmptyResult: silence reaches the handler, which decides the retry. */
export function menuTwiml(base: string, state: MenuState, lead: string[]): TwimlNode[] {
  const action = stepUrl(base, "voice-menu-handler", menuStateQuery(state));
  const options = state.optedOut ? PROMPTS.menuUnrecorded : PROMPTS.menu;
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
      [...lead.map(speak), speak(options)],
    ),
    // Unreachable with actionOnEmptyResult; a guard so the call can never fall off the end.
    redirect(action, { method: "POST" }),
  ];
}

/** First words of a call: welcome, the recording disclosure, the menu. */
export function greetingTwiml(base: string): TwimlNode[] {
  return menuTwiml(base, FIRST_HEARING, [PROMPTS.welcome, PROMPTS.disclosure]);
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
 * agent's own voicemail can never take it. Recorded only with consent; a
 * caller who pressed 0 is marked on the action URL (`optout=1`), so even a
 * rescue of voice-action knows not to offer a voicemail.
 */
export function dialAgentTwiml(opts: {
  base: string;
  department: Department;
  target: string;
  callerId: string;
  callSid: string;
  record: boolean;
  optedOut?: boolean;
}): TwimlNode[] {
  return [
    speak(PROMPTS.connecting[opts.department]),
    dial({
      timeout: 20,
      callerId: opts.callerId,
      action: stepUrl(opts.base, "voice-action", {
        dept: opts.department,
        ...optOutQuery({ optedOut: opts.optedOut ?? false }),
      }),
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
      transcribeCallback: callbackUrl(base, "voice-voicemail", { event: "transcription" }),
      recordingStatusCallback: callbackUrl(base, "voice-voicemail", { event: "recording" }),
      recordingStatusCallbackMethod: "POST",
      recordingStatusCallbackEvent: "completed",
    }),
    speak(PROMPTS.voicemailEmpty),
    hangup(),
  ];
}

/** Where a voicemail would be, for a caller who must not be recorded: why there is none, goodbye. */
export const unrecordedGoodbyeTwiml = (): TwimlNode[] => [
  speak(PROMPTS.unrecordedGoodbye),
  hangup(),
];

/**
 * What voice-menu-handler answers once the choice is stored. `record` is the
 * stored consent (voice_menu_choice): a dial is recorded and a voicemail taken
 * only when it says granted, whatever the menu decided.
 */
export function menuAnswerTwiml(opts: {
  base: string;
  decision: MenuDecision;
  optedOut: boolean;
  record: boolean;
  target: string | null;
  callerId: string;
  callSid: string;
}): TwimlNode[] {
  const { base, decision } = opts;
  switch (decision.kind) {
    case "dial":
      return dialAgentTwiml({
        base,
        department: decision.department,
        target: opts.target!,
        callerId: opts.callerId,
        callSid: opts.callSid,
        record: opts.record,
        optedOut: opts.optedOut,
      });
    case "voicemail":
      return opts.record ? voicemailTwiml(base) : unrecordedGoodbyeTwiml();
    case "unrecorded-goodbye":
      return unrecordedGoodbyeTwiml();
    case "menu":
      return menuAgainTwiml(base, decision);
  }
}

/**
 * What voice-action answers after the Dial: goodbye after a conversation;
 * otherwise a voicemail, only when the call's stored consent allows recording.
 */
export function afterDialTwiml(
  base: string | undefined,
  next: AfterDial,
  voicemailAllowed: boolean,
): TwimlNode[] {
  if (next === "connected") return goodbyeTwiml();
  return [
    speak(PROMPTS.nobodyAvailable),
    ...(voicemailAllowed ? voicemailTwiml(base) : unrecordedGoodbyeTwiml()),
  ];
}

export const goodbyeTwiml = (
  text: string = PROMPTS.goodbye,
): TwimlNode[] => [speak(text), hangup()];

/** Hand the call to voice-fallback (which needs no database), at one of its steps. */
export function toFallbackTwiml(
  base: string | undefined,
  query: Record<string, string> = {},
): TwimlNode[] {
  return [redirect(stepUrl(base, "voice-fallback", query), { method: "POST" })];
}

/** A voicemail whose Record action stays on voice-fallback (no database on the way). */
function fallbackVoicemailTwiml(base: string | undefined): TwimlNode[] {
  return voicemailTwiml(base, {
    recordedAction: stepUrl(base, "voice-fallback", { step: "recorded" }),
  });
}

const FALLBACK_LEAD = {
  "trouble": PROMPTS.troubleVoicemail,
  "nobody-available": PROMPTS.nobodyAvailable,
  "unconfirmed": PROMPTS.dialUnconfirmed,
} as const;

/**
 * voice-fallback's answer for a decided action (see fallback.ts). Without
 * configuration (`targets` unknown) there is no number to ring: the caller
 * leaves a voicemail instead.
 */
export function fallbackTwiml(
  action: FallbackAction,
  opts: {
    base: string | undefined;
    targets?: Record<Department, string>;
    callerId?: string;
    /** The caller pressed 0: carried to the Dial's action, so no voicemail follows it. */
    optedOut?: boolean;
  },
): TwimlNode[] {
  const { base, targets } = opts;
  switch (action.kind) {
    case "goodbye":
      return goodbyeTwiml(action.saved ? PROMPTS.voicemailSaved : PROMPTS.goodbye);
    case "unrecorded-goodbye":
      return unrecordedGoodbyeTwiml();
    case "hang-up-agent":
      return [hangup()];
    case "connect-agent":
      return [];
    case "voicemail":
      return [speak(FALLBACK_LEAD[action.lead]), ...fallbackVoicemailTwiml(base)];
    case "dial":
      if (!targets) return [speak(PROMPTS.troubleVoicemail), ...fallbackVoicemailTwiml(base)];
      return [
        speak(PROMPTS.troubleConnecting),
        dial({
          timeout: 20,
          callerId: opts.callerId,
          action: stepUrl(base, "voice-fallback", {
            step: "after-dial",
            ...optOutQuery({ optedOut: opts.optedOut ?? false }),
          }),
          method: "POST",
        }, [
          // Screening without a call to mark: voice-action connects without the database.
          number(targets[action.department], {
            url: stepUrl(base, "voice-action", { step: "screen", dept: action.department }),
            method: "POST",
          }),
        ]),
      ];
  }
}
