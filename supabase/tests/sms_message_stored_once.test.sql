-- A text message is stored once per MessageSid: a redelivery answers what the
-- first delivery answered and changes nothing (no second opt-out change, no
-- second rate-limit take).
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);

-- A sender no other test uses, texting the seeded hotline.
select is(
  public.sms_reply_answer('SM' || repeat('1', 32), 'AC00000000000000000000000000000001',
    '+17805550101', '+15877428885', 'Are you open Sunday?', 0, null, null, 'auto', null),
  jsonb_build_object('reply', 'auto', 'silence_reason', null, 'replayed', false,
    'business_name', 'Demo Hotline Co', 'business_hours', 'Mon-Fri 9am-5pm MT'),
  'first delivery: the auto-reply, with the business from the number''s row');
select is((select count(*)::int from public.rate_limit_state
  where endpoint = 'webcomms-sms-reply' and key in ('+17805550101', '+17805550101>+15877428885')), 2,
  'the reply was charged to the sender and to the pair');
select tat as tat_before from public.rate_limit_state
 where endpoint = 'webcomms-sms-reply' and key = '+17805550101' \gset

select is(
  public.sms_reply_answer('SM' || repeat('1', 32), 'AC00000000000000000000000000000001',
    '+17805550101', '+15877428885', 'Are you open Sunday?', 0, null, null, 'auto', null)->>'reply',
  'auto', 'a redelivery answers the same reply');
select ok(
  (public.sms_reply_answer('SM' || repeat('1', 32), 'AC00000000000000000000000000000001',
    '+17805550101', '+15877428885', 'Are you open Sunday?', 0, null, null, 'auto', null)->>'replayed')::boolean,
  'and says it is a replay');
select is((select count(*)::int from public.sms_messages where message_sid = 'SM' || repeat('1', 32)), 1,
  'one row for the MessageSid');
select is((select tat from public.rate_limit_state
  where endpoint = 'webcomms-sms-reply' and key = '+17805550101'), :'tat_before'::timestamptz,
  'no second reply was counted against the sender');

-- A redelivered STOP after a START must not opt the sender out again.
select public.sms_reply_answer('SM' || repeat('2', 32), null, '+17805550102', '+15877428885', 'STOP', 0,
  null, 'opt-out', null, 'opt-out');
select public.sms_reply_answer('SM' || repeat('3', 32), null, '+17805550102', '+15877428885', 'START', 0,
  null, 'opt-in', 'opt-in', null);
select public.sms_reply_answer('SM' || repeat('2', 32), null, '+17805550102', '+15877428885', 'STOP', 0,
  null, 'opt-out', null, 'opt-out');
select is((select opted_out from public.sms_opt_outs
  where from_number = '+17805550102' and to_number = '+15877428885'), false,
  'a redelivered STOP after START changes nothing');
select is((select last_message_sid from public.sms_opt_outs
  where from_number = '+17805550102' and to_number = '+15877428885'), 'SM' || repeat('3', 32),
  'the state still comes from the START');

select * from finish();
rollback;
