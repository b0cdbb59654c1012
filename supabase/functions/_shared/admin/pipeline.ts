/**
 * The pipeline every JSON admin function runs, beside the Twilio webhook one:
 * parse → admin key → route → idempotency → handler → JSON error boundary,
 * and every request, refused ones included, written to admin_audit_log.
 *
 * Order matters: nothing but reading the request happens before the admin
 * key is checked, so a request without the key changes nothing (its audit
 * row aside) and learns nothing (not even which routes exist).
 */
import { type AdminConfig, parseAdminConfig } from "./config.ts";
import { type AdminKeyVerdict, verifyAdminKey } from "./admin-key.ts";
import { writeAudit } from "./audit.ts";
import { AdminError, errorBody, IdempotencyKeyReused, jsonResponse } from "./errors.ts";
import { canonicalJson, type Json } from "./canonical-json.ts";
import { openDatabase, type Sql } from "../platform/db.ts";
import { requestFingerprint, withIdempotency } from "../platform/idempotency.ts";
import { logRequest } from "../platform/log.ts";

export interface AdminContext {
  config: AdminConfig;
  sql: Sql;
  /** The parsed JSON body ({} when there was none). */
  body: Record<string, unknown>;
  /** The path's capture groups. */
  params: string[];
  idempotencyKey: string | null;
  /** The client's address (first X-Forwarded-For hop), for per-address rate limits. */
  clientIp: string;
}

export interface AdminResult {
  status: number;
  body: unknown;
  /** The telephony transaction this request created or read, for the audit log. */
  transactionId?: string;
}

export interface AdminRoute {
  method: "GET" | "POST" | "DELETE";
  /** Matched against the path after the slug, e.g. /numbers/(.+). */
  path: RegExp;
  /** required: a missing Idempotency-Key is a 400; optional: used when given. */
  idempotency: "required" | "optional" | "none";
  handle(ctx: AdminContext): Promise<AdminResult>;
}

export interface AdminApi {
  slug: string;
  routes: AdminRoute[];
}

const MAX_BODY_BYTES = 64 * 1024;
/** Idempotency lease: longer than a provisioning run (its steps' Twilio timeouts). */
const IDEMPOTENCY_LEASE_SECONDS = 120;

function routePath(slug: string, url: URL): string {
  const at = url.pathname.indexOf(`/${slug}`);
  const rest = at >= 0 ? url.pathname.slice(at + slug.length + 1) : url.pathname;
  return rest.replace(/\/+$/, "") || "/";
}

function errorResponse(e: AdminError): Response {
  const headers: Record<string, string> = {};
  if (e.status === 429 && typeof e.extra.retryAfterSeconds === "number") {
    headers["retry-after"] = String(e.extra.retryAfterSeconds);
  }
  return jsonResponse(e.status, errorBody(e.code, e.message, e.extra), headers);
}

/** Builds the `Deno.serve` handler for an admin API; `env` defaults to the process's. */
export function serveAdminApi(
  api: AdminApi,
  env: () => Record<string, string | undefined> = () => Deno.env.toObject(),
): (req: Request) => Promise<Response> {
  let loaded: ReturnType<typeof parseAdminConfig> | undefined;
  return async (req) => {
    const started = performance.now();
    const url = new URL(req.url);
    const path = routePath(api.slug, url);
    const audit = {
      actor: "anonymous" as AdminKeyVerdict,
      idempotencyKey: req.headers.get("idempotency-key"),
      request: undefined as unknown,
      transactionId: null as string | null,
    };
    loaded ??= parseAdminConfig(env());
    if (!loaded.ok) {
      // Fail closed: without its key and Twilio settings the admin API does nothing.
      logRequest({ fn: api.slug, status: 503, ms: 0, error: loaded.errors.join("; ") });
      return jsonResponse(
        503,
        errorBody("admin_not_configured", "The admin API is not configured."),
      );
    }
    const config = loaded.config;

    const finish = async (res: Response, outcome: string) => {
      const durationMs = Math.round(performance.now() - started);
      try {
        await writeAudit(config.DB_URL, {
          slug: api.slug,
          ...audit,
          clientIp: clientIp(req),
          userAgent: req.headers.get("user-agent"),
          method: req.method,
          path: `${path}${url.search}`,
          status: res.status,
          outcome,
          durationMs,
        });
      } catch (e) {
        // The answer stands; the log line carries what the audit row would have.
        logRequest({ fn: api.slug, status: res.status, ms: durationMs, error: `audit: ${e}` });
      }
      logRequest({ fn: api.slug, status: res.status, ms: durationMs, outcome, actor: audit.actor });
      return res;
    };
    const refuse = (e: AdminError) => finish(errorResponse(e), e.code);

    // parse: the raw body only (bounded); JSON is read once the caller is known.
    let rawBody = "";
    try {
      rawBody = await req.text();
    } catch {
      return refuse(new AdminError(400, "invalid_body", "The request body could not be read."));
    }
    if (new TextEncoder().encode(rawBody).length > MAX_BODY_BYTES) {
      return refuse(new AdminError(413, "body_too_large", "The request body is too large."));
    }

    audit.actor = await verifyAdminKey(req.headers.get("authorization"), config.ADMIN_API_KEY);
    if (audit.actor === "anonymous") {
      return refuse(
        new AdminError(401, "admin_key_missing", "Authorization: Bearer <admin key> is required."),
      );
    }
    if (audit.actor === "invalid-key") {
      return refuse(new AdminError(403, "admin_key_invalid", "The admin key is not valid."));
    }

    const candidates = api.routes.filter((r) => r.path.test(path));
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      return candidates.length
        ? refuse(new AdminError(405, "method_not_allowed", `${req.method} is not allowed here.`))
        : refuse(new AdminError(404, "route_not_found", `No such resource: ${path}`));
    }

    let body: Record<string, unknown> = {};
    if (rawBody.trim()) {
      try {
        const parsed = JSON.parse(rawBody);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw 0;
        body = parsed;
      } catch {
        return refuse(new AdminError(400, "invalid_json", "The body must be a JSON object."));
      }
    }
    audit.request = body;

    const key = audit.idempotencyKey;
    if (route.idempotency === "required" && !key) {
      return refuse(
        new AdminError(400, "idempotency_key_required", "An Idempotency-Key header is required."),
      );
    }
    if (key !== null && (key.length < 1 || key.length > 255)) {
      return refuse(
        new AdminError(400, "idempotency_key_invalid", "Idempotency-Key: 1 to 255 characters."),
      );
    }

    // Only now the driver: a refused request above needed none (audit.ts).
    const sql = await openDatabase(config.DB_URL);
    const ctx: AdminContext = {
      config,
      sql,
      body,
      params: [...path.match(route.path)!].slice(1),
      idempotencyKey: key,
      clientIp: clientIp(req),
    };
    const work = async (): Promise<AdminResult> => {
      try {
        return await route.handle(ctx);
      } catch (e) {
        // Thrown on through withIdempotency, which then stores nothing under the key.
        if (!(e instanceof AdminError) || e instanceof IdempotencyKeyReused) throw e;
        return {
          status: e.status,
          body: errorBody(e.code, e.message, e.extra),
          transactionId: e.extra.transactionId as string | undefined,
        };
      }
    };

    let res: Response;
    try {
      if (route.idempotency !== "none" && key) {
        res = await withIdempotency(sql, {
          // One scope per API, so a key used on one route is refused on another
          // (the fingerprint holds method and path); a body is the same body
          // when it holds the same JSON, however it is spelled.
          scope: api.slug,
          key,
          fingerprint: await requestFingerprint(
            req.method,
            path,
            rawBody.trim() ? canonicalJson(body as Json) : "",
          ),
          leaseSeconds: IDEMPOTENCY_LEASE_SECONDS,
        }, async () => {
          const result = await work();
          audit.transactionId = result.transactionId ?? null;
          return result;
        });
      } else {
        const result = await work();
        audit.transactionId = result.transactionId ?? null;
        res = jsonResponse(result.status, result.body);
      }
    } catch (e) {
      if (e instanceof IdempotencyKeyReused) {
        audit.transactionId = (e.extra.transactionId as string | undefined) ?? null;
        return refuse(e);
      }
      logRequest({
        fn: api.slug,
        status: 500,
        ms: 0,
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      });
      return refuse(
        new AdminError(
          500,
          "internal_error",
          "The request failed; nothing was stored for its Idempotency-Key.",
        ),
      );
    }
    const outcome = await outcomeOf(res, audit);
    return finish(await withRetryAfter(res), outcome);
  };
}

/** A 429 carries Retry-After (the idempotency layer answers with the body alone). */
async function withRetryAfter(res: Response): Promise<Response> {
  if (res.status !== 429 || res.headers.has("retry-after")) return res;
  const seconds = (await res.clone().json().catch(() => null))?.error?.retryAfterSeconds;
  if (typeof seconds !== "number") return res;
  const headers = new Headers(res.headers);
  headers.set("retry-after", String(seconds));
  return new Response(res.body, { status: res.status, headers });
}

/** ok / replayed / the error code, read back from the answer. */
async function outcomeOf(res: Response, audit: { transactionId: string | null }): Promise<string> {
  const replayed = res.headers.get("idempotent-replayed") === "true";
  let code = "ok";
  try {
    const body = await res.clone().json();
    if (body?.error?.code) code = body.error.code;
    audit.transactionId ??= body?.transaction?.id ?? body?.error?.transactionId ?? null;
  } catch { /* not JSON: keep ok */ }
  return replayed ? `replayed:${code}` : code;
}

function clientIp(req: Request): string {
  return req.headers.get("x-forwarded-for")?.split(",")[0].trim() || "unknown";
}
