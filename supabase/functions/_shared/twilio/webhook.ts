/**
 * The pipeline every Twilio-facing function runs: parse → verify → decide →
 * render, inside an error boundary. A function's `index.ts` only supplies its
 * step (`handle`) and what a caller hears when that step fails (`rescue`).
 *
 * Order matters: the signature is checked before any database work, so an
 * unsigned request costs us one HMAC and nothing else.
 */
import { type Config, loadConfig } from "../platform/config.ts";
import { openDatabase, type Sql, timedQuery } from "../platform/db.ts";
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
}

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

    const loaded = loadConfig();
    if (!loaded.ok) {
      // Without config we can neither verify nor look anything up; the caller
      // still hears something that ends with a person or a voicemail.
      return done(
        twimlResponse(step.rescue({ slug: step.slug, config: undefined, params, query })),
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
        sql: () => {
          if (!sql) throw new Error(`${step.slug} is declared database-free`);
          return sql;
        },
      };
      const result = await step.handle(ctx);
      return done(twimlResponse(result.twiml), { callSid, outcome: result.outcome, params });
    } catch (error) {
      await recordError(config, step.slug, callSid, error);
      let twiml: TwimlNode[];
      try {
        twiml = step.rescue({ slug: step.slug, config, params, query });
      } catch {
        twiml = [];
      }
      return done(twimlResponse(twiml), {
        callSid,
        outcome: "rescued",
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        params,
      });
    }
  };
}
