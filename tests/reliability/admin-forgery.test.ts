/**
 * The admin API (DESIGN.md's contract for telephony-provision) refuses every
 * request without the admin key: none, a wrong one, a truncated one, one in
 * another case, another scheme, the key in another header. For each of
 * RELIABILITY_ADMIN_REQUESTS (default 300) seeded requests over every route
 * of the contract: 401 (no key) or 403 (wrong key); no request reaches
 * Twilio (the function's Twilio API points at a listener that counts); no
 * provisioning row changes; and each request has exactly one audit row,
 * with its status; the admin key is in none of its logs. Skipped where the
 * function does not exist yet.
 *
 * Then valid requests replayed: a few that succeeded at the Twilio stand-in
 * (two provisions, a release) and one left to the resumer (its answer a 502,
 * its transaction open), each replayed RELIABILITY_ADMIN_REQUESTS times with
 * its Idempotency-Key and the admin key but a changed body, path or route
 * (422 idempotency_key_reused), or with the same or a changed body and a
 * forged admin key (401/403); every 25th the unchanged request (the stored
 * answer, replayed). Checked: no request reaches Twilio, no provisioning row
 * and no stored idempotency answer changes, every request audited once.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { exampleEnv, startFunction } from "../support/function-process.ts";
import { testDbUrl, testSql } from "../support/stack.ts";
import { findLeaks } from "../support/log-scan.ts";
import { TwilioStandIn } from "../support/twilio-stand-in.ts";
import {
  expireLeases,
  loseTheNextPurchaseAnswer,
  provisioningClient,
  provisioningEnv,
  releaseEverything,
  resetProvisioningLimits,
} from "../support/provisioning.ts";
import { ADMIN_TARGETS, type AdminTarget } from "./support/admin-targets.ts";
import { baseSeed, Dice, envInt, inParallel } from "./support/seeded.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const present = (t: AdminTarget) => {
  try {
    return Deno.statSync(`${ROOT}supabase/functions/${t.slug}/index.ts`).isFile;
  } catch {
    return false;
  }
};
const TARGETS = ADMIN_TARGETS.filter(present);
const COUNT = envInt("RELIABILITY_ADMIN_REQUESTS", 300);
const SEED = baseSeed(909);

/** An Authorization header that is not the admin key's (or none). */
function forgedAuthorization(dice: Dice, key: string): { kind: string; header?: string } {
  const flipCase = (s: string) => {
    const letters = [...s].map((c, i) => [c, i] as const).filter(([c]) => /[a-z]/i.test(c));
    const [, at] = dice.pick(letters);
    return s.slice(0, at) +
      (s[at] === s[at].toLowerCase() ? s[at].toUpperCase() : s[at].toLowerCase()) +
      s.slice(at + 1);
  };
  switch (dice.int(0, 7)) {
    case 0:
      return { kind: "none" };
    case 1:
      return { kind: "wrong", header: `Bearer ${dice.hex(dice.int(32, 64))}` };
    case 2:
      return { kind: "truncated", header: `Bearer ${key.slice(0, dice.int(1, key.length - 1))}` };
    case 3:
      return { kind: "other-case", header: `Bearer ${flipCase(key)}` };
    case 4:
      return { kind: "longer", header: `Bearer ${key}${dice.pick(["x", "0", "="])}` };
    case 5:
      return { kind: "basic-scheme", header: `Basic ${btoa(`admin:${key}`)}` };
    case 6:
      return { kind: "no-scheme", header: key };
    default:
      return { kind: "empty-bearer", header: "Bearer " };
  }
}

/** A fingerprint of every provisioning table (numbers, subaccounts, transactions and steps). */
async function provisioningState(sql: ReturnType<typeof testSql>): Promise<string> {
  const tables = await sql`select tablename from pg_tables where schemaname = 'public'
                            and tablename ~ '(number|subaccount|provision|transaction)'
                            order by 1`;
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const [r] = await sql`select count(*)::int as n,
                                 md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as h
                            from ${sql("public." + tablename)} t`;
    parts.push(`${tablename}:${r.n}:${r.h}`);
  }
  return parts.join(" ");
}

Deno.test({
  name: `admin: ${COUNT} requests without the admin key change nothing and are all audited`,
  ignore: TARGETS.length === 0,
  async fn() {
    const env = exampleEnv();
    const key = env.ADMIN_API_KEY;
    assert.ok(key && key.length >= 32, "ADMIN_API_KEY missing from .env.example");
    // Twilio's REST API: anything that arrives here is a change attempted.
    let twilioRequests = 0;
    const twilio = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
      twilioRequests++;
      return new Response("{}", { status: 500 });
    });
    const sql = testSql({ max: 2 });
    const dice = Dice.seeded(SEED);
    const run = crypto.randomUUID().slice(0, 8);
    const accepted: string[] = [];
    const statuses: Record<string, number> = {};
    try {
      for (const target of TARGETS) {
        const fn = await startFunction(target.slug, {
          ...env,
          SUPABASE_DB_URL: testDbUrl(),
          TWILIO_API_BASE_URL: `http://127.0.0.1:${twilio.addr.port}`,
        }, { captureLogs: true });
        const before = await provisioningState(sql);
        const sent: { agent: string; status: number }[] = [];
        try {
          const requests = Array.from({ length: COUNT }, (_, i) => {
            const route = dice.pick(target.routes(dice));
            return { i, route, auth: forgedAuthorization(dice, key) };
          });
          await inParallel(requests, 4, async ({ i, route, auth }) => {
            const agent = `reliability-admin/${run}/${i}`;
            const headers: Record<string, string> = {
              "user-agent": agent,
              "content-type": "application/json",
              "idempotency-key": `reliability-${run}-${i % 7}`,
            };
            if (auth.header !== undefined) headers.authorization = auth.header;
            const res = await fetch(fn.url + route.path, {
              method: route.method,
              headers,
              body: route.body === undefined ? undefined : JSON.stringify(route.body),
            });
            await res.body?.cancel();
            sent.push({ agent, status: res.status });
            statuses[`${auth.kind}:${res.status}`] = (statuses[`${auth.kind}:${res.status}`] ?? 0) +
              1;
            const expected = auth.kind === "none" || auth.kind === "basic-scheme" ||
                auth.kind === "no-scheme" || auth.kind === "empty-bearer"
              ? [401, 403]
              : [403];
            if (!expected.includes(res.status)) {
              accepted.push(`${auth.kind} ${route.method} ${route.path}: ${res.status}`);
            }
          });
        } finally {
          await fn.stop();
        }
        const after = await provisioningState(sql);
        const leaks = findLeaks(fn.logs(), { secrets: [key], numbers: [], transcripts: [] });
        const audit = await sql`
          select user_agent, status, actor, count(*) over (partition by user_agent)::int as n
            from public.admin_audit_log where user_agent like ${`reliability-admin/${run}/%`}`;
        const byAgent = new Map(audit.map((r) => [r.user_agent as string, r]));
        const unaudited = sent.filter((s) => {
          const row = byAgent.get(s.agent);
          return !row || row.n !== 1 || row.status !== s.status || row.actor === "admin";
        });
        console.log(
          `admin ${target.slug} (seed ${SEED}): ${sent.length} requests without the key; ` +
            `answers ${JSON.stringify(statuses)}; accepted ${accepted.length}; ` +
            `Twilio requests ${twilioRequests}; provisioning rows changed ${before !== after}; ` +
            `audited ${
              sent.length - unaudited.length
            } of ${sent.length}; admin key in the logs ${leaks.length}`,
        );
        assert.deepEqual(accepted, []);
        assert.equal(twilioRequests, 0);
        assert.equal(after, before);
        assert.deepEqual(unaudited, []);
        assert.deepEqual(leaks, []);
      }
    } finally {
      await sql.end({ timeout: 2 });
      await twilio.shutdown();
    }
  },
});

/** One request to the admin API, as sent and as answered. */
interface AdminRequest {
  method: string;
  path: string;
  /** The body as sent (JSON text, or anything else). */
  raw?: string;
  idempotencyKey: string;
  authorization?: string;
}

/** A request that succeeded (or was left to the resumer) before the replays, and its answer. */
interface Original {
  name: string;
  request: AdminRequest;
  status: number;
  answer: string;
  /** The body it provisioned with, for mutations. */
  body?: Record<string, unknown>;
}

async function send(url: string, r: AdminRequest, agent: string) {
  const headers: Record<string, string> = {
    "user-agent": agent,
    "content-type": "application/json",
    "idempotency-key": r.idempotencyKey,
  };
  if (r.authorization !== undefined) headers.authorization = r.authorization;
  const res = await fetch(url + r.path, { method: r.method, headers, body: r.raw });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The body (or path, or route) of `o` changed; what the API must answer. */
function changedRequest(
  dice: Dice,
  o: Original,
  others: Original[],
): { kind: string; request: AdminRequest; status: number; code: string } {
  const reused = (kind: string, request: AdminRequest) => ({
    kind,
    request,
    status: 422,
    code: "idempotency_key_reused",
  });
  const base = { ...o.request };
  /** A number of another original (never the one `o` itself releases). */
  const otherNumber = () => {
    const numbers = others.filter((x) => x.status < 300 && x.body)
      .map((x) => `/numbers/${encodeURIComponent(JSON.parse(x.answer).number.e164)}`)
      .filter((path) => path !== o.request.path);
    return dice.pick(numbers);
  };
  if (dice.chance(0.08)) {
    return {
      kind: "not-json",
      request: { ...base, raw: "{client:" },
      status: 400,
      code: "invalid_json",
    };
  }
  if (o.request.method === "DELETE") {
    switch (dice.int(0, 3)) {
      case 0:
        return reused("delete-another-number", { ...base, path: otherNumber() });
      case 1:
        return reused("delete-invalid-number", { ...base, path: "/numbers/not-a-number" });
      case 2:
        return reused("delete-with-a-body", { ...base, raw: JSON.stringify({ reason: "x" }) });
      default:
        return reused("post-with-the-delete-key", {
          ...base,
          method: "POST",
          path: "/numbers",
          raw: JSON.stringify({ client: "Other", areaCode: "587" }),
        });
    }
  }
  const body = { ...o.body! };
  const keys = Object.keys(body);
  switch (dice.int(0, 8)) {
    case 0:
      body.client = `${body.client}${dice.pick([" ", "x", "2"])}`;
      return reused("client-changed", { ...base, raw: JSON.stringify(body) });
    case 1:
      if (body.areaCode) {
        body.areaCode = dice.pick(["403", "587", "780", "825"].filter((a) => a !== body.areaCode));
      } else body.phoneNumber = `+1${dice.int(2000000000, 9999999999)}`;
      return reused("number-changed", { ...base, raw: JSON.stringify(body) });
    case 2:
      body.supportTarget = "+15875550122";
      return reused("field-added", { ...base, raw: JSON.stringify(body) });
    case 3:
      delete body[dice.pick(keys.filter((k) => k !== "client"))];
      return reused("field-removed", { ...base, raw: JSON.stringify(body) });
    case 4:
      body.subaccount = !body.subaccount;
      return reused("subaccount-flipped", { ...base, raw: JSON.stringify(body) });
    case 5:
      body[dice.pick(keys)] = dice.pick([587, null, "", "12", ["587"]]);
      return reused("value-invalid", { ...base, raw: JSON.stringify(body) });
    case 6:
      return reused("body-empty", { ...base, raw: dice.pick(["{}", "", undefined]) });
    case 7:
      body.x = "<Response><Dial>+15550000000</Dial></Response>' or 1=1 --";
      return reused("unknown-field", { ...base, raw: JSON.stringify(body) });
    default:
      return reused("delete-with-the-post-key", {
        ...base,
        method: "DELETE",
        path: otherNumber(),
        raw: undefined,
      });
  }
}

/** The same JSON spelled otherwise (key order, spacing): the same body. */
function respelled(dice: Dice, body: Record<string, unknown>): string {
  const entries = Object.entries(body);
  if (dice.chance(0.5)) entries.reverse();
  return JSON.stringify(Object.fromEntries(entries), null, dice.pick([1, 2, "\t"]));
}

/** The rows and stored answers a replay must not change. */
async function replayState(sql: ReturnType<typeof testSql>, keyPrefix: string) {
  const keys = await sql`
    select scope, key, fingerprint, state, response_status, response::text, lease_id::text
      from public.idempotency_keys where key like ${keyPrefix + "%"} order by key`;
  return `${await provisioningState(sql)} keys:${JSON.stringify(keys)}`;
}

Deno.test({
  name:
    `admin: valid requests replayed ${COUNT} times with a changed body or a forged key change nothing and are all audited`,
  ignore: !TARGETS.some((t) => t.slug === "telephony-provision"),
  async fn() {
    const key = exampleEnv().ADMIN_API_KEY;
    const standIn = new TwilioStandIn().start();
    const sql = testSql({ max: 2 });
    const run = crypto.randomUUID().slice(0, 8);
    const keyPrefix = `reliability-replay-${run}-`;
    const agentPrefix = `reliability-replay/${run}/`;
    const bearer = `Bearer ${key}`;
    const dice = Dice.seeded(SEED + 1);
    await resetProvisioningLimits(sql);
    const fn = await startFunction(
      "telephony-provision",
      provisioningEnv(standIn, 300),
      { captureLogs: true },
    );
    const failures: string[] = [];
    const fail = (what: string) => failures.length < 20 && failures.push(what);
    try {
      // The originals, each answered as the contract says.
      const originals: Original[] = [];
      const original = async (
        name: string,
        request: Omit<AdminRequest, "idempotencyKey" | "authorization">,
        body?: Record<string, unknown>,
      ) => {
        const r = { ...request, idempotencyKey: `${keyPrefix}${name}`, authorization: bearer };
        const res = await send(fn.url, r, `${agentPrefix}original/${name}`);
        originals.push({ name, request: r, status: res.status, answer: res.text, body });
        return JSON.parse(res.text);
      };
      const post = (name: string, body: Record<string, unknown>) =>
        original(name, { method: "POST", path: "/numbers", raw: JSON.stringify(body) }, body);
      await post("by-area-code", { client: "Replay A", areaCode: "587" });
      await post("by-number", {
        client: "Replay B",
        phoneNumber: `+1780555${dice.int(1000, 9999)}`,
        salesTarget: "+15875550111",
        subaccount: true,
      });
      const toRelease = await post("to-release", { client: "Replay C", areaCode: "825" });
      await original("release", {
        method: "DELETE",
        path: `/numbers/${encodeURIComponent(toRelease.number.e164)}`,
      });
      // 502, the transaction left open.
      loseTheNextPurchaseAnswer(standIn);
      const leftOpen = await post("left-open", { client: "Replay E", areaCode: "403" });
      assert.deepEqual(
        originals.map((o) => [o.name, o.status]),
        [["by-area-code", 201], ["by-number", 201], ["to-release", 201], ["release", 200], [
          "left-open",
          502,
        ]],
        originals.map((o) => o.answer).join("\n"),
      );
      const replayed = originals.filter((o) => o.name !== "to-release");
      const twilioBefore = standIn.requestCount;
      const stateBefore = await replayState(sql, keyPrefix);

      const requests = Array.from({ length: COUNT }, (_, i) => {
        const o = dice.pick(replayed);
        if (i % 25 === 0 && o.status < 300) {
          // The unchanged request (respelled now and then): the stored answer.
          const raw = o.body && dice.chance(0.5) ? respelled(dice, o.body) : o.request.raw;
          return { o, kind: "control", request: { ...o.request, raw }, status: o.status, code: "" };
        }
        if (dice.chance(0.5)) return { o, ...changedRequest(dice, o, originals) };
        const forged = forgedAuthorization(dice, key);
        const request = dice.chance(0.5)
          ? { ...o.request }
          : { ...changedRequest(dice, o, originals).request };
        return {
          o,
          kind: `forged-${forged.kind}`,
          request: { ...request, authorization: forged.header },
          status: forged.header?.startsWith("Bearer ") && forged.kind !== "empty-bearer"
            ? 403
            : 401,
          code: "",
        };
      });
      const sent: { agent: string; status: number; admin: boolean; outcome?: string }[] = [];
      const answers: Record<string, number> = {};
      await inParallel(requests, 4, async (r, i) => {
        const agent = `${agentPrefix}${i}`;
        const res = await send(fn.url, r.request, agent);
        const tag = `${r.kind}:${res.status}`;
        answers[tag] = (answers[tag] ?? 0) + 1;
        const what = `#${i} ${r.kind} of ${r.o.name} (${r.request.method} ${r.request.path})`;
        if (r.kind === "control") {
          sent.push({ agent, status: res.status, admin: true, outcome: "replayed:ok" });
          if (
            res.status !== r.status || res.headers.get("idempotent-replayed") !== "true" ||
            !isDeepStrictEqual(JSON.parse(res.text), JSON.parse(r.o.answer))
          ) fail(`${what}: not the stored answer: ${res.status} ${res.text.slice(0, 200)}`);
          return;
        }
        const admin = !r.kind.startsWith("forged-");
        const code = (() => {
          try {
            return JSON.parse(res.text).error?.code ?? "";
          } catch {
            return "";
          }
        })();
        sent.push({ agent, status: res.status, admin, outcome: admin ? code : undefined });
        const expected = admin
          ? [`${r.status} ${r.code}`]
          : r.status === 401
          ? ["401 admin_key_missing", "403 admin_key_invalid"]
          : ["403 admin_key_invalid"];
        // The open key stores no answer: a changed body claims it for its own
        // refusal, and the same changed body at that moment finds it in use.
        if (admin && r.o.status >= 500) expected.push("409 idempotency_in_progress");
        if (!expected.includes(`${res.status} ${code}`)) {
          fail(`${what}: ${res.status} ${res.text.slice(0, 200)}`);
        }
      });

      const stateAfter = await replayState(sql, keyPrefix);
      const twilioRequests = standIn.requestCount - twilioBefore;
      const audit = await sql`
        select user_agent, status, actor, outcome,
               count(*) over (partition by user_agent)::int as n
          from public.admin_audit_log where user_agent like ${agentPrefix + "%"}
           and user_agent not like ${agentPrefix + "original/%"}`;
      const byAgent = new Map(audit.map((row) => [row.user_agent as string, row]));
      const unaudited = sent.filter((s) => {
        const row = byAgent.get(s.agent);
        return !row || row.n !== 1 || row.status !== s.status ||
          (row.actor === "admin") !== s.admin ||
          (s.outcome !== undefined && row.outcome !== s.outcome);
      });
      const leaks = findLeaks(fn.logs(), { secrets: [key], numbers: [], transcripts: [] });
      const changedBody = sent.filter((s) => s.admin && s.outcome !== "replayed:ok").length;
      console.log(
        `admin replays (seed ${SEED + 1}): ${sent.length} replays of ${replayed.length} valid ` +
          `requests (${changedBody} with the admin key and a changed body, path or route; ` +
          `${sent.filter((s) => !s.admin).length} with a forged key; ` +
          `${sent.filter((s) => s.outcome === "replayed:ok").length} unchanged controls); ` +
          `answers ${JSON.stringify(answers)}; wrong answers ${failures.length}; ` +
          `Twilio requests ${twilioRequests}; rows or stored answers changed ` +
          `${stateAfter !== stateBefore}; audited ${sent.length - unaudited.length} of ` +
          `${sent.length}; admin key in the logs ${leaks.length}`,
      );
      assert.deepEqual(failures, []);
      assert.equal(twilioRequests, 0);
      assert.equal(stateAfter, stateBefore);
      assert.deepEqual(unaudited.slice(0, 10), []);
      assert.deepEqual(leaks, []);

      // The keys are still the originals': the open one's own retry continues its transaction.
      await expireLeases(sql);
      const retry = await send(fn.url, originals.at(-1)!.request, `${agentPrefix}original/retry`);
      assert.equal(retry.status, 201, retry.text);
      assert.equal(JSON.parse(retry.text).transaction.id, leftOpen.error.transactionId);
    } finally {
      await fn.stop();
      await releaseEverything(sql, provisioningClient(standIn), standIn);
      await sql.end({ timeout: 2 });
    }
  },
});
