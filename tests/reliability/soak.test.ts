/**
 * The soak: calls at half of the capacity measured just before, for
 * RELIABILITY_SOAK_SECONDS (default 20), while Postgres is restarted
 * (immediate shutdown, then start) every RELIABILITY_RESTART_SECONDS
 * (default 8). `deno task reliability:soak` runs 10 minutes with a restart
 * every 2 minutes. Printed and checked: caller-facing answers that were not
 * TwiML reaching a person or voicemail within 3 s (goal 0), callbacks sent
 * versus stored after Twilio's retries and redeliveries (goal: every one,
 * once), and each function process's resident memory at start and end.
 */
import assert from "node:assert/strict";
import { residentBytes, startFunctionsBehindDriver } from "../support/function-process.ts";
import {
  startPostgres,
  stopPostgresImmediately,
  withRestartablePostgres,
} from "../support/postgres-server.ts";
import {
  CALL_FLOW_SLUGS,
  missingOrDuplicated,
  newLedger,
  placeCall,
  redeliverRefused,
  settle,
} from "./support/calls-under-fault.ts";
import { envInt } from "./support/seeded.ts";
import { findLeaks } from "../support/log-scan.ts";
import { exampleEnv } from "../support/function-process.ts";

const SOAK_S = envInt("RELIABILITY_SOAK_SECONDS", 20);
const RESTART_S = envInt("RELIABILITY_RESTART_SECONDS", 8);
const MEASURE_S = envInt("RELIABILITY_MEASURE_SECONDS", 4);
const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test(`soak: ${SOAK_S} s at half capacity, Postgres restarted every ${RESTART_S} s`, async () => {
  const stack = await startFunctionsBehindDriver(CALL_FLOW_SLUGS, {
    retryDelayMs: 500,
    captureLogs: true,
  });
  const rss = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(stack.pids).map(async ([slug, pid]) => [slug, await residentBytes(pid)]),
      ),
    ) as Record<string, number>;
  try {
    // Capacity: as many calls as 4 callers at once can place.
    const measured = newLedger();
    let measuring = true;
    const started = performance.now();
    const lanes = Array.from({ length: 4 }, async () => {
      // A call counts once its callbacks are answered too.
      while (measuring) {
        await placeCall(stack.driver, measured);
        await settle(measured);
      }
    });
    await sleep(MEASURE_S * 1000);
    measuring = false;
    await Promise.all(lanes);
    await settle(measured);
    const capacity = measured.calls / ((performance.now() - started) / 1000);
    const interval = 1000 / (capacity / 2);
    const rssStart = await rss();

    const ledger = newLedger();
    const inFlight = new Set<Promise<void>>();
    let restarts = 0;
    const restartSeconds: number[] = [];
    await withRestartablePostgres(async () => {
      const end = performance.now() + SOAK_S * 1000;
      let nextRestart = performance.now() + RESTART_S * 1000;
      let restarting: Promise<void> | undefined;
      while (performance.now() < end) {
        if (!restarting && performance.now() >= nextRestart) {
          nextRestart += RESTART_S * 1000;
          const t = performance.now();
          restarting = stopPostgresImmediately().then(startPostgres).then(() => {
            restarts++;
            restartSeconds.push((performance.now() - t) / 1000);
            restarting = undefined;
          });
        }
        const call = placeCall(stack.driver, ledger).finally(() => inFlight.delete(call));
        inFlight.add(call);
        await sleep(interval);
      }
      await restarting;
      await Promise.all(inFlight);
      await settle(ledger);
    });
    const rssEnd = await rss();
    const { redelivered, stillRefused } = await redeliverRefused(stack.driver, ledger, {
      giveUpAfterMs: 60_000,
    });
    const problems = await missingOrDuplicated(ledger);
    const leaks = findLeaks(stack.logs(), {
      secrets: [exampleEnv().TWILIO_AUTH_TOKEN],
      numbers: ledger.results.flatMap((r) => r.exchanges.map((e) => e.params.From ?? "")),
      transcripts: ["Hi, this is a test caller. Please call me back"],
    });
    console.log(
      `soak: capacity ${capacity.toFixed(1)} calls/s (4 callers at once, ${MEASURE_S} s); ` +
        `${SOAK_S} s at ${(capacity / 2).toFixed(1)} calls/s with ${restarts} restarts ` +
        `(down ${restartSeconds.map((s) => s.toFixed(1)).join(", ")} s)`,
    );
    console.log(
      `  ${ledger.calls} calls, ${ledger.callerAnswers} caller-facing answers, ` +
        `${ledger.badCallerAnswers.length} not TwiML reaching a person or voicemail within 3 s ` +
        `(slowest ${ledger.slowestCallerMs} ms)`,
    );
    console.log(
      `  callbacks sent ${ledger.callbacksSent}, retried by Twilio ${ledger.callbacksRetried}, ` +
        `redelivered after its retries ${ledger.callbacksRefused} (${redelivered} deliveries), ` +
        `never stored ${stillRefused}, missing or duplicated ${problems.length}; stored ` +
        `${ledger.callbacksSent - problems.length - stillRefused} of ${ledger.callbacksSent}`,
    );
    for (const slug of CALL_FLOW_SLUGS) {
      console.log(
        `  ${slug}: RSS ${(rssStart[slug] / MIB).toFixed(1)} → ${
          (rssEnd[slug] / MIB).toFixed(1)
        } MiB`,
      );
    }
    console.log(`  logs: ${leaks.length} leaks`);
    for (const p of [...ledger.badCallerAnswers, ...problems, ...leaks].slice(0, 10)) {
      console.log(`  ${p}`);
    }
    assert.ok(restarts >= 1, "Postgres was never restarted");
    assert.deepEqual(ledger.failedRequests, []);
    assert.deepEqual(ledger.badCallerAnswers, []);
    assert.equal(stillRefused, 0);
    assert.deepEqual(problems, []);
    assert.deepEqual(leaks, []);
  } finally {
    await stack.stop();
  }
});
