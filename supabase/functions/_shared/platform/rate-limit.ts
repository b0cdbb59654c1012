/**
 * Rate limiting shared by every isolate: the decision is made in Postgres
 * (`rate_limit_take`, one statement, the database's clock). This module adds
 * the failure policy and the answers a refused request gets.
 *
 * voice-frontdoor does not call this: its limit is taken inside its one step
 * function (voice_frontdoor_answer), keeping the webhook one round trip.
 */
import { type Sql, timedQuery } from "./db.ts";
import { reject, type TwimlNode } from "../twilio/twiml.ts";

export type KeyKind = "caller" | "ip" | "account" | "custom";

/**
 * open: when the limiter cannot be asked, admit (a live call must never be
 * stopped by our outage). closed: refuse (anything that costs money).
 */
export type FailureMode = "open" | "closed";

export interface RateLimitDecision {
  allowed: boolean;
  remaining: number | null;
  limit: number | null;
  retryAfterSeconds: number;
  /** Where the answer came from: the database, or the failure policy. */
  decidedBy: "database" | "failure-policy";
}

/** How long a check may take before the failure policy answers instead. */
export const RATE_LIMIT_DEADLINE_MS = 1_500;

/** The policy's answer when the database cannot be asked. */
export function failurePolicyDecision(mode: FailureMode): RateLimitDecision {
  return {
    allowed: mode === "open",
    remaining: null,
    limit: null,
    retryAfterSeconds: mode === "open" ? 0 : 30,
    decidedBy: "failure-policy",
  };
}

/** Reads rate_limit_take's JSON answer. */
export function decisionFromRow(row: {
  allowed: boolean;
  remaining: number | null;
  limit: number | null;
  retry_after_seconds: number;
}): RateLimitDecision {
  return {
    allowed: row.allowed,
    remaining: row.remaining,
    limit: row.limit,
    retryAfterSeconds: row.retry_after_seconds,
    decidedBy: "database",
  };
}

/** Takes one request from the key's allowance, under the endpoint's failure policy. */
export async function takeRateLimit(
  sql: Sql,
  opts: {
    endpoint: string;
    keyKind: KeyKind;
    key: string;
    failureMode: FailureMode;
    deadlineMs?: number;
  },
): Promise<RateLimitDecision> {
  try {
    const [row] = await timedQuery(
      sql,
      (tx) =>
        tx`select public.rate_limit_take(${opts.endpoint}, ${opts.keyKind}, ${opts.key}) as d`,
      { deadlineMs: opts.deadlineMs ?? RATE_LIMIT_DEADLINE_MS },
    );
    return decisionFromRow(row.d);
  } catch {
    return failurePolicyDecision(opts.failureMode);
  }
}

/** HTTP APIs: 429 with Retry-After and the admin API's JSON error shape. */
export function rateLimitedHttpResponse(decision: RateLimitDecision): Response {
  const retryAfter = Math.max(1, decision.retryAfterSeconds);
  return new Response(
    JSON.stringify({
      error: {
        code: "rate_limited",
        message: `Too many requests; retry in ${retryAfter} s.`,
        retryAfterSeconds: retryAfter,
      },
    }),
    {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": String(retryAfter) },
    },
  );
}

/** Voice: refuse the call unanswered, so nothing is billed and the caller hears busy. */
export function rejectBusyTwiml(): TwimlNode[] {
  return [reject({ reason: "busy" })];
}
