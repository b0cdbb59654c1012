import assert from "node:assert/strict";
import {
  logRequest,
  maskPhone,
  safeCallSid,
  scrubText,
} from "../../supabase/functions/_shared/platform/log.ts";

Deno.test("log: phone numbers keep country and area code and the last four digits", () => {
  assert.equal(maskPhone("+15877428885"), "+1587***8885");
  assert.equal(maskPhone("+447911123456"), "+4479***3456");
});

Deno.test("log: short numbers show less, and never all their digits", () => {
  assert.equal(maskPhone("+50012345"), "+50***45");
  assert.equal(maskPhone("+5001234567"), "+50***67");
  assert.equal(maskPhone("1234567"), "***");
  assert.equal(maskPhone("+123"), "***");
  for (let n = 1; n <= 15; n++) {
    const number = "+" + "123456789012345".slice(0, n);
    const masked = maskPhone(number)!;
    const shown = masked.replace(/\D/g, "").length;
    const hidden = n - shown;
    assert.ok(shown === 0 || hidden >= Math.max(3, n < 11 ? Math.ceil(n / 2) : 3), masked);
  }
});

Deno.test("log: short, hidden and client callers reveal nothing", () => {
  assert.ok(!maskPhone("12345")!.includes("12345"));
  assert.equal(maskPhone("anonymous"), "***");
  assert.equal(maskPhone("client:alice"), "client:***");
  assert.equal(maskPhone(undefined), undefined);
  assert.equal(maskPhone(""), undefined);
});

Deno.test("log: a CallSid is printed only in Twilio's form", () => {
  assert.equal(
    safeCallSid("CA0123456789abcdef0123456789abcdef"),
    "CA0123456789abcdef0123456789abcdef",
  );
  assert.equal(safeCallSid("+15875551234"), "(malformed)");
  assert.equal(safeCallSid("CA" + "0".repeat(5000)), "(malformed)");
});

Deno.test("log: free text has digit runs masked and is bounded", () => {
  assert.equal(scrubText("caller +1 (587) 555-1234 failed"), "caller [digits] failed");
  assert.equal(scrubText("within 2500 ms"), "within 2500 ms");
  assert.equal(scrubText("a\u0000b\nc"), "a b c");
  assert.equal(scrubText("x".repeat(500), 10), "xxxxxxxxxx…");
});

Deno.test("log: one JSON line per request, with the CallSid and masked numbers", () => {
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    logRequest({
      fn: "voice-frontdoor",
      callSid: "CA0123456789abcdef0123456789abcdef",
      status: 200,
      ms: 12,
      from: "+15875551234",
      to: "+15877428885",
    });
    logRequest({
      fn: "voice-fallback",
      callSid: "+15875559876",
      status: 200,
      ms: 1,
      outcome: "dial-support:" + "9".repeat(10_000),
      error: "boom +15875559876",
      normalised: ["From", "+15875559876"],
    });
  } finally {
    console.log = original;
  }
  assert.equal(lines.length, 2);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.callSid, "CA0123456789abcdef0123456789abcdef");
  assert.equal(entry.level, "info");
  assert.equal(entry.from, "+1587***1234");
  assert.ok(!lines[0].includes("5875551234"), "the caller's number leaked");
  assert.ok(!lines[0].includes("7428885"), "the called number leaked");
  assert.ok(!lines[1].includes("5559876"), lines[1]);
  assert.ok(lines[1].length < 1000, `an unbounded line: ${lines[1].length} characters`);
});

Deno.test("log: other Twilio SIDs in extra fields are kept whole; other text is scrubbed", () => {
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    logRequest({
      fn: "webcomms-sms-reply",
      status: 200,
      ms: 1,
      messageSid: "SM1234567890123456789012345678abcd",
      note: "SM1234567890 +15875551234",
    });
  } finally {
    console.log = original;
  }
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.messageSid, "SM1234567890123456789012345678abcd");
  assert.equal(entry.note, "SM[digits] [digits]");
});
