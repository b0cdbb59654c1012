import assert from "node:assert/strict";
import {
  constantTimeEqual,
  verifyAdminKey,
} from "../../supabase/functions/_shared/admin/admin-key.ts";
import { parseAdminConfig } from "../../supabase/functions/_shared/admin/config.ts";
import { parseConfig } from "../../supabase/functions/_shared/platform/config.ts";
import { exampleEnv } from "../support/function-process.ts";

const KEY = "k".repeat(40);

Deno.test("admin key: bearer only, exact match; missing and wrong told apart", async () => {
  assert.equal(await verifyAdminKey(`Bearer ${KEY}`, KEY), "admin");
  assert.equal(await verifyAdminKey(`bearer ${KEY}`, KEY), "admin");
  assert.equal(await verifyAdminKey(null, KEY), "anonymous");
  assert.equal(await verifyAdminKey("Basic abc", KEY), "anonymous");
  assert.equal(await verifyAdminKey("Bearer", KEY), "anonymous");
  assert.equal(await verifyAdminKey(`Bearer ${KEY}x`, KEY), "invalid-key");
  assert.equal(await verifyAdminKey(`Bearer ${KEY.slice(1)}`, KEY), "invalid-key");
  assert.equal(await constantTimeEqual("a", "a"), true);
  assert.equal(await constantTimeEqual("a", "b"), false);
});

Deno.test("admin config: the committed defaults are valid; the key needs 32 characters", () => {
  const env = exampleEnv();
  const ok = parseAdminConfig({ ...env, SUPABASE_DB_URL: "postgresql://u:p@h/db" });
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.equal(ok.config.TWILIO_API_BASE_URL, "https://api.twilio.com");
  assert.equal(ok.config.TWILIO_API_TIMEOUT_MS, 8_000);
  const short = parseAdminConfig({
    ...env,
    ADMIN_API_KEY: "short",
    SUPABASE_DB_URL: "postgres://h/d",
  });
  assert.ok(!short.ok);
  assert.deepEqual(short.errors, ["ADMIN_API_KEY must be at least 32 characters"]);
  const slow = parseAdminConfig({
    ...env,
    TWILIO_API_TIMEOUT_MS: "25000",
    SUPABASE_DB_URL: "postgres://h/d",
  });
  assert.ok(!slow.ok);
  assert.match(slow.errors.join(), /under 20 s/);
  const garbled = parseAdminConfig({
    ...env,
    TWILIO_API_TIMEOUT_MS: "8 s",
    SUPABASE_DB_URL: "postgres://h/d",
  });
  assert.ok(!garbled.ok);
  assert.deepEqual(garbled.errors, [
    "TWILIO_API_TIMEOUT_MS must be a whole number of milliseconds",
  ]);
  const hotline = parseAdminConfig({
    ...env,
    SUPABASE_DB_URL: "postgres://a/a",
    HOTLINE_DB_URL: "postgres://b/b",
  });
  assert.ok(hotline.ok && hotline.config.DB_URL === "postgres://b/b");
});

Deno.test("admin config is not required by the voice functions", () => {
  const env = exampleEnv();
  delete env.ADMIN_API_KEY;
  delete env.TWILIO_API_BASE_URL;
  assert.ok(parseConfig({ ...env, SUPABASE_DB_URL: "postgres://h/d" }).ok);
  assert.ok(!parseAdminConfig({ ...env, SUPABASE_DB_URL: "postgres://h/d" }).ok);
});
