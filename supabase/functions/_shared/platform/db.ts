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
 */
import type postgres from "postgres";

export type Sql = postgres.Sql;

/** Server-side limit for any one statement, in milliseconds. */
export const STATEMENT_TIMEOUT_MS = 5_000;

let client: Promise<Sql> | undefined;

/**
 * The isolate's client, created on first use. The driver is imported here,
 * not at the top of the module: postgres.js pulls in Deno's Node layer
 * (~25 ms measured, bench/cold-start.bench.ts), which a request answered
 * before any database work (a bad signature, a 405) should not pay.
 */
export function openDatabase(databaseUrl: string): Promise<Sql> {
  client ??= import("postgres").then(({ default: connect }) =>
    connect(databaseUrl, {
      prepare: false,
      max: 4,
      idle_timeout: 30,
      connect_timeout: 3,
      onnotice: () => {},
      connection: {
        application_name: `edge:${Deno.env.get("SB_FUNCTION_SLUG") ?? "function"}`,
      },
    })
  );
  return client;
}

export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`database did not answer within ${ms} ms`);
  }
}

/**
 * Races a query against a client-side deadline. The server-side statement
 * timeout does not help when the server itself (or the network) hangs: then
 * nothing answers at all, and only the client can give up. The query is
 * cancelled so its connection goes back to the pool.
 */
export async function withDeadline<T>(
  query: PromiseLike<T> & { cancel?: () => void },
  ms: number,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        query.cancel?.();
      } catch { /* cancelling is best effort */ }
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
 * BEGIN, SET LOCAL, the statement and COMMIT are pipelined on one reserved
 * connection. BEGIN and SET LOCAL carry no parameters, so the driver sends
 * them without waiting; the statement costs what it costs alone (with
 * `prepare: false` its parameters are described first), and COMMIT rides
 * along with it. A failed statement leaves the transaction aborted, and COMMIT
 * then rolls it back.
 */
export function timedQuery<T>(
  sql: Sql,
  statement: Statement<T>,
  opts: { deadlineMs: number; statementTimeoutMs?: number },
): Promise<T> {
  const timeoutMs = Math.trunc(opts.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS);
  if (!(timeoutMs > 0)) throw new RangeError("statementTimeoutMs must be a positive number");
  let query: ReturnType<Statement<T>> | undefined;
  const run = (async () => {
    const conn = await sql.reserve();
    try {
      const settled = await Promise.allSettled([
        conn`begin`,
        // An integer we computed, not input: inlined, so no parameter round trip.
        conn.unsafe(`set local statement_timeout = ${timeoutMs}`),
        query = statement(conn),
        conn`commit`,
      ]);
      const failed = settled.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return (settled[2] as PromiseFulfilledResult<T>).value;
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
