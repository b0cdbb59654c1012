/**
 * The admin audit log: one row per request, refused ones included (who,
 * what, when, outcome). The table refuses update and delete (see its
 * migration); this module only ever inserts.
 *
 * The row is written before the answer goes out. Which way it reaches the
 * database:
 * - the driver's pool, once the isolate has loaded the driver (any request
 *   that got past the admin key has);
 * - for the isolate's first row, if the driver is not loaded yet, the probe's
 *   own connection (platform/pg-probe.ts): a refused request is the one kind
 *   that needs no other database work, and a cold isolate's first answer
 *   should not wait for the driver's import (~35 ms, more than a bare
 *   Deno.serve's whole start; bench/cold-start.bench.ts). Once only: a burst
 *   of refusals, or a scanner's one at a time, does not open and
 *   authenticate a connection per request; the others load the driver and
 *   share its pool.
 */
import type { AdminKeyVerdict } from "./admin-key.ts";
import { loadedDatabase, openDatabase, timedQuery, withStatementTimeout } from "../platform/db.ts";
import { queryOverProbe } from "../platform/pg-probe.ts";
import { type InlineSql, inlineSql } from "../platform/sql-literal.ts";

export interface AuditEntry {
  slug: string;
  actor: AdminKeyVerdict;
  clientIp: string | null;
  userAgent: string | null;
  method: string;
  path: string;
  idempotencyKey: string | null;
  request: unknown;
  status: number;
  outcome: string;
  transactionId: string | null;
  durationMs: number;
}

const AUDIT_DEADLINE_MS = 2_000;

/** The probe was used (or is in use): every later row goes through the driver. */
let probeUsed = false;

/** The entry's insert, its values written in as literals (the probe sends no parameters). */
function auditInsert(e: AuditEntry): InlineSql {
  const request = e.request === undefined ? null : JSON.stringify(e.request);
  return inlineSql`insert into public.admin_audit_log
      (function_slug, actor, client_ip, user_agent, method, path, idempotency_key, request,
       status, outcome, transaction_id, duration_ms)
    values (${e.slug}, ${e.actor}, ${e.clientIp}, ${e.userAgent?.slice(0, 300) ?? null},
            ${e.method}, ${e.path.slice(0, 500)}, ${e.idempotencyKey?.slice(0, 255) ?? null},
            ${request}::jsonb, ${e.status}, ${e.outcome.slice(0, 100)}, ${e.transactionId}::uuid,
            ${e.durationMs})`;
}

/** Appends the entry. Throws when it cannot be stored (the caller logs it). */
export async function writeAudit(databaseUrl: string, e: AuditEntry): Promise<void> {
  const insert = auditInsert(e);
  if (!loadedDatabase() && !probeUsed) {
    probeUsed = true;
    const written = await queryOverProbe(databaseUrl, withStatementTimeout(insert), {
      deadlineMs: AUDIT_DEADLINE_MS,
    });
    if (written) return;
  }
  // In a reserved transaction (a Statement, not the InlineSql itself): sent
  // as one unreserved Query instead, beside the provisioning steps' own
  // transactions (sql.begin), a request waited forever through PgBouncer
  // (tests/integration/provisioning-recovery.test.ts, 20 at once: 2 runs in 3).
  await timedQuery(await openDatabase(databaseUrl), (tx) => tx.unsafe(insert.text), {
    deadlineMs: AUDIT_DEADLINE_MS,
  });
}
