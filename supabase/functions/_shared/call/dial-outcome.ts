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

export type AfterDial = "connected" | "voicemail";

export function parseDialCallStatus(value: string | undefined): DialCallStatus | undefined {
  return (DIAL_CALL_STATUSES as readonly string[]).includes(value ?? "")
    ? value as DialCallStatus
    : undefined;
}

/** Connected only when the agent's leg was answered and the agent accepted the call. */
export function decideAfterDial(
  outcome: { status: DialCallStatus | undefined; screeningAccepted: boolean },
): AfterDial {
  const answered = outcome.status === "completed" || outcome.status === "answered";
  return answered && outcome.screeningAccepted ? "connected" : "voicemail";
}
