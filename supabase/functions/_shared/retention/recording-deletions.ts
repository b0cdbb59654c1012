/**
 * Deletes at Twilio the recordings whose voicemail rows were deleted
 * (retention or an operator). The database queued each one in the outbox
 * `twilio_recording_deletions` in the same transaction as the delete; this
 * worker claims them (leases, `skip locked`: concurrent workers never share a
 * row), sends DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json
 * and reports back:
 *
 * - 204, or 404 (gone already: an earlier attempt whose answer was lost, or
 *   someone deleted it in the console): done;
 * - transient (no answer, 429, 5xx, Twilio's 20429/20500/20503): retried by
 *   a later run, backing off with the row's attempts;
 * - anything else (credentials, a closed account): recorded in `last_error`
 *   as `permanent …`, written to error_logs (so `recent_errors` shows it) and
 *   tried again only a day later, after an operator could act.
 *
 * The REST client holds the main account's credentials (auth token or a Main
 * API key), which Twilio accepts for its subaccounts' resources too: a
 * subaccount's recording is deleted under its own AccountSid with them.
 * DELETE is the one write Twilio makes safe to resend, so the client's blind
 * retries apply and a lost answer costs nothing but a 404 later.
 */
import type { Sql } from "../platform/db.ts";
import {
  accountPath,
  TWILIO_CALL_BUDGET_MS,
  type TwilioErrorClass,
  type TwilioRestClient,
  TwilioRestError,
} from "../twilio/rest-client.ts";

/** First retry after a transient failure; doubled per attempt up to the cap. */
export const FIRST_RETRY_SECONDS = 60;
export const MAX_TRANSIENT_RETRY_SECONDS = 3_600;
/** A permanent failure is tried again after a day (an operator may have fixed the cause). */
export const PERMANENT_RETRY_SECONDS = 86_400;

export interface RecordingDeletionOptions {
  /** Who claims the rows (the outbox's claimed_by). */
  worker: string;
  /** No new claim after this long; a deletion under way may take one Twilio call budget more. */
  budgetMs?: number;
  /** Deletions in flight at once. */
  concurrency?: number;
  /** Claim lease: longer than one Twilio call with its retries, so no claim expires mid-call. */
  leaseSeconds?: number;
}

/** What one run did, for the resume endpoint's answer and the logs. */
export interface RecordingDeletionRun {
  deleted: number;
  alreadyGone: number;
  retryLater: number;
  failed: number;
}

/** What to write back for a deletion that did not succeed. */
export interface DeletionFailure {
  permanent: boolean;
  /** Class, status and code only: one group per cause in recent_errors. */
  reason: string;
  /** last_error: the class first, so operators can filter on `permanent%`. */
  error: string;
  retryAfterSeconds: number;
}

/** The pause before the next try: exponential for transient failures, a day for the rest. */
export function retryDelaySeconds(errorClass: TwilioErrorClass, attempts: number): number {
  if (errorClass !== "transient") return PERMANENT_RETRY_SECONDS;
  const doublings = Math.min(Math.max(attempts - 1, 0), 16);
  return Math.min(FIRST_RETRY_SECONDS * 2 ** doublings, MAX_TRANSIENT_RETRY_SECONDS);
}

/** Classifies a failed DELETE (`attempts`: the row's count, this one included). */
export function deletionFailure(error: unknown, attempts: number): DeletionFailure {
  if (!(error instanceof TwilioRestError)) {
    // Not Twilio's answer (a bug, the network stack): try again later.
    return {
      permanent: false,
      reason: "transient: no answer from Twilio",
      error: `transient: ${String(error)}`,
      retryAfterSeconds: retryDelaySeconds("transient", attempts),
    };
  }
  const { errorClass, status, code } = error.details;
  const permanent = errorClass !== "transient";
  const reason = `${permanent ? "permanent" : "transient"}: HTTP ${status}${
    code ? ` (${code})` : ""
  }`;
  return {
    permanent,
    reason,
    error: `${reason}: ${error.message}`,
    retryAfterSeconds: retryDelaySeconds(errorClass, attempts),
  };
}

interface ClaimedDeletion {
  id: string;
  recording_sid: string;
  account_sid: string | null;
  call_sid: string;
  attempts: number;
}

/**
 * Processes queued recording deletions until none is due or the budget is
 * spent. Safe to run from several places at once.
 */
export async function deleteQueuedRecordings(
  sql: Sql,
  twilio: TwilioRestClient,
  options: RecordingDeletionOptions,
): Promise<RecordingDeletionRun> {
  const { worker } = options;
  const budgetMs = options.budgetMs ?? 10_000;
  const leaseSeconds = Math.max(
    options.leaseSeconds ?? 60,
    Math.ceil(TWILIO_CALL_BUDGET_MS / 1000) * 2,
  );
  const started = performance.now();
  const run: RecordingDeletionRun = { deleted: 0, alreadyGone: 0, retryLater: 0, failed: 0 };

  const finish = (row: ClaimedDeletion, failure?: DeletionFailure) =>
    sql`select public.twilio_recording_deletion_finish(${row.id}, ${worker},
          ${failure?.error ?? null}, ${failure?.retryAfterSeconds ?? 0})`;

  const deleteOne = async (row: ClaimedDeletion) => {
    const path = accountPath(
      row.account_sid ?? twilio.accountSid,
      `Recordings/${row.recording_sid}`,
    );
    let failure: DeletionFailure | undefined;
    try {
      if (await twilio.delete(path)) run.deleted++;
      else run.alreadyGone++;
    } catch (e) {
      failure = deletionFailure(e, row.attempts);
    }
    await finish(row, failure);
    if (!failure) return;
    if (!failure.permanent) {
      run.retryLater++;
      return;
    }
    run.failed++;
    // Operators see it in recent_errors; the outbox row keeps the detail.
    await sql`insert into public.error_logs (function_slug, call_sid, error_name, message)
              values ('recording-deletions', ${row.call_sid}, 'RecordingDeletionFailed',
                      ${`Twilio refused to delete a recording: ${failure.reason}`})`;
  };

  const lane = async () => {
    while (performance.now() - started < budgetMs) {
      const [row] = await sql<ClaimedDeletion[]>`
        select id, recording_sid, account_sid, call_sid, attempts
          from public.twilio_recording_deletion_claim(${worker}, 1, ${leaseSeconds})`;
      if (!row) return;
      await deleteOne(row);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, lane));
  return run;
}
