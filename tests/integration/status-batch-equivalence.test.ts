/**
 * voice_status_apply_batch folds a batch of status callbacks set-based (one
 * upsert of its call rows, one insert of its lifecycle rows). It must come to
 * exactly what applying the same callbacks one by one, in arrival order,
 * comes to. Random batches (repeated calls, every status, unrecognised ones,
 * out-of-order times, placeholders, rows that exist already) are applied both
 * ways to twin calls in one transaction (so now() is the same for both), and
 * the call rows, lifecycle rows and duplicate flags compared.
 */
import assert from "node:assert/strict";
import { CALL_STATUSES } from "../../supabase/functions/_shared/call/lifecycle.ts";
import { seededRandom } from "../reliability/support/seeded.ts";
import { testSql } from "../support/stack.ts";

const TRIALS = Number(Deno.env.get("STATUS_BATCH_TRIALS") ?? 300);
const STATUSES = [
  ...CALL_STATUSES,
  "on-hold-ish",
  // Unrecognised and over the 64 characters kept: its key is the first 64.
  "x".repeat(70),
  "x".repeat(64) + "y",
];
const EVENTS = [null, "initiated", "ringing", "answered", "completed"];

const hex = (n: number) => n.toString(16).padStart(32, "0");

Deno.test("status batch: set-based equals one by one in arrival order, on random batches", async () => {
  const sql = testSql({ max: 1 });
  const seed = Date.now() % 1_000_000;
  // Seeded, so a failure names a case that can be run again.
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const base = Math.floor(rand() * 1e12);
  try {
    for (let t = 0; t < TRIALS; t++) {
      const calls = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, c) => base + t * 8 + c);
      const items = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => ({
        call: pick(calls),
        account_sid: pick(["", "AC" + hex(1), "AC" + hex(3)]),
        from: pick(["", "+15875550123", "+15875550124", "anonymous"]),
        to: pick(["", "+15877428885", "+15875550999"]),
        status: pick(STATUSES),
        event: pick(EVENTS),
        sequence: rand() < 0.3 ? null : Math.floor(rand() * 5),
        occurred_at: rand() < 0.2
          ? null
          : new Date(Date.UTC(2026, 10, 26, 1, Math.floor(rand() * 50))).toISOString(),
        duration: rand() < 0.5 ? null : Math.floor(rand() * 300),
      }));
      // Some calls have a row already: the frontdoor's, or a placeholder one.
      const existing = calls.filter(() => rand() < 0.5).map((call) => ({
        call,
        status: pick(["ringing", "in-progress", "completed", "busy"]),
        from: pick(["unknown", "+15875550777"]),
        to: pick(["unknown", "+15877428885"]),
        account: rand() < 0.5 ? null : "AC" + hex(2),
        ended: rand() < 0.3,
      }));
      // Twin calls: "a" gets the batch, "b" the same callbacks one by one.
      const sid = (twin: "a" | "b", call: number) => "CA" + hex(call * 2 + (twin === "a" ? 0 : 1));
      const ctx = `seed ${seed}, trial ${t}: ${JSON.stringify({ existing, items })}`;

      await sql.begin(async (tx) => {
        for (const twin of ["a", "b"] as const) {
          for (const e of existing) {
            await tx`insert into public.call_logs (call_sid, account_sid, from_number, to_number, status,
                       started_at, ended_at)
                     values (${
              sid(twin, e.call)
            }, ${e.account}, ${e.from}, ${e.to}, ${e.status}::public.call_status,
                             '2026-11-26 00:00:00+00', ${
              e.ended ? "2026-11-26 00:30:00+00" : null
            })`;
          }
        }
        const asJson = (twin: "a" | "b") =>
          items.map(({ call, ...rest }) => ({ call_sid: sid(twin, call), ...rest }));
        const [{ r: batch }] = await tx`select public.voice_status_apply_batch(${
          JSON.stringify(asJson("a"))
        }::text::jsonb) as r`;
        const oneByOne = [];
        for (const item of asJson("b")) {
          const [{ r }] = await tx`select public.voice_status_apply_batch(${
            JSON.stringify([item])
          }::text::jsonb) as r`;
          oneByOne.push(r[0]);
        }
        assert.deepEqual(
          batch.map((
            a: { duplicate: boolean; recognised: boolean },
          ) => [a.duplicate, a.recognised]),
          oneByOne.map((
            a: { duplicate: boolean; recognised: boolean },
          ) => [a.duplicate, a.recognised]),
          `duplicate/recognised flags, ${ctx}`,
        );
        for (const call of calls) {
          const row = async (twin: "a" | "b") =>
            (await tx`select account_sid, from_number, to_number, number_id, status::text, answered_at,
                             ended_at, duration_seconds, started_at
                        from public.call_logs where call_sid = ${sid(twin, call)}`)[0];
          assert.deepEqual(await row("a"), await row("b"), `call row ${call}, ${ctx}`);
          const life = async (twin: "a" | "b") =>
            await tx`select status::text, reported_status, event, sequence_number, occurred_at
                       from public.call_lifecycle where call_sid = ${sid(twin, call)}
                      order by coalesce(status::text, reported_status)`;
          assert.deepEqual([...await life("a")], [...await life("b")], `lifecycle ${call}, ${ctx}`);
        }
        // The status answered for each callback: the call's status after its batch.
        const [{ status: finalA }] =
          await tx`select status::text from public.call_logs where call_sid = ${
            sid("a", items.at(-1)!.call)
          }`;
        assert.equal(batch.at(-1).status, finalA, ctx);
        throw new RollBack();
      }).catch((e) => {
        if (!(e instanceof RollBack)) throw e;
      });
    }
  } finally {
    await sql.end();
  }
});

class RollBack extends Error {}
