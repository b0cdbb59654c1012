/**
 * Duplicate and out-of-order delivery, randomized and seeded: for each seed
 * one call (a menu choice, a dial with or without screening, a voicemail with
 * its recording and transcription callbacks, three status callbacks) is run
 * twice on the real database: once in order, once delivered as Twilio may
 * (callbacks anywhere, also after `completed`; any webhook again later or
 * twice at once; same or fresh token). Both calls must end in the same state
 * with no row twice. Failing seeds are printed with the command that replays
 * them.
 *
 * Sizes: RELIABILITY_SEQUENCES (SQL, default 300) and
 * RELIABILITY_HTTP_SEQUENCES (HTTP, default 15); RELIABILITY_SEED sets the
 * first seed. `deno task reliability:sequences` runs 10,000.
 */
import assert from "node:assert/strict";
import { exampleEnv } from "../support/function-process.ts";
import { testSql } from "../support/stack.ts";
import { hotline } from "../flow/hotline.ts";
import {
  applyOverSql,
  callState,
  type Delivery,
  duplicateRows,
  inOrder,
  moments,
  newIds,
  newShape,
  shuffledDelivery,
} from "./support/callback-sequences.ts";
import { baseSeed, Dice, envInt, inParallel } from "./support/seeded.ts";

const ACCOUNT = exampleEnv().TWILIO_ACCOUNT_SID;
const SQL_SEQUENCES = envInt("RELIABILITY_SEQUENCES", 300);
const HTTP_SEQUENCES = envInt("RELIABILITY_HTTP_SEQUENCES", 15);
const FIRST_SEED = baseSeed(20261125);

/** One seed's call: its reference (in order) and its shuffled delivery. */
function sequence(seed: number) {
  const dice = Dice.seeded(seed);
  const reference = newIds(dice);
  const shuffled = newIds(dice);
  const shape = newShape(dice);
  return {
    reference,
    shuffled,
    shape,
    inOrder: inOrder(reference, shape, ACCOUNT),
    deliveries: shuffledDelivery(inOrder(shuffled, shape, ACCOUNT), dice),
  };
}

const replayHint = (seed: number, http: boolean) =>
  `RELIABILITY_SEED=${seed} RELIABILITY_${http ? "HTTP_" : ""}SEQUENCES=1 ` +
  `scripts/test tests/reliability/callback-order.test.ts`;

/** How hostile the deliveries were: copies, copies at the same moment, callbacks after `completed`. */
const mix = { copies: 0, concurrent: 0, afterCompleted: 0 };
function countMix(deliveries: Delivery[]) {
  const seen = new Set<Delivery["webhook"]>();
  let completed = false;
  for (const d of deliveries) {
    if (seen.has(d.webhook)) mix.copies++;
    if (d.concurrentWithPrevious) mix.concurrent++;
    if (completed && d.webhook.callback && !seen.has(d.webhook)) mix.afterCompleted++;
    if (d.webhook.name === "status:completed") completed = true;
    seen.add(d.webhook);
  }
}

function report(kind: string, tried: number, deliveries: number, failures: string[]) {
  console.log(
    `${kind}: ${tried} sequences (seeds ${FIRST_SEED}…${
      FIRST_SEED + tried - 1
    }), ${deliveries} deliveries, ${failures.length} ended differently from in-order delivery`,
  );
  console.log(
    `  of which ${mix.copies} repeated deliveries (${mix.concurrent} at the same moment as ` +
      `the one before), ${mix.afterCompleted} first deliveries of a callback after "completed"`,
  );
  mix.copies = mix.concurrent = mix.afterCompleted = 0;
  for (const f of failures.slice(0, 10)) console.log(f);
}

Deno.test(`sequences over SQL: ${SQL_SEQUENCES} shuffled, repeated deliveries end as in order`, async () => {
  const sql = testSql({ max: 8 });
  const failures: string[] = [];
  let deliveries = 0;
  const started = performance.now();
  try {
    const seeds = Array.from({ length: SQL_SEQUENCES }, (_, i) => FIRST_SEED + i);
    await inParallel(seeds, 8, async (seed) => {
      const s = sequence(seed);
      countMix(s.deliveries);
      try {
        for (const hook of s.inOrder) await applyOverSql(sql, hook);
        for (const moment of moments(s.deliveries)) {
          await Promise.all(moment.map((d) => applyOverSql(sql, d.webhook)));
        }
        deliveries += s.deliveries.length;
        const failure = await judge(sql, seed, s, false);
        if (failure) failures.push(failure);
      } catch (error) {
        failures.push(`seed ${seed}: ${error}\n  replay: ${replayHint(seed, false)}`);
      }
    });
  } finally {
    await sql.end({ timeout: 2 });
  }
  report("sequences over SQL", SQL_SEQUENCES, deliveries, failures);
  console.log(`  in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  assert.deepEqual(failures, []);
});

Deno.test(`sequences over HTTP: ${HTTP_SEQUENCES} shuffled, repeated webhooks to the functions end as in order`, async () => {
  const sql = testSql({ max: 4 });
  const driver = hotline();
  const failures: string[] = [];
  let deliveries = 0;
  try {
    const seeds = Array.from({ length: HTTP_SEQUENCES }, (_, i) => FIRST_SEED + i);
    await inParallel(seeds, 4, async (seed) => {
      const s = sequence(seed);
      countMix(s.deliveries);
      try {
        // The reference over SQL (the in-order state the SQL run checks against).
        for (const hook of s.inOrder) await applyOverSql(sql, hook);
        for (const moment of moments(s.deliveries)) {
          const answers = await Promise.all(moment.map((d) =>
            driver.post(
              driver.url(`${d.webhook.slug}${d.webhook.query ? `?${d.webhook.query}` : ""}`),
              d.webhook.params,
              { token: d.token },
            )
          ));
          for (const [i, a] of answers.entries()) {
            if (a.status !== 200) {
              throw new Error(`${moment[i].webhook.name} answered ${a.status}: ${a.body}`);
            }
          }
        }
        deliveries += s.deliveries.length;
        const failure = await judge(sql, seed, s, true);
        if (failure) failures.push(failure);
      } catch (error) {
        failures.push(`seed ${seed}: ${error}\n  replay: ${replayHint(seed, true)}`);
      }
    });
  } finally {
    await sql.end({ timeout: 2 });
  }
  report("sequences over HTTP", HTTP_SEQUENCES, deliveries, failures);
  assert.deepEqual(failures, []);
});

/** Compares the shuffled call's state with the in-order one's; a failure report, or undefined. */
async function judge(
  sql: ReturnType<typeof testSql>,
  seed: number,
  s: ReturnType<typeof sequence>,
  http: boolean,
): Promise<string | undefined> {
  const [expected, actual, dupes] = await Promise.all([
    callState(sql, s.reference),
    callState(sql, s.shuffled),
    duplicateRows(sql, s.shuffled.callSid),
  ]);
  if (expected === actual && dupes.length === 0) return undefined;
  return `seed ${seed} (${describe(s.deliveries)}): ${
    dupes.length ? `duplicates ${dupes.join(", ")}; ` : ""
  }${firstDifference(expected, actual)}\n  replay: ${replayHint(seed, http)}`;
}

/** The delivery order in short, for a failure report. */
function describe(deliveries: Delivery[]): string {
  return moments(deliveries).map((m) => m.map((d) => d.webhook.name).join("+")).join(" → ");
}

function firstDifference(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i}: in order ${a[i]?.trim()} · shuffled ${b[i]?.trim()}`;
  }
  return "same state";
}
