/**
 * A menu step answers once: its natural key (the call, and the step's
 * attempt and repeats) is the idempotency record, with real concurrent
 * connections delivering the same step at once.
 */
import assert from "node:assert/strict";
import { newCallSid, testSql } from "../support/stack.ts";

const sql = testSql({ max: 20 });
const HOTLINE = "+15877428885";

async function frontdoor(callSid: string) {
  await sql`select public.voice_frontdoor_answer(${callSid}, '', '+15875550199', ${HOTLINE}, 'v1')`;
}

function menuStep(callSid: string, choice: string, digits: string, step: string) {
  return sql`select public.voice_menu_choice(${callSid}, '+15875550199', ${HOTLINE}, ${choice},
               ${digits}, 1, ${step}, '+15875550101', '+15875550102') as r`.then(([row]) => row.r);
}

async function menuEvents(callSid: string): Promise<string[]> {
  const rows = await sql`select event_type from public.analytics_events
                          where call_sid = ${callSid} and event_type like 'menu.%' order by id`;
  return rows.map((r) => r.event_type as string);
}

Deno.test("menu step: 20 concurrent deliveries of one step → one event, one answer", async () => {
  const callSid = newCallSid();
  await frontdoor(callSid);
  await Promise.all(Array.from({ length: 20 }, () => sql`select 1`)); // 20 open connections
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => menuStep(callSid, "sales", "1", "1:0")),
  );
  assert.deepEqual(await menuEvents(callSid), ["menu.sales"]);
  for (const a of answers) assert.deepEqual(a, answers[0]);
  assert.equal(answers[0].record, true);
  const [call] = await sql`select menu_choice, menu_answers from public.call_logs
                            where call_sid = ${callSid}`;
  assert.equal(call.menu_choice, "sales");
  assert.deepEqual(Object.keys(call.menu_answers), ["1:0"]);
});

Deno.test("menu step: a redelivery answers what the step answered, even after a later step", async () => {
  const callSid = newCallSid();
  await frontdoor(callSid);
  const repeat = await menuStep(callSid, "repeat", "*", "1:0");
  const optOut = await menuStep(callSid, "opt-out", "0", "1:1");
  // The first step again (Twilio redelivering it late): its own answer, no new event,
  // and the 0 pressed since still stands.
  assert.deepEqual(await menuStep(callSid, "repeat", "*", "1:0"), repeat);
  assert.deepEqual(await menuEvents(callSid), ["menu.repeat", "menu.opt_out"]);
  assert.equal(optOut.record, false);
  const [consent] = await sql`select state from public.call_recording_consent
                               where call_sid = ${callSid}`;
  assert.equal(consent.state, "declined");
});

Deno.test("menu step: writes no idempotency key", async () => {
  const callSid = newCallSid();
  await frontdoor(callSid);
  await menuStep(callSid, "support", "2", "1:0");
  const ours = `${callSid}%`;
  const [{ n }] = await sql`select count(*)::int as n from public.idempotency_keys
                             where scope = 'voice-menu-handler' and fingerprint like ${ours}`;
  assert.equal(n, 0);
});

Deno.test("teardown", async () => {
  await sql.end();
});
