/**
 * A number provisioned with `subaccount: true` through the real
 * telephony-provision (in process, against the Twilio stand-in), then a call
 * on it through the functions server: Twilio signs that number's webhooks
 * with the subaccount's auth token, which only the stand-in issued and
 * provisioning stored. The call is answered, routed to the number's own
 * sales/support targets and stored under the subaccount; the same call
 * signed with our main token is refused.
 *
 * The stand-in holds the functions server's own main account (.env.example),
 * so "main token" means the same thing on both sides. The voice functions
 * cache a subaccount's token per isolate (_shared/twilio/account.ts); this
 * subaccount is new, so no earlier answer can be cached for it.
 */
import assert from "node:assert/strict";
import { callRows, newCaller, sql } from "./hotline.ts";
import { TwilioDriver } from "./twilio-driver.ts";
import { exampleEnv } from "../support/function-process.ts";
import { provisioningClient, resetProvisioningLimits } from "../support/provisioning.ts";
import { functionsUrl } from "../support/stack.ts";
import { TwilioStandIn } from "../support/twilio-stand-in.ts";

const env = exampleEnv();
const standIn = new TwilioStandIn({ sid: env.TWILIO_ACCOUNT_SID, token: env.TWILIO_AUTH_TOKEN })
  .start();
// The numbers' webhooks point at the functions server the driver calls.
const provision = provisioningClient(standIn, {}, { PUBLIC_BASE_URL: functionsUrl() });
const SALES_TARGET = "+1587" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");
const SUPPORT_TARGET = "+1403" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");

/** Provisions once; every test below calls that number. */
const provisioned = (async () => {
  await resetProvisioningLimits(sql);
  const res = await provision("POST", "/numbers", {
    key: `subaccount-flow-${crypto.randomUUID()}`,
    body: {
      client: "Subaccount Flow Co",
      areaCode: "825",
      subaccount: true,
      salesTarget: SALES_TARGET,
      supportTarget: SUPPORT_TARGET,
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const number = standIn.numbers.get(res.body.number.sid)!;
  const account = standIn.accounts.get(number.account_sid)!;
  assert.ok(account, "the number was bought inside a new subaccount");
  assert.notEqual(account.auth_token, standIn.mainToken);
  return { e164: res.body.number.e164 as string, number, account };
})();

Deno.test("provisioned subaccount: calls on its number, signed with its token, are answered, routed to its targets and stored", async () => {
  const { e164, number, account } = await provisioned;
  const driver = new TwilioDriver({
    baseUrl: functionsUrl(),
    authToken: account.auth_token,
    accountSid: account.sid,
  });
  // Twilio calls the URL provisioning set on the number: the one the driver starts at.
  assert.equal(number.voice_url, driver.url("voice-frontdoor"));
  assert.equal(number.voice_fallback_url, driver.url("voice-fallback"));
  assert.equal(number.status_callback, driver.url("voice-status"));

  const [row] = await sql`select id from telephony_numbers where e164 = ${e164}`;
  for (
    const [digit, department, target] of [["1", "sales", SALES_TARGET], [
      "2",
      "support",
      SUPPORT_TARGET,
    ]]
  ) {
    const call = await driver.call({
      from: newCaller(),
      to: e164,
      script: [{ press: digit }],
      agent: "accepts",
      statusCallbacks: true,
    });
    for (const e of call.exchanges) assert.equal(e.status, 200, `${e.url} → ${e.status}`);
    assert.deepEqual(
      call.dials.map((d) => d.number),
      [target],
      `${department}: rang the number's own target`,
    );
    const rows = await callRows(call.callSid);
    assert.equal(rows.call.account_sid, account.sid);
    assert.equal(rows.call.number_id, row.id);
    assert.equal(rows.call.menu_choice, department);
    assert.equal(rows.call.dial_target, target);
    assert.notEqual(rows.call.screening_accepted_at, null, "the agent was connected");
    assert.equal(rows.lifecycle.at(-1), "completed");
  }
});

Deno.test("provisioned subaccount: the same call signed with our main token is refused, nothing stored", async () => {
  const { e164, account } = await provisioned;
  const driver = new TwilioDriver({
    baseUrl: functionsUrl(),
    authToken: standIn.mainToken,
    accountSid: account.sid,
  });
  const call = await driver.call({
    from: newCaller(),
    to: e164,
    script: [{ press: "1" }],
    agent: "accepts",
    statusCallbacks: true,
  });
  assert.equal(call.exchanges[0].status, 403, "voice-frontdoor refused it");
  assert.equal(call.dials.length, 0, "nobody was rung");
  const rows = await callRows(call.callSid);
  assert.equal(rows.call, undefined);
  assert.deepEqual(rows.lifecycle, []);
});

Deno.test("provisioned subaccount: a call while provisioning is still under way does not lock the number out afterwards", async () => {
  // Twilio is slow to answer the last read of the subaccount (activate_number's), so the
  // number already points at the hotline while the transaction is not finished.
  const slow = provisioningClient(standIn, {}, {
    PUBLIC_BASE_URL: functionsUrl(),
    TWILIO_API_TIMEOUT_MS: "5000",
  });
  standIn.faultOn("GET", /^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\.json$/, {
    kind: "delay",
    ms: 1_500,
  });
  const pending = slow("POST", "/numbers", {
    key: `subaccount-window-${crypto.randomUUID()}`,
    body: { client: "Window Co", areaCode: "368", subaccount: true, salesTarget: SALES_TARGET },
  });
  let configured;
  for (let i = 0; i < 100 && !configured; i++) {
    await new Promise((r) => setTimeout(r, 20));
    configured = [...standIn.numbers.values()].find((n) =>
      n.phone_number.startsWith("+1368") && n.voice_url === `${functionsUrl()}/voice-frontdoor`
    );
  }
  assert.ok(configured, "the number's webhooks were set before the transaction finished");
  const account = standIn.accounts.get(configured.account_sid)!;
  const driver = new TwilioDriver({
    baseUrl: functionsUrl(),
    authToken: account.auth_token,
    accountSid: account.sid,
  });
  const early = await driver.call({ from: newCaller(), to: configured.phone_number, script: [] });
  const done = await pending;
  assert.equal(done.status, 201, JSON.stringify(done.body));
  // Its token was stored with the subaccount, before the number pointed here: answered.
  assert.equal(early.exchanges[0].status, 200, "a call during provisioning was answered");

  // Provisioning has finished: the number must take calls now, not half a minute later.
  const call = await driver.call({
    from: newCaller(),
    to: configured.phone_number,
    script: [{ press: "1" }],
    agent: "accepts",
  });
  assert.equal(call.exchanges[0].status, 200, "voice-frontdoor took the call");
  assert.deepEqual(call.dials.map((d) => d.number), [SALES_TARGET]);
  const rows = await callRows(call.callSid);
  assert.equal(rows.call.account_sid, account.sid);

  const released = await provision(
    "DELETE",
    `/numbers/${encodeURIComponent(configured.phone_number)}`,
  );
  assert.equal(released.status, 200, JSON.stringify(released.body));
});

Deno.test("provisioned subaccount: teardown (release, which closes the subaccount)", async () => {
  const { e164, account } = await provisioned;
  const res = await provision("DELETE", `/numbers/${encodeURIComponent(e164)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(standIn.accounts.get(account.sid)!.status, "closed");
  await standIn.stop();
});
