/**
 * The functions' configuration, validated once per isolate (cold start).
 * Each missing or malformed variable gets its own message naming it; values
 * are never echoed, since most of them are secrets or phone numbers.
 */
import { checkEnv, type EnvRule, envValue } from "./env-check.ts";

const E164 = /^\+[1-9]\d{1,14}$/;

const e164 = (name: string): EnvRule => ({
  missing: `${name} is missing`,
  pattern: E164,
  invalid: `${name} must be an E.164 number like +15877428885`,
});

const AUTH_TOKEN = /^[0-9a-f]{32}$/;

const RULES: Record<keyof Config, EnvRule> = {
  TWILIO_ACCOUNT_SID: {
    missing: "TWILIO_ACCOUNT_SID is missing",
    pattern: /^AC[0-9a-f]{32}$/,
    invalid: "TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits",
  },
  TWILIO_AUTH_TOKEN: {
    missing: "TWILIO_AUTH_TOKEN is missing",
    pattern: AUTH_TOKEN,
    invalid: "TWILIO_AUTH_TOKEN must be 32 hex digits",
  },
  // Set only while a rotation is under way: webhooks Twilio signed with the
  // old token (in flight, or before the new one took effect) still verify.
  TWILIO_AUTH_TOKEN_PREVIOUS: {
    pattern: AUTH_TOKEN,
    invalid: "TWILIO_AUTH_TOKEN_PREVIOUS must be 32 hex digits",
  },
  PUBLIC_BASE_URL: {
    missing: "PUBLIC_BASE_URL is missing",
    pattern: /^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?\/functions\/v1\/?$/,
    invalid: "PUBLIC_BASE_URL must be an http(s) URL ending in /functions/v1",
  },
  HOTLINE_E164: e164("HOTLINE_E164"),
  SALES_TARGET_E164: e164("SALES_TARGET_E164"),
  SUPPORT_TARGET_E164: e164("SUPPORT_TARGET_E164"),
  SUPABASE_DB_URL: {
    missing: "SUPABASE_DB_URL is missing",
    pattern: /^postgres(ql)?:\/\/\S+$/,
    invalid: "SUPABASE_DB_URL must be a postgres:// or postgresql:// URL",
  },
};

export interface Config {
  TWILIO_ACCOUNT_SID: string;
  TWILIO_AUTH_TOKEN: string;
  TWILIO_AUTH_TOKEN_PREVIOUS?: string;
  PUBLIC_BASE_URL: string;
  HOTLINE_E164: string;
  SALES_TARGET_E164: string;
  SUPPORT_TARGET_E164: string;
  SUPABASE_DB_URL: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/**
 * Validates the given environment; every problem is reported, one per variable.
 * `SUPABASE_DB_URL` in the result is the database the functions use:
 * `HOTLINE_DB_URL` when set (hosted Supabase refuses secrets named
 * `SUPABASE_*`, so the transaction pooler's URL is set under this name), else
 * the `SUPABASE_DB_URL` Supabase injects.
 */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const present = Object.fromEntries(
    Object.keys(RULES).map((k) => [k, envValue(env, k)]),
  ) as Record<keyof Config, string | undefined>;
  const override = envValue(env, "HOTLINE_DB_URL");
  if (override) present.SUPABASE_DB_URL = override;
  const errors = checkEnv(present, RULES);
  if (errors.length === 0) {
    const config = present as Config;
    return {
      ok: true,
      config: { ...config, PUBLIC_BASE_URL: config.PUBLIC_BASE_URL.replace(/\/$/, "") },
    };
  }
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
