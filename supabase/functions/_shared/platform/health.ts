/**
 * voice-health's checks and the pure rule that turns them into one status.
 * Operators and uptime probes read it; it never echoes a configured value.
 */
import type { ConfigResult } from "./config.ts";
import { DeadlineExceeded, openDatabase, withDeadline } from "./db.ts";
import { queryOverProbe } from "./pg-probe.ts";

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

/**
 * The tables every call step writes. A lock on one of them that blocks
 * inserts and updates makes every call wait for its deadline and be rescued,
 * while `select 1` still answers at once.
 */
export const CALL_TABLES = [
  "public.call_logs",
  "public.call_lifecycle",
  "public.call_recording_consent",
  "public.analytics_events",
  "public.idempotency_keys",
  "public.voicemails",
] as const;

/** The lock modes that conflict with the ROW EXCLUSIVE lock an INSERT or UPDATE takes. */
const WRITE_BLOCKING_LOCKS = [
  "ShareLock",
  "ShareRowExclusiveLock",
  "ExclusiveLock",
  "AccessExclusiveLock",
];

const literals = (xs: readonly string[]) =>
  xs.map((x) => `'${x.replaceAll("'", "''")}'`).join(", ");

/**
 * How many locks that block call writes are held on the call tables.
 * `pg_locks` and `to_regclass` take no lock on those tables, so the probe
 * itself never waits behind the lock it looks for. Our own constants, inlined:
 * the probe speaks the simple query protocol only.
 */
const BLOCKING_LOCKS_QUERY = `select count(*)::int as blocking
  from pg_catalog.pg_locks l
 where l.granted
   and l.mode in (${literals(WRITE_BLOCKING_LOCKS)})
   and l.relation in (
     select pg_catalog.to_regclass(t) from unnest(array[${literals(CALL_TABLES)}]) t
   )`;

export interface DatabaseChecks {
  /** Reachable, and how fast it answers. */
  database: CheckResult;
  /** Whether the tables calls write accept writes now. */
  call_path: CheckResult;
}

/**
 * The count of write-blocking locks, asked on a connection of the probe's own
 * (pg-probe.ts), so the first answer of a cold isolate does not wait for the
 * driver's import. Where the probe does not speak what the URL or server
 * needs (TLS, md5 and other methods), the driver asks instead.
 */
async function countBlockingLocks(databaseUrl: string, deadlineMs: number): Promise<number> {
  const started = performance.now();
  const rows = await queryOverProbe(databaseUrl, BLOCKING_LOCKS_QUERY, { deadlineMs });
  if (rows) return Number(rows[0]?.[0] ?? 0);
  const remainingMs = Math.max(1, deadlineMs - (performance.now() - started));
  const sql = await openDatabase(databaseUrl);
  const [row] = await withDeadline(sql.unsafe(BLOCKING_LOCKS_QUERY), remainingMs);
  return Number(row?.blocking ?? 0);
}

// Concurrent requests share the check already in flight (begun at most one
// deadline earlier), so a flood of probes opens one connection at a time.
const inFlight = new Map<string, Promise<number>>();

function sharedCount(databaseUrl: string, deadlineMs: number): Promise<number> {
  let count = inFlight.get(databaseUrl);
  if (!count) {
    count = countBlockingLocks(databaseUrl, deadlineMs)
      .finally(() => inFlight.delete(databaseUrl));
    inFlight.set(databaseUrl, count);
  }
  return count;
}

/**
 * One round trip that answers both: the database's latency, and whether the
 * call tables accept writes now. The public answer names what failed in fixed
 * words; the driver's message (host, port, role) goes to the log only.
 */
export async function checkDatabase(
  databaseUrl: string,
  deadlineMs = DATABASE_DEADLINE_MS,
): Promise<DatabaseChecks> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const blocking = await sharedCount(databaseUrl, deadlineMs);
    const latency = elapsed();
    const database: CheckResult = latency >= SLOW_DATABASE_MS
      ? { state: "warn", latency_ms: latency, detail: "slow round trip" }
      : { state: "pass", latency_ms: latency };
    const call_path: CheckResult = blocking > 0
      ? { state: "warn", detail: "call tables locked against writes: calls wait and are rescued" }
      : { state: "pass" };
    return { database, call_path };
  } catch (e) {
    const timedOut = e instanceof DeadlineExceeded;
    console.error(JSON.stringify({
      level: "error",
      msg: "health: database check failed",
      error: `${(e as Error).name}: ${(e as Error).message}`,
    }));
    return {
      database: {
        state: "fail",
        latency_ms: elapsed(),
        detail: timedOut ? `no answer within ${deadlineMs} ms` : "unreachable or refusing queries",
      },
      call_path: { state: "fail", detail: "not checked: database failed" },
    };
  }
}
