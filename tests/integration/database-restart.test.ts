/**
 * A dead database, for real: the test cluster is killed with
 * `pg_ctl -m immediate` (as a crash or failover would) and started again.
 *
 * - the driver pool used by every function recovers by itself, even after
 *   queries were abandoned at their deadline while Postgres was down;
 * - with Postgres down, every caller-facing step answers its rescue at once
 *   once the first failure opened the circuit (printed: each step's latency);
 * - after Postgres is back, calls are stored again within seconds, without
 *   restarting anything (printed: the recovery time);
 * - callbacks nobody waits on are answered 503 while they cannot be stored,
 *   and Twilio's retry stores them once the database is back.
 *
 * Functions run in processes of their own against the shared test cluster;
 * the cluster is always started again before a test ends.
 */
import assert from "node:assert/strict";
import { openDatabase, withDeadline } from "../../supabase/functions/_shared/platform/db.ts";
import {
  exampleEnv,
  ISOLATED_PUBLIC_BASE,
  startFunctionsBehindDriver,
} from "../support/function-process.ts";
import {
  startPostgres,
  stopPostgresImmediately,
  withRestartablePostgres,
} from "../support/postgres-server.ts";
import { newCallSid, testDbUrl, testSql } from "../support/stack.ts";
import { parseTwiml } from "../flow/twilio-driver.ts";

const PUBLIC_BASE = ISOLATED_PUBLIC_BASE;
const FALLBACK = `${PUBLIC_BASE}/voice-fallback`;
const HOTLINE = "+15877428885";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const newCaller = () => "+1403" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");

const callParams = (extra: Record<string, string> = {}) => ({
  AccountSid: exampleEnv().TWILIO_ACCOUNT_SID,
  CallSid: newCallSid(),
  From: newCaller(),
  To: HOTLINE,
  CallStatus: "in-progress",
  ...extra,
});

/** Whether the call has a row: the database stored what the function sent. */
async function stored(callSid: string): Promise<boolean> {
  const sql = testSql({ max: 1, connect_timeout: 2 });
  try {
    const rows = await sql`select 1 from public.call_logs where call_sid = ${callSid}`;
    return rows.length === 1;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test("db: the pool recovers after a restart during which queued queries hit their deadline", async () => {
  // The functions' own client (db.ts), in this process.
  const sql = await openDatabase(testDbUrl());
  try {
    await withRestartablePostgres(async () => {
      await Promise.all(range(4).map(() => withDeadline(sql`select 1 as ok`, 2_000)));
      await stopPostgresImmediately();
      // Concurrent queries abandoned at their deadline while connections are
      // being re-established (the driver's reconnect is what they wait on).
      for (const _ of range(4)) {
        const results = await Promise.allSettled(
          range(6).map(() => withDeadline(sql`select 1 as ok`, 500)),
        );
        assert.ok(results.every((r) => r.status === "rejected"), "Postgres is down");
      }
      await startPostgres();
      const started = performance.now();
      let recovered = false;
      while (!recovered && performance.now() - started < 15_000) {
        const results = await Promise.allSettled(
          range(6).map(() => withDeadline(sql`select 1 as ok`, 1_000)),
        );
        recovered = results.every((r) => r.status === "fulfilled");
        if (!recovered) await sleep(200);
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        recovered
          ? `driver pool: all 6 concurrent queries answered ${seconds} s after the start`
          : `driver pool: still failing ${seconds} s after the start`,
      );
      assert.ok(recovered, "the pool never answered again after Postgres came back");
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
});

// Direct connections only: behind a transaction-mode pooler a stopped Postgres
// is a hanging one (the pooler accepts, then waits for its server), so each
// probe after the cool-down waits out the step deadline; the hanging-database
// test in call-rescue.test.ts holds that case to its 3 s goal.
Deno.test({
  name:
    "breaker: with Postgres stopped, every caller-facing step answers in under 1 s after the first failure",
  ignore: Deno.env.get("HOTLINE_TEST_POOLER") !== undefined,
}, async () => {
  const { driver, stop } = await startFunctionsBehindDriver([
    "voice-frontdoor",
    "voice-menu-handler",
    "voice-action",
    "voice-voicemail",
  ]);
  // One call's caller-facing steps, each with the answer its rescue gives.
  const steps: [string, Record<string, string>, (body: string) => boolean][] = [
    ["voice-frontdoor", {}, (b) => b.includes(FALLBACK)],
    ["voice-menu-handler?attempt=1&repeats=0", { Digits: "2" }, (b) => b.includes(FALLBACK)],
    [
      "voice-action?dept=support",
      { DialCallStatus: "no-answer" },
      (b) => b.includes(`${FALLBACK}?step=voicemail`),
    ],
    [
      "voice-voicemail?event=recorded",
      { RecordingSid: "RE" + "b".repeat(32) },
      (b) => parseTwiml(b).some((v) => v.verb === "Hangup"),
    ],
  ];
  const post = async (
    step: string,
    extra: Record<string, string>,
    call: Record<string, string>,
  ) => {
    const started = performance.now();
    const res = await driver.post(driver.url(step), { ...call, ...extra });
    return { res, ms: Math.round(performance.now() - started) };
  };
  try {
    await withRestartablePostgres(async () => {
      // Warm: each function has a connected pool, as in production.
      const warm = callParams();
      for (const [step, extra] of steps) {
        assert.equal((await post(step, extra, warm)).res.status, 200);
      }
      await stopPostgresImmediately();
      const latencies: Record<string, number[]> = {};
      // Six calls over ~5 s: each function sees its first failure, then an
      // open circuit, then probes after each cool-down.
      for (const _ of range(6)) {
        const call = callParams();
        for (const [step, extra, rescued] of steps) {
          const { res, ms } = await post(step, extra, call);
          assert.equal(res.status, 200, step);
          assert.ok(rescued(res.body), `${step} did not answer its rescue: ${res.body}`);
          parseTwiml(res.body);
          (latencies[step.split("?")[0]] ??= []).push(ms);
        }
        await sleep(400);
      }
      for (const [slug, ms] of Object.entries(latencies)) {
        console.log(`Postgres stopped: ${slug} answered in ${ms.join(", ")} ms`);
      }
      for (const [slug, [first, ...rest]] of Object.entries(latencies)) {
        assert.ok(first < 3_000, `${slug}: first answer took ${first} ms`);
        assert.ok(Math.max(...rest) < 1_000, `${slug}: after the first failure, ${rest} ms`);
      }
    });
  } finally {
    await stop();
  }
});

Deno.test("recovery: after an immediate shutdown and start, calls are stored again within 5 s; voice-health says so", async () => {
  const { driver, url, stop } = await startFunctionsBehindDriver([
    "voice-frontdoor",
    "voice-health",
  ]);
  const frontdoor = (call = callParams()) => driver.post(driver.url("voice-frontdoor"), call);
  const health = async () => {
    const res = await fetch(url("voice-health"));
    return { status: res.status, body: await res.json() };
  };
  try {
    await withRestartablePostgres(async () => {
      const warm = callParams();
      await Promise.all(range(4).map(() => frontdoor()));
      assert.ok(/<Gather/.test((await frontdoor(warm)).body));
      assert.ok(await stored(warm.CallSid));
      assert.equal((await health()).body.status, "healthy");

      await stopPostgresImmediately();
      // Callers keep coming during the outage, several at once.
      for (const _ of range(4)) {
        const answers = await Promise.all(range(4).map(() => frontdoor()));
        for (const a of answers) {
          assert.equal(a.status, 200);
          assert.ok(a.body.includes(FALLBACK), a.body);
        }
        await sleep(300);
      }
      const during = await health();
      assert.equal(during.status, 503, "calls are being rescued: not healthy");
      assert.equal(during.body.checks.database.state, "fail");
      await startPostgres();
      const started = performance.now();
      let seconds: number | undefined;
      while (performance.now() - started < 60_000) {
        const call = callParams();
        const answer = await frontdoor(call);
        assert.equal(answer.status, 200);
        if (/<Gather/.test(answer.body) && await stored(call.CallSid)) {
          seconds = (performance.now() - started) / 1000;
          break;
        }
        await sleep(250);
      }
      console.log(
        `recovery: a call was stored ${
          seconds === undefined ? "never (60 s)" : `${seconds.toFixed(1)} s`
        } after Postgres accepted connections again`,
      );
      assert.ok(seconds !== undefined && seconds < 5, `recovery took ${seconds ?? "over 60"} s`);
      const after = await health();
      assert.equal(after.status, 200);
      assert.equal(after.body.status, "healthy", JSON.stringify(after.body));
    });
  } finally {
    await stop();
  }
});

Deno.test("callbacks: with Postgres stopped, recording and status callbacks answer 503 and are stored by Twilio's retry", async () => {
  const { driver, stop } = await startFunctionsBehindDriver(["voice-voicemail", "voice-status"]);
  try {
    await withRestartablePostgres(async () => {
      const call = callParams();
      const recordingSid = "RE" + crypto.randomUUID().replaceAll("-", "");
      const recording = {
        ...call,
        RecordingSid: recordingSid,
        RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/${recordingSid}`,
        RecordingDuration: "7",
        RecordingStatus: "completed",
      };
      // The URL as our TwiML hands it to Twilio: with the retry overrides.
      const recordUrl = `${PUBLIC_BASE}/voice-voicemail?event=recording#rc=5&rp=ct,rt,5xx`;
      // Warm the processes.
      await driver.post(`${PUBLIC_BASE}/voice-voicemail`, call);
      await driver.post(`${PUBLIC_BASE}/voice-status`, { ...callParams(), CallStatus: "ringing" });

      await stopPostgresImmediately();
      const noRetry = `${PUBLIC_BASE}/voice-voicemail?event=recording`;
      const down = await driver.post(noRetry, recording);
      assert.equal(down.status, 503, "a recording not stored is never acknowledged");
      const transcription = await driver.post(
        `${PUBLIC_BASE}/voice-voicemail?event=transcription`,
        {
          ...recording,
          TranscriptionSid: "TR" + "d".repeat(32),
          TranscriptionStatus: "completed",
          TranscriptionText: "please call me back",
        },
      );
      assert.equal(transcription.status, 503);
      const status = await driver.post(`${PUBLIC_BASE}/voice-status`, {
        ...call,
        CallStatus: "completed",
        CallDuration: "30",
      });
      assert.equal(status.status, 503, "a status not stored is never acknowledged");

      // Twilio retries (rc=5, every 500 ms here); Postgres is back during them.
      const retried = driver.post(recordUrl, recording);
      await sleep(300);
      await startPostgres();
      const answer = await retried;
      assert.equal(
        answer.status,
        200,
        `still ${answer.status} after ${answer.attempts} deliveries`,
      );
      assert.ok(answer.attempts! > 1, "the first delivery should have failed");
      const sql = testSql({ max: 1 });
      try {
        const rows = await sql`select recording_sid from public.voicemails
                               where call_sid = ${call.CallSid}`;
        assert.deepEqual(rows.map((r) => r.recording_sid), [recordingSid]);
        // A redelivery of the same callback stores nothing twice.
        assert.equal((await driver.post(noRetry, recording)).status, 200);
        const again = await sql`select count(*)::int as n from public.voicemails
                                where call_sid = ${call.CallSid}`;
        assert.equal(again[0].n, 1);
      } finally {
        await sql.end({ timeout: 1 });
      }
    });
  } finally {
    await stop();
  }
});
