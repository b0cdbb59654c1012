/**
 * The admin audit log: one row per request, refused ones included (who,
 * what, when, outcome). The table refuses update and delete (see its
 * migration); this module only ever inserts.
 */
import type { AdminKeyVerdict } from "./admin-key.ts";
import { type Sql, timedQuery } from "../platform/db.ts";

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

/** Appends the entry. Throws when it cannot be stored (the caller logs it). */
export async function writeAudit(sql: Sql, e: AuditEntry): Promise<void> {
  await timedQuery(
    sql,
    (tx) =>
      tx`insert into public.admin_audit_log
          (function_slug, actor, client_ip, user_agent, method, path, idempotency_key, request,
           status, outcome, transaction_id, duration_ms)
        values (${e.slug}, ${e.actor}, ${e.clientIp}, ${e.userAgent?.slice(0, 300) ?? null},
                ${e.method}, ${e.path.slice(0, 500)}, ${e.idempotencyKey?.slice(0, 255) ?? null},
                ${e.request === undefined ? null : tx.json(e.request as never)}, ${e.status},
                ${e.outcome.slice(0, 100)}, ${e.transactionId}, ${e.durationMs})`,
    { deadlineMs: AUDIT_DEADLINE_MS },
  );
}
