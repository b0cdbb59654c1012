/**
 * Running a call step's one SQL function, and the call facts every step reads.
 */
import { guardedQuery, type Sql } from "../platform/db.ts";
import type { InlineSql } from "../platform/sql-literal.ts";
import type { WebhookContext } from "../twilio/webhook.ts";
import { param } from "../twilio/form.ts";

/**
 * A step's database call must leave time for the rescue inside Twilio's 15 s:
 * past this, the caller is handed to voice-fallback (the live call fails open).
 */
export const STEP_DEADLINE_MS = 2_500;

/**
 * Runs the step's single SQL statement (values inlined: one simple-protocol
 * round trip, see platform/sql-literal.ts) and returns its one value (column
 * `r`).
 * With the database's circuit open, a step a caller waits on fails at once
 * (the caller hears the rescue now, not after the deadline); a `callback`
 * (nobody waits on it) tries anyway: it has time, and failing it at once
 * would only spend Twilio's retries within the cool-down.
 */
export async function runStepQuery<T>(
  sql: Sql,
  query: InlineSql,
  opts: { callback?: boolean } = {},
): Promise<T> {
  const rows = await guardedQuery<readonly Record<string, unknown>[]>(sql, query, {
    deadlineMs: STEP_DEADLINE_MS,
    evenIfOpen: opts.callback,
  });
  return rows[0]?.r as T;
}

/** runStepQuery on the webhook's database. */
export function runStep<T>(
  ctx: WebhookContext,
  query: InlineSql,
  opts: { callback?: boolean } = {},
): Promise<T> {
  return runStepQuery<T>(ctx.sql(), query, opts);
}

/** The call's CallSid; a webhook without one cannot be a call step. */
export function requireCallSid(ctx: WebhookContext): string {
  if (!ctx.callSid) throw new Error("webhook without CallSid");
  return ctx.callSid;
}

/** Who called and which number they called, as Twilio gives them. */
export function callParties(ctx: WebhookContext): { from: string; to: string } {
  return { from: param(ctx.params, "From") ?? "", to: param(ctx.params, "To") ?? "" };
}

const E164 = /^\+[1-9]\d{1,14}$/;

/** Agents see the hotline number that was called (else the configured one) as caller ID. */
export function hotlineCallerId(ctx: WebhookContext): string {
  const to = param(ctx.params, "To");
  return to && E164.test(to) ? to : ctx.config.HOTLINE_E164;
}

/** A non-negative integer parameter, or null. */
export function intParam(params: URLSearchParams, name: string): number | null {
  const raw = param(params, name);
  return raw !== undefined && /^\d{1,9}$/.test(raw) ? Number(raw) : null;
}
