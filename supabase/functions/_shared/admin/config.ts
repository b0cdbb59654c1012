/**
 * Configuration of the admin functions, validated once per isolate. Kept
 * apart from the voice functions' config (platform/config.ts): a missing
 * ADMIN_API_KEY or Twilio REST setting must never stop a call being answered.
 */
import * as z from "zod/mini";
import { DEFAULT_TWILIO_TIMEOUT_MS } from "../twilio/rest-client.ts";

const schema = z.object({
  ADMIN_API_KEY: z.string("ADMIN_API_KEY is missing").check(
    z.minLength(32, "ADMIN_API_KEY must be at least 32 characters"),
  ),
  TWILIO_ACCOUNT_SID: z.string("TWILIO_ACCOUNT_SID is missing").check(
    z.regex(/^AC[0-9a-f]{32}$/, "TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"),
  ),
  TWILIO_AUTH_TOKEN: z.string("TWILIO_AUTH_TOKEN is missing"),
  TWILIO_API_KEY_SID: z.optional(
    z.string().check(z.regex(/^SK[0-9a-f]{32}$/, "TWILIO_API_KEY_SID must be SK + 32 hex digits")),
  ),
  TWILIO_API_KEY_SECRET: z.optional(z.string()),
  TWILIO_API_BASE_URL: z.string().check(
    z.regex(/^https?:\/\/[^/\s?#]+\/?$/, "TWILIO_API_BASE_URL must be an http(s) origin"),
  ),
  TWILIO_API_TIMEOUT_MS: z.coerce.number().check(
    z.minimum(50, "TWILIO_API_TIMEOUT_MS must be at least 50"),
    z.maximum(19_000, "TWILIO_API_TIMEOUT_MS must stay under 20 s"),
  ),
  PUBLIC_BASE_URL: z.string("PUBLIC_BASE_URL is missing").check(
    z.regex(
      /^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?\/functions\/v1\/?$/,
      "PUBLIC_BASE_URL must be an http(s) URL ending in /functions/v1",
    ),
  ),
  DB_URL: z.string("SUPABASE_DB_URL (or HOTLINE_DB_URL) is missing").check(
    z.regex(/^postgres(ql)?:\/\/\S+$/, "the database URL must be a postgres:// URL"),
  ),
});

export type AdminConfig = z.infer<typeof schema>;
export type AdminConfigResult = { ok: true; config: AdminConfig } | {
  ok: false;
  errors: string[];
};

/** Validates the admin functions' environment; every problem is reported. */
export function parseAdminConfig(env: Record<string, string | undefined>): AdminConfigResult {
  const get = (k: string) => env[k]?.trim() || undefined;
  const result = schema.safeParse({
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
  });
  if (!result.success) return { ok: false, errors: result.error.issues.map((i) => i.message) };
  return {
    ok: true,
    config: { ...result.data, PUBLIC_BASE_URL: result.data.PUBLIC_BASE_URL.replace(/\/$/, "") },
  };
}
