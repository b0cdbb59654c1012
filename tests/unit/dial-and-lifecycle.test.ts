import assert from "node:assert/strict";
import {
  decideAfterDial,
  DIAL_CALL_STATUSES,
  parseDialCallStatus,
} from "../../supabase/functions/_shared/call/dial-outcome.ts";
import {
  MAX_REPORTED_STATUS,
  parseStatusCallback,
  statusForLog,
} from "../../supabase/functions/_shared/call/lifecycle.ts";

Deno.test("dial: answered or completed with the screening accepted → connected", () => {
  assert.equal(decideAfterDial({ status: "completed", screeningAccepted: true }), "connected");
  assert.equal(decideAfterDial({ status: "answered", screeningAccepted: true }), "connected");
});

Deno.test("dial: completed without screening acceptance (agent voicemail, declined) → voicemail", () => {
  assert.equal(decideAfterDial({ status: "completed", screeningAccepted: false }), "voicemail");
  assert.equal(decideAfterDial({ status: "answered", screeningAccepted: false }), "voicemail");
});

Deno.test("dial: completed while the acceptance could not be read → unconfirmed, never connected", () => {
  assert.equal(
    decideAfterDial({ status: "completed", screeningAccepted: undefined }),
    "unconfirmed",
  );
  assert.equal(
    decideAfterDial({ status: "answered", screeningAccepted: undefined }),
    "unconfirmed",
  );
  assert.equal(decideAfterDial({ status: "no-answer", screeningAccepted: undefined }), "voicemail");
});

Deno.test("dial: busy, no-answer, failed, canceled, unknown → voicemail", () => {
  for (const status of ["busy", "no-answer", "failed", "canceled", undefined] as const) {
    assert.equal(decideAfterDial({ status, screeningAccepted: true }), "voicemail", String(status));
  }
});

Deno.test("dial: DialCallStatus parsing", () => {
  for (const s of DIAL_CALL_STATUSES) assert.equal(parseDialCallStatus(s), s);
  assert.equal(parseDialCallStatus("ringing"), undefined);
  assert.equal(parseDialCallStatus(undefined), undefined);
});

const cb = (o: Record<string, string>) =>
  new URLSearchParams({ CallSid: "CA" + "a".repeat(32), CallStatus: "completed", ...o });

Deno.test("lifecycle: a status callback is parsed, with Twilio's RFC 2822 timestamp", () => {
  const parsed = parseStatusCallback(
    cb({
      StatusCallbackEvent: "completed",
      SequenceNumber: "3",
      CallDuration: "61",
      Timestamp: "Mon, 23 Nov 2026 05:00:00 +0000",
    }),
  );
  assert.ok(parsed.ok);
  assert.equal(parsed.value.status, "completed");
  assert.equal(parsed.value.event, "completed");
  assert.equal(parsed.value.sequence, 3);
  assert.equal(parsed.value.durationSeconds, 61);
  assert.equal(parsed.value.occurredAt?.toISOString(), "2026-11-23T05:00:00.000Z");
});

Deno.test("lifecycle: every CallStatus Twilio documents is recognised, initiated included", () => {
  for (
    const s of [
      "queued",
      "initiated",
      "ringing",
      "in-progress",
      "completed",
      "busy",
      "failed",
      "no-answer",
      "canceled",
    ]
  ) {
    const parsed = parseStatusCallback(cb({ CallStatus: s }));
    assert.ok(parsed.ok && parsed.value.recognised && parsed.value.status === s, s);
  }
});

Deno.test("lifecycle: an unknown CallStatus is kept as received (bounded), never dropped", () => {
  const odd = parseStatusCallback(cb({ CallStatus: "exploded" }));
  assert.ok(odd.ok);
  assert.equal(odd.value.status, "exploded");
  assert.equal(odd.value.recognised, false);
  assert.equal(statusForLog(odd.value), 'unrecognised("exploded")');
  const missing = parseStatusCallback(new URLSearchParams({ CallSid: "CA" + "a".repeat(32) }));
  assert.ok(missing.ok && missing.value.status === "" && !missing.value.recognised);
  const long = parseStatusCallback(cb({ CallStatus: "x".repeat(500) }));
  assert.ok(long.ok && long.value.status.length === MAX_REPORTED_STATUS);
});

Deno.test("lifecycle: nonsense callbacks are refused with a reason, odd fields dropped", () => {
  assert.deepEqual(parseStatusCallback(cb({ CallSid: "CA123" })), {
    ok: false,
    reason: "CallSid missing or malformed",
  });

  const odd = parseStatusCallback(
    cb({ Timestamp: "yesterday", CallDuration: "-5", StatusCallbackEvent: "x" }),
  );
  assert.ok(odd.ok);
  assert.equal(odd.value.occurredAt, undefined);
  assert.equal(odd.value.durationSeconds, undefined);
  assert.equal(odd.value.event, undefined);
});
