/**
 * Coalesced status callbacks (call/status-writes.ts) on the real database:
 * callbacks arriving together are stored in fewer transactions than there
 * are callbacks, each answered only after its own row committed, with the
 * same final state as one at a time; a bad callback fails alone; batches
 * sharing calls in opposite orders do not deadlock.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../../supabase/functions/_shared/platform/db.ts";
import type { StatusCallback } from "../../supabase/functions/_shared/call/lifecycle.ts";
import {
  statusBatchStatement,
  type StatusWrite,
  storeStatusCallback,
} from "../../supabase/functions/_shared/call/status-writes.ts";
import { newCallSid, testDbUrl, testSql } from "../support/stack.ts";

const HOTLINE = "+15877428885";
const LIFECYCLE: Array<[string, StatusCallback["event"]]> = [
  ["initiated", "initiated"],
  ["ringing", "ringing"],
  ["in-progress", "answered"],
  ["completed", "completed"],
];

function write(
  callSid: string,
  status: string,
  event: StatusCallback["event"],
  seq: number,
): StatusWrite {
  return {
    callback: {
      callSid,
      status,
      recognised: true,
      event,
      sequence: seq,
      occurredAt: new Date(Date.UTC(2026, 10, 26, 1, 0, seq)),
      durationSeconds: status === "completed" ? 42 : undefined,
    },
    accountSid: "AC" + "0".repeat(31) + "1",
    from: "+15875550199",
    to: HOTLINE,
  };
}

Deno.test("status writes: concurrent callbacks are coalesced, each stored once, final state as in order", async () => {
  const fnSql = await openDatabase(testDbUrl());
  const sql = testSql();
  try {
    const calls = Array.from({ length: 40 }, () => newCallSid());
    // Every lifecycle callback of every call, shuffled, a quarter of them twice.
    const writes = calls.flatMap((sid) => LIFECYCLE.map(([s, e], i) => write(sid, s, e, i)));
    const deliveries = [...writes, ...writes.filter((_, i) => i % 4 === 0)];
    deliveries.sort(() => Math.random() - 0.5);

    const stored = await Promise.all(deliveries.map(async (w) => {
      const applied = await storeStatusCallback(fnSql, w);
      // Answered only once committed: another connection sees the row now.
      const [{ n }] = await sql`select count(*)::int as n from call_lifecycle
                                where call_sid = ${w.callback.callSid} and status = ${w.callback.status}`;
      return { applied, visible: n };
    }));

    assert.ok(stored.every((s) => s.visible === 1), "every answered callback was committed first");
    const rows = await sql`select call_sid, count(*)::int as statuses from call_lifecycle
                           where call_sid in ${sql(calls)} group by call_sid`;
    assert.equal(rows.length, calls.length);
    assert.ok(rows.every((r) => r.statuses === 4), "each status once per call");
    const finals =
      await sql`select status, duration_seconds, ended_at is not null as ended, answered_at is not null as answered
                             from call_logs where call_sid in ${sql(calls)}`;
    assert.ok(
      finals.every((c) =>
        c.status === "completed" && c.duration_seconds === 42 && c.ended && c.answered
      ),
      "every call ends completed, with its duration and times, whatever the order",
    );
    // A row's xmin is the transaction that inserted it: fewer transactions than callbacks.
    const [{ transactions }] = await sql`select count(distinct xmin::text)::int as transactions
                                         from call_lifecycle where call_sid in ${sql(calls)}`;
    console.log(`${deliveries.length} callbacks stored by ${transactions} transactions`);
    assert.ok(
      transactions < deliveries.length / 4,
      `coalesced: ${transactions} transactions for ${deliveries.length} callbacks`,
    );
  } finally {
    await sql.end();
  }
});

Deno.test("status writes: a callback the database refuses fails alone; its batch mates are stored", async () => {
  const fnSql = await openDatabase(testDbUrl());
  const sql = testSql();
  try {
    const good = Array.from({ length: 6 }, () => write(newCallSid(), "ringing", "ringing", 1));
    // A negative sequence number breaks call_lifecycle's check constraint.
    const bad = write(newCallSid(), "ringing", "ringing", 1);
    bad.callback.sequence = -1;
    const results = await Promise.allSettled(
      [...good, bad].map((w) => storeStatusCallback(fnSql, w)),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [...good.map(() => "fulfilled"), "rejected"],
    );
    const [{ n }] = await sql`select count(*)::int as n from call_lifecycle
                              where call_sid in ${sql(good.map((w) => w.callback.callSid))}`;
    assert.equal(n, good.length);
  } finally {
    await sql.end();
  }
});

Deno.test("status writes: batches sharing calls in opposite orders do not deadlock", async () => {
  const a = testSql({ max: 1 });
  const b = testSql({ max: 1 });
  try {
    for (let round = 0; round < 20; round++) {
      const calls = Array.from({ length: 8 }, () => newCallSid());
      const forward = calls.map((sid) => write(sid, "ringing", "ringing", 1));
      const backward = [...calls].reverse().map((sid) => write(sid, "in-progress", "answered", 2));
      await Promise.all([
        a.unsafe(statusBatchStatement(forward).text),
        b.unsafe(statusBatchStatement(backward).text),
      ]);
    }
  } finally {
    await a.end();
    await b.end();
  }
});
