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
 * Not covered here: a request with the valid key replayed with a changed
 * body (needs a first one that succeeded, i.e. the Twilio stand-in of the
 * provisioning tests).
 */
import assert from "node:assert/strict";
import { exampleEnv, startFunction } from "../support/function-process.ts";
import { testDbUrl, testSql } from "../support/stack.ts";
import { findLeaks } from "../support/log-scan.ts";
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
