/**
 * The pipeline every Twilio-facing function runs: parse → verify → decide →
 * render, inside an error boundary. A function's `index.ts` only supplies its
 * step (`handle`) and what a caller hears when that step fails (`rescue`).
 *
 * Order matters: the signature is checked before any database work, so an
 * unsigned request costs us one HMAC and nothing else.
 */
import { type Config, loadConfig } from "../platform/config.ts";
import { isDatabaseUnavailable, openDatabase, type Sql, withDeadline } from "../platform/db.ts";
import { logRequest } from "../platform/log.ts";
import { param, readTwilioForm, TwilioFormError } from "./form.ts";
import { publicWebhookUrl, validateTwilioSignature } from "./signature.ts";
import { type TwimlNode, twimlResponse } from "./twiml.ts";

export interface WebhookContext {
  slug: string;
  config: Config;
  /** Twilio's form parameters. */
  params: URLSearchParams;
  /** Our own query parameters on the action URL (opaque ASCII values we wrote). */
  query: URLSearchParams;
  callSid: string | undefined;
  /** `I-Twilio-Idempotency-Token`: the same on every redelivery of one webhook. */
  idempotencyToken: string | undefined;
  /** False for a callback nobody waits on (see WebhookStep.isCallback). */
  callerWaiting: boolean;
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
  /** DB-free TwiML that still reaches a person or voicemail. Must not throw. */
  rescue(ctx: RescueContext): TwimlNode[];
  /**
   * True when no caller waits on this request (a status, recording or
   * transcription callback). Such a request that fails is answered 503, never
   * 2xx, so that Twilio delivers it again (the callback URLs carry connection
   * overrides asking for retries): nothing Twilio delivered is silently lost.
   */
  isCallback?(ctx: RescueContext): boolean;
}

/** What a callback that could not be stored gets: Twilio retries a 5xx. */
const notStored = () =>
  new Response("not stored, deliver again", {
    status: 503,
    headers: { "content-type": "text/plain", "retry-after": "2" },
  });

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
    await withDeadline(
      sql`insert into public.error_logs (function_slug, call_sid, error_name, message)
          values (${slug}, ${callSid ?? null}, ${e.name}, ${e.message.slice(0, 2000)})`,
      ERROR_LOG_DEADLINE_MS,
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
        from: extra.params?.get("From") ?? undefined,
        to: extra.params?.get("To") ?? undefined,
        error: extra.error,
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
    const { params } = form;
    const callSid = param(params, "CallSid");
    const callback = step.isCallback?.({ slug: step.slug, config: undefined, params, query }) ??
      false;

    const loaded = loadConfig();
    if (!loaded.ok) {
      // Without config we can neither verify nor look anything up; the caller
      // still hears something that ends with a person or a voicemail, and a
      // callback is refused so that it comes again once the config is fixed.
      return done(
        callback
          ? notStored()
          : twimlResponse(step.rescue({ slug: step.slug, config: undefined, params, query })),
        {
          callSid,
          outcome: "rescued:config",
          error: loaded.errors.join("; "),
          params,
        },
      );
    }
    const config = loaded.config;

    const signature = req.headers.get("x-twilio-signature");
    if (!signature) {
      return done(new Response(null, { status: 400 }), { callSid, outcome: "unsigned" });
    }
    const valid = await validateTwilioSignature({
      authToken: config.TWILIO_AUTH_TOKEN,
      signature,
      url: publicWebhookUrl(config.PUBLIC_BASE_URL, step.slug, req.url),
      params,
      rawBody: form.rawBody,
    });
    if (!valid) {
      return done(new Response(null, { status: 403 }), { callSid, outcome: "bad-signature" });
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
        idempotencyToken: req.headers.get("i-twilio-idempotency-token") ?? undefined,
        callerWaiting: !callback,
        sql: () => {
          if (!sql) throw new Error(`${step.slug} is declared database-free`);
          return sql;
        },
      };
      const result = await step.handle(ctx);
      return done(twimlResponse(result.twiml), { callSid, outcome: result.outcome, params });
    } catch (error) {
      const databaseDown = isDatabaseUnavailable(error);
      // With the database down or slow, writing the error there would only
      // add its deadline to the caller's wait; the log line below carries it.
      if (!databaseDown) await recordError(config, step.slug, callSid, error);
      const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (callback) {
        return done(notStored(), {
          callSid,
          outcome: databaseDown ? "not-stored:database" : "not-stored",
          error: described,
          params,
        });
      }
      let twiml: TwimlNode[];
      try {
        twiml = step.rescue({ slug: step.slug, config, params, query });
      } catch {
        twiml = [];
      }
      return done(twimlResponse(twiml), {
        callSid,
        outcome: databaseDown ? "rescued:database" : "rescued",
        error: described,
        params,
      });
    }
  };
}
