/**
 * Hostile input against every function (support/targets.ts), each in a
 * process of its own on the real test database: RELIABILITY_FUZZ requests
 * per function (default 300; `deno task reliability:fuzz` runs 10,000),
 * seeded (RELIABILITY_SEED). Checked, and printed per function:
 * - no 5xx, except 503 where it is the deliberate "not stored, send it
 *   again" answer of a callback (counted apart);
 * - no crash: every request answered, the process alive at the end;
 * - memory flat: what survives a full garbage collection (the retained
 *   heap), read with nothing in flight after a warm-up, at ¼, ½, ¾ and the
 *   end, may not grow by more than 2 MiB in the second half (the resident
 *   set and V8's committed heap are printed beside it);
 * - every 200 TwiML parses, and no hostile value appears in it unescaped;
 * - every stored value reads back byte-exact after the edge's documented
 *   normalisation (docs/telephony.md, "The edge of every webhook");
 * - the logs hold no auth token, no full number, no transcript.
 */
import assert from "node:assert/strict";
import {
  exampleEnv,
  ISOLATED_PUBLIC_BASE,
  type MemoryReading,
  startFunction,
} from "../support/function-process.ts";
import { testDbUrl, testSql } from "../support/stack.ts";
import { parseTwiml } from "../flow/twilio-driver.ts";
import { findLeaks } from "../support/log-scan.ts";
import { normaliseWebhookParams } from "../../supabase/functions/_shared/twilio/edge-validation.ts";
import { CALL_TARGETS, type WebhookTarget } from "./support/targets.ts";
import { type HostileRequest, hostileRequest, MARKER } from "./support/hostile-requests.ts";
import { baseSeed, Dice, envInt, inParallel } from "./support/seeded.ts";

const env = exampleEnv();
const PER_FUNCTION = envInt("RELIABILITY_FUZZ", 300);
const FIRST_SEED = baseSeed(1207);
const MIB = 1024 * 1024;
/**
 * Memory is flat when the second half of the run grows the retained heap
 * (what a full garbage collection leaves) by less than this: a leak of 400
 * bytes a request is 2 MiB over the second half of 10,000. Not the resident
 * set: V8 sizes its heap to the load and keeps it (its young generation
 * alone grows by about 50 MiB, sooner the more a request allocates), so the
 * resident set grows for thousands of requests without a leak
 * (docs/reliability.md, "Memory").
 */
const MAX_LATE_HEAP_GROWTH_BYTES = envInt("RELIABILITY_MAX_LATE_HEAP_GROWTH_MIB", 2) * MIB;

/** A value the database must hold exactly as the edge left it. */
interface StoredValue {
  table: "call_logs" | "voicemails" | "sms_messages";
  column: string;
  keyColumn: string;
  key: string;
  expected: string | null;
}

/** The value of `field` the step stores, from the documented edge rules. */
function edgeValue(params: URLSearchParams, field: string): string | undefined {
  return normaliseWebhookParams(params).params.get(field) ?? undefined;
}

/** Which stored value a request that was answered 200 must have left, if any. */
function expectedStored(target: WebhookTarget, r: HostileRequest): StoredValue | undefined {
  if (!r.params || !r.kind.startsWith("signed-fields")) return undefined;
  const p = normaliseWebhookParams(r.params).params;
  const query = new URLSearchParams(r.query);
  const callSid = p.get("CallSid")?.trim();
  if (target.slug === "voice-frontdoor" && callSid) {
    // Numbers are stored trimmed; a blank one as `unknown` (docs/telephony.md).
    const from = edgeValue(r.params, "From")?.trim();
    return {
      table: "call_logs",
      column: "from_number",
      keyColumn: "call_sid",
      key: callSid,
      expected: from ? from : "unknown",
    };
  }
  if (
    target.slug === "voice-voicemail" && query.get("event") === "transcription" && callSid
  ) {
    const text = edgeValue(r.params, "TranscriptionText")?.trim();
    return {
      table: "voicemails",
      column: "transcription_text",
      keyColumn: "call_sid",
      key: callSid,
      expected: text ? text : null,
    };
  }
  const messageSid = p.get("MessageSid") ?? p.get("SmsMessageSid");
  // A message without a sender or recipient is acknowledged, not stored (docs/sms.md).
  if (
    target.slug === "webcomms-sms-reply" && messageSid && p.get("From")?.trim() &&
    p.get("To")?.trim()
  ) {
    return {
      table: "sms_messages",
      column: "body",
      keyColumn: "message_sid",
      key: messageSid,
      expected: edgeValue(r.params, "Body") ?? "",
    };
  }
  return undefined;
}

interface Tally {
  slug: string;
  tried: number;
  byStatus: Record<string, number>;
  retry503: number;
  failures: string[];
  crashes: number;
  /** After the warm-up, at ¼, ½, ¾ and the end (the end missing when the process is gone). */
  memory: MemoryReading[];
  checkedStored: number;
}

async function fuzzOne(target: WebhookTarget, seed: number, sentNumbers: string[]) {
  const fn = await startFunction(target.slug, {
    ...env,
    SUPABASE_DB_URL: testDbUrl(),
    PUBLIC_BASE_URL: ISOLATED_PUBLIC_BASE,
  }, { captureLogs: true, memoryProbe: true });
  const tally: Tally = {
    slug: target.slug,
    tried: 0,
    byStatus: {},
    retry503: 0,
    failures: [],
    crashes: 0,
    memory: [],
    checkedStored: 0,
  };
  const stored: StoredValue[] = [];
  const warmUp = Math.max(20, Math.floor(PER_FUNCTION / 20));
  const dice = Dice.seeded(seed);
  const fail = (what: string) => {
    if (tally.failures.length < 20) tally.failures.push(what);
    else tally.failures.length++;
  };
  try {
    const requests: HostileRequest[] = [];
    for (let i = 0; i < PER_FUNCTION; i++) {
      requests.push(
        await hostileRequest(dice, target, {
          authToken: env.TWILIO_AUTH_TOKEN,
          accountSid: env.TWILIO_ACCOUNT_SID,
          publicBase: ISOLATED_PUBLIC_BASE,
        }),
      );
    }
    for (const r of requests) {
      for (const field of ["From", "To", "Caller", "Called"]) {
        const v = r.params?.get(field);
        if (v && /^\+?\d{7,}$/.test(v.trim())) sentNumbers.push(v.trim());
      }
    }
    const send = async (r: HostileRequest, i: number) => {
      tally.tried++;
      let res: Response;
      try {
        res = await fetch(fn.url + (r.query ? `?${r.query}` : ""), {
          method: r.method,
          headers: r.headers,
          body: r.body,
        });
      } catch (error) {
        // An oversized body may see its connection closed once the 413 is out.
        if (r.kind === "oversized") {
          tally.byStatus["closed-after-413"] = (tally.byStatus["closed-after-413"] ?? 0) + 1;
          return;
        }
        tally.crashes++;
        fail(`#${i} ${r.kind}: no answer (${error})`);
        return;
      }
      const body = await res.text();
      tally.byStatus[res.status] = (tally.byStatus[res.status] ?? 0) + 1;
      if (res.status >= 500) {
        // The database is up: a callback's "send it again" 503 here means a
        // request that no redelivery will ever store (only voice-health's 503
        // is an answer of its own: unhealthy).
        if (res.status === 503 && target.retryable503(new URLSearchParams(r.query))) {
          tally.retry503++;
        }
        if (target.kind !== "get-json" || res.status !== 503) {
          fail(`#${i} ${r.kind} ?${r.query}: ${res.status} ${body.slice(0, 200)}`);
        }
        return;
      }
      if (res.status === 200 && (res.headers.get("content-type") ?? "").includes("xml")) {
        try {
          parseTwiml(body);
        } catch (error) {
          fail(`#${i} ${r.kind}: unparseable TwiML (${error}): ${body.slice(0, 300)}`);
        }
        if (body.includes(MARKER)) fail(`#${i} ${r.kind}: a value echoed unescaped: ${body}`);
      }
      if (res.status === 200) {
        const expected = expectedStored(target, r);
        if (expected) stored.push(expected);
      }
    };
    // Memory is read between segments, with nothing in flight.
    const ends = [warmUp, ...[1, 2, 3, 4].map((q) => Math.floor((PER_FUNCTION * q) / 4))];
    let from = 0;
    for (const end of ends) {
      await inParallel(requests.slice(from, end), 4, (r, i) => send(r, from + i));
      from = end;
      try {
        tally.memory.push(await fn.memory());
      } catch (error) {
        tally.crashes++;
        fail(`the process is gone (${error})`);
        break;
      }
    }
  } finally {
    await fn.stop();
  }
  // Read every stored value back.
  const sql = testSql({ max: 2 });
  try {
    for (const s of stored) {
      const rows = await sql`select ${sql(s.column)} as v from ${sql("public." + s.table)}
                             where ${sql(s.keyColumn)} = ${s.key}`;
      tally.checkedStored++;
      if (rows.length !== 1) fail(`${s.table} ${s.key}: ${rows.length} rows after a 200`);
      else if (rows[0].v !== s.expected) {
        fail(
          `${s.table}.${s.column} of ${s.key}: stored ${JSON.stringify(rows[0].v)?.slice(0, 120)}` +
            `, expected ${JSON.stringify(s.expected)?.slice(0, 120)}`,
        );
      }
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
  return { tally, logs: fn.logs() };
}

/** One memory figure over the run's readings, in MiB. */
function series(t: Tally, figure: keyof MemoryReading): string {
  return t.memory.map((m) => (m[figure] / MIB).toFixed(1)).join(" → ");
}

/** Retained heap at the end minus half-way (the readings at ½ and the end). */
function lateHeapGrowth(t: Tally): number {
  return t.memory.length === 5 ? t.memory[4].heapUsed - t.memory[2].heapUsed : Infinity;
}

Deno.test(`hostile input: ${PER_FUNCTION} requests per function, seeded`, async () => {
  const tallies: Tally[] = [];
  let logs = "";
  const numbers: string[] = [];
  for (const [i, target] of CALL_TARGETS.entries()) {
    const { tally, logs: out } = await fuzzOne(target, FIRST_SEED + i, numbers);
    tallies.push(tally);
    logs += out;
  }
  console.log(`hostile input, seeds ${FIRST_SEED}…${FIRST_SEED + CALL_TARGETS.length - 1}:`);
  for (const t of tallies) {
    const statuses = Object.entries(t.byStatus).map(([s, n]) => `${s}×${n}`).join(" ");
    console.log(
      `  ${t.slug}: ${t.tried} tried; ${statuses}; callback 503s with the database up ${t.retry503}; ` +
        `other 5xx/defects ${t.failures.length}; crashes ${t.crashes}; ` +
        `after warm-up → ¼ → ½ → ¾ → end: retained heap ${series(t, "heapUsed")}, ` +
        `V8 heap ${series(t, "heapTotal")}, RSS ${series(t, "rss")} MiB ` +
        `(retained heap ${(lateHeapGrowth(t) / 1024).toFixed(0)} KiB more in the second half); ` +
        `stored values read back ${t.checkedStored}`,
    );
    for (const f of t.failures.filter(Boolean).slice(0, 5)) console.log(`    ${f}`);
  }
  const leaks = findLeaks(logs, {
    secrets: [env.TWILIO_AUTH_TOKEN, env.ADMIN_API_KEY ?? ""],
    numbers,
    transcripts: ["Please call me back about my order."],
  });
  console.log(`  logs: ${logs.length} bytes scanned, ${leaks.length} leaks`);
  for (const l of leaks.slice(0, 5)) console.log(`    ${l}`);
  for (const t of tallies) {
    assert.equal(t.crashes, 0, `${t.slug} crashed`);
    assert.deepEqual(t.failures, [], t.slug);
    const growth = lateHeapGrowth(t);
    assert.ok(
      growth < MAX_LATE_HEAP_GROWTH_BYTES,
      `${t.slug}: the retained heap grew ${(growth / MIB).toFixed(2)} MiB in the second half`,
    );
  }
  assert.deepEqual(leaks, []);
});
