/**
 * A number inside a Twilio subaccount: its webhooks are signed with the
 * subaccount's auth token (telephony_subaccounts.auth_token). The voice
 * functions accept those, and only those: the same call signed with our main
 * token, or a wrong one, is refused with nothing written.
 */
import assert from "node:assert/strict";
import { callRows, hotline, newCaller, sql } from "./hotline.ts";
import { randomSid, TwilioDriver } from "./twilio-driver.ts";
import { functionsUrl } from "../support/stack.ts";

const randomHex = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n / 2)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

/** A subaccount of ours with one hotline number in it, as provisioning leaves them. */
async function subaccountWithNumber() {
  const accountSid = randomSid("AC");
  const authToken = randomHex(32);
  const e164 = "+1403" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");
  const [{ id }] = await sql`
    insert into telephony_subaccounts (account_sid, friendly_name, auth_token)
    values (${accountSid}, 'flow test client', ${authToken}) returning id`;
  const [number] = await sql`
    insert into telephony_numbers (e164, subaccount_id, label)
    values (${e164}, ${id}, 'flow test client line') returning id`;
  return { accountSid, authToken, e164, numberId: number.id as string };
}

const driverFor = (accountSid: string, authToken: string) =>
  new TwilioDriver({ baseUrl: functionsUrl(), authToken, accountSid });

Deno.test("subaccount: a call on a subaccount's number, signed with its token, is walked end to end", async () => {
  const sub = await subaccountWithNumber();
  const call = await driverFor(sub.accountSid, sub.authToken).call({
    from: newCaller(),
    to: sub.e164,
    script: [{ press: "9" }, { speak: 8 }],
    transcription: "after-recording-callback",
    statusCallbacks: true,
  });
  for (const e of call.exchanges) assert.equal(e.status, 200, `${e.url} → ${e.status}`);
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.account_sid, sub.accountSid);
  assert.equal(rows.call.number_id, sub.numberId);
  assert.equal(rows.call.menu_choice, "voicemail");
  assert.equal(rows.voicemails.length, 1);
  assert.ok(rows.voicemails[0].transcription_text);
  assert.deepEqual(rows.lifecycle.at(-1), "completed");
});

Deno.test("subaccount: the same call signed with our main token or a wrong one is refused", async () => {
  const sub = await subaccountWithNumber();
  const main = hotline();
  for (const token of [main.authToken, randomHex(32)]) {
    const driver = driverFor(sub.accountSid, token);
    const callSid = randomSid("CA");
    const params = {
      AccountSid: sub.accountSid,
      CallSid: callSid,
      From: newCaller(),
      To: sub.e164,
      CallStatus: "ringing",
    };
    for (const step of ["voice-frontdoor", "voice-menu-handler?attempt=1&repeats=0"]) {
      const res = await driver.post(driver.url(step), { ...params, Digits: "9" });
      assert.equal(res.status, 403, `${step} signed with the wrong token`);
    }
    const status = await driver.postStatus(callSid, "completed");
    assert.equal(status.status, 403);
    assert.equal((await callRows(callSid)).call, undefined);
  }
});

Deno.test("subaccount: a suspended subaccount's webhooks are refused", async () => {
  const sub = await subaccountWithNumber();
  await sql`update telephony_subaccounts set status = 'suspended' where account_sid = ${sub.accountSid}`;
  const driver = driverFor(sub.accountSid, sub.authToken);
  const callSid = randomSid("CA");
  const res = await driver.post(driver.url("voice-frontdoor"), {
    AccountSid: sub.accountSid,
    CallSid: callSid,
    From: newCaller(),
    To: sub.e164,
  });
  assert.equal(res.status, 403);
  assert.equal((await callRows(callSid)).call, undefined);
});
