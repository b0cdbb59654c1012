/**
 * What follows a <Dial> to an agent. Twilio reports a leg answered by an
 * agent's personal voicemail, or hung up at the screening prompt, as
 * `completed` too: only the recorded screening acceptance tells a real
 * conversation from those.
 */

export const DIAL_CALL_STATUSES = [
  "completed",
  "answered",
  "busy",
  "no-answer",
  "failed",
  "canceled",
] as const;
export type DialCallStatus = typeof DIAL_CALL_STATUSES[number];

/**
 * - `connected`: answered and accepted at screening: the conversation happened.
 * - `voicemail`: nobody took the call.
 * - `unconfirmed`: Twilio says `completed`/`answered` but the acceptance could
 *   not be read (the database was down): the caller may have reached only an
 *   agent's voicemail or a screening prompt nobody answered, so they are never
 *   told goodbye; they are offered a voicemail, in words that also fit after
 *   a real conversation (docs/telephony.md).
 */
export type AfterDial = "connected" | "voicemail" | "unconfirmed";

export function parseDialCallStatus(value: string | undefined): DialCallStatus | undefined {
  return (DIAL_CALL_STATUSES as readonly string[]).includes(value ?? "")
    ? value as DialCallStatus
    : undefined;
}

/**
 * Connected only when the agent's leg was answered and the agent accepted the
 * call; `screeningAccepted` undefined means the acceptance is unknown.
 */
export function decideAfterDial(
  outcome: { status: DialCallStatus | undefined; screeningAccepted: boolean | undefined },
): AfterDial {
  const answered = outcome.status === "completed" || outcome.status === "answered";
  if (!answered) return "voicemail";
  if (outcome.screeningAccepted === undefined) return "unconfirmed";
  return outcome.screeningAccepted ? "connected" : "voicemail";
}
