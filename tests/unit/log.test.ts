import assert from "node:assert/strict";
import { logRequest, maskPhone } from "../../supabase/functions/_shared/platform/log.ts";

Deno.test("log: phone numbers keep country and area code and the last four digits", () => {
  assert.equal(maskPhone("+15877428885"), "+1587***8885");
  assert.equal(maskPhone("+447911123456"), "+4479***3456");
});

Deno.test("log: short, hidden and client callers reveal nothing", () => {
  assert.ok(!maskPhone("12345")!.includes("12345"));
  assert.equal(maskPhone("anonymous"), "***");
  assert.equal(maskPhone("client:alice"), "client:***");
  assert.equal(maskPhone(undefined), undefined);
  assert.equal(maskPhone(""), undefined);
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
  } finally {
    console.log = original;
  }
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.callSid, "CA0123456789abcdef0123456789abcdef");
  assert.equal(entry.level, "info");
  assert.equal(entry.from, "+1587***1234");
  assert.ok(!lines[0].includes("5875551234"), "the caller's number leaked");
  assert.ok(!lines[0].includes("7428885"), "the called number leaked");
});
