/**
 * The opt-out, opt-in and help keywords of a text message. Twilio applies its
 * own STOP filtering on long codes and still forwards the message to us, with
 * `OptOutType` only under Advanced Opt-Out: so we detect the keywords
 * ourselves, and Twilio's OptOutType wins when it is sent (it also covers the
 * Messaging Service's custom keywords, in other languages for instance).
 */

/** What a keyword asks for. */
export type SmsKeyword = "opt-out" | "opt-in" | "help";

// Twilio's default long-code list also has REVOKE and OPTOUT: it blocks those
// senders too, so they must not count as ordinary texts.
const OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];

const KEYWORDS: ReadonlyMap<string, SmsKeyword> = new Map([
  ...OPT_OUT.map((k) => [k, "opt-out"] as const),
  ...["START", "YES", "UNSTOP"].map((k) => [k, "opt-in"] as const),
  ...["HELP", "INFO"].map((k) => [k, "help"] as const),
]);

/**
 * The keyword a message body is, or null. Like Twilio's filtering, only a
 * message that is the keyword alone counts ("stop" and " Stop\n" do, "please
 * stop" does not), in any case.
 */
export function detectKeyword(body: string): SmsKeyword | null {
  return KEYWORDS.get(body.trim().toUpperCase()) ?? null;
}

const OPT_OUT_TYPES: ReadonlyMap<string, SmsKeyword> = new Map([
  ["STOP", "opt-out"],
  ["START", "opt-in"],
  ["HELP", "help"],
]);

/** Twilio's `OptOutType` (STOP, START, HELP) as a keyword; null when absent or unknown. */
export function keywordFromOptOutType(optOutType: string | undefined): SmsKeyword | null {
  return optOutType ? OPT_OUT_TYPES.get(optOutType.trim().toUpperCase()) ?? null : null;
}
