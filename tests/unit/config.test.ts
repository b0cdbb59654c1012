import assert from "node:assert/strict";
import { parseConfig } from "../../supabase/functions/_shared/platform/config.ts";

const valid = {
  TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
  TWILIO_AUTH_TOKEN: "0123456789abcdef0123456789abcdef",
  PUBLIC_BASE_URL: "https://abc.supabase.co/functions/v1",
  HOTLINE_E164: "+15877428885",
  SALES_TARGET_E164: "+15875550101",
  SUPPORT_TARGET_E164: "+15875550102",
  SUPABASE_DB_URL: "postgresql://postgres:secret@db.example:6543/postgres",
};

Deno.test("config: a complete environment parses", () => {
  const result = parseConfig(valid);
  assert.ok(result.ok);
  assert.equal(result.config.HOTLINE_E164, "+15877428885");
});

Deno.test("config: a trailing slash on PUBLIC_BASE_URL is dropped", () => {
  const result = parseConfig({
    ...valid,
    PUBLIC_BASE_URL: "https://abc.supabase.co/functions/v1/",
  });
  assert.ok(result.ok);
  assert.equal(result.config.PUBLIC_BASE_URL, "https://abc.supabase.co/functions/v1");
});

for (const name of Object.keys(valid)) {
  Deno.test(`config: missing ${name} is named`, () => {
    const env: Record<string, string | undefined> = { ...valid, [name]: undefined };
    const result = parseConfig(env);
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [`${name} is missing`]);
  });
  Deno.test(`config: blank ${name} counts as missing`, () => {
    const result = parseConfig({ ...valid, [name]: "   " });
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [`${name} is missing`]);
  });
}

const malformed: Record<string, string> = {
  TWILIO_ACCOUNT_SID: "AC123",
  TWILIO_AUTH_TOKEN: "not-a-token",
  PUBLIC_BASE_URL: "https://abc.supabase.co/rest/v1",
  HOTLINE_E164: "587-742-8885",
  SALES_TARGET_E164: "+05875550101",
  SUPPORT_TARGET_E164: "15875550102",
  SUPABASE_DB_URL: "mysql://localhost/db",
};

for (const [name, bad] of Object.entries(malformed)) {
  Deno.test(`config: malformed ${name} gets its own message, value not echoed`, () => {
    const result = parseConfig({ ...valid, [name]: bad });
    assert.ok(!result.ok);
    assert.equal(result.errors.length, 1);
    assert.match(result.errors[0], new RegExp(`^${name} must be`));
    assert.ok(!result.errors[0].includes(bad), "the message must not echo the value");
  });
}

Deno.test("config: several problems are all reported", () => {
  const result = parseConfig({ ...valid, HOTLINE_E164: "x", TWILIO_AUTH_TOKEN: undefined });
  assert.ok(!result.ok);
  assert.equal(result.errors.length, 2);
});

Deno.test("config: TWILIO_AUTH_TOKEN_PREVIOUS is optional, and checked when set", () => {
  const without = parseConfig(valid);
  assert.ok(without.ok);
  assert.equal(without.config.TWILIO_AUTH_TOKEN_PREVIOUS, undefined);
  const rotating = parseConfig({ ...valid, TWILIO_AUTH_TOKEN_PREVIOUS: "f".repeat(32) });
  assert.ok(rotating.ok);
  assert.equal(rotating.config.TWILIO_AUTH_TOKEN_PREVIOUS, "f".repeat(32));
  const blank = parseConfig({ ...valid, TWILIO_AUTH_TOKEN_PREVIOUS: " " });
  assert.ok(blank.ok);
  const bad = parseConfig({ ...valid, TWILIO_AUTH_TOKEN_PREVIOUS: "not-a-token" });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors, ["TWILIO_AUTH_TOKEN_PREVIOUS must be 32 hex digits"]);
});

Deno.test("config: HOTLINE_DB_URL wins over SUPABASE_DB_URL (hosted refuses SUPABASE_* secrets)", () => {
  const pooler = "postgresql://postgres.ref:secret@aws-0.pooler.supabase.com:6543/postgres";
  const result = parseConfig({ ...valid, HOTLINE_DB_URL: pooler });
  assert.ok(result.ok);
  assert.equal(result.config.SUPABASE_DB_URL, pooler);
});

Deno.test("config: HOTLINE_DB_URL alone is enough, and a bad one is named", () => {
  const alone = parseConfig({
    ...valid,
    SUPABASE_DB_URL: undefined,
    HOTLINE_DB_URL: valid.SUPABASE_DB_URL,
  });
  assert.ok(alone.ok);
  const bad = parseConfig({ ...valid, HOTLINE_DB_URL: "mysql://localhost/db" });
  assert.ok(!bad.ok);
  assert.match(bad.errors[0], /^HOTLINE_DB_URL must be/);
});
