import assert from "node:assert/strict";
import {
  decideReplyIntent,
  type SmsAnswer,
  smsOutcome,
} from "../../supabase/functions/_shared/sms/reply-decision.ts";
import {
  displayPhone,
  replyText,
  smsReplyTwiml,
} from "../../supabase/functions/_shared/sms/replies.ts";
import { parseInboundSms } from "../../supabase/functions/_shared/sms/inbound.ts";
import { renderTwiml } from "../../supabase/functions/_shared/twilio/twiml.ts";

Deno.test("sms decision: an ordinary text wants the auto-reply", () => {
  assert.deepEqual(decideReplyIntent({ body: "Are you open on Sunday?" }), {
    keyword: null,
    reply: "auto",
    silenceReason: null,
  });
});

Deno.test("sms decision: an opt-out keyword gets no reply at all, with or without OptOutType", () => {
  for (const msg of [{ body: "stop" }, { body: " Quit " }, { body: "ARRET", optOutType: "STOP" }]) {
    assert.deepEqual(decideReplyIntent(msg), {
      keyword: "opt-out",
      reply: null,
      silenceReason: "opt-out",
    }, JSON.stringify(msg));
  }
});

Deno.test("sms decision: START and HELP without OptOutType get our reply (Twilio's default ones name no business)", () => {
  assert.deepEqual(decideReplyIntent({ body: "start" }), {
    keyword: "opt-in",
    reply: "opt-in",
    silenceReason: null,
  });
  assert.deepEqual(decideReplyIntent({ body: "INFO" }), {
    keyword: "help",
    reply: "help",
    silenceReason: null,
  });
});

Deno.test("sms decision: OptOutType START/HELP means Twilio already sent the service's reply: silent", () => {
  assert.deepEqual(decideReplyIntent({ body: "START", optOutType: "START" }), {
    keyword: "opt-in",
    reply: null,
    silenceReason: "twilio-replied",
  });
  // A custom Advanced Opt-Out keyword we do not know ourselves still counts.
  assert.deepEqual(decideReplyIntent({ body: "AIDE", optOutType: "HELP" }), {
    keyword: "help",
    reply: null,
    silenceReason: "twilio-replied",
  });
});

Deno.test("sms decision: OptOutType wins over our detection", () => {
  // Twilio says STOP for a body we would have read as HELP: the opt-out stands.
  assert.equal(decideReplyIntent({ body: "help", optOutType: "STOP" }).keyword, "opt-out");
  // An unknown OptOutType value is ignored: our detection decides.
  assert.equal(decideReplyIntent({ body: "stop", optOutType: "OTHER" }).keyword, "opt-out");
  assert.equal(decideReplyIntent({ body: "hello", optOutType: "OTHER" }).reply, "auto");
});

const business = { name: "Demo Hotline Co", hours: "Mon-Fri 9am-5pm MT", phone: "+15877428885" };
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]*$/;

for (const kind of ["auto", "help", "opt-in"] as const) {
  Deno.test(`sms wording: the ${kind} reply names the business, how to reach a person and how to opt out`, () => {
    const text = replyText(kind, business);
    assert.ok(text.startsWith("Demo Hotline Co: "), text);
    assert.ok(text.includes("To reach a person, call +1 587-742-8885 (Mon-Fri 9am-5pm MT)."), text);
    assert.ok(text.includes("Reply STOP to opt out."), text);
    assert.ok(GSM7.test(text), `not GSM-7: ${text}`);
    assert.ok(text.length <= 160, `${text.length} characters: ${text}`);
    // CASL: transactional only.
    assert.doesNotMatch(text, /offer|sale|discount|promo|deal|free/i);
  });
}

Deno.test("sms wording: without hours, none are quoted", () => {
  const text = replyText("auto", { ...business, hours: null });
  assert.ok(text.includes("call +1 587-742-8885. Reply STOP"), text);
});

Deno.test("sms wording: NANP numbers are shown dialable; others as given", () => {
  assert.equal(displayPhone("+15877428885"), "+1 587-742-8885");
  assert.equal(displayPhone("+442071838750"), "+442071838750");
});

const answer = (over: Partial<SmsAnswer>): SmsAnswer => ({
  reply: "auto",
  silence_reason: null,
  replayed: false,
  business_name: "Demo Hotline Co",
  business_hours: null,
  ...over,
});

Deno.test("sms twiml: a reply is one <Message>; silence and no business name are an empty <Response>", () => {
  const one = renderTwiml(smsReplyTwiml(answer({}), "+15877428885"));
  assert.match(
    one,
    /<Response><Message>Demo Hotline Co: we received your text\. .*<\/Message><\/Response>$/,
  );
  assert.equal(smsReplyTwiml(answer({ reply: null, silence_reason: "opted-out" }), "+1").length, 0);
  assert.equal(smsReplyTwiml(answer({ business_name: null }), "+1").length, 0);
});

Deno.test("sms twiml: a business name with markup is escaped", () => {
  const xml = renderTwiml(smsReplyTwiml(answer({ business_name: "A&B <Co>" }), "+15877428885"));
  assert.ok(xml.includes("<Message>A&amp;B &lt;Co&gt;: we received"), xml);
});

Deno.test("sms outcome: the log word says reply or silence, and replays", () => {
  assert.equal(smsOutcome(answer({})), "reply:auto");
  assert.equal(
    smsOutcome(answer({ reply: null, silence_reason: "rate-limited", replayed: true })),
    "silent:rate-limited:replayed",
  );
});

Deno.test("sms inbound: Twilio's parameters; a missing or malformed MessageSid is not a message", () => {
  const sid = "SM" + "0123456789abcdef".repeat(2);
  const parsed = parseInboundSms(
    new URLSearchParams({
      MessageSid: sid,
      AccountSid: "AC" + "1".repeat(32),
      From: "+17805550000",
      To: "+15877428885",
      Body: "  Stop ",
      NumMedia: "2",
      OptOutType: "STOP",
    }),
  );
  assert.deepEqual(parsed, {
    ok: true,
    value: {
      messageSid: sid,
      accountSid: "AC" + "1".repeat(32),
      from: "+17805550000",
      to: "+15877428885",
      body: "  Stop ",
      numMedia: 2,
      optOutType: "STOP",
    },
  });
  assert.deepEqual(parseInboundSms(new URLSearchParams({ From: "+1", To: "+2" })), {
    ok: false,
    reason: "no-message-sid",
  });
  assert.deepEqual(
    parseInboundSms(new URLSearchParams({ MessageSid: "SMnothex", From: "+1", To: "+2" })),
    { ok: false, reason: "no-message-sid" },
  );
  assert.deepEqual(parseInboundSms(new URLSearchParams({ MessageSid: sid, To: "+2" })), {
    ok: false,
    reason: "no-parties",
  });
});
