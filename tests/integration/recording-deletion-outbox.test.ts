/**
 * The Twilio recording-deletion outbox with real concurrent workers: each
 * worker has its own connection and keeps its claimed rows locked a moment,
 * as a worker calling Twilio would hold them; every queued deletion must be
 * claimed exactly once, and more than one worker must have taken part.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { testDbUrl, testSql } from "../support/stack.ts";

const VOICEMAILS = 120;
const WORKERS = 6;

Deno.test(`recording deletions: ${WORKERS} concurrent workers claim ${VOICEMAILS} queued deletions exactly once`, async () => {
  const sql = testSql();
  // 8 hex digits of this run + 24 of a counter: CallSids and RecordingSids no other test uses.
  const run = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
  const sid = (prefix: string, i: number) => prefix + run + i.toString(16).padStart(24, "0");
  const calls = Array.from({ length: VOICEMAILS }, (_, i) => sid("CA", i));
  const workers = Array.from(
    { length: WORKERS },
    () => postgres(testDbUrl(), { prepare: false, max: 1, onnotice: () => {} }),
  );
  try {
    await sql`insert into call_logs (call_sid, from_number, to_number, status)
              select unnest(${calls}::text[]), '+15875550100', '+15877428885', 'completed'`;
    await sql`insert into voicemails (call_sid, recording_sid, recording_url)
              select c, 'RE' || substr(c, 3), 'https://api.twilio.com/2010-04-01/Accounts/AC'
                       || repeat('0', 31) || '1/Recordings/RE' || substr(c, 3)
              from unnest(${calls}::text[]) c`;
    // Deleting the calls cascades to their voicemails, whose trigger queues the deletions.
    await sql`delete from call_logs where call_sid = any(${calls})`;

    const claimed = await Promise.all(workers.map(async (worker, w) => {
      const mine: string[] = [];
      for (;;) {
        const rows = await worker.begin(async (tx) => {
          const taken = await tx<{ call_sid: string }[]>`
            select call_sid from twilio_recording_deletion_claim(${`worker-${w}`}, 7, 60)
             where call_sid = any(${calls})`;
          await tx`select pg_sleep(0.01)`;
          return taken;
        });
        if (rows.length === 0) return mine;
        mine.push(...rows.map((r) => r.call_sid));
      }
    }));

    const all = claimed.flat();
    assert.equal(all.length, VOICEMAILS, "every deletion claimed once in all");
    assert.equal(new Set(all).size, VOICEMAILS, "no deletion claimed twice");
    assert.ok(
      claimed.filter((c) => c.length > 0).length > 1,
      `the workers did not overlap: ${claimed.map((c) => c.length).join(", ")}`,
    );
    const [{ attempts }] =
      await sql`select max(attempts)::int as attempts from twilio_recording_deletions
                                      where call_sid = any(${calls})`;
    assert.equal(attempts, 1, "no row was claimed a second time");
  } finally {
    await sql`delete from twilio_recording_deletions where call_sid = any(${calls})`;
    await Promise.all(workers.map((w) => w.end()));
    await sql.end();
  }
});
