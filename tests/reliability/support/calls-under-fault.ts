/**
 * Calls placed by the Twilio-like driver while the database fails, and the
 * ledger that judges them afterwards. Shared by the fault tests and the soak.
 *
 * Each call: the menu, support (the agent does not answer), a voicemail with
 * its recording and transcription callbacks, then three status callbacks
 * (their URL asks Twilio for retries, as the recording callbacks' do).
 * Judged:
 * - every caller-facing answer: 200, TwiML that parses, within 3 s;
 * - every call reached a person or a voicemail (a <Dial> or a <Record>);
 * - every callback answered 2xx is stored; one answered otherwise is
 *   redelivered afterwards, as Twilio would, until stored; then each is
 *   stored exactly once (no lifecycle status, voicemail or recording twice).
 */
import type { CallResult, Exchange, TwilioDriver } from "../../flow/twilio-driver.ts";
import { parseTwiml } from "../../flow/twilio-driver.ts";
import { testSql } from "../../support/stack.ts";

/** The functions a call goes through, each run in a process of its own. */
export const CALL_FLOW_SLUGS = [
  "voice-frontdoor",
  "voice-menu-handler",
  "voice-action",
  "voice-voicemail",
  "voice-status",
  "voice-fallback",
];

/** The longest a caller may wait for any answer. */
export const CALLER_WAIT_MS = 3_000;

export interface CallLedger {
  calls: number;
  callerAnswers: number;
  /** Caller-facing answers that were not TwiML reaching a person or voicemail in time. */
  badCallerAnswers: string[];
  slowestCallerMs: number;
  callbacksSent: number;
  /** Callbacks Twilio had to deliver more than once (a 5xx, retried under `#rc=`). */
  callbacksRetried: number;
  /** Callbacks still non-2xx after Twilio's retries (redelivered later); a 2xx not stored would be lost. */
  callbacksRefused: number;
  /** Callbacks still unanswered 2xx when the run ended (before the final redelivery). */
  pendingCallbacks: Exchange[];
  /**
   * Requests that got no HTTP answer at all (a refused connection: a function
   * process gone). Recorded, never left as a rejection nobody holds, which
   * Deno would report against whichever test runs next.
   */
  failedRequests: string[];
  /** Callbacks still being delivered (see `settle`). */
  background: Promise<void>[];
  results: CallResult[];
}

export function newLedger(): CallLedger {
  return {
    calls: 0,
    callerAnswers: 0,
    badCallerAnswers: [],
    slowestCallerMs: 0,
    callbacksSent: 0,
    callbacksRetried: 0,
    callbacksRefused: 0,
    pendingCallbacks: [],
    failedRequests: [],
    background: [],
    results: [],
  };
}

let callerCounter = 0;
/** A caller number for this run (the rate limit is 10 a minute per caller). */
const nextCaller = () =>
  "+1825" + String((Date.now() % 1e6) * 10 + (callerCounter++ % 10)).padStart(7, "0").slice(-7);

/**
 * Places one call; records its caller-facing answers in the ledger at once.
 * Its callbacks (recording, transcription, then the three statuses) go on in
 * the background, as Twilio sends them after the call, and are recorded when
 * answered (`settle` waits for them all): a caller never waits behind another
 * call's callbacks and their retries. Never rejects: a request that got no
 * answer is recorded in `failedRequests`.
 */
export async function placeCall(driver: TwilioDriver, ledger: CallLedger): Promise<void> {
  const from = nextCaller();
  let result: CallResult;
  try {
    result = await driver.call({
      from,
      script: [{ press: "2" }, { speak: 6 }],
      agent: "no-answer",
      transcription: "after-recording-callback",
      backgroundCallbacks: true,
    });
  } catch (e) {
    ledger.calls++;
    ledger.failedRequests.push(`call from ${from}: ${e}`);
    return;
  }
  ledger.calls++;
  ledger.results.push(result);
  for (const ex of result.exchanges) {
    ledger.callerAnswers++;
    ledger.slowestCallerMs = Math.max(ledger.slowestCallerMs, ex.ms ?? 0);
    const problem = ex.status !== 200
      ? `answered ${ex.status}`
      : (ex.ms ?? 0) > CALLER_WAIT_MS
      ? `took ${ex.ms} ms`
      : twimlProblem(ex.body);
    if (problem) ledger.badCallerAnswers.push(`${ex.url}: ${problem}`);
  }
  const reached = result.dials.length > 0 || result.heard.includes("[beep]");
  if (!reached) ledger.badCallerAnswers.push(`${result.callSid}: reached no person or voicemail`);
  const callerFacing = result.exchanges.length;
  const callbacks = (async () => {
    await result.callbacks;
    for (const status of ["ringing", "in-progress", "completed"]) {
      result.exchanges.push(
        await driver.postStatus(result.callSid, status, { from, retries: true }),
      );
    }
    for (const ex of result.exchanges.slice(callerFacing)) {
      ledger.callbacksSent++;
      if ((ex.attempts ?? 1) > 1) ledger.callbacksRetried++;
      if (ex.status < 200 || ex.status > 299) {
        ledger.callbacksRefused++;
        ledger.pendingCallbacks.push(ex);
      }
    }
  })().catch((e) => {
    ledger.failedRequests.push(`${result.callSid} callbacks: ${e}`);
  });
  ledger.background.push(callbacks);
}

/** Waits until every call's callbacks were answered (after Twilio's retries). */
export async function settle(ledger: CallLedger): Promise<void> {
  while (ledger.background.length > 0) await ledger.background.shift();
}

function twimlProblem(body: string): string | undefined {
  try {
    parseTwiml(body);
    return undefined;
  } catch (error) {
    return `unparseable TwiML (${error})`;
  }
}

/** Delivers every refused callback again (same request, same token) until stored, as Twilio would. */
export async function redeliverRefused(
  driver: TwilioDriver,
  ledger: CallLedger,
  opts: { giveUpAfterMs: number },
): Promise<{ redelivered: number; stillRefused: number }> {
  const deadline = performance.now() + opts.giveUpAfterMs;
  let redelivered = 0;
  const remaining: Exchange[] = [];
  for (const ex of ledger.pendingCallbacks) {
    let status = ex.status;
    while ((status < 200 || status > 299) && performance.now() < deadline) {
      status = (await driver.post(ex.url, ex.params, { token: ex.token })).status;
      redelivered++;
      if (status < 200 || status > 299) await new Promise((r) => setTimeout(r, 250));
    }
    if (status < 200 || status > 299) remaining.push(ex);
  }
  ledger.pendingCallbacks = remaining;
  return { redelivered, stillRefused: remaining.length };
}

/**
 * What the database holds against what Twilio delivered: each call's three
 * statuses once, its voicemail once with the recording and the transcript.
 */
export async function missingOrDuplicated(ledger: CallLedger): Promise<string[]> {
  const sql = testSql({ max: 1 });
  const problems: string[] = [];
  try {
    const sids = ledger.results.map((r) => r.callSid);
    const lifecycle = await sql`
      select call_sid, status::text, count(*)::int as n from public.call_lifecycle
       where call_sid = any(${sids}) group by 1, 2`;
    const voicemails = await sql`
      select call_sid, recording_sid, transcription_status, count(*) over (partition by recording_sid)::int as n
        from public.voicemails where call_sid = any(${sids})`;
    const statuses = new Map<string, Map<string, number>>();
    for (const r of lifecycle) {
      const m = statuses.get(r.call_sid) ?? new Map();
      m.set(r.status, r.n);
      statuses.set(r.call_sid, m);
    }
    const vm = new Map(voicemails.map((v) => [v.call_sid as string, v]));
    for (const result of ledger.results) {
      const m = statuses.get(result.callSid) ?? new Map();
      for (const s of ["ringing", "in-progress", "completed"]) {
        const n = m.get(s) ?? 0;
        if (n !== 1) problems.push(`${result.callSid}: status ${s} stored ${n} times`);
      }
      const recorded = result.exchanges.find((e) => e.url.includes("event=recording"));
      if (!recorded) continue;
      const row = vm.get(result.callSid);
      if (!row || row.recording_sid !== recorded.params.RecordingSid) {
        problems.push(`${result.callSid}: recording not stored`);
      } else if (row.n !== 1) problems.push(`${result.callSid}: recording stored ${row.n} times`);
      else if (row.transcription_status !== "completed") {
        problems.push(`${result.callSid}: transcription not stored`);
      }
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
  return problems;
}
