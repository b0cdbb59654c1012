-- CallStatus=initiated, a status Twilio documents, is a lifecycle status: it
-- is stored, and (ranked with queued) never moves a call backwards.
begin;
create extension if not exists pgtap with schema extensions;
select plan(3);

select is(public.voice_status_apply('CA' || repeat('b', 32), '', '+15875551111', '+15877428885',
  'initiated', 'initiated', 0, now(), null)->>'status', 'ringing', 'initiated is accepted');
select is((select status::text || '/' || event from public.call_lifecycle where call_sid = 'CA' || repeat('b', 32)),
  'initiated/initiated', 'and stored as a lifecycle row');
select public.voice_status_apply('CA' || repeat('b', 32), '', '', '', 'in-progress', 'answered', 1, now(), null);
select public.voice_status_apply('CA' || repeat('b', 32), '', '', '', 'initiated', 'initiated', 0, now(), null);
select is((select status::text from public.call_logs where call_sid = 'CA' || repeat('b', 32)),
  'in-progress', 'a late initiated does not move the call backwards');

select * from finish();
rollback;
