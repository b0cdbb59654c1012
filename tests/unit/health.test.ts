import assert from "node:assert/strict";
import { httpStatusFor, overallStatus } from "../../supabase/functions/_shared/platform/health.ts";

Deno.test("health: all checks pass → healthy, 200", () => {
  const s = overallStatus({ a: { state: "pass" }, b: { state: "pass" } });
  assert.equal(s, "healthy");
  assert.equal(httpStatusFor(s), 200);
});

Deno.test("health: a warning → degraded, still 200", () => {
  const s = overallStatus({ a: { state: "pass" }, b: { state: "warn" } });
  assert.equal(s, "degraded");
  assert.equal(httpStatusFor(s), 200);
});

Deno.test("health: a failure wins over warnings → unhealthy, 503", () => {
  const s = overallStatus({ a: { state: "warn" }, b: { state: "fail" } });
  assert.equal(s, "unhealthy");
  assert.equal(httpStatusFor(s), 503);
});
