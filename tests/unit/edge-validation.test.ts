import assert from "node:assert/strict";
import {
  MAX_NUMBER_CHARS,
  MAX_VALUE_CHARS,
  normaliseField,
  normaliseWebhookParams,
} from "../../supabase/functions/_shared/twilio/edge-validation.ts";

const SID = "0123456789abcdef0123456789abcdef";

Deno.test("edge: well-formed Twilio values pass unchanged", () => {
  const params = new URLSearchParams({
    AccountSid: "AC" + SID,
    CallSid: "CA" + SID,
    From: "+15875550123",
    To: "+15877428885",
    Caller: "anonymous",
    Called: "client:alice",
    Digits: "1",
    FinishedOnKey: "",
    RecordingUrl: "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE",
    TranscriptionText: "Hello,\nplease call me back.",
    ErrorCode: "11200",
  });
  const { params: out, changed } = normaliseWebhookParams(params);
  assert.deepEqual([...out], [...params]);
  assert.deepEqual(changed, []);
});

Deno.test("edge: NUL and other control characters are removed from every field", () => {
  assert.equal(normaliseField("From", "+1587\u00005550123"), "+15875550123");
  assert.equal(normaliseField("Digits", "1\u0000"), "1");
  assert.equal(normaliseField("SpeechResult", "a\u0000b\u001bc\u007f"), "abc");
  assert.equal(normaliseField("TranscriptionText", "line\none\ttab\u0000"), "line\none\ttab");
  assert.equal(normaliseField("CallSid", "CA" + SID + "\u0000"), "CA" + SID);
});

Deno.test("edge: malformed SIDs are dropped", () => {
  for (
    const [name, value] of [
      ["AccountSid", "AC123"],
      ["AccountSid", "AC" + SID.toUpperCase()],
      ["AccountSid", "CA" + SID],
      ["CallSid", "CA" + SID + "0"],
      ["CallSid", "+15875550123"],
      ["RecordingSid", "RE" + "g".repeat(32)],
      ["TranscriptionSid", ""],
    ]
  ) {
    assert.equal(normaliseField(name, value), undefined, `${name}=${value}`);
  }
});

Deno.test("edge: an 8 KB number is dropped (stored as unknown); a long SIP address is kept", () => {
  assert.equal(normaliseField("From", "+1" + "5".repeat(8192)), undefined);
  assert.equal(normaliseField("To", "x".repeat(MAX_NUMBER_CHARS + 1)), undefined);
  const sip = "sip:+15875550123@hotline.sip.us1.twilio.com:5060;transport=udp";
  assert.equal(normaliseField("From", sip), sip);
});

Deno.test("edge: text fields are truncated, URLs and error codes dropped when malformed", () => {
  assert.equal(normaliseField("Digits", "1".repeat(100)), "1".repeat(32));
  assert.equal(normaliseField("TranscriptionText", "a".repeat(9000))!.length, 8000);
  assert.equal(normaliseField("Unknown", "z".repeat(5000))!.length, MAX_VALUE_CHARS);
  assert.equal(normaliseField("RecordingUrl", "https://x/" + "a".repeat(3000)), undefined);
  assert.equal(normaliseField("ErrorCode", "11200; drop table"), undefined);
  assert.equal(normaliseField("ErrorCode", "9".repeat(50)), undefined);
  // A surrogate pair is never cut in half.
  const cut = normaliseField("Digits", "1".repeat(31) + "😀")!;
  assert.equal(cut, "1".repeat(31));
});

Deno.test("edge: changed names only known fields; others are 'other'", () => {
  const { params, changed } = normaliseWebhookParams(
    new URLSearchParams([["From", "+1" + "5".repeat(9000)], ["+15875550123", "\u0000"], [
      "constructor",
      "x",
    ]]),
  );
  assert.deepEqual(changed, ["From", "other"]);
  assert.equal(params.get("From"), null);
  assert.equal(params.get("+15875550123"), "");
  assert.equal(params.get("constructor"), "x");
});

Deno.test("edge: text messages keep their SIDs and up to 1600 characters of body", () => {
  assert.equal(normaliseField("MessageSid", "SM" + SID), "SM" + SID);
  assert.equal(normaliseField("MessageSid", "MM" + SID), "MM" + SID);
  assert.equal(normaliseField("SmsSid", "XX" + SID), undefined);
  assert.equal(normaliseField("Body", "b".repeat(1600)), "b".repeat(1600));
  assert.equal(normaliseField("Body", "b".repeat(5000))!.length, 1600);
});
