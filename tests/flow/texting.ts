/**
 * Texting a hotline number the way Twilio delivers an incoming message: a
 * signed form POST to the number's SMS URL with Twilio's parameters, and the
 * `<Message>`s of the TwiML answer read back (what Twilio would send).
 */
import { type Exchange, parseTwiml, randomSid, type TwilioDriver } from "./twilio-driver.ts";

export interface Text {
  from: string;
  to: string;
  body: string;
  /** Kept on a redelivery; fresh by default. */
  messageSid?: string;
  /** Only under Advanced Opt-Out, when Twilio matched one of its keywords. */
  optOutType?: string;
}

export interface TextAnswer extends Exchange {
  messageSid: string;
  /** The texts Twilio would send back; empty for `<Response/>`. */
  replies: string[];
}

/** Twilio's incoming-message parameters for one text. */
export function incomingMessageParams(driver: TwilioDriver, text: Text): Record<string, string> {
  const messageSid = text.messageSid ?? randomSid("SM");
  const params: Record<string, string> = {
    ToCountry: "CA",
    ToState: "AB",
    SmsMessageSid: messageSid,
    NumMedia: "0",
    ToCity: "CALGARY",
    SmsSid: messageSid,
    FromState: "AB",
    SmsStatus: "received",
    FromCity: "EDMONTON",
    Body: text.body,
    FromCountry: "CA",
    To: text.to,
    NumSegments: "1",
    MessageSid: messageSid,
    AccountSid: driver.accountSid,
    From: text.from,
    ApiVersion: "2010-04-01",
  };
  if (text.optOutType) params.OptOutType = text.optOutType;
  return params;
}

/** Delivers one text to webcomms-sms-reply, signed, and reads the reply. */
export async function sendText(
  driver: TwilioDriver,
  text: Text,
  opts: { signature?: string } = {},
): Promise<TextAnswer> {
  const params = incomingMessageParams(driver, text);
  const exchange = await driver.post(driver.url("webcomms-sms-reply"), params, opts);
  const replies = exchange.status === 200
    ? parseTwiml(exchange.body).map((verb) => {
      if (verb.verb !== "Message") throw new Error(`unexpected <${verb.verb}> in an SMS answer`);
      return verb.text;
    })
    : [];
  return { ...exchange, messageSid: params.MessageSid, replies };
}
