/**
 * Configuration of the admin functions, validated once per isolate. Kept
 * apart from the voice functions' config (platform/config.ts): a missing
 * ADMIN_API_KEY or Twilio REST setting must never stop a call being answered.
 */
import { checkEnv, type EnvRule, envValue } from "../platform/env-check.ts";
import { DEFAULT_TWILIO_TIMEOUT_MS } from "../twilio/rest-client.ts";

const RULES: Record<string, EnvRule> = {
  ADMIN_API_KEY: {
    missing: "ADMIN_API_KEY is missing",
    pattern: /^.{32,}$/s,
    invalid: "ADMIN_API_KEY must be at least 32 characters",
  },
  TWILIO_ACCOUNT_SID: {
    missing: "TWILIO_ACCOUNT_SID is missing",
    pattern: /^AC[0-9a-f]{32}$/,
    invalid: "TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits",
  },
  TWILIO_AUTH_TOKEN: { missing: "TWILIO_AUTH_TOKEN is missing" },
  TWILIO_API_KEY_SID: {
    pattern: /^SK[0-9a-f]{32}$/,
    invalid: "TWILIO_API_KEY_SID must be SK + 32 hex digits",
  },
  TWILIO_API_BASE_URL: {
    pattern: /^https?:\/\/[^/\s?#]+\/?$/,
    invalid: "TWILIO_API_BASE_URL must be an http(s) origin",
  },
  TWILIO_API_TIMEOUT_MS: {
    pattern: /^\d+$/,
    invalid: "TWILIO_API_TIMEOUT_MS must be a whole number of milliseconds",
  },
  PUBLIC_BASE_URL: {
    missing: "PUBLIC_BASE_URL is missing",
    pattern: /^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?\/functions\/v1\/?$/,
    invalid: "PUBLIC_BASE_URL must be an http(s) URL ending in /functions/v1",
  },
  DB_URL: {
    missing: "SUPABASE_DB_URL (or HOTLINE_DB_URL) is missing",
    pattern: /^postgres(ql)?:\/\/\S+$/,
    invalid: "the database URL must be a postgres:// URL",
  },
};

/** The variables without which the admin API does nothing. */
type RequiredName =
  | "ADMIN_API_KEY"
  | "TWILIO_ACCOUNT_SID"
  | "TWILIO_AUTH_TOKEN"
  | "PUBLIC_BASE_URL"
  | "DB_URL";

export interface AdminConfig {
  ADMIN_API_KEY: string;
  TWILIO_ACCOUNT_SID: string;
  TWILIO_AUTH_TOKEN: string;
  TWILIO_API_KEY_SID?: string;
  TWILIO_API_KEY_SECRET?: string;
  TWILIO_API_BASE_URL: string;
  TWILIO_API_TIMEOUT_MS: number;
  PUBLIC_BASE_URL: string;
  DB_URL: string;
}
export type AdminConfigResult = { ok: true; config: AdminConfig } | {
  ok: false;
  errors: string[];
};

/** Validates the admin functions' environment; every problem is reported. */
export function parseAdminConfig(env: Record<string, string | undefined>): AdminConfigResult {
  const get = (k: string) => envValue(env, k);
  const values = {
    ADMIN_API_KEY: get("ADMIN_API_KEY"),
    TWILIO_ACCOUNT_SID: get("TWILIO_ACCOUNT_SID"),
    TWILIO_AUTH_TOKEN: get("TWILIO_AUTH_TOKEN"),
    TWILIO_API_KEY_SID: get("TWILIO_API_KEY_SID"),
    TWILIO_API_KEY_SECRET: get("TWILIO_API_KEY_SECRET"),
    TWILIO_API_BASE_URL: get("TWILIO_API_BASE_URL") ?? "https://api.twilio.com",
    TWILIO_API_TIMEOUT_MS: get("TWILIO_API_TIMEOUT_MS") ?? String(DEFAULT_TWILIO_TIMEOUT_MS),
    PUBLIC_BASE_URL: get("PUBLIC_BASE_URL"),
    // HOTLINE_DB_URL wins: hosted Supabase refuses secrets named SUPABASE_*.
    DB_URL: get("HOTLINE_DB_URL") ?? get("SUPABASE_DB_URL"),
  };
  const errors = checkEnv(values, RULES);
  const timeoutMs = Number(values.TWILIO_API_TIMEOUT_MS);
  if (timeoutMs < 50) errors.push("TWILIO_API_TIMEOUT_MS must be at least 50");
  if (timeoutMs > 19_000) errors.push("TWILIO_API_TIMEOUT_MS must stay under 20 s");
  if (errors.length > 0) return { ok: false, errors };
  // Every required value is present now (checkEnv reported any missing).
  const checked = values as typeof values & Pick<AdminConfig, RequiredName>;
  return {
    ok: true,
    config: {
      ...checked,
      TWILIO_API_TIMEOUT_MS: timeoutMs,
      PUBLIC_BASE_URL: checked.PUBLIC_BASE_URL.replace(/\/$/, ""),
    },
  };
}
