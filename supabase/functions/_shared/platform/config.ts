/**
 * The functions' configuration, validated once per isolate (cold start).
 * Each missing or malformed variable gets its own message naming it; values
 * are never echoed, since most of them are secrets or phone numbers.
 */
import * as z from "zod/mini";

const E164 = /^\+[1-9]\d{1,14}$/;

const e164 = (name: string) =>
  z.string(`${name} is missing`).check(
    z.regex(E164, `${name} must be an E.164 number like +15877428885`),
  );

const authToken = (name: string) =>
  z.string(`${name} is missing`).check(
    z.regex(/^[0-9a-f]{32}$/, `${name} must be 32 hex digits`),
  );

const schema = z.object({
  TWILIO_ACCOUNT_SID: z.string("TWILIO_ACCOUNT_SID is missing").check(
    z.regex(/^AC[0-9a-f]{32}$/, "TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"),
  ),
  TWILIO_AUTH_TOKEN: authToken("TWILIO_AUTH_TOKEN"),
  // Set only while a rotation is under way: webhooks Twilio signed with the
  // old token (in flight, or before the new one took effect) still verify.
  TWILIO_AUTH_TOKEN_PREVIOUS: z.optional(authToken("TWILIO_AUTH_TOKEN_PREVIOUS")),
  PUBLIC_BASE_URL: z.string("PUBLIC_BASE_URL is missing").check(
    z.regex(
      /^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?\/functions\/v1\/?$/,
      "PUBLIC_BASE_URL must be an http(s) URL ending in /functions/v1",
    ),
  ),
  HOTLINE_E164: e164("HOTLINE_E164"),
  SALES_TARGET_E164: e164("SALES_TARGET_E164"),
  SUPPORT_TARGET_E164: e164("SUPPORT_TARGET_E164"),
  SUPABASE_DB_URL: z.string("SUPABASE_DB_URL is missing").check(
    z.regex(
      /^postgres(ql)?:\/\/\S+$/,
      "SUPABASE_DB_URL must be a postgres:// or postgresql:// URL",
    ),
  ),
});

export type Config = z.infer<typeof schema>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/**
 * Validates the given environment; every problem is reported, one per variable.
 * `SUPABASE_DB_URL` in the result is the database the functions use:
 * `HOTLINE_DB_URL` when set (hosted Supabase refuses secrets named
 * `SUPABASE_*`, so the transaction pooler's URL is set under this name), else
 * the `SUPABASE_DB_URL` Supabase injects.
 */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  // An empty variable is as good as missing (a blank line in .env).
  const present = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [k, env[k]?.trim() || undefined]),
  );
  const override = env.HOTLINE_DB_URL?.trim();
  if (override) present.SUPABASE_DB_URL = override;
  const result = schema.safeParse(present);
  if (result.success) {
    return {
      ok: true,
      config: { ...result.data, PUBLIC_BASE_URL: result.data.PUBLIC_BASE_URL.replace(/\/$/, "") },
    };
  }
  const errors = result.error.issues.map((i) => i.message);
  return {
    ok: false,
    errors: override
      ? errors.map((m) => m.replace(/^SUPABASE_DB_URL\b/, "HOTLINE_DB_URL"))
      : errors,
  };
}

let cached: ConfigResult | undefined;

/** The isolate's configuration, read from Deno.env on first use. */
export function loadConfig(): ConfigResult {
  if (!cached) {
    cached = parseConfig(Deno.env.toObject());
    if (!cached.ok) {
      console.error(
        JSON.stringify({ level: "error", msg: "invalid configuration", errors: cached.errors }),
      );
    }
  }
  return cached;
}
