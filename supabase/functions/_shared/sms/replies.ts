/**
 * Every word we text back, in one place (docs/sms.md quotes them). CASL: the
 * replies are transactional, never promotional; each names the business,
 * says how to reach a person and how to opt out. Plain GSM-7 characters
 * only (no curly quotes or dashes), so a reply with a short business name
 * stays one 160-character segment.
 */
import { message, type TwimlNode } from "../twilio/twiml.ts";
import type { ReplyKind, SmsAnswer } from "./reply-decision.ts";

/** Who the reply speaks for, from the number's row. */
export interface Business {
  name: string;
  /** When a person answers the phone, e.g. "Mon-Fri 9am-5pm MT"; quoted when known. */
  hours: string | null;
  /** The number the sender texted, which also takes calls. */
  phone: string;
}

/** `+15877428885` → `+1 587-742-8885`; other numbers as given. */
export function displayPhone(e164: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return nanp ? `+1 ${nanp[1]}-${nanp[2]}-${nanp[3]}` : e164;
}

/** The text of one reply. */
export function replyText(kind: ReplyKind, business: Business): string {
  const reach = `To reach a person, call ${displayPhone(business.phone)}${
    business.hours ? ` (${business.hours})` : ""
  }.`;
  const optOut = "Reply STOP to opt out.";
  switch (kind) {
    case "auto":
      return `${business.name}: we received your text. ${reach} ${optOut}`;
    case "help":
      return `${business.name}: automatic replies for this number. ${reach} ${optOut}`;
    case "opt-in":
      return `${business.name}: you will get replies from this number again. ${reach} ${optOut}`;
  }
}

/**
 * The TwiML for the database's answer: one `<Message>`, or nothing (an empty
 * `<Response/>`) when no reply may be sent or no business is known to name.
 */
export function smsReplyTwiml(answer: SmsAnswer, numberTexted: string): TwimlNode[] {
  if (!answer.reply || !answer.business_name) return [];
  return [
    message(replyText(answer.reply, {
      name: answer.business_name,
      hours: answer.business_hours,
      phone: numberTexted,
    })),
  ];
}
