/**
 * Text messages to a hotline number: stored once per MessageSid, opt-out
 * state kept per sender and number, and a short transactional reply (or an
 * empty <Response/>) decided by sms_reply_answer in one round trip.
 *
 * Not a live call: when the message cannot be stored (database down or slow)
 * we answer 503, so Twilio redelivers it (the SMS URL's `#rc=…&rp=…`
 * connection overrides) or calls the number's SMS fallback URL. Answering
 * 200 would lose the message and maybe an opt-out (docs/sms.md).
 */
import { runStep } from "../_shared/call/step.ts";
import { parseInboundSms } from "../_shared/sms/inbound.ts";
import { smsReplyTwiml } from "../_shared/sms/replies.ts";
import { decideReplyIntent, type SmsAnswer, smsOutcome } from "../_shared/sms/reply-decision.ts";
import { inlineSql } from "../_shared/platform/sql-literal.ts";
import { serveTwilioWebhook } from "../_shared/twilio/webhook.ts";

Deno.serve(serveTwilioWebhook({
  slug: "webcomms-sms-reply",
  async handle(ctx) {
    const parsed = parseInboundSms(ctx.params);
    // A signed request that is no message is acknowledged (a retry would not fix it) and logged.
    if (!parsed.ok) return { twiml: [], outcome: `ignored:${parsed.reason}` };
    const sms = parsed.value;
    const intent = decideReplyIntent(sms);
    // Nobody waits on a text: it tries even while the circuit is open (like a
    // callback), within the step deadline, and a failure answers 503 (rescue).
    const answer = await runStep<SmsAnswer>(
      ctx,
      inlineSql`select public.sms_reply_answer(
          ${sms.messageSid}, ${sms.accountSid}, ${sms.from}, ${sms.to}, ${sms.body}, ${sms.numMedia},
          ${sms.optOutType ?? null}, ${intent.keyword}, ${intent.reply}, ${intent.silenceReason}
        ) as r`,
      { callback: true },
    );
    return { twiml: smsReplyTwiml(answer, sms.to), outcome: smsOutcome(answer) };
  },
  rescue: () => new Response(null, { status: 503 }),
}));
