-- Opt-out state per sender and number: STOP silences every later auto-reply
-- from that number to that sender (HELP included), START lifts it, another
-- number is unaffected; Twilio's OptOutType is honoured; silent outcomes take
-- nothing from the rate limit; a number we do not know never replies.
begin;
create extension if not exists pgtap with schema extensions;
select plan(13);

insert into public.telephony_numbers (e164, label, business_name)
values ('+15877420001', 'Second client', 'Second Client Ltd');

create function pg_temp.text_in(p_sid_digit text, p_from text, p_to text, p_keyword text,
  p_reply text, p_reason text, p_opt_out_type text default null) returns jsonb
language sql as $$
  select public.sms_reply_answer('SM' || repeat(p_sid_digit, 32), null, p_from, p_to, 'body', 0,
    p_opt_out_type, p_keyword, p_reply, p_reason)
$$;

select is(pg_temp.text_in('a', '+17805550201', '+15877428885', 'opt-out', null, 'opt-out')->>'silence_reason',
  'opt-out', 'STOP: no reply');
select is((select opted_out from public.sms_opt_outs
  where from_number = '+17805550201' and to_number = '+15877428885'), true, 'STOP: opted out of this number');
select is(pg_temp.text_in('b', '+17805550201', '+15877428885', null, 'auto', null)->>'silence_reason',
  'opted-out', 'a message after STOP: no reply');
select is(pg_temp.text_in('c', '+17805550201', '+15877428885', 'help', 'help', null)->>'silence_reason',
  'opted-out', 'HELP after STOP: no reply either');
select is((select count(*)::int from public.rate_limit_state
  where endpoint = 'webcomms-sms-reply' and key like '+17805550201%'), 0,
  'silent answers take nothing from the rate limit');
select is(pg_temp.text_in('d', '+17805550201', '+15877420001', null, 'auto', null)->>'reply',
  'auto', 'the same sender still gets replies from another number');
select is(pg_temp.text_in('e', '+17805550201', '+15877428885', 'opt-in', 'opt-in', null)->>'reply',
  'opt-in', 'START: opted in again, with the confirmation');
select is(pg_temp.text_in('f', '+17805550201', '+15877428885', null, 'auto', null)->>'reply',
  'auto', 'a message after START gets the reply again');

-- Advanced Opt-Out: Twilio matched a custom keyword and answered it itself.
select is(pg_temp.text_in('1', '+17805550202', '+15877428885', 'opt-out', null, 'opt-out', 'STOP')->>'reply',
  null, 'OptOutType=STOP: no reply');
select is((select opted_out from public.sms_opt_outs
  where from_number = '+17805550202' and to_number = '+15877428885'), true, 'OptOutType=STOP: opted out');
select is((select opt_out_type from public.sms_messages where message_sid = 'SM' || repeat('1', 32)), 'STOP',
  'Twilio''s OptOutType is stored as sent');

select is(pg_temp.text_in('2', '+17805550203', '+15870000000', null, 'auto', null),
  jsonb_build_object('reply', null, 'silence_reason', 'unknown-number', 'replayed', false,
    'business_name', null, 'business_hours', null),
  'a number that is not ours (or inactive): stored, no reply, no business to name');
select is((select count(*)::int from public.sms_messages where message_sid = 'SM' || repeat('2', 32)), 1,
  'the message to an unknown number is stored all the same');

select * from finish();
rollback;
