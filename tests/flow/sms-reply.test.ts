/**
 * Texting the hotline through the real functions server: the reply, STOP and
 * START, HELP, Twilio's OptOutType, redelivery, loop protection between two
 * numbers, and forged requests. Every scenario uses its own sender numbers,
 * so rate limits never couple scenarios.
 */
import assert from "node:assert/strict";
import twilio from "twilio";
import { HOTLINE, hotline, newCaller, sql } from "./hotline.ts";
import { incomingMessageParams, sendText } from "./texting.ts";
import { randomSid } from "./twilio-driver.ts";

const driver = hotline();
const BUSINESS = "Demo Hotline Co";
const REACH = "To reach a person, call +1 587-742-8885 (Mon-Fri 9am-5pm MT).";

async function storedMessage(messageSid: string) {
  const rows = await sql`select from_number, to_number, body, keyword, reply_kind, silence_reason
                           from sms_messages where message_sid = ${messageSid}`;
  return [...rows];
}

async function optedOut(from: string, to: string): Promise<boolean | undefined> {
  const [row] =
    await sql`select opted_out from sms_opt_outs where from_number = ${from} and to_number = ${to}`;
  return row?.opted_out;
}

Deno.test("sms flow: a text gets one transactional reply naming the business, a person's number and STOP", async () => {
  const from = newCaller();
  const answer = await sendText(driver, { from, to: HOTLINE, body: "Are you open on Sunday?" });
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.replies, [
    `${BUSINESS}: we received your text. ${REACH} Reply STOP to opt out.`,
  ]);
  assert.deepEqual(await storedMessage(answer.messageSid), [{
    from_number: from,
    to_number: HOTLINE,
    body: "Are you open on Sunday?",
    keyword: null,
    reply_kind: "auto",
    silence_reason: null,
  }]);
});

Deno.test("sms flow: STOP gets an empty <Response/>, and so does every text after it", async () => {
  const from = newCaller();
  const stop = await sendText(driver, { from, to: HOTLINE, body: " stop " });
  assert.equal(stop.status, 200);
  assert.deepEqual(stop.replies, []);
  assert.match(stop.body, /<Response><\/Response>$|<Response\/>$/);
  assert.equal(await optedOut(from, HOTLINE), true);
  for (const body of ["Hello?", "HELP"]) {
    const after = await sendText(driver, { from, to: HOTLINE, body });
    assert.equal(after.status, 200);
    assert.deepEqual(after.replies, [], `after STOP, "${body}" got a reply`);
    const [row] = await storedMessage(after.messageSid);
    assert.equal(row.silence_reason, "opted-out");
  }
});

Deno.test("sms flow: START after STOP confirms, and texts get replies again", async () => {
  const from = newCaller();
  await sendText(driver, { from, to: HOTLINE, body: "STOP" });
  const start = await sendText(driver, { from, to: HOTLINE, body: "Start" });
  assert.deepEqual(start.replies, [
    `${BUSINESS}: you will get replies from this number again. ${REACH} Reply STOP to opt out.`,
  ]);
  assert.equal(await optedOut(from, HOTLINE), false);
  const after = await sendText(driver, { from, to: HOTLINE, body: "Thanks" });
  assert.equal(after.replies.length, 1);
  assert.ok(after.replies[0].startsWith(`${BUSINESS}: we received your text.`), after.replies[0]);
});

Deno.test("sms flow: HELP and INFO get the help reply; state unchanged", async () => {
  const from = newCaller();
  for (const body of ["HELP", "info"]) {
    const help = await sendText(driver, { from, to: HOTLINE, body });
    assert.deepEqual(help.replies, [
      `${BUSINESS}: automatic replies for this number. ${REACH} Reply STOP to opt out.`,
    ]);
  }
  assert.equal(await optedOut(from, HOTLINE), undefined);
});

Deno.test("sms flow: Twilio's OptOutType (Advanced Opt-Out) is honoured for keywords we do not know", async () => {
  const from = newCaller();
  // A French opt-out keyword configured on the Messaging Service.
  const arret = await sendText(driver, { from, to: HOTLINE, body: "ARRET", optOutType: "STOP" });
  assert.deepEqual(arret.replies, []);
  assert.equal(await optedOut(from, HOTLINE), true);
  assert.deepEqual((await sendText(driver, { from, to: HOTLINE, body: "allo?" })).replies, []);
  // Twilio sent the service's own START confirmation: we add nothing, but the state follows.
  const start = await sendText(driver, {
    from,
    to: HOTLINE,
    body: "REPRENDRE",
    optOutType: "START",
  });
  assert.deepEqual(start.replies, []);
  assert.equal(await optedOut(from, HOTLINE), false);
  assert.equal((await sendText(driver, { from, to: HOTLINE, body: "allo?" })).replies.length, 1);
});

Deno.test("sms flow: a MessageSid delivered 6 times at once, then again, answers the same and counts once", async () => {
  const from = newCaller();
  const messageSid = randomSid("SM");
  const deliver = () => sendText(driver, { from, to: HOTLINE, body: "Call me back", messageSid });
  // Concurrent first deliveries race on the insert: one stores, the others replay it.
  const answers = await Promise.all(Array.from({ length: 6 }, deliver));
  answers.push(await deliver());
  for (const answer of answers) {
    assert.equal(answer.status, 200);
    assert.equal(answer.replies.length, 1);
    assert.equal(answer.body, answers[0].body);
  }
  assert.equal((await storedMessage(messageSid)).length, 1);
  // The pair allows 3 replies an hour: had a redelivery been counted, these would be refused.
  for (const body of ["second", "third"]) {
    assert.equal((await sendText(driver, { from, to: HOTLINE, body })).replies.length, 1, body);
  }
  assert.deepEqual((await sendText(driver, { from, to: HOTLINE, body: "fourth" })).replies, []);
});

Deno.test("sms flow: a redelivered STOP after START does not opt the sender out again", async () => {
  const from = newCaller();
  const stop = await sendText(driver, { from, to: HOTLINE, body: "STOP" });
  await sendText(driver, { from, to: HOTLINE, body: "START" });
  await sendText(driver, { from, to: HOTLINE, body: "STOP", messageSid: stop.messageSid });
  assert.equal(await optedOut(from, HOTLINE), false);
});

/**
 * Plays a conversation that only ever answers: each reply we send makes
 * `next` deliver another text to our webhook, as when auto-responders text
 * each other. Returns how many replies we sent before the loop stopped.
 */
async function pingPong(
  first: { from: string; to: string },
  next: (
    text: { from: string; to: string },
    reply: string,
  ) => { from: string; to: string; body: string },
  maxTurns = 40,
): Promise<number> {
  let text = { ...first, body: "Hello" };
  let replies = 0;
  for (let turn = 0; turn < maxTurns; turn++) {
    const answer = await sendText(driver, text);
    assert.equal(answer.status, 200);
    if (answer.replies.length === 0) return replies;
    replies++;
    text = next(text, answer.replies[0]);
  }
  throw new Error(`still texting after ${maxTurns} turns`);
}

Deno.test("sms flow: loop protection: an auto-responder texting back every reply stops after 3", async () => {
  const robot = newCaller();
  // Our reply goes to the robot, whose auto-reply comes back to the hotline.
  const replies = await pingPong(
    { from: robot, to: HOTLINE },
    () => ({ from: robot, to: HOTLINE, body: "This is an automated message, do not reply." }),
  );
  // The robot's texts and our replies alternate: 3 replies (the pair's burst), then silence.
  assert.equal(replies, 3);
  const [{ n }] = await sql`select count(*)::int as n from sms_messages
                             where from_number = ${robot} and silence_reason = 'rate-limited'`;
  assert.equal(n, 1);
});

Deno.test("sms flow: loop protection: two hotline numbers answering each other stop", async () => {
  // A second number of ours, answered by the same function.
  const second = "+1587742" + String(Math.floor(Math.random() * 1e4)).padStart(4, "0");
  await sql`insert into telephony_numbers (e164, label, business_name)
            values (${second}, 'Second client', 'Second Client Ltd')
            on conflict (e164) do nothing`;
  // Both sides are our webhook: the reply from one number arrives at the other.
  const replies = await pingPong(
    { from: second, to: HOTLINE },
    (text, reply) => ({ from: text.to, to: text.from, body: reply }),
  );
  // Each direction is its own pair, 3 replies each: 6 in all, then silence.
  assert.equal(replies, 6);
});

Deno.test("sms flow: unsigned or wrongly signed texts get 400/403 and nothing is stored", async () => {
  const from = newCaller();
  const messageSid = randomSid("SM");
  const forged = await sendText(driver, { from, to: HOTLINE, body: "STOP", messageSid }, {
    signature: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
  });
  assert.equal(forged.status, 403);
  assert.equal(forged.body, "");
  const unsigned = await sendText(driver, { from, to: HOTLINE, body: "STOP", messageSid }, {
    signature: "",
  });
  assert.ok([400, 403].includes(unsigned.status), String(unsigned.status));
  // Twilio's real signature for the same message, but for another function's URL.
  const params = incomingMessageParams(driver, { from, to: HOTLINE, body: "STOP", messageSid });
  const elsewhere = await sendText(driver, { from, to: HOTLINE, body: "STOP", messageSid }, {
    signature: twilio.getExpectedTwilioSignature(
      driver.authToken,
      driver.url("voice-status"),
      params,
    ),
  });
  assert.equal(elsewhere.status, 403);
  // And the body changed after signing (the sender's text swapped for STOP).
  const tampered = await sendText(driver, { from, to: HOTLINE, body: "STOP", messageSid }, {
    signature: twilio.getExpectedTwilioSignature(
      driver.authToken,
      driver.url("webcomms-sms-reply"),
      { ...params, Body: "Hello" },
    ),
  });
  assert.equal(tampered.status, 403);
  assert.equal((await storedMessage(messageSid)).length, 0);
  assert.equal(await optedOut(from, HOTLINE), undefined);
  const [{ n }] = await sql`select count(*)::int as n from rate_limit_state
                             where endpoint = 'webcomms-sms-reply' and key like ${from + "%"}`;
  assert.equal(n, 0);
});
