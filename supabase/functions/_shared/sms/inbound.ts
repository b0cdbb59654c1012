/** Reading Twilio's incoming-message webhook. */
import { param } from "../twilio/form.ts";

/** One text message as Twilio delivers it to the number's SMS URL. */
export interface InboundSms {
  /** SM… (or MM… with media): the same on every redelivery of this message. */
  messageSid: string;
  accountSid: string | null;
  from: string;
  to: string;
  body: string;
  numMedia: number;
  /** Sent only under Advanced Opt-Out, when the message matched one of its keywords. */
  optOutType: string | undefined;
}

const MESSAGE_SID = /^(SM|MM)[0-9a-f]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;

/**
 * The message, or why this signed request is not one we can store (then a
 * redelivery would not help either).
 */
export function parseInboundSms(
  params: URLSearchParams,
): { ok: true; value: InboundSms } | { ok: false; reason: string } {
  const messageSid = param(params, "MessageSid") ?? param(params, "SmsMessageSid");
  if (!messageSid || !MESSAGE_SID.test(messageSid)) return { ok: false, reason: "no-message-sid" };
  const from = param(params, "From");
  const to = param(params, "To");
  if (!from || !to) return { ok: false, reason: "no-parties" };
  const accountSid = param(params, "AccountSid");
  const numMedia = Number(param(params, "NumMedia") ?? 0);
  return {
    ok: true,
    value: {
      messageSid,
      accountSid: accountSid && ACCOUNT_SID.test(accountSid) ? accountSid : null,
      from,
      to,
      // Not trimmed: stored as the sender wrote it; keyword detection trims.
      body: params.get("Body") ?? "",
      numMedia: Number.isInteger(numMedia) && numMedia >= 0 && numMedia <= 100 ? numMedia : 0,
      optOutType: param(params, "OptOutType"),
    },
  };
}
