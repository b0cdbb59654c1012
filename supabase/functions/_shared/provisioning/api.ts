/**
 * The routes of `telephony-provision` (admin key, JSON; see docs/provisioning.md):
 *
 *   POST   /numbers                    provision a number (Idempotency-Key required)
 *   DELETE /numbers/<E.164, encoded>   release it
 *   GET    /transactions/<id>          a transaction with its steps
 *   POST   /transactions/resume        run the resumer once now (and the
 *                                       queued Twilio recording deletions)
 */
import type { AdminApi, AdminContext, AdminResult } from "../admin/pipeline.ts";
import { AdminError, IdempotencyKeyReused } from "../admin/errors.ts";
import { canonicalJson } from "../admin/canonical-json.ts";
import { rateLimitedHttpResponse, takeRateLimit } from "../platform/rate-limit.ts";
import { TwilioRestClient } from "../twilio/rest-client.ts";
import { deleteQueuedRecordings } from "../retention/recording-deletions.ts";
import { provisionNumberKind, releaseNumberKind } from "./number-transactions.ts";
import {
  claimExpiredTransactions,
  claimTransaction,
  createTransaction,
  driveTransaction,
  type Json,
  readTransaction,
  type TransactionKind,
  type TransactionView,
} from "./runner.ts";

const SLUG = "telephony-provision";
const E164 = /^\+[1-9]\d{1,14}$/;

/** Runner settings the tests shorten (the lease stays at most 30 s). */
export interface ProvisioningOptions {
  leaseSeconds?: number;
  retryDelayMs?: number;
}

/** The main account's REST client (its credentials reach our subaccounts too). */
function twilioClient(ctx: AdminContext): TwilioRestClient {
  return new TwilioRestClient({
    baseUrl: ctx.config.TWILIO_API_BASE_URL,
    accountSid: ctx.config.TWILIO_ACCOUNT_SID,
    authToken: ctx.config.TWILIO_AUTH_TOKEN,
    apiKeySid: ctx.config.TWILIO_API_KEY_SID,
    apiKeySecret: ctx.config.TWILIO_API_KEY_SECRET,
    timeoutMs: ctx.config.TWILIO_API_TIMEOUT_MS,
  });
}

function kinds(ctx: AdminContext): Record<string, TransactionKind> {
  const deps = {
    sql: ctx.sql,
    publicBaseUrl: ctx.config.PUBLIC_BASE_URL,
    twilio: twilioClient(ctx),
  };
  const provision = provisionNumberKind(deps);
  const release = releaseNumberKind(deps);
  return { [provision.kind]: provision, [release.kind]: release };
}

const runnerOwner = () => `${SLUG}:${crypto.randomUUID()}`;

/** The provisioning request, validated; throws 422 naming the first problem. */
export function parseProvisionRequest(body: Record<string, unknown>): Record<string, Json> {
  const problem = (message: string) => new AdminError(422, "invalid_request", message);
  const { client, areaCode, phoneNumber, salesTarget, supportTarget, subaccount, country } = body;
  if (typeof client !== "string" || !/^[\p{L}\p{N} _.'&-]{1,100}$/u.test(client)) {
    throw problem("client: a name of 1 to 100 letters, digits, spaces or _.'&-");
  }
  if ((areaCode === undefined) === (phoneNumber === undefined)) {
    throw problem("give exactly one of areaCode or phoneNumber");
  }
  if (areaCode !== undefined && (typeof areaCode !== "string" || !/^[2-9]\d{2}$/.test(areaCode))) {
    throw problem('areaCode: three digits, e.g. "587"');
  }
  for (const [name, value] of Object.entries({ phoneNumber, salesTarget, supportTarget })) {
    if (value !== undefined && (typeof value !== "string" || !E164.test(value))) {
      throw problem(`${name}: an E.164 number like +15877428885`);
    }
  }
  if (subaccount !== undefined && typeof subaccount !== "boolean") {
    throw problem("subaccount: true or false");
  }
  if (country !== undefined && (typeof country !== "string" || !/^[A-Z]{2}$/.test(country))) {
    throw problem("country: an ISO country code like CA");
  }
  const known = new Set([
    "client",
    "areaCode",
    "phoneNumber",
    "salesTarget",
    "supportTarget",
    "subaccount",
    "country",
  ]);
  const unknown = Object.keys(body).find((k) => !known.has(k));
  if (unknown) throw problem(`unknown field: ${unknown}`);
  return body as Record<string, Json>;
}

/** The HTTP answer for a failed transaction: status and code by what went wrong. */
export function failureFor(view: TransactionView): AdminError {
  const transactionId = view.id;
  const errorClass = (view.response as { errorClass?: string } | null)?.errorClass ?? null;
  const extra = {
    transactionId,
    transactionStatus: view.status,
    twilioErrorCode: view.error?.externalCode ?? null,
    errorClass,
  };
  if (view.status === "running" || view.status === "compensating") {
    return new AdminError(
      502,
      "twilio_unavailable",
      "Twilio could not be reached or read; the resumer will complete or undo this transaction.",
      extra,
    );
  }
  if (view.status === "needs_attention") {
    return new AdminError(
      502,
      "transaction_needs_attention",
      "An undo kept failing; an operator must look at this transaction.",
      extra,
    );
  }
  const code = view.error?.code ?? "transaction_failed";
  const message = view.error?.message ?? "The transaction failed and was undone.";
  const byCode: Record<string, number> = {
    number_unavailable: 409,
    no_numbers_available: 409,
    invalid_phone_number: 422,
    number_not_found: 404,
  };
  if (byCode[code]) return new AdminError(byCode[code], code, message, extra);
  if (code === "twilio_compliance_required") return new AdminError(502, code, message, extra);
  return new AdminError(502, "twilio_failed", message, extra);
}

function summary(view: TransactionView) {
  return {
    id: view.id,
    kind: view.kind,
    status: view.status,
    steps: view.steps.map((s) => ({ name: s.name, status: s.status, attempts: s.attempts })),
  };
}

/**
 * Drives the transaction left unfinished under this Idempotency-Key (its
 * first request died or gave up), or null when there is none.
 *
 * A 5xx stores no answer under the key, so here the open transaction is the
 * only record of what the key was used for: a request of another kind, or
 * whose `sameRequest` says it asks for something else, is refused like any
 * key reused with another body (422), instead of being answered with the
 * first request's transaction.
 */
async function continueKeyedTransaction(
  ctx: AdminContext,
  kindName: string,
  sameRequest: (stored: Record<string, Json>) => boolean,
  options: ProvisioningOptions,
): Promise<TransactionView | null> {
  if (!ctx.idempotencyKey) return null;
  const [open] = await ctx.sql`
    select id, kind, request from public.telephony_transactions
     where idempotency_key = ${ctx.idempotencyKey}
       and status in ('pending', 'running', 'compensating', 'needs_attention')
     order by created_at desc limit 1`;
  if (!open) return null;
  if (open.kind !== kindName || !sameRequest(open.request)) {
    throw new IdempotencyKeyReused({ transactionId: open.id });
  }
  const owner = runnerOwner();
  if (!(await claimTransaction(ctx.sql, open.id, owner, options.leaseSeconds))) {
    const view = (await readTransaction(ctx.sql, open.id))!;
    if (view.status === "needs_attention") throw failureFor(view);
    throw new AdminError(409, "transaction_in_progress", "This transaction is still running.", {
      transactionId: open.id,
    });
  }
  return await driveTransaction(ctx.sql, kinds(ctx)[kindName], open.id, {
    owner,
    ...options,
  });
}

async function takeProvisioningLimits(ctx: AdminContext): Promise<void> {
  // Buying numbers costs money: fail closed when the limiter cannot answer.
  for (const [keyKind, key] of [["account", "admin"], ["ip", ctx.clientIp]] as const) {
    const decision = await takeRateLimit(ctx.sql, {
      endpoint: SLUG,
      keyKind,
      key,
      failureMode: "closed",
    });
    if (!decision.allowed) {
      const body = await rateLimitedHttpResponse(decision).json();
      throw new AdminError(429, "rate_limited", body.error.message, {
        retryAfterSeconds: body.error.retryAfterSeconds,
      });
    }
  }
}

async function provision(ctx: AdminContext, options: ProvisioningOptions): Promise<AdminResult> {
  const kind = kinds(ctx).provision_number;
  // The key's open transaction first: any other answer to a request that is
  // not its own (invalid, rate-limited) would be stored under its key. The
  // transaction holds the body as sent (it was valid), and its purchase
  // already took its rate-limit token.
  const sameRequest = (stored: Json) => canonicalJson(stored) === canonicalJson(ctx.body as Json);
  let view = await continueKeyedTransaction(ctx, kind.kind, sameRequest, options);
  if (!view) {
    const request = parseProvisionRequest(ctx.body);
    await takeProvisioningLimits(ctx);
    const owner = runnerOwner();
    const id = await createTransaction(ctx.sql, kind, {
      owner,
      client: String(request.client),
      idempotencyKey: ctx.idempotencyKey,
      request,
      leaseSeconds: options.leaseSeconds,
    });
    view = await driveTransaction(ctx.sql, kind, id, { owner, ...options });
  }
  if (view.status !== "completed") throw failureFor(view);
  const activated = (view.response as Record<string, { e164: string; sid: string }>)
    .activate_number;
  return {
    status: 201,
    body: { number: { e164: activated.e164, sid: activated.sid }, transaction: summary(view) },
    transactionId: view.id,
  };
}

/** The number in a release path, or null when it is not valid percent-encoding. */
function decodedNumber(param: string): string | null {
  try {
    return decodeURIComponent(param);
  } catch {
    return null;
  }
}

async function release(ctx: AdminContext, options: ProvisioningOptions): Promise<AdminResult> {
  const e164 = decodedNumber(ctx.params[0]);
  const kind = kinds(ctx).release_number;
  // The key's open transaction first, as for a provision.
  let view = await continueKeyedTransaction(
    ctx,
    kind.kind,
    (stored) => stored.e164 === e164,
    options,
  );
  if (!view) {
    if (e164 === null) {
      throw new AdminError(
        422,
        "invalid_request",
        "The number must be a URL-encoded E.164 number.",
      );
    }
    if (!E164.test(e164)) {
      throw new AdminError(
        422,
        "invalid_request",
        "The number must be E.164, e.g. %2B15877428885.",
      );
    }
    const [row] = await ctx.sql`
      select n.state, n.phone_number_sid, s.account_sid,
             -- A subaccount this API created for the client goes with its last number.
             s.client is not null and s.status = 'active' and not exists (
               select 1 from public.telephony_numbers o
                where o.subaccount_id = s.id and o.e164 <> n.e164 and o.state <> 'released'
             ) as close_subaccount
        from public.telephony_numbers n
        left join public.telephony_subaccounts s on s.id = n.subaccount_id
       where n.e164 = ${e164}`;
    if (!row || row.state === "released") {
      throw new AdminError(404, "number_not_found", `${e164} is not a number of this hotline.`);
    }
    if (row.state !== "active") {
      throw new AdminError(409, "number_busy", `${e164} is ${row.state}; try again later.`);
    }
    if (!row.phone_number_sid) {
      throw new AdminError(
        422,
        "number_not_managed",
        `${e164} was not bought through this API (no PhoneNumberSid).`,
      );
    }
    const owner = runnerOwner();
    const id = await createTransaction(ctx.sql, kind, {
      owner,
      client: null,
      idempotencyKey: ctx.idempotencyKey,
      request: {
        e164,
        sid: row.phone_number_sid,
        accountSid: row.account_sid,
        closeSubaccount: row.close_subaccount === true,
      },
      leaseSeconds: options.leaseSeconds,
    });
    view = await driveTransaction(ctx.sql, kind, id, { owner, ...options });
  }
  if (view.status !== "completed") throw failureFor(view);
  return {
    status: 200,
    body: { number: { e164, state: "released" }, transaction: summary(view) },
    transactionId: view.id,
  };
}

/**
 * Runs the resumer once: every transaction whose lease expired is completed
 * or undone; then the recordings queued for deletion at Twilio are deleted
 * (the same schedule serves both: pg_cron on hosted Supabase, the gateway's
 * timer locally).
 */
export async function resumeTransactions(
  ctx: AdminContext,
  options: ProvisioningOptions,
): Promise<AdminResult> {
  const owner = runnerOwner();
  const all = kinds(ctx);
  const ids = await claimExpiredTransactions(ctx.sql, owner, options.leaseSeconds);
  const resumed = [];
  for (const id of ids) {
    const [row] = await ctx.sql`select kind from public.telephony_transactions where id = ${id}`;
    const view = await driveTransaction(ctx.sql, all[row.kind], id, { owner, ...options });
    resumed.push({ id, kind: view.kind, status: view.status });
  }
  const recordingDeletions = await deleteQueuedRecordings(ctx.sql, twilioClient(ctx), {
    worker: owner,
  });
  return { status: 200, body: { resumed, recordingDeletions } };
}

/** The telephony-provision admin API. */
export function provisioningApi(options: ProvisioningOptions = {}): AdminApi {
  return {
    slug: SLUG,
    routes: [
      {
        method: "POST",
        path: /^\/numbers$/,
        idempotency: "required",
        handle: (ctx) => provision(ctx, options),
      },
      {
        method: "DELETE",
        path: /^\/numbers\/([^/]+)$/,
        idempotency: "optional",
        handle: (ctx) => release(ctx, options),
      },
      {
        method: "GET",
        path: /^\/transactions\/([^/]+)$/,
        idempotency: "none",
        handle: async (ctx) => {
          const view = await readTransaction(ctx.sql, ctx.params[0]);
          if (!view) throw new AdminError(404, "transaction_not_found", "No such transaction.");
          return { status: 200, body: { transaction: view }, transactionId: view.id };
        },
      },
      {
        method: "POST",
        path: /^\/transactions\/resume$/,
        idempotency: "none",
        handle: (ctx) => resumeTransactions(ctx, options),
      },
    ],
  };
}
