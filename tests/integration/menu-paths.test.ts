/**
 * Every menu path, against the real step functions: each sequence of up to
 * four inputs from 0 1 2 9 * 5 # and silence (8 + 64 + 512 + 4,096 = 4,680),
 * checked for the consent row it leaves and whether anything was recorded.
 *
 * Each path runs what the webhooks run, minus HTTP: the pure decision
 * (decideMenu), the real SQL step functions (voice_frontdoor_answer,
 * voice_menu_choice, voice_dial_outcome) and the TwiML the handlers answer
 * with (menuAnswerTwiml, afterDialTwiml), one transaction per path, rolled
 * back. Over HTTP, 4,680 calls of 3–7 signed webhooks each would take several
 * minutes on this machine; the HTTP wiring of each step is covered by the
 * flow tests (tests/flow/call-menu.test.ts walks `* * * 0` over HTTP).
 *
 * A dial is followed by an agent who does not answer: that is the branch that
 * can still end in a voicemail (an answered dial only says goodbye).
 */
import assert from "node:assert/strict";
import {
  decideMenu,
  FIRST_HEARING,
  menuChoiceName,
} from "../../supabase/functions/_shared/call/menu.ts";
import { decideAfterDial } from "../../supabase/functions/_shared/call/dial-outcome.ts";
import { afterDialTwiml, menuAnswerTwiml } from "../../supabase/functions/_shared/call/twiml.ts";
import { DISCLOSURE_VERSION } from "../../supabase/functions/_shared/call/prompts.ts";
import { renderTwiml } from "../../supabase/functions/_shared/twilio/twiml.ts";
import { newCallSid, testSql } from "../support/stack.ts";

const BASE = "https://hotline.example/functions/v1";
const HOTLINE = "+15877428885";
const SALES = "+15875550101";
const SUPPORT = "+15875550102";
/** Keys as Twilio sends them in Digits; "" is silence (actionOnEmptyResult). */
const INPUTS = ["0", "1", "2", "9", "*", "5", "#", ""];

const sql = testSql({ max: 4 });

/** A <Record>, or a <Dial> that records. */
const requestsRecording = (xml: string) =>
  /<Record[\s/>]/.test(xml) || /<Dial [^>]*\brecord="(?!do-not-record)[^"]+"/.test(xml);

function allSequences(maxLength: number): string[][] {
  const out: string[][] = [];
  let level: string[][] = [[]];
  for (let n = 1; n <= maxLength; n++) {
    level = level.flatMap((seq) => INPUTS.map((input) => [...seq, input]));
    out.push(...level);
  }
  return out;
}

interface PathResult {
  /** The inputs the menu consumed (a dial or voicemail ends the menu). */
  consumed: string[];
  /** How the menu ended: dial, voicemail, unrecorded-goodbye, or still in the menu. */
  ended: string;
  recorded: boolean;
  consent: string | undefined;
}

class Rollback extends Error {
  constructor(readonly result: PathResult) {
    super("rollback");
  }
}

async function walk(inputs: string[]): Promise<PathResult> {
  const callSid = newCallSid();
  // A caller of its own per path, so no rate limit couples paths.
  const from = "+1780" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");
  try {
    await sql.begin(async (tx) => {
      let n = 0;
      const key = () => `${callSid}:${n++}`;
      await tx`select public.voice_frontdoor_answer(${callSid}, '', ${from}, ${HOTLINE},
                                                    ${DISCLOSURE_VERSION})`;
      let state = FIRST_HEARING;
      const consumed: string[] = [];
      let ended = "menu";
      let recorded = false;
      for (const input of inputs) {
        consumed.push(input);
        const decision = decideMenu(state, input);
        const [{ r: saved }] = await tx`select public.voice_menu_choice(
          ${callSid}, ${from}, ${HOTLINE}, ${menuChoiceName(decision)}, ${input}, ${state.attempt},
          ${key()}, ${SALES}, ${SUPPORT}) as r`;
        recorded ||= requestsRecording(renderTwiml(menuAnswerTwiml({
          base: BASE,
          decision,
          optedOut: state.optedOut,
          record: saved.record,
          target: saved.target,
          callerId: HOTLINE,
          callSid,
        })));
        if (decision.kind === "menu") {
          state = decision.next;
          continue;
        }
        ended = decision.kind;
        if (decision.kind === "dial") {
          const [{ r: outcome }] = await tx`select public.voice_dial_outcome(
            ${callSid}, ${from}, ${HOTLINE}, 'no-answer', 0) as r`;
          const next = decideAfterDial({
            status: "no-answer",
            screeningAccepted: outcome.screening_accepted,
          });
          recorded ||= requestsRecording(
            renderTwiml(afterDialTwiml(BASE, next, outcome.voicemail_allowed)),
          );
        }
        break;
      }
      const [row] = await tx`select state::text || '/' || basis as consent
                               from public.call_recording_consent where call_sid = ${callSid}`;
      throw new Rollback({ consumed, ended, recorded, consent: row?.consent });
    });
  } catch (e) {
    if (e instanceof Rollback) return e.result;
    throw e;
  }
  throw new Error("unreachable: the path's transaction always rolls back");
}

Deno.test("menu paths: all 4,680 input sequences — consent follows the 0 key, never a recording after 0 or without consent", async () => {
  const sequences = allSequences(4);
  assert.equal(sequences.length, 4_680);
  const failures: string[] = [];
  const tally = { declined: 0, granted: 0, unknown: 0, recorded: 0 };
  const show = (seq: string[]) => seq.map((k) => k === "" ? "silence" : k).join(" ");
  let next = 0;
  const worker = async () => {
    while (next < sequences.length) {
      const seq = sequences[next++];
      const path = await walk(seq);
      const pressed0 = path.consumed.includes("0");
      const choseSomething = path.ended === "dial" || path.ended === "voicemail";
      // The exact expectation for each path, so that "never records" cannot pass by accident.
      const consent = pressed0
        ? "declined/opt-out-key"
        : choseSomething
        ? "granted/implied"
        : "unknown/unknown";
      const recorded = !pressed0 && choseSomething;
      if (path.consent !== consent) {
        failures.push(`${show(seq)}: consent ${path.consent}, expected ${consent}`);
      }
      if (path.recorded !== recorded) {
        failures.push(`${show(seq)}: recording ${path.recorded}, expected ${recorded}`);
      }
      if (path.recorded && path.consent !== "granted/implied") {
        failures.push(`${show(seq)}: recorded with consent ${path.consent}`);
      }
      if (pressed0 && path.ended === "voicemail") failures.push(`${show(seq)}: voicemail after 0`);
      tally[path.consent?.split("/")[0] as "declined" | "granted" | "unknown"]++;
      if (path.recorded) tally.recorded++;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} paths wrong`);
  // Every kind of path was walked.
  assert.ok(tally.declined > 0 && tally.granted > 0 && tally.unknown > 0 && tally.recorded > 0);
  assert.equal(tally.declined + tally.granted + tally.unknown, 4_680);
});

Deno.test("menu paths: the walk reaches the outcomes it claims to check", async () => {
  // `* * * 0` (the reported defect) and `0 9` end without a voicemail, declined.
  for (const seq of [["*", "*", "*", "0"], ["0", "9"], ["0", "5", "5"], ["0", "1"]]) {
    const path = await walk(seq);
    assert.equal(path.consent, "declined/opt-out-key", seq.join(" "));
    assert.equal(path.recorded, false, seq.join(" "));
  }
  const voicemail = await walk(["9"]);
  assert.deepEqual(voicemail, {
    consumed: ["9"],
    ended: "voicemail",
    recorded: true,
    consent: "granted/implied",
  });
  await sql.end();
});
