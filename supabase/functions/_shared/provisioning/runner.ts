/**
 * A persisted saga runner (like pgflow's core, it knows nothing of Twilio):
 * a transaction is an ordered list of named steps in `telephony_transactions`
 * / `telephony_transaction_steps`.
 *
 * The rules that make a crash anywhere recoverable:
 * - a step's intent (everything needed to find its effect later) and its undo
 *   are committed BEFORE its external call, its result after;
 * - an outcome that is unknown (timeout, 5xx, dropped connection) is never
 *   re-sent: the step's `reconcile` reads the world and the step is then
 *   completed or failed;
 * - on failure, completed steps are compensated in reverse order; an undo is
 *   idempotent (already undone = done) and retried; one that keeps failing
 *   leaves the transaction `needs_attention`;
 * - past a pivot step (one that cannot be undone) failures are retried
 *   forward instead of compensated;
 * - every write checks and renews the runner's lease; the resumer takes only
 *   transactions whose lease has expired (`for update skip locked`, in SQL).
 */
import type { Sql } from "../platform/db.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Why a step failed, in words the runner understands. Steps translate their own errors into this. */
export class StepFailure extends Error {
  override name = "StepFailure";
  constructor(
    /** A stable error code, e.g. `number_unavailable`. */
    readonly code: string,
    message: string,
    readonly details: {
      /** The external system may have acted: reconcile, never re-send. */
      outcomeUnknown?: boolean;
      /** The external system's own error code (e.g. Twilio's), recorded for operators. */
      externalCode?: number;
      /** permanent | transient | compliance: how the API should describe it. */
      errorClass?: string;
    } = {},
  ) {
    super(message);
  }
}

/** What a step sees: the transaction's request and the results of the steps before it. */
export interface StepState {
  transactionId: string;
  request: JsonObject;
  results: Record<string, JsonObject>;
}

/** One step of a transaction kind. */
export interface StepDefinition {
  name: string;
  /** Chooses the intent and the undo (null: nothing to undo); both are committed before `run`. */
  plan(state: StepState): Promise<{ intent: JsonObject; undo: JsonObject | null }>;
  /** The effect. Throws StepFailure (or anything: treated as outcome unknown). */
  run(intent: JsonObject, state: StepState): Promise<JsonObject>;
  /** After an unknown outcome or a crash: the result if the effect exists, null if not. */
  reconcile(intent: JsonObject, state: StepState): Promise<JsonObject | null>;
  /** Undoes the effect; must succeed when already undone. */
  compensate?(undo: JsonObject, result: JsonObject | null, state: StepState): Promise<void>;
  /**
   * A point of no return (its effect cannot be undone, e.g. a released
   * number): once it completed, later steps are retried forward, never
   * compensated, and one that keeps failing leaves the transaction
   * `needs_attention`.
   */
  pivot?: boolean;
}

/** A transaction kind: its steps by name, chosen per request. */
export interface TransactionKind {
  kind: string;
  steps: Record<string, StepDefinition>;
  stepsFor(request: JsonObject): string[];
  /** Flags what the transaction touched when it is left to a person (same database transaction). */
  onNeedsAttention?(tx: Sql, transactionId: string): Promise<unknown>;
}

export interface RunnerOptions {
  /** Who holds the lease (process + request). */
  owner: string;
  /** Lease length; at most 30 s (the resumer's contract). */
  leaseSeconds?: number;
  /** Attempts of an undo (or of a step past a pivot) within one run before leaving it to the resumer. */
  triesPerRun?: number;
  /** The same, in total over all runs, before `needs_attention`. */
  maxAttempts?: number;
  /** Pause between those attempts within one run. */
  retryDelayMs?: number;
}

export type TransactionStatus =
  | "pending"
  | "running"
  | "completed"
  | "compensating"
  | "compensated"
  | "failed"
  | "needs_attention";

export interface StepView {
  position: number;
  name: string;
  status: string;
  intent: Json;
  result: Json;
  errorCode: string | null;
  externalErrorCode: number | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TransactionView {
  id: string;
  kind: string;
  status: TransactionStatus;
  client: string | null;
  request: Json;
  response: Json;
  error: { code: string; message: string; externalCode: number | null } | null;
  attempts: number;
  leaseExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  steps: StepView[];
}

/** The runner lost its lease (it ran too long, and another runner took over): stop quietly. */
export class LeaseLost extends Error {
  override name = "LeaseLost";
}

const OPEN_STATUSES = ["pending", "running", "compensating"];

interface StepRow {
  position: number;
  name: string;
  status: string;
  intent: JsonObject | null;
  result: JsonObject | null;
  undo: JsonObject | null;
  attempts: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates a transaction with its steps pending, leased to `owner`. Returns its id. */
export async function createTransaction(
  sql: Sql,
  kind: TransactionKind,
  opts: {
    owner: string;
    client: string | null;
    idempotencyKey: string | null;
    request: JsonObject;
    leaseSeconds?: number;
  },
): Promise<string> {
  const names = kind.stepsFor(opts.request);
  const lease = Math.min(opts.leaseSeconds ?? 30, 30);
  const [row] = await sql`
    with tx as (
      insert into public.telephony_transactions
        (kind, status, client, idempotency_key, request, lease_owner, lease_expires_at, attempts)
      values (${kind.kind}, 'running', ${opts.client}, ${opts.idempotencyKey},
              ${sql.json(opts.request as never)}, ${opts.owner},
              clock_timestamp() + make_interval(secs => ${lease}), 1)
      returning id),
    steps as (
      insert into public.telephony_transaction_steps (transaction_id, position, name)
      select tx.id, s.ord - 1, s.name from tx, unnest(${names}::text[]) with ordinality as s(name, ord))
    select id from tx`;
  return row.id as string;
}

/** Reads a transaction and its steps; null when unknown. */
export async function readTransaction(sql: Sql, id: string): Promise<TransactionView | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const [tx] = await sql`select * from public.telephony_transactions where id = ${id}`;
  if (!tx) return null;
  const steps = await sql`
    select * from public.telephony_transaction_steps where transaction_id = ${id} order by position`;
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v as string | null) ?? null);
  return {
    id: tx.id,
    kind: tx.kind,
    status: tx.status,
    client: tx.client,
    request: tx.request,
    response: tx.response,
    error: tx.error_code
      ? { code: tx.error_code, message: tx.error_message, externalCode: tx.twilio_error_code }
      : null,
    attempts: tx.attempts,
    leaseExpiresAt: iso(tx.lease_expires_at),
    createdAt: iso(tx.created_at)!,
    updatedAt: iso(tx.updated_at)!,
    steps: steps.map((s) => ({
      position: s.position,
      name: s.name,
      status: s.status,
      intent: s.intent,
      result: s.result,
      errorCode: s.error_code,
      externalErrorCode: s.twilio_error_code,
      attempts: s.attempts,
      startedAt: iso(s.started_at),
      finishedAt: iso(s.finished_at),
    })),
  };
}

/** Takes a transaction whose lease is free (or already ours); false when another runner holds it. */
export async function claimTransaction(
  sql: Sql,
  id: string,
  owner: string,
  leaseSeconds = 30,
): Promise<boolean> {
  const [row] = await sql`
    select public.telephony_transaction_claim(${id}, ${owner}, ${leaseSeconds}) as ok`;
  return row.ok === true;
}

/** Takes every transaction whose lease expired (at most `limit`), for `owner`. */
export async function claimExpiredTransactions(
  sql: Sql,
  owner: string,
  leaseSeconds = 30,
  limit = 10,
): Promise<string[]> {
  const rows = await sql`
    select public.telephony_transactions_claim_expired(${owner}, ${leaseSeconds}, ${limit}) as id`;
  return rows.map((r) => r.id as string);
}

/**
 * Drives a transaction this runner holds the lease of, forward or through
 * compensation, until it is finished or must wait for the resumer (an
 * external system that cannot be read or undone right now). Returns its view.
 */
export async function driveTransaction(
  sql: Sql,
  kind: TransactionKind,
  id: string,
  options: RunnerOptions,
): Promise<TransactionView> {
  const run = new Run(sql, kind, id, options);
  try {
    await run.drive();
  } catch (e) {
    if (!(e instanceof LeaseLost)) throw e;
  }
  return (await readTransaction(sql, id))!;
}

class Run {
  readonly #lease: number;
  constructor(
    readonly sql: Sql,
    readonly kind: TransactionKind,
    readonly id: string,
    readonly opts: RunnerOptions,
  ) {
    this.#lease = Math.min(opts.leaseSeconds ?? 30, 30);
  }

  /** Runs `write` in one database transaction, only while our lease holds; renews it. */
  async #leased<T>(write: (tx: Sql) => Promise<T>): Promise<T> {
    return await this.sql.begin(async (tx) => {
      const [held] = await tx`
        update public.telephony_transactions
           set lease_expires_at = clock_timestamp() + make_interval(secs => ${this.#lease})
         where id = ${this.id} and lease_owner = ${this.opts.owner}
           and status = any(${OPEN_STATUSES})
        returning id`;
      if (!held) throw new LeaseLost(`lease on ${this.id} is no longer ${this.opts.owner}'s`);
      return await write(tx as unknown as Sql);
    }) as T;
  }

  async #load() {
    const [tx] = await this.sql`
      select status, request from public.telephony_transactions where id = ${this.id}`;
    const steps = await this.sql<StepRow[]>`
      select position, name, status, intent, result, undo, attempts
        from public.telephony_transaction_steps where transaction_id = ${this.id} order by position`;
    return { status: tx.status as string, request: tx.request as JsonObject, steps: [...steps] };
  }

  #state(request: JsonObject, steps: StepRow[]): StepState {
    const results: Record<string, JsonObject> = {};
    for (const s of steps) if (s.status === "completed" && s.result) results[s.name] = s.result;
    return { transactionId: this.id, request, results };
  }

  #definition(name: string): StepDefinition {
    const def = this.kind.steps[name];
    if (!def) throw new Error(`transaction kind ${this.kind.kind} has no step ${name}`);
    return def;
  }

  async drive(): Promise<void> {
    const loaded = await this.#load();
    if (loaded.status === "compensating") return await this.#compensate(loaded);
    for (const step of loaded.steps) {
      if (step.status === "completed") continue;
      const def = this.#definition(step.name);
      // Past a point of no return, a failure is retried forward, never undone.
      const forwardOnly = loaded.steps.some((s) =>
        s.position < step.position && s.status === "completed" && this.#definition(s.name).pivot
      );
      let outcome = await this.#attempt(def, step, loaded);
      const tries = this.opts.triesPerRun ?? 3;
      for (let i = 1; forwardOnly && outcome instanceof StepFailure && i < tries; i++) {
        await this.#reopenStep(step, outcome);
        await sleep(this.opts.retryDelayMs ?? 200);
        outcome = await this.#attempt(def, step, loaded);
      }
      if (outcome === "wait") return await this.#yield();
      if (outcome instanceof StepFailure) {
        if (forwardOnly) return await this.#reopenOrGiveUp(step, outcome);
        await this.#failStep(step.position, outcome);
        return await this.#compensate(await this.#load());
      }
      await this.#completeStep(step.position, outcome);
      step.status = "completed";
      step.result = outcome;
    }
    await this.#leased((tx) =>
      tx`update public.telephony_transactions
            set status = 'completed', response = ${
        tx.json(this.#state(loaded.request, loaded.steps).results as never)
      },
                lease_owner = null, lease_expires_at = null
          where id = ${this.id}`
    );
  }

  /** One go at a step: run it when pending, reconcile it when a runner died in its call. */
  #attempt(
    def: StepDefinition,
    step: StepRow,
    loaded: { request: JsonObject; steps: StepRow[] },
  ): Promise<JsonObject | StepFailure | "wait"> {
    const state = this.#state(loaded.request, loaded.steps);
    // A runner died during this step's call: read the world, never re-send.
    if (step.status === "started") return this.#reconcile(def, step.intent ?? {}, state);
    if (step.status === "pending") return this.#runStep(def, step, state);
    return Promise.resolve(new StepFailure("step_failed", `step ${step.name} is ${step.status}`));
  }

  /** A step known not to have taken effect goes back to pending, to be run again. */
  async #reopenStep(step: StepRow, f: StepFailure): Promise<void> {
    await this.#leased((tx) =>
      tx`update public.telephony_transaction_steps
            set status = 'pending', error_code = ${f.code},
                twilio_error_code = ${f.details.externalCode ?? null}
          where transaction_id = ${this.id} and position = ${step.position}`
    );
    step.status = "pending";
  }

  /** Past the point of no return: leave the step to the resumer, or to a person after too many tries. */
  async #reopenOrGiveUp(step: StepRow, f: StepFailure): Promise<void> {
    if (step.attempts < (this.opts.maxAttempts ?? 6)) {
      await this.#reopenStep(step, f);
      return await this.#yield();
    }
    await this.#leased(async (tx) => {
      await tx`update public.telephony_transaction_steps
                  set status = 'failed', error_code = ${f.code},
                      twilio_error_code = ${f.details.externalCode ?? null},
                      finished_at = clock_timestamp()
                where transaction_id = ${this.id} and position = ${step.position}`;
      await tx`update public.telephony_transactions
                  set status = 'needs_attention', error_code = ${f.code},
                      error_message = ${f.message.slice(0, 1000)},
                      twilio_error_code = ${f.details.externalCode ?? null},
                      lease_owner = null, lease_expires_at = null
                where id = ${this.id}`;
      await this.kind.onNeedsAttention?.(tx, this.id);
    });
  }

  async #runStep(
    def: StepDefinition,
    step: StepRow,
    state: StepState,
  ): Promise<JsonObject | StepFailure | "wait"> {
    let planned: { intent: JsonObject; undo: JsonObject | null };
    try {
      planned = await def.plan(state);
    } catch (e) {
      // Planning only reads: a failure here has no effect to find later.
      return e instanceof StepFailure ? e : new StepFailure("plan_failed", String(e));
    }
    await this.#leased((tx) =>
      tx`update public.telephony_transaction_steps
            set status = 'started', intent = ${tx.json(planned.intent as never)},
                undo = ${planned.undo === null ? null : tx.json(planned.undo as never)},
                attempts = attempts + 1, started_at = clock_timestamp()
          where transaction_id = ${this.id} and position = ${step.position}`
    );
    step.intent = planned.intent;
    step.undo = planned.undo;
    step.attempts++;
    try {
      return await def.run(planned.intent, state);
    } catch (e) {
      const failure = e instanceof StepFailure
        ? e
        : new StepFailure("step_error", String(e), { outcomeUnknown: true });
      if (!failure.details.outcomeUnknown) return failure;
      const reconciled = await this.#reconcile(def, planned.intent, state);
      // Not found after an unknown outcome: report the original failure.
      return reconciled instanceof StepFailure ? failure : reconciled;
    }
  }

  async #reconcile(
    def: StepDefinition,
    intent: JsonObject,
    state: StepState,
  ): Promise<JsonObject | StepFailure | "wait"> {
    try {
      const found = await def.reconcile(intent, state);
      return found ?? new StepFailure("effect_not_found", `${def.name} had no effect`);
    } catch {
      // The world cannot be read now: leave the step started for the resumer.
      return "wait";
    }
  }

  #completeStep(position: number, result: JsonObject) {
    return this.#leased((tx) =>
      tx`update public.telephony_transaction_steps
            set status = 'completed', result = ${
        tx.json(result as never)
      }, finished_at = clock_timestamp()
          where transaction_id = ${this.id} and position = ${position}`
    );
  }

  #failStep(position: number, f: StepFailure) {
    return this.#leased(async (tx) => {
      await tx`update public.telephony_transaction_steps
                  set status = 'failed', error_code = ${f.code},
                      twilio_error_code = ${f.details.externalCode ?? null},
                      finished_at = clock_timestamp()
                where transaction_id = ${this.id} and position = ${position}`;
      await tx`update public.telephony_transactions
                  set status = 'compensating', error_code = ${f.code},
                      error_message = ${f.message.slice(0, 1000)},
                      twilio_error_code = ${f.details.externalCode ?? null},
                      response = ${tx.json({ errorClass: f.details.errorClass ?? null } as never)}
                where id = ${this.id}`;
    });
  }

  /** Gives the lease back early so the resumer retries soon. */
  async #yield(): Promise<void> {
    await this.#leased((tx) =>
      tx`update public.telephony_transactions
            set lease_owner = null, lease_expires_at = clock_timestamp()
          where id = ${this.id}`
    );
  }

  async #compensate(loaded: { request: JsonObject; steps: StepRow[] }): Promise<void> {
    const state = this.#state(loaded.request, loaded.steps);
    const tries = this.opts.triesPerRun ?? 3;
    const maxAttempts = this.opts.maxAttempts ?? 6;
    let undone = 0;
    for (const step of [...loaded.steps].reverse()) {
      // A failed step is undone too when it has an undo: its effect may exist
      // after all (a late success), and every undo is idempotent.
      const undoable = ["completed", "failed", "compensating", "compensation_failed"]
        .includes(step.status) && step.undo !== null;
      if (step.status === "compensated") undone++;
      if (!undoable) continue;
      const def = this.#definition(step.name);
      if (!def.compensate) continue;
      if (step.status !== "compensating") {
        // attempts counts this phase from here on.
        await this.#leased((tx) =>
          tx`update public.telephony_transaction_steps set status = 'compensating', attempts = 0
              where transaction_id = ${this.id} and position = ${step.position}`
        );
        step.attempts = 0;
      }
      let done = false;
      for (let i = 0; i < tries && !done; i++) {
        if (i > 0) await sleep(this.opts.retryDelayMs ?? 200);
        step.attempts++;
        await this.#leased((tx) =>
          tx`update public.telephony_transaction_steps set attempts = ${step.attempts}
              where transaction_id = ${this.id} and position = ${step.position}`
        );
        try {
          await def.compensate(step.undo!, step.status === "failed" ? null : step.result, state);
          done = true;
        } catch (e) {
          if (e instanceof LeaseLost) throw e;
          if (step.attempts >= maxAttempts) break;
        }
      }
      if (!done) {
        if (step.attempts >= maxAttempts) {
          await this.#leased(async (tx) => {
            await tx`update public.telephony_transaction_steps
                        set status = 'compensation_failed', finished_at = clock_timestamp()
                      where transaction_id = ${this.id} and position = ${step.position}`;
            await tx`update public.telephony_transactions
                        set status = 'needs_attention', lease_owner = null, lease_expires_at = null
                      where id = ${this.id}`;
            await this.kind.onNeedsAttention?.(tx, this.id);
          });
          return;
        }
        return await this.#yield();
      }
      undone++;
      await this.#leased((tx) =>
        tx`update public.telephony_transaction_steps
              set status = 'compensated', finished_at = clock_timestamp()
            where transaction_id = ${this.id} and position = ${step.position}`
      );
    }
    await this.#leased((tx) =>
      tx`update public.telephony_transactions
            set status = ${undone > 0 ? "compensated" : "failed"},
                lease_owner = null, lease_expires_at = null
          where id = ${this.id}`
    );
  }
}
