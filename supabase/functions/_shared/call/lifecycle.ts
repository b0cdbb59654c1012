/**
 * Status callbacks, read and checked. The forward-only rule lives in SQL
 * (voice_status_apply, call_status_rank), where concurrent callbacks for one
 * call are serialised by the row lock; see supabase/tests/voice_status_forward_only.test.sql.
 */

export const CALL_STATUSES = [
  "queued",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
] as const;
export type CallStatus = typeof CALL_STATUSES[number];

export interface StatusCallback {
  callSid: string;
  status: CallStatus;
  event?: "initiated" | "ringing" | "answered" | "completed";
  sequence?: number;
  occurredAt?: Date;
  durationSeconds?: number;
}

const CALL_SID = /^CA[0-9a-f]{32}$/;
const EVENTS = ["initiated", "ringing", "answered", "completed"];

/** Parses Twilio's status callback parameters; a reason when they make no sense. */
export function parseStatusCallback(
  params: URLSearchParams,
): { ok: true; value: StatusCallback } | { ok: false; reason: string } {
  const callSid = params.get("CallSid") ?? "";
  if (!CALL_SID.test(callSid)) return { ok: false, reason: "CallSid missing or malformed" };
  const status = params.get("CallStatus") ?? "";
  if (!(CALL_STATUSES as readonly string[]).includes(status)) {
    return { ok: false, reason: "unknown CallStatus" };
  }
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
      status: status as CallStatus,
      event: EVENTS.includes(event) ? event as StatusCallback["event"] : undefined,
      sequence: int("SequenceNumber"),
      occurredAt: occurredAt && !Number.isNaN(occurredAt.getTime()) ? occurredAt : undefined,
      durationSeconds: int("CallDuration"),
    },
  };
}
