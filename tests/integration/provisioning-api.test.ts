/**
 * telephony-provision against a Twilio stand-in and the real database: the
 * happy paths, the admin key, idempotency, validation, the audit log.
 */
import assert from "node:assert/strict";
import { testSql } from "../support/stack.ts";
import { TwilioStandIn } from "../support/twilio-stand-in.ts";
import {
  checkInvariants,
  loseTheNextPurchaseAnswer,
  NO_DAMAGE,
  provisioningClient,
  PUBLIC_BASE_URL,
  resetProvisioningLimits,
} from "../support/provisioning.ts";

const sql = testSql();
const standIn = new TwilioStandIn().start();
const call = provisioningClient(standIn);
const key = () => `test-${crypto.randomUUID()}`;

async function auditRows(idempotencyKey: string) {
  return await sql`select actor, method, path, status, outcome, transaction_id
                     from public.admin_audit_log where idempotency_key = ${idempotencyKey}
                    order by id`;
}

async function counts() {
  const [r] = await sql`
    select (select count(*)::int from public.telephony_transactions) as transactions,
           (select count(*)::int from public.telephony_numbers) as numbers`;
  return { ...r, bought: standIn.effects.numbersBought, requests: standIn.requestCount };
}

Deno.test("provision: buys a number, points it at the hotline, records it; release undoes it", async () => {
  await resetProvisioningLimits(sql);
  const k = key();
  const res = await call("POST", "/numbers", {
    key: k,
    body: { client: "Acme Dental", areaCode: "587", salesTarget: "+15875550111" },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const { e164, sid } = res.body.number;
  assert.match(e164, /^\+1587555\d{4}$/);
  assert.equal(res.body.transaction.status, "completed");
  assert.deepEqual(
    res.body.transaction.steps.map((s: { name: string }) => s.name),
    ["reserve_number", "buy_number", "configure_webhooks", "activate_number"],
  );

  const twilioNumber = standIn.numbers.get(sid)!;
  assert.equal(twilioNumber.voice_url, `${PUBLIC_BASE_URL}/voice-frontdoor`);
  assert.equal(twilioNumber.voice_fallback_url, `${PUBLIC_BASE_URL}/voice-fallback`);
  assert.equal(twilioNumber.status_callback, `${PUBLIC_BASE_URL}/voice-status`);
  assert.equal(twilioNumber.sms_url, `${PUBLIC_BASE_URL}/webcomms-sms-reply`);
  assert.ok(twilioNumber.friendly_name.length <= 64);
  assert.ok(twilioNumber.friendly_name.endsWith(res.body.transaction.id));

  const [row] = await sql`select * from public.telephony_numbers where e164 = ${e164}`;
  assert.equal(row.state, "active");
  assert.equal(row.active, true);
  assert.equal(row.phone_number_sid, sid);
  assert.equal(row.client, "Acme Dental");
  assert.equal(row.sales_target, "+15875550111");
  assert.equal(row.webhook_base_url, PUBLIC_BASE_URL);

  const tx = await call("GET", `/transactions/${res.body.transaction.id}`);
  assert.equal(tx.status, 200);
  assert.equal(tx.body.transaction.steps.length, 4);
  assert.ok(tx.body.transaction.steps.every((s: { intent: unknown }) => s.intent !== null));

  const released = await call("DELETE", `/numbers/${encodeURIComponent(e164)}`);
  assert.equal(released.status, 200, JSON.stringify(released.body));
  assert.equal(standIn.numbers.has(sid), false);
  const [after] =
    await sql`select state, active from public.telephony_numbers where e164 = ${e164}`;
  assert.deepEqual({ ...after }, { state: "released", active: false });

  const again = await call("DELETE", `/numbers/${encodeURIComponent(e164)}`);
  assert.equal(again.status, 404);
  assert.equal(again.body.error.code, "number_not_found");
  assert.deepEqual(await checkInvariants(sql, standIn), NO_DAMAGE);
});

Deno.test("provision: a subaccount is created and its auth token stored for its webhooks", async () => {
  await resetProvisioningLimits(sql);
  const res = await call("POST", "/numbers", {
    key: key(),
    body: { client: "Subco", areaCode: "403", subaccount: true },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const number = standIn.numbers.get(res.body.number.sid)!;
  const account = standIn.accounts.get(number.account_sid)!;
  assert.notEqual(account.sid, standIn.mainSid);
  assert.ok(account.friendly_name.length <= 64);
  const [row] = await sql`
    select s.account_sid, s.auth_token from public.telephony_numbers n
      join public.telephony_subaccounts s on s.id = n.subaccount_id
     where n.e164 = ${res.body.number.e164}`;
  assert.equal(row.account_sid, account.sid);
  assert.equal(row.auth_token, account.auth_token);
  // The token lives only in telephony_subaccounts, never in the step log.
  const [leak] = await sql`
    select count(*)::int as n from public.telephony_transaction_steps
     where transaction_id = ${res.body.transaction.id} and (result::text || intent::text) like ${
    "%" + account.auth_token + "%"
  }`;
  assert.equal(leak.n, 0);
  // Released inside the subaccount, which goes with its last number.
  const released = await call("DELETE", `/numbers/${encodeURIComponent(res.body.number.e164)}`);
  assert.equal(released.status, 200, JSON.stringify(released.body));
  assert.deepEqual(
    released.body.transaction.steps.map((s: { name: string }) => s.name),
    ["mark_releasing", "release_at_twilio", "close_subaccount", "mark_released"],
  );
  assert.equal(standIn.numbers.has(res.body.number.sid), false);
  assert.equal(account.status, "closed");
  const [sub] =
    await sql`select status from public.telephony_subaccounts where account_sid = ${account.sid}`;
  assert.equal(sub.status, "closed");
});

Deno.test("provision: a specific number; a number already taken is 409 and nothing is kept", async () => {
  await resetProvisioningLimits(sql);
  const ok = await call("POST", "/numbers", {
    key: key(),
    body: { client: "Specific", phoneNumber: "+17805550123" },
  });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.number.e164, "+17805550123");
  // Ours already: refused before Twilio is asked.
  const before = standIn.requestCount;
  const dup = await call("POST", "/numbers", {
    key: key(),
    body: { client: "Specific", phoneNumber: "+17805550123" },
  });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, "number_unavailable");
  assert.equal(standIn.requestCount, before);
  // Someone else's at Twilio: 21422, undone.
  standIn.takenElsewhere.add("+17805550999");
  const taken = await call("POST", "/numbers", {
    key: key(),
    body: { client: "Specific", phoneNumber: "+17805550999" },
  });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, "number_unavailable");
  assert.equal(taken.body.error.twilioErrorCode, 21422);
  assert.equal(taken.body.error.errorClass, "permanent");
  assert.equal(taken.body.error.transactionStatus, "compensated");
  const [row] =
    await sql`select count(*)::int as n from public.telephony_numbers where e164 = '+17805550999'`;
  assert.equal(row.n, 0);
  await call("DELETE", `/numbers/${encodeURIComponent("+17805550123")}`);
});

Deno.test("provision: an empty area code is 409 no_numbers_available; compliance errors say so", async () => {
  await resetProvisioningLimits(sql);
  standIn.exhaustedAreaCodes.add("999");
  const none = await call("POST", "/numbers", {
    key: key(),
    body: { client: "Nowhere", areaCode: "999" },
  });
  assert.equal(none.status, 409);
  assert.equal(none.body.error.code, "no_numbers_available");

  standIn.faultOn("POST", /IncomingPhoneNumbers\.json$/, {
    kind: "fail",
    status: 400,
    code: 21631,
  });
  const compliance = await call("POST", "/numbers", {
    key: key(),
    body: { client: "Regulated", areaCode: "587" },
  });
  assert.equal(compliance.status, 502);
  assert.equal(compliance.body.error.code, "twilio_compliance_required");
  assert.equal(compliance.body.error.errorClass, "compliance");
  assert.equal(compliance.body.error.twilioErrorCode, 21631);
  assert.ok(compliance.body.error.transactionId);
  const [tx] = await sql`select status, twilio_error_code from public.telephony_transactions
                          where id = ${compliance.body.error.transactionId}`;
  assert.deepEqual({ ...tx }, { status: "compensated", twilio_error_code: 21631 });
});

Deno.test("admin key: missing 401, wrong 403, nothing changes, both audited", async () => {
  await resetProvisioningLimits(sql);
  const before = await counts();
  const k1 = key();
  const missing = await call("POST", "/numbers", {
    key: k1,
    auth: null,
    body: { client: "X", areaCode: "587" },
  });
  assert.equal(missing.status, 401);
  assert.equal(missing.body.error.code, "admin_key_missing");
  const k2 = key();
  const wrong = await call("POST", "/numbers", {
    key: k2,
    auth: "Bearer not-the-admin-key-not-the-admin-key",
    body: { client: "X", areaCode: "587" },
  });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error.code, "admin_key_invalid");
  const basic = await call("GET", "/transactions/resume", { auth: "Basic YWRtaW46YWRtaW4=" });
  assert.equal(basic.status, 401);
  assert.deepEqual(await counts(), before);
  const [[a1], [a2]] = [await auditRows(k1), await auditRows(k2)];
  assert.deepEqual({ ...a1 }, {
    actor: "anonymous",
    method: "POST",
    path: "/numbers",
    status: 401,
    outcome: "admin_key_missing",
    transaction_id: null,
  });
  assert.equal(a2.actor, "invalid-key");
  assert.equal(a2.outcome, "admin_key_invalid");
});

Deno.test("admin requests: malformed and invalid ones change nothing and are audited", async () => {
  await resetProvisioningLimits(sql);
  const before = await counts();
  const cases: [string, string, Parameters<typeof call>[2], number, string][] = [
    ["POST", "/numbers", { key: key(), raw: "{not json" }, 400, "invalid_json"],
    ["POST", "/numbers", { key: key(), raw: "[1,2]" }, 400, "invalid_json"],
    [
      "POST",
      "/numbers",
      { body: { client: "X", areaCode: "587" } },
      400,
      "idempotency_key_required",
    ],
    ["POST", "/numbers", { key: key(), body: { areaCode: "587" } }, 422, "invalid_request"],
    ["POST", "/numbers", { key: key(), body: { client: "X" } }, 422, "invalid_request"],
    [
      "POST",
      "/numbers",
      { key: key(), body: { client: "X", areaCode: "587", phoneNumber: "+15875550000" } },
      422,
      "invalid_request",
    ],
    [
      "POST",
      "/numbers",
      { key: key(), body: { client: "X", areaCode: "58" } },
      422,
      "invalid_request",
    ],
    [
      "POST",
      "/numbers",
      { key: key(), body: { client: "X", phoneNumber: "5875550000" } },
      422,
      "invalid_request",
    ],
    [
      "POST",
      "/numbers",
      { key: key(), body: { client: "X", areaCode: "587", extra: 1 } },
      422,
      "invalid_request",
    ],
    ["DELETE", "/numbers/not-a-number", {}, 422, "invalid_request"],
    ["DELETE", `/numbers/${encodeURIComponent("+15877428885")}`, {}, 422, "number_not_managed"],
    ["GET", "/transactions/00000000-0000-0000-0000-000000000000", {}, 404, "transaction_not_found"],
    ["GET", "/nothing-here", {}, 404, "route_not_found"],
    ["PUT", "/numbers", {}, 405, "method_not_allowed"],
  ];
  for (const [method, path, c, status, code] of cases) {
    const res = await call(method, path, c);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, code, `${method} ${path}`);
    const [audited] = await sql`
      select count(*)::int as n from public.admin_audit_log
       where outcome = ${code} and path = ${path} and occurred_at > now() - interval '1 minute'`;
    assert.ok(audited.n >= 1, `${code} audited`);
  }
  assert.deepEqual(await counts(), before);
});

Deno.test("idempotency: a replay answers the stored result and buys nothing; another body is 422", async () => {
  await resetProvisioningLimits(sql);
  const k = key();
  const body = { client: "Replay", areaCode: "825" };
  const first = await call("POST", "/numbers", { key: k, body });
  assert.equal(first.status, 201);
  const before = await counts();
  const second = await call("POST", "/numbers", { key: k, body });
  assert.equal(second.status, 201);
  assert.equal(second.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(second.body, first.body);
  const other = await call("POST", "/numbers", { key: k, body: { ...body, areaCode: "403" } });
  assert.equal(other.status, 422);
  assert.equal(other.body.error.code, "idempotency_key_reused");
  assert.deepEqual(await counts(), before);
  const audit = await auditRows(k);
  assert.deepEqual(audit.map((r) => r.outcome), ["ok", "replayed:ok", "idempotency_key_reused"]);
  assert.equal(audit[0].transaction_id, first.body.transaction.id);
  await call("DELETE", `/numbers/${encodeURIComponent(first.body.number.e164)}`);
});

Deno.test("idempotency: the same JSON spelled otherwise is the same body; the key on another route is 422", async () => {
  await resetProvisioningLimits(sql);
  const k = key();
  const first = await call("POST", "/numbers", {
    key: k,
    body: { client: "Spelled", areaCode: "825" },
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const before = await counts();
  const respelled = await call("POST", "/numbers", {
    key: k,
    raw: '{ "areaCode" : "825",\n  "client": "Spelled" }',
  });
  assert.equal(respelled.status, 201, JSON.stringify(respelled.body));
  assert.equal(respelled.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(respelled.body, first.body);
  const e164 = encodeURIComponent(first.body.number.e164);
  const release = await call("DELETE", `/numbers/${e164}`, { key: k });
  assert.equal(release.status, 422, JSON.stringify(release.body));
  assert.equal(release.body.error.code, "idempotency_key_reused");
  assert.deepEqual(await counts(), before);
  const [row] = await sql`select state from public.telephony_numbers
                           where e164 = ${first.body.number.e164}`;
  assert.equal(row.state, "active");
  assert.equal((await call("DELETE", `/numbers/${e164}`)).status, 200);
});

Deno.test("idempotency: the same key while the first request runs is 409", async () => {
  await resetProvisioningLimits(sql);
  const slow = new TwilioStandIn().start();
  const slowCall = provisioningClient(slow);
  const sharedKey = key();
  // The purchase hangs (past the 300 ms timeout): the first request is still running.
  slow.faultOn("POST", /IncomingPhoneNumbers\.json$/, { kind: "hang" });
  const body = { client: "Slow", areaCode: "587" };
  const first = slowCall("POST", "/numbers", { key: sharedKey, body });
  while (slow.hangingCount === 0) await new Promise((r) => setTimeout(r, 10));
  const second = await slowCall("POST", "/numbers", { key: sharedKey, body });
  assert.equal(second.status, 409);
  assert.equal(second.body.error.code, "idempotency_in_progress");
  const done = await first;
  assert.equal(done.status, 502, JSON.stringify(done.body));
  assert.equal(slow.effects.numbersBought, 0);
  await slow.stop();
});

Deno.test("idempotency: a retry after 'left to the resumer' continues the same transaction", async () => {
  await resetProvisioningLimits(sql);
  const k = key();
  const body = { client: "Retry", areaCode: "403" };
  loseTheNextPurchaseAnswer(standIn);
  const bought = standIn.effects.numbersBought;
  const first = await call("POST", "/numbers", { key: k, body });
  assert.equal(first.status, 502, JSON.stringify(first.body));
  assert.equal(first.body.error.code, "twilio_unavailable");
  assert.equal(first.body.error.transactionStatus, "running");
  // The 502 is not stored: the retry runs, finds the transaction, reconciles the purchase.
  const retry = await call("POST", "/numbers", { key: k, body });
  assert.equal(retry.status, 201, JSON.stringify(retry.body));
  assert.equal(retry.body.transaction.id, first.body.error.transactionId);
  assert.equal(standIn.effects.numbersBought, bought + 1, "bought once");
  await call("DELETE", `/numbers/${encodeURIComponent(retry.body.number.e164)}`);
  assert.deepEqual(await checkInvariants(sql, standIn), NO_DAMAGE);
});

Deno.test("idempotency: after 'left to the resumer', the key with another request is 422, not the first one's number", async () => {
  await resetProvisioningLimits(sql);
  const k = key();
  const body = { client: "Stuck", areaCode: "403" };
  // The transaction stays open under k.
  loseTheNextPurchaseAnswer(standIn);
  const first = await call("POST", "/numbers", { key: k, body });
  assert.equal(first.status, 502, JSON.stringify(first.body));
  const openId = first.body.error.transactionId;
  const before = await counts();
  // The 502 stored nothing under k, so only the open transaction knows what k was for.
  const changed = await call("POST", "/numbers", { key: k, body: { ...body, client: "Other" } });
  assert.equal(changed.status, 422, JSON.stringify(changed.body));
  assert.equal(changed.body.error.code, "idempotency_key_reused");
  // Even an invalid one: an invalid_request stored under k would refuse the first request's retry.
  const invalid = await call("POST", "/numbers", { key: k, body: { ...body, areaCode: "12" } });
  assert.equal(invalid.status, 422, JSON.stringify(invalid.body));
  assert.equal(invalid.body.error.code, "idempotency_key_reused");
  const release = await call("DELETE", `/numbers/${encodeURIComponent("+15877428885")}`, {
    key: k,
  });
  assert.equal(release.status, 422, JSON.stringify(release.body));
  assert.equal(release.body.error.code, "idempotency_key_reused");
  assert.deepEqual(await counts(), before);
  const [open] = await sql`select status, attempts from public.telephony_transactions
                            where id = ${openId}`;
  assert.deepEqual(
    { ...open },
    { status: "running", attempts: 1 },
    "the open transaction untouched",
  );
  // The same request again still continues it.
  const retry = await call("POST", "/numbers", { key: k, body });
  assert.equal(retry.status, 201, JSON.stringify(retry.body));
  assert.equal(retry.body.transaction.id, openId);
  const audit = await auditRows(k);
  assert.deepEqual(audit.map((r) => [r.status, r.outcome]), [
    [502, "twilio_unavailable"],
    [422, "idempotency_key_reused"],
    [422, "idempotency_key_reused"],
    [422, "idempotency_key_reused"],
    [201, "ok"],
  ]);
  await call("DELETE", `/numbers/${encodeURIComponent(retry.body.number.e164)}`);
  assert.deepEqual(await checkInvariants(sql, standIn), NO_DAMAGE);
});

Deno.test("audit log: append-only, even for the database owner", async () => {
  await assert.rejects(sql`update public.admin_audit_log set outcome = 'x'`, /append-only/);
  await assert.rejects(sql`delete from public.admin_audit_log`, /append-only/);
  await assert.rejects(sql`truncate public.admin_audit_log`, /append-only/);
});

Deno.test("rate limit: provisioning is refused with 429 past the policy, before Twilio", async () => {
  await resetProvisioningLimits(sql);
  await sql`insert into public.rate_limit_state (endpoint, key_kind, key, tat)
            values ('telephony-provision', 'account', 'admin', now() + interval '2 hours')`;
  const before = standIn.requestCount;
  const res = await call("POST", "/numbers", {
    key: key(),
    body: { client: "X", areaCode: "587" },
  });
  assert.equal(res.status, 429);
  assert.equal(res.body.error.code, "rate_limited");
  assert.ok(Number(res.headers.get("retry-after")) > 0);
  assert.equal(standIn.requestCount, before);
  await resetProvisioningLimits(sql);
});

Deno.test("teardown", async () => {
  await standIn.stop();
  await sql.end();
});
