/**
 * Storing status callbacks, coalesced: the callbacks an isolate receives while
 * one write is in flight go to Postgres together, in one transaction
 * (voice_status_apply_batch; platform/write-coalescer.ts). Each callback is
 * still answered only after its own row committed.
 *
 * One bad callback must not keep the others from being stored: when a batch
 * fails for a reason other than the database being unavailable (a value the
 * database refuses), its callbacks are written again one by one, so only
 * that one fails (and is answered 503, as it would have been alone).
 */
import { isDatabaseUnavailable, type Sql } from "../platform/db.ts";
import { type InlineSql, inlineSql } from "../platform/sql-literal.ts";
import { WriteCoalescer, type WriteOutcome } from "../platform/write-coalescer.ts";
import type { StatusCallback } from "./lifecycle.ts";
import { runStepQuery } from "./step.ts";

/** A status callback with the call's parties, as voice_status_apply takes it. */
export interface StatusWrite {
  callback: StatusCallback;
  accountSid: string;
  from: string;
  to: string;
}

/** voice_status_apply's answer for one callback. */
export interface StatusApplied {
  duplicate: boolean;
  status: string;
  recognised: boolean;
}

/** Most callbacks in one transaction: bounds its locks, statement size and latency. */
const MAX_BATCH = 32;

function asJson(w: StatusWrite) {
  const cb = w.callback;
  return {
    call_sid: cb.callSid,
    account_sid: w.accountSid,
    from: w.from,
    to: w.to,
    status: cb.status,
    event: cb.event ?? null,
    sequence: cb.sequence ?? null,
    occurred_at: cb.occurredAt?.toISOString() ?? null,
    duration: cb.durationSeconds ?? null,
  };
}

/** The statement that stores `writes` in one transaction; its one value `r` is their answers. */
export function statusBatchStatement(writes: StatusWrite[]): InlineSql {
  return inlineSql`select public.voice_status_apply_batch(${
    JSON.stringify(writes.map(asJson))
  }::jsonb) as r`;
}

function applyBatch(sql: Sql, writes: StatusWrite[]): Promise<StatusApplied[]> {
  return runStepQuery<StatusApplied[]>(sql, statusBatchStatement(writes), { callback: true });
}

async function writeBatch(sql: Sql, writes: StatusWrite[]): Promise<WriteOutcome<StatusApplied>[]> {
  try {
    return (await applyBatch(sql, writes)).map((value) => ({ ok: true, value }));
  } catch (error) {
    if (writes.length === 1 || isDatabaseUnavailable(error)) throw error;
    return await Promise.all(writes.map(async (w) => {
      try {
        return { ok: true, value: (await applyBatch(sql, [w]))[0] } as const;
      } catch (error) {
        return { ok: false, error } as const;
      }
    }));
  }
}

let coalescer: { sql: Sql; writes: WriteCoalescer<StatusWrite, StatusApplied> } | undefined;

/** Stores one status callback (coalesced with others in flight); resolves once it committed. */
export function storeStatusCallback(sql: Sql, write: StatusWrite): Promise<StatusApplied> {
  if (coalescer?.sql !== sql) {
    coalescer = { sql, writes: new WriteCoalescer((ws) => writeBatch(sql, ws), MAX_BATCH) };
  }
  return coalescer.writes.submit(write);
}
