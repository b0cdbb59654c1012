/**
 * Drives `telephony-provision` in the test process (the same handler its
 * index.ts serves) against the throwaway database and a Twilio stand-in,
 * and checks the invariants every fault test ends with.
 */
import { serveAdminApi } from "../../supabase/functions/_shared/admin/pipeline.ts";
import {
  provisioningApi,
  type ProvisioningOptions,
} from "../../supabase/functions/_shared/provisioning/api.ts";
import { exampleEnv } from "./function-process.ts";
import { testDbUrl, testSql } from "./stack.ts";
import type { TwilioStandIn } from "./twilio-stand-in.ts";

export const ADMIN_KEY = exampleEnv().ADMIN_API_KEY;
export const PUBLIC_BASE_URL = "https://hotline.example.test/functions/v1";

/** The environment the admin function runs with, pointed at the stand-in (`overrides` win). */
export function provisioningEnv(
  standIn: TwilioStandIn,
  timeoutMs = 300,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    ...exampleEnv(),
    TWILIO_ACCOUNT_SID: standIn.mainSid,
    TWILIO_AUTH_TOKEN: standIn.mainToken,
    TWILIO_API_BASE_URL: standIn.url,
    TWILIO_API_TIMEOUT_MS: String(timeoutMs),
    PUBLIC_BASE_URL,
    SUPABASE_DB_URL: testDbUrl(),
    ...overrides,
  };
}

export interface AdminCall {
  body?: unknown;
  /** Idempotency-Key; omitted when undefined. */
  key?: string;
  /** Authorization header; the admin key by default, null for none. */
  auth?: string | null;
  raw?: string;
}

// deno-lint-ignore no-explicit-any -- answers are JSON the tests pick apart
export type Answer = { status: number; body: Record<string, any>; headers: Headers };

/**
 * An in-process telephony-provision with short leases and retry pauses;
 * `env` overrides its environment (e.g. PUBLIC_BASE_URL: where the numbers' webhooks point).
 */
export function provisioningClient(
  standIn: TwilioStandIn,
  options: ProvisioningOptions = {},
  env: Record<string, string> = {},
) {
  const handler = serveAdminApi(
    provisioningApi({ leaseSeconds: 30, retryDelayMs: 10, ...options }),
    () => provisioningEnv(standIn, 300, env),
  );
  return async (method: string, path: string, call: AdminCall = {}): Promise<Answer> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const auth = call.auth === undefined ? `Bearer ${ADMIN_KEY}` : call.auth;
    if (auth !== null) headers.authorization = auth;
    if (call.key !== undefined) headers["idempotency-key"] = call.key;
    const res = await handler(
      new Request(`http://127.0.0.1/telephony-provision${path}`, {
        method,
        headers,
        body: call.raw ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
      }),
    );
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
}

/**
 * Twilio buys the next number but its answer is lost, and Twilio cannot be
 * read right after: the provision answers 502 and leaves its transaction
 * open for the resumer (or the request's own retry).
 */
export function loseTheNextPurchaseAnswer(standIn: TwilioStandIn): void {
  standIn.faultOn("POST", /IncomingPhoneNumbers\.json$/, { kind: "drop" });
  standIn.faultOn("GET", /IncomingPhoneNumbers\.json$/, {
    kind: "fail",
    status: 503,
    code: 20503,
  }, 3);
}

/** Makes every unfinished transaction's lease run out now (what 30 s of waiting does). */
export async function expireLeases(sql: ReturnType<typeof testSql>): Promise<void> {
  await sql`update public.telephony_transactions
               set lease_expires_at = clock_timestamp() - interval '1 second'
             where status in ('pending', 'running', 'compensating')`;
}

export interface Invariants {
  /** Numbers Twilio holds that no active row owns. */
  orphanedNumbers: string[];
  /** Rows that point at a number (or an account) Twilio no longer holds, or are stuck mid-way. */
  danglingRows: string[];
  /** Subaccounts left open that no row owns. */
  orphanedAccounts: string[];
  /** Any purchase or release done twice. */
  doubled: string[];
  openTransactions: number;
}

/** Compares the stand-in's state with the database's. */
export async function checkInvariants(
  sql: ReturnType<typeof testSql>,
  standIn: TwilioStandIn,
): Promise<Invariants> {
  const rows = await sql`
    select n.e164, n.state, n.phone_number_sid, s.account_sid
      from public.telephony_numbers n left join public.telephony_subaccounts s on s.id = n.subaccount_id
     where n.phone_number_sid is not null or n.state <> 'active'`;
  const activeSids = new Set(
    rows.filter((r) => r.state === "active").map((r) => r.phone_number_sid),
  );
  const held = new Map(standIn.ownedNumbers().map((n) => [n.sid, n]));
  const orphanedNumbers = [...held.values()].filter((n) => !activeSids.has(n.sid))
    .map((n) => n.phone_number);
  const danglingRows = rows.filter((r) =>
    (r.state === "active" && !held.has(r.phone_number_sid)) ||
    ["provisioning", "releasing"].includes(r.state)
  ).map((r) => `${r.e164}:${r.state}`);
  const subaccounts = await sql`select account_sid, status from public.telephony_subaccounts`;
  const subRows = new Set(subaccounts.map((r) => r.account_sid));
  // A row still active (its token still accepted) for an account Twilio has closed.
  danglingRows.push(
    ...subaccounts.filter((r) =>
      r.status === "active" && standIn.accounts.get(r.account_sid)?.status === "closed"
    ).map((r) => `subaccount ${r.account_sid}:active`),
  );
  const orphanedAccounts = [...standIn.accounts.values()]
    .filter((a) => a.status !== "closed" && !subRows.has(a.sid)).map((a) => a.sid);
  const doubled = [
    ...[...standIn.effects.boughtByTag].filter(([, n]) => n > 1).map(([t]) => `bought:${t}`),
    ...[...standIn.effects.numbersReleased].filter(([, n]) => n > 1).map(([s]) => `released:${s}`),
    ...[...standIn.effects.accountsClosed].filter(([, n]) => n > 1).map(([s]) => `closed:${s}`),
  ];
  const [{ open }] = await sql`
    select count(*)::int as open from public.telephony_transactions
     where status in ('pending', 'running', 'compensating')`;
  return { orphanedNumbers, danglingRows, orphanedAccounts, doubled, openTransactions: open };
}

/** What every fault test must end with: nothing orphaned, dangling, doubled or open. */
export const NO_DAMAGE: Invariants = {
  orphanedNumbers: [],
  danglingRows: [],
  orphanedAccounts: [],
  doubled: [],
  openTransactions: 0,
};

/** Clears the provisioning rate-limit state, so a test starts with its full allowance. */
export async function resetProvisioningLimits(sql: ReturnType<typeof testSql>): Promise<void> {
  await sql`delete from public.rate_limit_state where endpoint = 'telephony-provision'`;
}

/** Releases every number a test left active (through the API), removes its rows, stops the stand-in. */
export async function releaseEverything(
  sql: ReturnType<typeof testSql>,
  call: ReturnType<typeof provisioningClient>,
  standIn: TwilioStandIn,
): Promise<void> {
  standIn.clearFaults();
  const active = await sql`
    select e164 from public.telephony_numbers where state = 'active' and phone_number_sid is not null`;
  for (const { e164 } of active) {
    const res = await call("DELETE", `/numbers/${encodeURIComponent(e164)}`);
    if (res.status !== 200) throw new Error(`cleanup release failed: ${JSON.stringify(res.body)}`);
  }
  await sql`delete from public.telephony_numbers where state = 'released'`;
  await sql`delete from public.telephony_subaccounts where client is not null`;
  await standIn.stop();
}
