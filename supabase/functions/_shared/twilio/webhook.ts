/**
 * The pipeline every Twilio-facing function runs: parse → verify → decide →
 * render, inside an error boundary. A function's `index.ts` only supplies its
 * step (`handle`) and what a caller hears when that step fails (`rescue`).
 *
 * Order matters: the body is read under a byte cap, the request is verified
 * (signature, and an account of ours) before any other database work, so an
 * unsigned request costs us a few HMACs and at most one cached lookup; then
 * every field is normalised (edge-validation.ts) before any SQL sees it.
 */
import { type Config, loadConfig } from "../platform/config.ts";
import { isDatabaseUnavailable, openDatabase, type Sql, timedQuery } from "../platform/db.ts";
import { logRequest } from "../platform/log.ts";
import { cachedLookup, databaseLookup, type SubaccountTokenLookup } from "./account.ts";
import { normaliseWebhookParams } from "./edge-validation.ts";
import { param, readTwilioForm, TwilioFormError } from "./form.ts";
import { type TwimlNode, twimlResponse } from "./twiml.ts";
import { verifyTwilioWebhook } from "./verify.ts";

export interface WebhookContext {
  slug: string;
  config: Config;
  /** Twilio's form parameters. */
  params: URLSearchParams;
  /** Our own query parameters on the action URL (opaque ASCII values we wrote). */
  query: URLSearchParams;
  callSid: string | undefined;
  sql(): Sql;
}

export interface WebhookResult {
  twiml: TwimlNode[];
  /** A word for the log line: what happened on this step (e.g. `menu:sales`). */
  outcome?: string;
}

/** What a step gets when it must rescue a call: the config may be what failed. */
export interface RescueContext {
  slug: string;
  config: Config | undefined;
  params: URLSearchParams;
  query: URLSearchParams;
}

export interface WebhookStep {
  slug: string;
  /** False for steps that must work with the database gone (voice-fallback): no driver is loaded. */
  usesDatabase?: boolean;
  handle(ctx: WebhookContext): Promise<WebhookResult>;
  /**
   * What Twilio gets when the step fails (or the config is invalid). Must not
   * throw. A live call: DB-free TwiML that still reaches a person or
   * voicemail. A webhook nobody waits on that must not be lost (an inbound
   * SMS; a status, recording or transcription callback): a non-2xx Response
   * (`notStoredResponse`), so Twilio retries it or uses its fallback URL.
   */
  rescue(ctx: RescueContext): TwimlNode[] | Response;
  /**
   * Only for the step of last resort (voice-fallback): what to answer a
   * request that could not be verified (no or bad signature, an account not
   * ours), instead of 400/403. DB-free, stores nothing, and reveals no number
   * or configuration: whoever sent it may not be Twilio.
   */
  unverified?(ctx: { slug: string; query: URLSearchParams; params: URLSearchParams }): TwimlNode[];
}

/**
 * What a webhook nobody waits on gets when it could not be stored: Twilio
 * retries a 5xx (with the `#rc=…&rp=…` overrides on its URL), never a 2xx.
 */
export function notStoredResponse(): Response {
  return new Response(null, { status: 503, headers: { "retry-after": "2" } });
}

function rescueResponse(rescued: TwimlNode[] | Response): Response {
  return rescued instanceof Response ? rescued : twimlResponse(rescued);
}

let subaccountTokens: SubaccountTokenLookup | undefined;

/** How long the error path may spend recording the error before answering. */
const ERROR_LOG_DEADLINE_MS = 1_000;

async function recordError(
  config: Config,
  slug: string,
  callSid: string | undefined,
  error: unknown,
) {
  const e = error instanceof Error ? error : new Error(String(error));
  try {
    const sql = await openDatabase(config.SUPABASE_DB_URL);
    await timedQuery(
      sql,
      (tx) =>
        tx`insert into public.error_logs (function_slug, call_sid, error_name, message)
           values (${slug}, ${callSid ?? null}, ${e.name}, ${e.message.slice(0, 2000)})`,
      { deadlineMs: ERROR_LOG_DEADLINE_MS },
    );
  } catch {
    // The database may be what failed; the log line below still carries it.
  }
}

/** Builds the `Deno.serve` handler for one Twilio webhook step. */
export function serveTwilioWebhook(step: WebhookStep): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    const query = new URL(req.url).searchParams;
    let normalised: string[] = [];
    const done = (
      res: Response,
      extra: { callSid?: string; outcome?: string; error?: string; params?: URLSearchParams },
    ) => {
      logRequest({
        fn: step.slug,
        callSid: extra.callSid,
        status: res.status,
        ms: Math.round(performance.now() - started),
        outcome: extra.outcome,
        // Text messages have no CallSid; their MessageSid ties the log line to the stored row.
        messageSid: extra.params?.get("MessageSid") ?? undefined,
        from: extra.params?.get("From") ?? undefined,
        to: extra.params?.get("To") ?? undefined,
        error: extra.error,
        // Which fields the edge normalised (names only, never values).
        normalised: normalised.length > 0 ? normalised : undefined,
      });
      return res;
    };

    if (req.method !== "POST") {
      return done(
        new Response("method not allowed", { status: 405, headers: { allow: "POST" } }),
        {},
      );
    }

    let form: { rawBody: string; params: URLSearchParams };
    try {
      form = await readTwilioForm(req);
    } catch (e) {
      const status = e instanceof TwilioFormError ? e.status : 400;
      return done(new Response("bad request", { status }), { error: (e as Error).message });
    }
    // The signature is over the raw values; everything else sees these.
    const { params, changed } = normaliseWebhookParams(form.params);
    normalised = changed;
    const callSid = param(params, "CallSid");

    const loaded = loadConfig();
    if (!loaded.ok) {
      // Without config we can neither verify nor look anything up; the caller
      // still hears something that ends with a person or a voicemail.
      return done(
        rescueResponse(step.rescue({ slug: step.slug, config: undefined, params, query })),
        {
          callSid,
          outcome: "rescued:config",
          error: loaded.errors.join("; "),
          params,
        },
      );
    }
    const config = loaded.config;

    subaccountTokens ??= cachedLookup(databaseLookup(config.SUPABASE_DB_URL));
    const verdict = await verifyTwilioWebhook({
      config,
      slug: step.slug,
      requestUrl: req.url,
      signature: req.headers.get("x-twilio-signature"),
      params: form.params,
      rawBody: form.rawBody,
      lookup: subaccountTokens,
    });
    if (!verdict.ok) {
      if (step.unverified) {
        // Operators must see this: a wrong PUBLIC_BASE_URL or auth token
        // sends every real call here (docs/operations.md).
        return done(twimlResponse(step.unverified({ slug: step.slug, query, params })), {
          callSid,
          outcome: `unverified:${verdict.reason}`,
          error: `answered an unverified request (${verdict.reason}) with DB-free voicemail`,
        });
      }
      if (verdict.reason === "account-lookup-failed") {
        // The database is what failed: a live call is still rescued (DB-free
        // TwiML, nothing stored); nothing is recorded for an unverified request.
        return done(
          rescueResponse(step.rescue({ slug: step.slug, config, params, query })),
          {
            callSid,
            outcome: "rescued:account-lookup",
            error: `account lookup failed: ${String(verdict.error)}`,
          },
        );
      }
      return done(new Response(null, { status: verdict.status }), {
        callSid,
        outcome: verdict.reason,
      });
    }

    try {
      // Creating the client opens no connection; it only loads the driver once.
      const sql = step.usesDatabase === false
        ? undefined
        : await openDatabase(config.SUPABASE_DB_URL);
      const ctx: WebhookContext = {
        slug: step.slug,
        config,
        params,
        query,
        callSid,
        sql: () => {
          if (!sql) throw new Error(`${step.slug} is declared database-free`);
          return sql;
        },
      };
      const result = await step.handle(ctx);
      return done(twimlResponse(result.twiml), { callSid, outcome: result.outcome, params });
    } catch (error) {
      const databaseDown = isDatabaseUnavailable(error);
      // With the database down or slow (or its circuit open), writing the
      // error there would only add its deadline to the caller's wait; the
      // log line below carries it.
      if (!databaseDown) await recordError(config, step.slug, callSid, error);
      let rescued: TwimlNode[] | Response;
      try {
        rescued = step.rescue({ slug: step.slug, config, params, query });
      } catch {
        rescued = [];
      }
      return done(rescueResponse(rescued), {
        callSid,
        outcome: databaseDown ? "rescued:database" : "rescued",
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        params,
      });
    }
  };
}
