-- The core schema rejects invalid telephony data at the door.
begin;
create extension if not exists pgtap with schema extensions;
select plan(10);

select throws_ok(
  $$insert into public.telephony_numbers (e164, label) values ('587-742-8885', 'x')$$,
  '23514', null, 'a hotline number must be E.164'
);
select throws_ok(
  $$insert into public.telephony_numbers (e164, label, sales_target) values ('+15550000001', 'x', '+0123')$$,
  '23514', null, 'a routing target must be E.164'
);
select lives_ok(
  $$insert into public.telephony_numbers (e164, label) values ('+15550000001', 'test line')$$,
  'a valid number is accepted, routing targets optional'
);
select throws_ok(
  $$insert into public.telephony_numbers (e164, label) values ('+15550000001', 'again')$$,
  '23505', null, 'a number is listed once'
);
select throws_ok(
  $$insert into public.call_logs (call_sid, from_number, to_number) values ('CA123', '+15875550000', '+15877428885')$$,
  '23514', null, 'a CallSid is CA + 32 hex digits'
);
select throws_ok(
  $$insert into public.call_logs (call_sid, from_number, to_number, status)
    values ('CA' || repeat('a', 32), '+15875550000', '+15877428885', 'ringing-ish')$$,
  '22P02', null, 'call status is one of Twilio''s CallStatus values'
);
select lives_ok(
  $$insert into public.call_logs (call_sid, from_number, to_number) values ('CA' || repeat('a', 32), 'anonymous', '+15877428885')$$,
  'a hidden caller (anonymous) is still a call'
);
select throws_ok(
  $$insert into public.call_recording_consent (call_sid, state, disclosure_version, basis)
    values ('CA' || repeat('a', 32), 'granted', 'v1', 'opt-out-key')$$,
  '23514', null, 'consent is granted only by implication, never by the opt-out key'
);
select throws_ok(
  $$insert into public.analytics_events (event_type) values ('Has Spaces')$$,
  '23514', null, 'event types are lower-case dotted names'
);
select throws_ok(
  $$update public.call_logs set ended_at = started_at - interval '1 minute' where call_sid = 'CA' || repeat('a', 32)$$,
  '23514', null, 'a call cannot end before it started'
);

select * from finish();
rollback;
