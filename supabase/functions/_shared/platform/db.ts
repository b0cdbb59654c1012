/**
 * The isolate's Postgres client: created once, on first use, and shared by
 * every request the isolate serves.
 *
 * - `prepare: false`: Supabase's transaction-mode pooler (port 6543) hands each
 *   transaction to any server connection, where a named prepared statement
 *   from an earlier one may not exist.
 * - A small pool: an edge isolate serves few requests at once, and hundreds of
 *   isolates share the database's connection limit.
 * - A statement timeout well under Twilio's 15 s webhook timeout, so a stuck
 *   query turns into our own TwiML instead of Twilio's "application error".
 *   It is set per transaction (`timedQuery`), never as a connection start-up
 *   parameter: a transaction-mode pooler refuses unknown start-up parameters
 *   (PgBouncer: "unsupported startup parameter: statement_timeout", so every
 *   connection fails) or drops them, and a session-level `SET` would stay on a
 *   server connection the pooler then lends to someone else.
 * - A short, flat reconnect backoff: the driver's default grows to 20 s after
 *   a few failed connects, which kept calls failing for ~40 s after Postgres
 *   was back. The circuit breaker below already spaces out attempts while the
 *   database is down, so the driver need not.
 */
import type postgres from "postgres";
import { CircuitBreaker } from "./circuit-breaker.ts";
import { InlineSql } from "./sql-literal.ts";

export type Sql = postgres.Sql;

/** Server-side limit for any one statement, in milliseconds. */
export const STATEMENT_TIMEOUT_MS = 5_000;

/** Seconds between reconnect attempts of one pooled connection (see the module comment). */
const RECONNECT_BACKOFF_S = 0.1;

/** How this function's connections show in pg_stat_activity. */
export const APPLICATION_NAME = `edge:${Deno.env.get("SB_FUNCTION_SLUG") ?? "function"}`;

let client: Promise<Sql> | undefined;
/** The client once its import has resolved (see `loadedDatabase`). */
let loaded: Sql | undefined;

/**
 * The isolate's client, created on first use. The driver is imported here,
 * not at the top of the module: postgres.js pulls in Deno's Node layer
 * (~25 ms measured, bench/cold-start.bench.ts), which a request answered
 * before any database work (a bad signature, a 405) should not pay.
 */
export function openDatabase(databaseUrl: string): Promise<Sql> {
  if (!client) keepDriverFaultsInside();
  client ??= import("postgres").then(({ default: connect }) =>
    connect(databaseUrl, {
      prepare: false,
      max: 4,
      idle_timeout: 30,
      connect_timeout: 3,
      backoff: () => RECONNECT_BACKOFF_S,
      onnotice: () => {},
      connection: {
        application_name: APPLICATION_NAME,
      },
    })
  ).then((sql) => loaded = sql);
  return client;
}

/**
 * The isolate's client if the driver is already loaded, else undefined
 * (without starting its import): for work that has a cheaper way to the
 * database while the driver is not there yet (admin/audit.ts).
 */
export function loadedDatabase(): Sql | undefined {
  return loaded;
}

/**
 * postgres.js can reject a promise nobody holds when a connection dies under
 * it: through a transaction-mode pooler that loses its server in a Postgres
 * restart, "write CONNECTION_CLOSED" surfaced as an unhandled rejection and
 * Deno ended the whole process, so the next webhooks got connection refused
 * instead of TwiML. The failed query itself is already reported to whoever
 * awaited it; the stray copy is logged and the isolate keeps serving.
 */
function keepDriverFaultsInside(): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason as { code?: unknown; name?: unknown } | undefined;
    if (typeof reason?.code !== "string" || !isDatabaseUnavailable(reason)) return;
    event.preventDefault();
    console.log(JSON.stringify({
      level: "warn",
      at: new Date().toISOString(),
      msg: "database: a dropped connection's stray rejection",
      code: reason.code,
    }));
  });
}

export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`database did not answer within ${ms} ms`);
  }
}

/** The isolate's database breaker is open: the query was not even tried. */
export class DatabaseUnavailable extends Error {
  constructor() {
    super("database unavailable: circuit open after a recent failure");
  }
}

/**
 * A query as the driver returns it. `state` is set once the driver has handed
 * the query to a server connection (postgres.js internals, see withDeadline).
 */
export type PendingQuery<T> = PromiseLike<T> & { cancel?: () => unknown; state?: unknown };

/**
 * Races a query against a client-side deadline. The server-side statement
 * timeout does not help when the server itself (or the network) hangs: then
 * nothing answers at all, and only the client can give up.
 *
 * Only a query the server has received is cancelled (a CancelRequest makes
 * the server stop its work). A query still waiting for a connection is left
 * to fail or run on its own: postgres.js 3.4.9 marks such a query cancelled
 * but leaves it as the `initial` query of a connection that is reconnecting;
 * when that connection opens, `execute` skips the cancelled query and the
 * ReadyForQuery handler returns without handing the connection back to the
 * pool. The connection then sits in the pool's `connecting` list for good,
 * and once all of them have, every query waits for a connection that never
 * comes (issue 7: after a Postgres restart every step was rescued until the
 * process restarted). Leaving the query alone costs at most one late
 * statement, bounded by statement_timeout, whose result nobody reads.
 */
export async function withDeadline<T>(query: PendingQuery<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (query.state) {
        // Best effort. The driver's cancel() returns a promise that rejects when
        // the cancel request cannot be written (a pooler that lost its server
        // in a restart: "write CONNECTION_CLOSED"); unhandled, that rejection
        // killed the whole function process.
        Promise.resolve()
          .then(() => query.cancel?.())
          .catch(() => {});
      }
      reject(new DeadlineExceeded(ms));
    }, ms);
  });
  try {
    return await Promise.race([query, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A statement built against the connection it must run on. */
export type Statement<T> = (sql: Sql) => PromiseLike<T> & { cancel?: () => void };

/**
 * Runs one statement in a transaction of its own under the server-side
 * statement timeout (SET LOCAL), within a client-side deadline. Works the same
 * directly and through a transaction-mode pooler: the setting lives and dies
 * with the transaction.
 *
 * BEGIN with SET LOCAL, the statement and COMMIT are pipelined on one
 * reserved connection. The transaction control goes in the simple query
 * protocol (one Query message, no parameters): sent as prepared-protocol
 * statements (Parse, Bind, Describe, Execute each), the three of them cost
 * Postgres about as much as a step's SQL function (pgbench, extended protocol:
 * 5,431 → 3,789 calls/s with them; simple protocol: no measurable cost). The
 * statement costs what it costs alone (with `prepare: false` its parameters
 * are described first), and COMMIT rides along with it. A failed statement
 * leaves the transaction aborted, and COMMIT then rolls it back.
 */
export function timedQuery<T>(
  sql: Sql,
  statement: Statement<T> | InlineSql,
  opts: { deadlineMs: number; statementTimeoutMs?: number },
): Promise<T> {
  const timeoutMs = Math.trunc(opts.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS);
  if (!(timeoutMs > 0)) throw new RangeError("statementTimeoutMs must be a positive number");
  if (statement instanceof InlineSql) {
    return timedInlineQuery(sql, statement, timeoutMs, opts.deadlineMs);
  }
  let query: ReturnType<Statement<T>> | undefined;
  const run = (async () => {
    const conn = await sql.reserve();
    try {
      const settled = await Promise.allSettled([
        // An integer we computed, not input, inlined: `unsafe` without
        // parameters is one simple-protocol Query.
        conn.unsafe(`begin; set local statement_timeout = ${timeoutMs}`),
        query = statement(conn),
        conn.unsafe("commit"),
      ]);
      const failed = settled.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return (settled[1] as PromiseFulfilledResult<T>).value;
    } finally {
      conn.release();
    }
  })();
  // Cancelling the whole means cancelling the statement on the server. `state`
  // is the statement's own (the driver sets it once the statement is sent), for
  // a deadline that cancels only what the server has received.
  const pending = Object.defineProperties(run, {
    cancel: { value: () => query?.cancel?.() },
    state: { get: () => (query as { state?: unknown } | undefined)?.state },
  }) as Promise<T> & { cancel: () => void; state: unknown };
  return withDeadline(pending, opts.deadlineMs);
}

/**
 * The statement as one simple-protocol Query text that first limits its own
 * run time: `SET LOCAL` holds for the Query's implicit transaction only.
 */
export function withStatementTimeout(
  statement: InlineSql,
  timeoutMs = STATEMENT_TIMEOUT_MS,
): string {
  return `set local statement_timeout = ${Math.trunc(timeoutMs)}; ${statement.text}`;
}

/**
 * The hot path's form of timedQuery: the statement timeout and the statement
 * in one simple-protocol Query, which Postgres runs as one implicit
 * transaction (SET LOCAL holds within it; an error rolls all of it back and
 * leaves the connection idle). One message, one network round trip, no
 * reserved connection. Its value is the last statement's rows.
 */
function timedInlineQuery<T>(
  sql: Sql,
  statement: InlineSql,
  timeoutMs: number,
  deadlineMs: number,
): Promise<T> {
  const query = sql.unsafe(withStatementTimeout(statement, timeoutMs));
  const rows = query.then((results) => results.at(-1) as T);
  const pending = Object.defineProperties(rows, {
    cancel: { value: () => query.cancel() },
    state: { get: () => (query as { state?: unknown }).state },
  }) as Promise<T> & { cancel: () => void; state: unknown };
  return withDeadline(pending, deadlineMs);
}

// Not the driver's error text: connection failures by code, whatever the message says.
const CONNECTION_ERROR_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * True when an error says the database is unreachable, refusing work or too
 * slow (as opposed to refusing one statement: a constraint, a raised error).
 * SQLSTATE classes 08 connection, 53 insufficient resources, 57 operator
 * intervention (statement timeout, shutdown, starting up), 58 system error,
 * and 55P03 lock not available.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DeadlineExceeded || error instanceof DatabaseUnavailable) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  if (CONNECTION_ERROR_CODES.has(code)) return true;
  return /^(08|53|57|58)[0-9A-Z]{3}$/.test(code) || code === "55P03";
}

/** The isolate's breaker for its database (see circuit-breaker.ts). */
export const databaseBreaker = new CircuitBreaker({
  // Short: a failover is over in seconds, and calls should be stored again soon after.
  coolDownMs: 2_000,
  probeTimeoutMs: 5_000,
});

/**
 * Runs one statement (`timedQuery`) under the isolate's breaker. With the
 * circuit open it throws DatabaseUnavailable at once, so a caller hears the
 * rescue without waiting; `evenIfOpen` is for requests nobody is waiting on (a
 * callback Twilio will redeliver), which try anyway. Every outcome is
 * reported to the breaker: any answer from the server closes it.
 */
export async function guardedQuery<T>(
  sql: Sql,
  statement: Statement<T> | InlineSql,
  opts: { deadlineMs: number; evenIfOpen?: boolean },
): Promise<T> {
  if (!databaseBreaker.tryAcquire() && !opts.evenIfOpen) throw new DatabaseUnavailable();
  try {
    const result = await timedQuery(sql, statement, { deadlineMs: opts.deadlineMs });
    databaseBreaker.recordSuccess();
    return result;
  } catch (error) {
    if (isDatabaseUnavailable(error)) databaseBreaker.recordFailure();
    else databaseBreaker.recordSuccess();
    throw error;
  }
}
