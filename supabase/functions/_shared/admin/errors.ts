/**
 * Admin API errors: JSON `{"error": {"code", "message", "transactionId"?}}`,
 * one distinct code per cause (docs/provisioning.md lists them).
 */

/** A refusal the admin API answers on purpose. */
export class AdminError extends Error {
  override name = "AdminError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * 422 idempotency_key_reused, found by a handler (not by the idempotency
 * layer): the key belongs to another request whose answer was never stored
 * (it failed with a 5xx), so this refusal must not be stored under the key
 * either, or that request could not use its own key again.
 */
export class IdempotencyKeyReused extends AdminError {
  override name = "IdempotencyKeyReused";
  constructor(extra: Record<string, unknown> = {}) {
    super(
      422,
      "idempotency_key_reused",
      "This Idempotency-Key was used with a different request.",
      extra,
    );
  }
}

/** The body of an error answer. */
export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { error: { code, message, ...extra } };
}

/** A JSON answer. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}
