/**
 * Status callbacks, read and checked. The forward-only rule lives in SQL
 * (voice_status_apply, call_status_rank), where concurrent callbacks for one
 * call are serialised by the row lock; see supabase/tests/voice_status_forward_only.test.sql.
 *
 * Nothing Twilio delivered is dropped: every CallStatus Twilio documents is a
 * lifecycle status, and a value we do not know (a new one, or a broken one) is
 * still stored, as received, in call_lifecycle.reported_status, and logged.
 */

/** Every CallStatus Twilio documents, in lifecycle order (the SQL enum call_status). */
export const CALL_STATUSES = [
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
] as const;
export type CallStatus = typeof CALL_STATUSES[number];

/** The longest unrecognised CallStatus kept, in characters (call_lifecycle.reported_status). */
export const MAX_REPORTED_STATUS = 64;

export interface StatusCallback {
  callSid: string;
  /** The CallStatus as received (cut at MAX_REPORTED_STATUS); SQL maps it onto the lifecycle. */
  status: string;
  /** False when `status` is not one of CALL_STATUSES: stored raw, the call's status unchanged. */
  recognised: boolean;
  event?: "initiated" | "ringing" | "answered" | "completed";
  sequence?: number;
  occurredAt?: Date;
  durationSeconds?: number;
}

const CALL_SID = /^CA[0-9a-f]{32}$/;
const EVENTS = ["initiated", "ringing", "answered", "completed"];

/** True for a CallStatus Twilio documents. */
export function isCallStatus(value: string): value is CallStatus {
  return (CALL_STATUSES as readonly string[]).includes(value);
}

/** Parses Twilio's status callback parameters; a reason when they cannot belong to a call. */
export function parseStatusCallback(
  params: URLSearchParams,
): { ok: true; value: StatusCallback } | { ok: false; reason: string } {
  const callSid = params.get("CallSid") ?? "";
  if (!CALL_SID.test(callSid)) return { ok: false, reason: "CallSid missing or malformed" };
  const status = (params.get("CallStatus") ?? "").slice(0, MAX_REPORTED_STATUS);
  const event = params.get("StatusCallbackEvent") ?? "";
  const int = (name: string) => {
    const raw = params.get(name);
    return raw !== null && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
  };
  // Timestamp is RFC 2822 ("Mon, 23 Nov 2026 05:00:00 +0000").
  const stamp = params.get("Timestamp");
  const occurredAt = stamp ? new Date(stamp) : undefined;
  return {
    ok: true,
    value: {
      callSid,
      status,
      recognised: isCallStatus(status),
      event: EVENTS.includes(event) ? event as StatusCallback["event"] : undefined,
      sequence: int("SequenceNumber"),
      occurredAt: occurredAt && !Number.isNaN(occurredAt.getTime()) ? occurredAt : undefined,
      durationSeconds: int("CallDuration"),
    },
  };
}

/** A bounded, printable rendering of a status for the log line. */
export function statusForLog(cb: StatusCallback): string {
  return cb.recognised ? cb.status : `unrecognised(${JSON.stringify(cb.status.slice(0, 32))})`;
}
