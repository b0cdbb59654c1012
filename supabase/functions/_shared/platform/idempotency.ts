/**
 * Idempotency keys, stored in Postgres (idempotency_begin/complete):
 * - same key, same request → the stored response; the work is not done again;
 * - same key, another request → 422;
 * - same key while the first is still running → 409;
 * - 5xx, 429 and 401 are not stored: a retry runs the work again;
 * - a holder that crashed loses its lease; a later retry takes the key over
 *   (and is told so, to skip side effects its predecessor completed).
 *
 * For the HTTP API (number provisioning). No Twilio webhook uses a key:
 * each call step is keyed by its call (docs/telephony.md, "Idempotency of
 * the steps"), and `I-Twilio-Idempotency-Token` is not signed, so it is
 * never trusted.
 */
import { type Sql, timedQuery } from "./db.ts";

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** 5xx, 429 and 401 say "try again", so they are never replayed. */
export function isCacheableStatus(status: number): boolean {
  return status < 500 && status !== 429 && status !== 401;
}

/** SHA-256 over what makes two requests the same request. */
export async function requestFingerprint(
  method: string,
  path: string,
  body: string,
): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${method.toUpperCase()}\n${path}\n${body}`),
  );
  return hex(digest);
}

export type BeginOutcome =
  | { outcome: "started" | "taken_over"; lease_id: string }
  | { outcome: "replay"; status: number; response: { body: unknown } }
  | { outcome: "in_progress" }
  | { outcome: "mismatch" };

const json = (status: number, body: unknown, extra: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...extra },
  });

/** The HTTP answer for a claim that may not run the work; null when it may. */
export function responseForClaim(claim: BeginOutcome): Response | null {
  switch (claim.outcome) {
    case "replay":
      return json(claim.status, claim.response.body, { "idempotent-replayed": "true" });
    case "in_progress":
      return json(409, {
        error: {
          code: "idempotency_in_progress",
          message: "A request with this Idempotency-Key is still running.",
        },
      });
    case "mismatch":
      return json(422, {
        error: {
          code: "idempotency_key_reused",
          message: "This Idempotency-Key was used with a different request.",
        },
      });
    default:
      return null;
  }
}

export interface IdempotentWork {
  /** True when an earlier holder crashed: check which side effects it completed. */
  takenOver: boolean;
}

/** Runs `work` at most once per key, answering repeats from the stored response. */
export async function withIdempotency(
  sql: Sql,
  opts: {
    scope: string;
    key: string;
    fingerprint: string;
    leaseSeconds?: number;
    deadlineMs?: number;
  },
  work: (ctx: IdempotentWork) => Promise<{ status: number; body: unknown }>,
): Promise<Response> {
  const deadline = opts.deadlineMs ?? 3_000;
  const [row] = await timedQuery(
    sql,
    (tx) =>
      tx`select public.idempotency_begin(${opts.scope}, ${opts.key}, ${opts.fingerprint},
                                         ${opts.leaseSeconds ?? 30}) as claim`,
    { deadlineMs: deadline },
  );
  const claim = row.claim as BeginOutcome;
  const early = responseForClaim(claim);
  if (early) return early;
  const leaseId = (claim as { lease_id: string }).lease_id;
  let result: { status: number; body: unknown };
  try {
    result = await work({ takenOver: claim.outcome === "taken_over" });
  } catch (error) {
    // Release the key, so a retry runs the work again.
    await timedQuery(
      sql,
      (tx) =>
        tx`select public.idempotency_complete(${opts.scope}, ${opts.key}, 500, null, ${leaseId}::uuid)`,
      { deadlineMs: deadline },
    ).catch(() => {});
    throw error;
  }
  await timedQuery(
    sql,
    (tx) =>
      tx`select public.idempotency_complete(${opts.scope}, ${opts.key}, ${result.status},
                                            ${tx.json({ body: result.body } as never)},
                                            ${leaseId}::uuid)`,
    { deadlineMs: deadline },
  );
  return json(result.status, result.body);
}
