/**
 * What an inbound text asks of us, decided without the database: the keyword
 * it carries and the reply it would get. The database then applies the
 * opt-out state and the gates no pure function can know (the number is ours,
 * the sender has not opted out, the rate limits): see sms_reply_answer.
 */
import { detectKeyword, keywordFromOptOutType, type SmsKeyword } from "./keywords.ts";

/** The replies we send: an ordinary auto-reply, the HELP answer, the opt-in confirmation. */
export type ReplyKind = "auto" | "help" | "opt-in";

/** Why a message got an empty `<Response/>`. */
export type SilenceReason =
  /** The message was an opt-out: nothing may be sent (Twilio confirms it itself). */
  | "opt-out"
  /** Advanced Opt-Out matched (OptOutType sent): Twilio already sent the business's own reply. */
  | "twilio-replied"
  /** The number is not an active hotline number: we cannot name the business. */
  | "unknown-number"
  /** The sender opted out of this number. */
  | "opted-out"
  /** Over the sender's or the sender+number pair's auto-reply allowance (loop protection). */
  | "rate-limited";

export interface ReplyIntent {
  keyword: SmsKeyword | null;
  /** The reply this message calls for, before the database's gates; null: none at all. */
  reply: ReplyKind | null;
  silenceReason: "opt-out" | "twilio-replied" | null;
}

/**
 * The keyword (Twilio's OptOutType first, else our detection) and the reply
 * it calls for. Without OptOutType, Twilio's default STOP/START/HELP answers
 * on long codes are generic and do not name the business, so START and HELP
 * get ours; with it, the Messaging Service's configured answer already went.
 */
export function decideReplyIntent(
  message: { body: string; optOutType?: string },
): ReplyIntent {
  const fromTwilio = keywordFromOptOutType(message.optOutType);
  const keyword = fromTwilio ?? detectKeyword(message.body);
  if (keyword === "opt-out") return { keyword, reply: null, silenceReason: "opt-out" };
  if (fromTwilio) return { keyword, reply: null, silenceReason: "twilio-replied" };
  return { keyword, reply: keyword ?? "auto", silenceReason: null };
}

/** sms_reply_answer's answer. */
export interface SmsAnswer {
  reply: ReplyKind | null;
  silence_reason: SilenceReason | null;
  /** True for a redelivered MessageSid: the first delivery's answer, nothing changed. */
  replayed: boolean;
  business_name: string | null;
  business_hours: string | null;
}

/** A word for the log line: `reply:help`, `silent:opted-out`, with `:replayed` on a redelivery. */
export function smsOutcome(answer: SmsAnswer): string {
  const what = answer.reply ? `reply:${answer.reply}` : `silent:${answer.silence_reason}`;
  return answer.replayed ? `${what}:replayed` : what;
}
