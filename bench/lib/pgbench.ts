/** SQL under pgbench: one script, N clients, T seconds, transactions per second. */
import { run } from "./processes.ts";

export interface PgbenchResult {
  tps: number;
  latencyMs: number;
}

/** Runs `script` (pgbench's script language) against `dbUrl`. */
export async function pgbench(opts: {
  pgBin: string;
  dbUrl: string;
  script: string;
  clients: number;
  seconds: number;
}): Promise<PgbenchResult> {
  const file = await Deno.makeTempFile({ suffix: ".pgbench.sql" });
  try {
    await Deno.writeTextFile(file, opts.script);
    const out = await run(`${opts.pgBin}/pgbench`, [
      "-n", // no vacuum of pgbench's own tables (there are none)
      "-c",
      String(opts.clients),
      "-j",
      "2",
      "-T",
      String(opts.seconds),
      "-f",
      file,
      opts.dbUrl,
    ]);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
    const latency = /latency average = ([\d.]+) ms/.exec(out);
    if (!tps || !latency) throw new Error(`pgbench printed no result:\n${out}`);
    return { tps: Number(tps[1]), latencyMs: Number(latency[1]) };
  } finally {
    await Deno.remove(file);
  }
}

/** A fresh CallSid and caller per transaction: pgbench draws `n` at random. */
const PRELUDE = "\\set n random(1, 2000000000)\n";
const CALL_SID = "'CA' || lpad(to_hex(:n), 32, 'e')";
const FROM = "'+1' || (2000000000::bigint + :n)::text";
const HOTLINE = "'+15877428885'";
const ACCOUNT = "'AC00000000000000000000000000000001'";

/** The single-row insert ceiling: what Postgres does for the smallest possible write. */
export const INSERT_CEILING_SCRIPT = PRELUDE +
  `insert into bench_insert_ceiling (call_sid, from_number) values (${CALL_SID}, ${FROM});\n`;

/** The call row without the table's guarantees: the one row of CALL_ROW_SCRIPTS that keeps none. */
export const BARE_CALL_ROW = "the same row, primary key only, no checks or domains";

/**
 * What one call row costs, the smallest write any step makes: inserted into
 * call_logs as it stands (its indexes, CHECK constraints, domains); into
 * `bench_call_row_domains` (the same guarantees, each one-column check as a
 * domain: the cheapest form of them measured); and the same columns into
 * `bench_call_row_bare` (primary key only, plain types, no checks). Between
 * them and the ceiling: the share of a step's SQL that the call table's
 * integrity takes before any step logic runs. Keys are drawn at random: a
 * rare repeat is skipped, not an error that stops pgbench.
 */
export const CALL_ROW_SCRIPTS: Record<string, string> = {
  "one call_logs row, as the table stands": PRELUDE +
    `insert into public.call_logs (call_sid, account_sid, from_number, to_number)
     values (${CALL_SID}, ${ACCOUNT}, ${FROM}, ${HOTLINE}) on conflict do nothing;\n`,
  "the same row, each one-column check as a domain (same guarantees, same indexes)": PRELUDE +
    `insert into bench_call_row_domains (call_sid, account_sid, from_number, to_number)
     values (${CALL_SID}, ${ACCOUNT}, ${FROM}, ${HOTLINE}) on conflict do nothing;\n`,
  [BARE_CALL_ROW]: PRELUDE +
    `insert into bench_call_row_bare (call_sid, account_sid, from_number, to_number)
     values (${CALL_SID}, ${ACCOUNT}, ${FROM}, ${HOTLINE}) on conflict do nothing;\n`,
};

/**
 * voice_voicemail_save as voice-voicemail calls it: with the recording's
 * duration (Record's action, the recording callback), or with a transcription
 * (its callback carries no duration).
 */
function voicemailSaveScript(fields: { duration: number } | { transcription: string }): string {
  const rest = "duration" in fields
    ? `${fields.duration}, null, null, null`
    : `null, ${fields.transcription}`;
  return PRELUDE +
    `select public.voice_voicemail_save(${CALL_SID}, ${FROM}, ${HOTLINE}, 'RE' || lpad(to_hex(:n), 32, 'b'), 'https://api.twilio.com/r', ${rest});\n`;
}

/** Each hot-path step's one SQL call, with the arguments its function passes. */
export const STEP_SCRIPTS: Record<string, string> = {
  "voice-frontdoor": PRELUDE +
    `select public.voice_frontdoor_answer(${CALL_SID}, ${ACCOUNT}, ${FROM}, ${HOTLINE}, '2026-11-v2');\n`,
  "voice-menu-handler": PRELUDE +
    `select public.voice_menu_choice(${CALL_SID}, ${FROM}, ${HOTLINE}, 'sales', '1', 1, '1:0', '+15875550101', '+15875550102');\n`,
  "voice-status": PRELUDE +
    `select public.voice_status_apply(${CALL_SID}, ${ACCOUNT}, ${FROM}, ${HOTLINE}, 'completed', 'completed', 3, now(), 42);\n`,
  // Record's action and the recording callback store the same fields.
  "voice-voicemail (recorded)": voicemailSaveScript({ duration: 12 }),
  "voice-voicemail (recording)": voicemailSaveScript({ duration: 12 }),
  "voice-voicemail (transcription)": voicemailSaveScript({
    transcription:
      "'TR' || lpad(to_hex(:n), 32, 'c'), 'completed', 'Hi, this is about my order, please call me back.'",
  }),
};

/**
 * voice-status's batch statement with `size` callbacks (fresh CallSids and
 * callers), as its coalescer sends the callbacks that arrive together.
 */
export function statusBatchScript(size: number): string {
  const sid = `'CA' || lpad(to_hex(:n::bigint * ${size} + g), 32, 'e')`;
  // Each transaction takes `size` CallSids from its draw of n.
  return "\\set n random(1, 100000000)\n" +
    `select public.voice_status_apply_batch((select jsonb_agg(jsonb_build_object(
       'call_sid', ${sid}, 'account_sid', ${ACCOUNT}, 'from', '+1' || (2000000000::bigint + :n)::text,
       'to', ${HOTLINE}, 'status', 'completed', 'event', 'completed', 'sequence', 3,
       'occurred_at', now(), 'duration', 42)) from generate_series(1, ${size}) g));\n`;
}
