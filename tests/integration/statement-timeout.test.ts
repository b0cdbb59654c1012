/**
 * The timeouts the functions rely on, directly and through a transaction-mode
 * pooler (scripts/test runs this file a second time through PgBouncer).
 */
import assert from "node:assert/strict";
import {
  DeadlineExceeded,
  openDatabase,
  type Statement,
  timedQuery,
} from "../../supabase/functions/_shared/platform/db.ts";
import {
  type InlineSql,
  inlineSql,
} from "../../supabase/functions/_shared/platform/sql-literal.ts";
import { testDbUrl, testSql } from "../support/stack.ts";

Deno.test("db: the functions' client connects and runs a timed statement", async () => {
  // Before: the statement timeout went as a start-up parameter, which
  // PgBouncer in transaction mode refuses for every connection.
  const sql = await openDatabase(testDbUrl());
  const [row] = await timedQuery(sql, (tx) => tx`select 41 + 1 as r`, { deadlineMs: 3_000 });
  assert.equal(row.r, 42);
});

Deno.test("db: a statement past the statement timeout is cancelled by the server", async () => {
  const sql = testSql();
  try {
    const started = performance.now();
    await assert.rejects(
      timedQuery(sql, (tx) => tx`select pg_sleep(5)`, {
        deadlineMs: 8_000,
        statementTimeoutMs: 300,
      }),
      (e: { code?: string }) => e.code === "57014",
    );
    assert.ok(performance.now() - started < 3_000, "the server gave up near 300 ms");
    // The setting lived only in that transaction: the next statement, on the
    // same (pooled) server connection, runs under the default again.
    const [{ statement_timeout }] = await sql`show statement_timeout`;
    assert.equal(statement_timeout, "0");
    const [ok] = await timedQuery(sql, (tx) => tx`select pg_sleep(0.5), 1 as r`, {
      deadlineMs: 3_000,
      statementTimeoutMs: 2_000,
    });
    assert.equal(ok.r, 1);
  } finally {
    await sql.end();
  }
});

// The same deadline for both forms of a statement: pipelined in a transaction,
// and inlined into one simple-protocol message (a call step's).
const SLEEP_FORMS: Array<[string, (marker: string) => Statement<unknown> | InlineSql]> = [
  ["a pipelined", (marker) => (tx) => tx.unsafe(`select pg_sleep(10) as ${marker}`)],
  ["an inlined", (marker) => inlineSql`select pg_sleep(${10}), ${marker} as m`],
];

for (const [form, sleep] of SLEEP_FORMS) {
  Deno.test(`db: the client deadline cancels ${form} statement on the server`, async () => {
    const sql = testSql();
    // A value the test can find in pg_stat_activity's query text.
    const marker = `deadline_${crypto.randomUUID().replaceAll("-", "")}`;
    try {
      await assert.rejects(
        timedQuery(sql, sleep(marker), { deadlineMs: 300, statementTimeoutMs: 20_000 }),
        DeadlineExceeded,
      );
      // The cancel request went through (the pooler forwards it): the sleep is gone.
      let running = 1;
      for (let i = 0; i < 40 && running > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        [{ running }] = await sql`select count(*)::int as running from pg_stat_activity
          where query like ${"%" + marker + "%"} and state = 'active' and pid <> pg_backend_pid()
            and query not like '%pg_stat_activity%'`;
      }
      assert.equal(running, 0);
    } finally {
      await sql.end();
    }
  });
}

Deno.test("db: an inlined step statement runs under the statement timeout, in one transaction", async () => {
  const sql = testSql();
  try {
    await assert.rejects(
      timedQuery(sql, inlineSql`select pg_sleep(${5}) as r`, {
        deadlineMs: 8_000,
        statementTimeoutMs: 300,
      }),
      (e: { code?: string }) => e.code === "57014",
    );
    // SET LOCAL died with its implicit transaction: the pooled connection is idle, untimed.
    const [{ statement_timeout }] = await sql`show statement_timeout`;
    assert.equal(statement_timeout, "0");
    const [row] = await timedQuery<{ r: number; timeout: string }[]>(
      sql,
      inlineSql`select ${41} + 1 as r, current_setting('statement_timeout') as timeout`,
      { deadlineMs: 3_000, statementTimeoutMs: 1_500 },
    );
    assert.deepEqual({ ...row }, { r: 42, timeout: "1500ms" });
  } finally {
    await sql.end();
  }
});
