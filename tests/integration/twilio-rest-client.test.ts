/** The REST client against the Twilio stand-in: auth, errors, retries, timeouts, paging. */
import assert from "node:assert/strict";
import {
  accountPath,
  TwilioRestClient,
  TwilioRestError,
} from "../../supabase/functions/_shared/twilio/rest-client.ts";
import { TwilioStandIn } from "../support/twilio-stand-in.ts";

const standIn = new TwilioStandIn().start();
const client = (over: Partial<ConstructorParameters<typeof TwilioRestClient>[0]> = {}) =>
  new TwilioRestClient({
    baseUrl: standIn.url,
    accountSid: standIn.mainSid,
    authToken: standIn.mainToken,
    timeoutMs: 200,
    ...over,
  });
const numbers = accountPath(standIn.mainSid, "IncomingPhoneNumbers");

async function failure(p: Promise<unknown>): Promise<TwilioRestError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TwilioRestError, String(e));
    return e;
  }
  throw new Error("expected a failure");
}

Deno.test("rest client: basic auth checked; Twilio's error body parsed", async () => {
  const e = await failure(client({ authToken: "0".repeat(32) }).get(numbers));
  assert.equal(e.status, 401);
  assert.equal(e.code, 20003);
  assert.equal(e.details.errorClass, "permanent");
  assert.match(e.details.moreInfo!, /20003/);
  const bad = await failure(client().post(numbers, { PhoneNumber: "nope" }));
  assert.deepEqual([bad.status, bad.code, bad.details.outcomeUnknown], [400, 21421, false]);
});

Deno.test("rest client: a POST is not re-sent after a 5xx or a timeout; its outcome is unknown", async () => {
  const before = standIn.requestCount;
  standIn.faultOn("POST", /IncomingPhoneNumbers\.json$/, {
    kind: "fail",
    status: 503,
    code: 20503,
  });
  const e = await failure(client().post(numbers, { PhoneNumber: "+15875550001" }));
  assert.equal(e.details.outcomeUnknown, true);
  assert.equal(e.details.errorClass, "transient");
  standIn.faultOn("POST", /IncomingPhoneNumbers\.json$/, { kind: "hang" });
  const t = await failure(client().post(numbers, { PhoneNumber: "+15875550001" }));
  assert.equal(t.status, 0);
  assert.equal(t.details.outcomeUnknown, true);
  assert.equal(standIn.requestCount - before, 2, "each POST sent once");
  assert.equal(standIn.effects.numbersBought, 0);
});

Deno.test("rest client: 429 is retried for any method; GET and DELETE after transient failures", async () => {
  standIn.faultOn("POST", /IncomingPhoneNumbers\.json$/, {
    kind: "fail",
    status: 429,
    code: 20429,
  });
  const bought = await client().post(numbers, { PhoneNumber: "+15875550002" });
  assert.match(String(bought.sid), /^PN/);
  standIn.faultOn("GET", /IncomingPhoneNumbers\.json$/, { kind: "hang" });
  standIn.faultOn("GET", /IncomingPhoneNumbers\.json$/, { kind: "fail", status: 500, code: 20500 });
  const list = await client().list(numbers, "incoming_phone_numbers", {
    PhoneNumber: "+15875550002",
  });
  assert.equal(list.length, 1);
  standIn.faultOn("DELETE", /IncomingPhoneNumbers\//, { kind: "drop" });
  assert.equal(
    await client().delete(accountPath(standIn.mainSid, `IncomingPhoneNumbers/${bought.sid}`)),
    false,
  );
  assert.equal(standIn.effects.numbersReleased.get(String(bought.sid)), 1);
});

Deno.test("rest client: list reads follow next_page_uri", async () => {
  for (let i = 10; i < 17; i++) await client().post(numbers, { PhoneNumber: `+158755500${i}` });
  standIn.defaultPageSize = 2;
  const before = standIn.requestCount;
  const all = await client().list(numbers, "incoming_phone_numbers");
  assert.equal(all.length, 7);
  assert.equal(standIn.requestCount - before, 4, "four pages of two");
  standIn.defaultPageSize = 50;
});

Deno.test("teardown", async () => {
  await standIn.stop();
});
