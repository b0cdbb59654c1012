/**
 * The stand-in checked against the reference: Twilio's own `twilio` npm SDK
 * (tests only, never on the hot path) drives it through every endpoint the
 * provisioning client uses and must read its answers, errors and pages.
 */
import assert from "node:assert/strict";
import twilio from "twilio";
import { TwilioStandIn } from "../support/twilio-stand-in.ts";

Deno.test("stand-in: Twilio's SDK creates, lists (paged), updates and removes against it", async () => {
  const standIn = new TwilioStandIn().start();
  const base = new twilio.RequestClient();
  // Route the SDK's api.twilio.com requests to the stand-in; everything else is the SDK's own.
  const httpClient = {
    request: (opts: { uri: string }) =>
      base.request(
        { ...opts, uri: opts.uri.replace("https://api.twilio.com", standIn.url) } as never,
      ),
  };
  const client = twilio(standIn.mainSid, standIn.mainToken, { httpClient } as never);
  try {
    const account = await client.api.v2010.accounts.create({ friendlyName: "hotline:oracle:1" });
    assert.match(account.sid, /^AC[0-9a-f]{32}$/);
    assert.equal(account.status, "active");
    const found = await client.api.v2010.accounts.list({ friendlyName: "hotline:oracle:1" });
    assert.deepEqual(found.map((a) => a.sid), [account.sid]);

    const available = await client.availablePhoneNumbers("CA").local.list({
      areaCode: 587,
      limit: 3,
    });
    assert.equal(available.length, 3);
    for (const n of available) {
      await client.incomingPhoneNumbers.create({
        phoneNumber: n.phoneNumber,
        friendlyName: "oracle",
      });
    }
    const before = standIn.requestCount;
    const all = await client.incomingPhoneNumbers.list({ pageSize: 1 });
    assert.equal(all.length, 3);
    assert.equal(standIn.requestCount - before, 3, "the SDK followed next_page_uri page by page");

    await assert.rejects(
      client.incomingPhoneNumbers.create({ phoneNumber: available[0].phoneNumber }),
      (e: { status: number; code: number; moreInfo: string }) =>
        e.status === 400 && e.code === 21422 && /21422/.test(e.moreInfo),
    );
    await client.incomingPhoneNumbers(all[0].sid).update({ voiceUrl: "https://x/voice-frontdoor" });
    assert.equal(
      (await client.incomingPhoneNumbers(all[0].sid).fetch()).voiceUrl,
      "https://x/voice-frontdoor",
    );
    assert.equal(await client.incomingPhoneNumbers(all[0].sid).remove(), true);
    await client.api.v2010.accounts(account.sid).update({ status: "closed" });
    assert.equal((await client.api.v2010.accounts(account.sid).fetch()).status, "closed");
  } finally {
    await standIn.stop();
  }
});
