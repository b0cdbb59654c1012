/** Status callbacks: duplicated, out of order, forward-only. */
import assert from "node:assert/strict";
import { callRows, hotline, newCaller, sql } from "./hotline.ts";

const driver = hotline();

Deno.test("flow: out-of-order and duplicate status callbacks → completed stays, one row per status", async () => {
  const from = newCaller();
  const call = await driver.call({ from, script: [{ hangup: true }] });
  const post = (status: string, token?: string) =>
    driver.postStatus(call.callSid, status, { from, token });
  const completed = await post("completed");
  await post("ringing"); // late
  await post("in-progress"); // late
  await post("completed", completed.token); // redelivery
  await post("completed"); // duplicate with a new token
  await Promise.all(Array.from({ length: 10 }, () => post("ringing")));
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.status, "completed");
  assert.deepEqual([...rows.lifecycle].sort(), ["completed", "in-progress", "ringing"]);
  assert.ok(rows.call.ended_at);
  assert.equal(rows.call.duration_seconds, 37);
  assert.ok(rows.call.answered_at, "answered_at set even though in-progress arrived late");
});

Deno.test("flow: a status callback for a call we never saw creates its row", async () => {
  const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
  const res = await driver.postStatus(callSid, "completed", { from: newCaller() });
  assert.equal(res.status, 200);
  const rows = await callRows(callSid);
  assert.equal(rows.call.status, "completed");
});

Deno.test("flow: a rejected (rate-limited) call ends busy, never answered", async () => {
  const from = newCaller();
  for (let i = 0; i < 10; i++) {
    const ok = await driver.call({ from, script: [{ hangup: true }] });
    assert.equal(ok.end, "caller-hung-up", `call ${i + 1} of 10 is within the limit`);
  }
  const call = await driver.call({ from, statusCallbacks: true });
  assert.equal(call.end, "rejected");
  assert.match(call.exchanges[0].body, /<Reject reason="busy"\/>/);
  assert.equal(call.exchanges[0].status, 200);
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.status, "busy");
  assert.equal(rows.consent, undefined, "a rejected call heard no disclosure and has no consent");
  assert.deepEqual(rows.events, ["call.rate_limited"]);
  // Another caller is not affected.
  const other = await driver.call({ from: newCaller(), script: [{ hangup: true }] });
  assert.equal(other.end, "caller-hung-up");
});

Deno.test("flow: a redelivered frontdoor webhook answers the same and counts once", async () => {
  const from = newCaller();
  const call = await driver.call({ from, script: [{ hangup: true }] });
  const first = call.exchanges[0];
  for (let i = 0; i < 12; i++) {
    const again = await driver.post(first.url, first.params, { token: first.token });
    assert.equal(again.body, first.body);
  }
  const rows = await callRows(call.callSid);
  assert.deepEqual(rows.events, ["call.answered"]);
  // Twelve redeliveries did not use up the caller's allowance.
  const next = await driver.call({ from, script: [{ hangup: true }] });
  assert.equal(next.end, "caller-hung-up");
});

Deno.test("flow: CallStatus=initiated is stored, not dropped", async () => {
  const from = newCaller();
  const call = await driver.call({ from, script: [{ hangup: true }] });
  const res = await driver.postStatus(call.callSid, "initiated", { from });
  assert.equal(res.status, 200);
  const rows = await callRows(call.callSid);
  assert.ok(rows.lifecycle.includes("initiated"), `${rows.lifecycle}`);
});

Deno.test("flow: an unknown CallStatus is stored raw and answered 200, the call's status unchanged", async () => {
  const from = newCaller();
  const call = await driver.call({ from, script: [{ hangup: true }], statusCallbacks: true });
  const res = await driver.postStatus(call.callSid, "teleported", { from });
  assert.equal(res.status, 200);
  const raw = await sql`select reported_status from call_lifecycle
                         where call_sid = ${call.callSid} and status is null`;
  assert.deepEqual(raw.map((r) => r.reported_status), ["teleported"]);
  assert.equal((await callRows(call.callSid)).call.status, "completed");
});
