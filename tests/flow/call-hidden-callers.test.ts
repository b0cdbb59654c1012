/**
 * Hidden callers (no usable From) cannot be told apart: they share a bucket
 * of their own, larger than one caller's ten a minute (docs/rate-limiting.md),
 * so ordinary hidden-caller traffic never turns a legitimate one away.
 */
import assert from "node:assert/strict";
import { hotline, sql } from "./hotline.ts";

const driver = hotline();

Deno.test("flow: 16 concurrent hidden callers are all answered, and one more after them", async () => {
  // Mostly `anonymous` (the common case, more than one caller's ten), and the other spellings.
  const hidden = ["anonymous", "anonymous", "", "anonymous", "Restricted", "unavailable"];
  const calls = await Promise.all(
    Array.from(
      { length: 16 },
      (_, i) => driver.call({ from: hidden[i % hidden.length], script: [{ hangup: true }] }),
    ),
  );
  assert.deepEqual(calls.map((c) => c.end), Array(16).fill("caller-hung-up"));
  const late = await driver.call({ from: "anonymous", script: [{ hangup: true }] });
  assert.equal(late.end, "caller-hung-up", "a hidden caller after 16 others is still answered");
  const [{ n }] = await sql`select count(*)::int as n from call_logs
                             where call_sid in ${sql([...calls, late].map((c) => c.callSid))}
                               and status = 'busy'`;
  assert.equal(n, 0);
});
