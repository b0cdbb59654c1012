/**
 * An inbound text is not a live call: when it cannot be stored, the function
 * answers 503 (no TwiML, no reply), so Twilio redelivers it (the SMS URL's
 * `#rc=…&rp=…` overrides) or calls the number's fallback, and the opt-out or
 * message is not lost. A 200 here would acknowledge a message we dropped.
 */
import assert from "node:assert/strict";
import { hangingDatabase, stoppedDatabaseUrl } from "../support/broken-database.ts";
import { startFunction, startIsolated } from "../support/function-process.ts";
import { sendText } from "../flow/texting.ts";

const text = { from: "+17805550900", to: "+15877428885", body: "STOP" };

Deno.test("sms store failure: the database down → 503, no reply, so Twilio retries", async () => {
  const { fn, driver } = await startIsolated("webcomms-sms-reply", stoppedDatabaseUrl());
  try {
    const res = await sendText(driver, text);
    assert.equal(res.status, 503);
    assert.equal(res.body, "");
  } finally {
    await fn.stop();
  }
});

Deno.test("sms store failure: a hanging database → 503 before Twilio's 15 s timeout", async () => {
  const hanging = hangingDatabase();
  const { fn, driver } = await startIsolated("webcomms-sms-reply", hanging.url);
  try {
    const started = performance.now();
    const res = await sendText(driver, { ...text, body: "Hello" });
    const ms = performance.now() - started;
    assert.equal(res.status, 503);
    assert.ok(ms < 15_000, `answered in ${Math.round(ms)} ms`);
  } finally {
    await fn.stop();
    hanging.close();
  }
});

Deno.test("sms store failure: no valid configuration → 503 too (nothing can be verified or stored)", async () => {
  const fn = await startFunction("webcomms-sms-reply", { TWILIO_AUTH_TOKEN: "" });
  try {
    const res = await fetch(fn.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        MessageSid: "SM" + "e".repeat(32),
        From: text.from,
        To: text.to,
      }),
    });
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "");
  } finally {
    await fn.stop();
  }
});
