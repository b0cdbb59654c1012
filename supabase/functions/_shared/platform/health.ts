/**
 * voice-health's checks and the pure rule that turns them into one status.
 * Operators and uptime probes read it; it never echoes a configured value.
 */
import type { ConfigResult } from "./config.ts";
import { type Sql, withDeadline } from "./db.ts";

export type CheckState = "pass" | "warn" | "fail";
export type HealthStatus = "healthy" | "degraded" | "unhealthy";

export interface CheckResult {
  state: CheckState;
  latency_ms?: number;
  detail?: string;
}

/** A database round trip slower than this is reported as degraded. */
export const SLOW_DATABASE_MS = 1_000;
/** The probe answers within 3 s even when the database hangs. */
export const DATABASE_DEADLINE_MS = 2_000;

/** Any failed check makes the whole unhealthy; any warning, degraded. */
export function overallStatus(checks: Record<string, CheckResult>): HealthStatus {
  const states = Object.values(checks).map((c) => c.state);
  if (states.includes("fail")) return "unhealthy";
  if (states.includes("warn")) return "degraded";
  return "healthy";
}

/** 200 while the service can answer calls (healthy or degraded), else 503. */
export function httpStatusFor(status: HealthStatus): number {
  return status === "unhealthy" ? 503 : 200;
}

export function checkConfig(result: ConfigResult): CheckResult {
  return result.ok ? { state: "pass" } : { state: "fail", detail: result.errors.join("; ") };
}

export async function checkDatabase(
  sql: Sql,
  deadlineMs = DATABASE_DEADLINE_MS,
): Promise<CheckResult> {
  const started = performance.now();
  try {
    await withDeadline(sql`select 1 as ok`, deadlineMs);
    const latency = Math.round(performance.now() - started);
    return latency >= SLOW_DATABASE_MS
      ? { state: "warn", latency_ms: latency, detail: "slow round trip" }
      : { state: "pass", latency_ms: latency };
  } catch (e) {
    return {
      state: "fail",
      latency_ms: Math.round(performance.now() - started),
      // The driver's message names the failure (refused, timeout), not the URL.
      detail: (e as Error).message.replace(/postgres(ql)?:\/\/\S+/g, "<database url>"),
    };
  }
}
