/**
 * The functions the reliability suite attacks, and what each may answer.
 * A function added later (the admin API) joins by adding a target here (or
 * in a list of its own, concatenated in the test).
 */
import { Dice } from "./seeded.ts";

export interface WebhookTarget {
  slug: string;
  kind: "twilio-webhook" | "get-json";
  /** Query strings Twilio would call it with (ours), hostile ones are added by the fuzzer. */
  queries: (dice: Dice, callSid: string) => string[];
  /** A well-formed request's parameters for one new call / message. */
  params: (dice: Dice, accountSid: string) => Record<string, string>;
  /** True where a 503 is the deliberate "not stored, send it again" answer. */
  retryable503: (query: URLSearchParams) => boolean;
}

export const HOTLINE = "+15877428885";

const callParams = (dice: Dice, accountSid: string) => ({
  AccountSid: accountSid,
  ApiVersion: "2010-04-01",
  CallSid: dice.sid("CA"),
  CallStatus: "in-progress",
  Direction: "inbound",
  From: "+1587" + dice.int(2000000, 9999999),
  To: HOTLINE,
  Caller: "+15875550000",
  Called: HOTLINE,
});

const recording = (dice: Dice, accountSid: string) => {
  const sid = dice.sid("RE");
  return {
    RecordingSid: sid,
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${accountSid}/Recordings/${sid}`,
    RecordingDuration: String(dice.int(1, 180)),
  };
};

/** Every function on main today. */
export const CALL_TARGETS: WebhookTarget[] = [
  {
    slug: "voice-frontdoor",
    kind: "twilio-webhook",
    queries: () => [""],
    params: callParams,
    retryable503: () => false,
  },
  {
    slug: "voice-menu-handler",
    kind: "twilio-webhook",
    queries: () => ["attempt=1&repeats=0", "attempt=2&repeats=3&optout=1", "attempt=x"],
    params: (dice, account) => ({
      ...callParams(dice, account),
      Digits: dice.pick(["1", "2", "9", "*", "0", "", "12#"]),
    }),
    retryable503: () => false,
  },
  {
    slug: "voice-action",
    kind: "twilio-webhook",
    queries: (_dice, callSid) => [
      "dept=sales",
      "dept=support&optout=1",
      "step=screen&dept=sales",
      `step=screened&dept=support&call=${callSid}`,
    ],
    params: (dice, account) => ({
      ...callParams(dice, account),
      DialCallStatus: dice.pick(["completed", "busy", "no-answer", "failed", "canceled"]),
      DialCallSid: dice.sid("CA"),
      DialCallDuration: String(dice.int(0, 600)),
      Digits: "1",
    }),
    retryable503: () => false,
  },
  {
    slug: "voice-voicemail",
    kind: "twilio-webhook",
    queries: () => ["", "event=recorded", "event=recording", "event=transcription"],
    params: (dice, account) => ({
      ...callParams(dice, account),
      ...recording(dice, account),
      RecordingStatus: "completed",
      TranscriptionSid: dice.sid("TR"),
      TranscriptionStatus: dice.pick(["completed", "failed"]),
      TranscriptionText: "Please call me back about my order.",
      Digits: "#",
    }),
    retryable503: (q) => ["recording", "transcription"].includes(q.get("event") ?? ""),
  },
  {
    slug: "voice-status",
    kind: "twilio-webhook",
    queries: () => [""],
    params: (dice, account) => ({
      ...callParams(dice, account),
      CallStatus: dice.pick(["ringing", "in-progress", "completed", "busy", "no-answer"]),
      StatusCallbackEvent: dice.pick(["initiated", "ringing", "answered", "completed"]),
      SequenceNumber: String(dice.int(0, 3)),
      Timestamp: "Wed, 25 Nov 2026 21:00:00 +0000",
      CallDuration: String(dice.int(0, 900)),
    }),
    retryable503: () => true,
  },
  {
    slug: "voice-fallback",
    kind: "twilio-webhook",
    queries: () => ["", "step=voicemail", "step=dial&dept=sales", "step=unconfirmed&optout=1"],
    params: (dice, account) => ({
      ...callParams(dice, account),
      ErrorCode: dice.pick(["11200", "12100", "11205"]),
      ErrorUrl: "https://hotline.example/functions/v1/voice-menu-handler",
      Digits: dice.pick(["1", "2", "9", ""]),
    }),
    retryable503: () => false,
  },
  {
    slug: "voice-health",
    kind: "get-json",
    queries: () => ["", "verbose=1"],
    params: () => ({}),
    retryable503: () => true, // 503 is its documented "unhealthy"
  },
  {
    slug: "webcomms-sms-reply",
    kind: "twilio-webhook",
    queries: () => [""],
    params: (dice, account) => ({
      AccountSid: account,
      ApiVersion: "2010-04-01",
      MessageSid: dice.sid("SM"),
      From: "+1403" + dice.int(2000000, 9999999),
      To: HOTLINE,
      Body: dice.pick(["Hello", "STOP", "HELP", "start", "what are your hours?"]),
      NumMedia: "0",
      NumSegments: "1",
    }),
    retryable503: () => true,
  },
];
