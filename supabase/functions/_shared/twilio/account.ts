/**
 * Whose webhook is this? `AccountSid` names the Twilio account a webhook
 * belongs to, and that account's auth token signs it: ours (during a rotation
 * the previous token too), or one of our subaccounts (its own token, stored
 * by provisioning). Any other account is refused before any work.
 *
 * A subaccount's token is one indexed lookup (twilio_account_auth_token),
 * cached in the isolate: bounded in size, for a short time, and "not ours"
 * is cached too, so a stream of unsigned requests naming one account costs at
 * most one query per TTL, and any stream costs at most one bounded query each.
 */
import type { Config } from "../platform/config.ts";
import { openDatabase, withDeadline } from "../platform/db.ts";

export const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;

/** How long a subaccount lookup may take before the request is answered without it. */
export const LOOKUP_DEADLINE_MS = 1_000;

/**
 * The tokens that may sign this account's webhooks:
 * - `tokens`: verify the signature with these;
 * - `foreign`: not ours (or not an account SID at all): refuse;
 * - `unavailable`: a subaccount's token could not be read (database down).
 */
export type AccountTokens =
  | { kind: "tokens"; account: "main" | "subaccount"; tokens: string[] }
  | { kind: "foreign" }
  | { kind: "unavailable"; error: unknown };

/** A small map whose entries expire, and whose oldest entry goes when it is full. */
export class ExpiringCache<V> {
  #entries = new Map<string, { value: V; expires: number }>();
  constructor(
    private readonly opts: { maxEntries: number; now?: () => number },
  ) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.opts.maxEntries) {
      // Map iteration is insertion order: the first key is the oldest.
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, { value, expires: this.#now() + ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }

  #now(): number {
    return (this.opts.now ?? Date.now)();
  }
}

/** Reads a subaccount's token: the token, or null when it is not an active subaccount of ours. */
export type SubaccountTokenLookup = (accountSid: string) => Promise<string | null>;

/** Cache lifetimes: a found token for a minute; "not ours" for half as long. */
export const FOUND_TTL_MS = 60_000;
export const NOT_FOUND_TTL_MS = 30_000;

/**
 * Wraps a lookup with the isolate's cache. Concurrent lookups of one account
 * share one query; failures are not cached (the next request tries again).
 */
export function cachedLookup(
  lookup: SubaccountTokenLookup,
  cache = new ExpiringCache<Promise<string | null>>({ maxEntries: 256 }),
): SubaccountTokenLookup {
  return (accountSid) => {
    const hit = cache.get(accountSid);
    if (hit) return hit;
    const pending = lookup(accountSid);
    cache.set(accountSid, pending, LOOKUP_DEADLINE_MS);
    pending.then(
      (token) => cache.set(accountSid, pending, token === null ? NOT_FOUND_TTL_MS : FOUND_TTL_MS),
      () => cache.get(accountSid) === pending && cache.set(accountSid, pending, 0),
    );
    return pending;
  };
}

/** The lookup against the database: one call of twilio_account_auth_token, under a deadline. */
export function databaseLookup(databaseUrl: string): SubaccountTokenLookup {
  return async (accountSid) => {
    const sql = await openDatabase(databaseUrl);
    const rows = await withDeadline(
      sql`select public.twilio_account_auth_token(${accountSid}) as token`,
      LOOKUP_DEADLINE_MS,
    );
    return (rows[0]?.token as string | null | undefined) ?? null;
  };
}

/** The tokens that may sign a webhook naming `accountSid`. */
export async function signingTokens(
  accountSid: string | null,
  config: Pick<Config, "TWILIO_ACCOUNT_SID" | "TWILIO_AUTH_TOKEN" | "TWILIO_AUTH_TOKEN_PREVIOUS">,
  lookup: SubaccountTokenLookup,
): Promise<AccountTokens> {
  if (accountSid === config.TWILIO_ACCOUNT_SID) {
    const tokens = [config.TWILIO_AUTH_TOKEN];
    if (config.TWILIO_AUTH_TOKEN_PREVIOUS) tokens.push(config.TWILIO_AUTH_TOKEN_PREVIOUS);
    return { kind: "tokens", account: "main", tokens };
  }
  // Malformed or missing: no lookup at all.
  if (accountSid === null || !ACCOUNT_SID.test(accountSid)) return { kind: "foreign" };
  try {
    const token = await lookup(accountSid);
    return token ? { kind: "tokens", account: "subaccount", tokens: [token] } : { kind: "foreign" };
  } catch (error) {
    return { kind: "unavailable", error };
  }
}
