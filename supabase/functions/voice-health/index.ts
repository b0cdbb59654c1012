/** GET → JSON health of the hotline: 200 healthy/degraded, 503 unhealthy. */
import { loadConfig } from "../_shared/platform/config.ts";
import {
  checkConfig,
  checkDatabase,
  type CheckResult,
  httpStatusFor,
  overallStatus,
} from "../_shared/platform/health.ts";
import { logRequest } from "../_shared/platform/log.ts";
import { HOTLINE_VERSION } from "../_shared/platform/version.ts";

Deno.serve(async (req) => {
  const started = performance.now();
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response(JSON.stringify({ error: "method not allowed" }), {
      status: 405,
      headers: { allow: "GET, HEAD", "content-type": "application/json" },
    });
  }
  const config = loadConfig();
  const notChecked: CheckResult = {
    state: "fail",
    detail: "not checked: configuration is invalid",
  };
  const checks: Record<string, CheckResult> = {
    configuration: checkConfig(config),
    ...(config.ok
      ? await checkDatabase(config.config.SUPABASE_DB_URL)
      : { database: notChecked, call_path: notChecked }),
  };
  const status = overallStatus(checks);
  const body = { status, checks, version: HOTLINE_VERSION, timestamp: new Date().toISOString() };
  const res = new Response(req.method === "HEAD" ? null : JSON.stringify(body), {
    status: httpStatusFor(status),
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
  logRequest({
    fn: "voice-health",
    status: res.status,
    ms: Math.round(performance.now() - started),
    outcome: status,
  });
  return res;
});
