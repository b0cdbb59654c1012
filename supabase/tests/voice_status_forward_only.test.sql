-- A call's status only moves forward; a repeated status is one lifecycle row.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select public.voice_status_apply('CA' || repeat('1', 32), '', '+15875550000', '+15877428885',
  'completed', 'completed', 3, now(), 42);
select public.voice_status_apply('CA' || repeat('1', 32), '', '+15875550000', '+15877428885',
  'ringing', 'ringing', 1, now() - interval '1 minute', null);

select is((select status::text from public.call_logs where call_sid = 'CA' || repeat('1', 32)),
  'completed', 'a late ringing does not overwrite completed');
select is((select duration_seconds from public.call_logs where call_sid = 'CA' || repeat('1', 32)),
  42, 'the duration lands on the call');

select is((public.voice_status_apply('CA' || repeat('1', 32), '', '', '', 'completed', 'completed', 3, now(), 42)->>'duplicate')::boolean, true, 'a redelivery is reported as a duplicate');
select public.voice_status_apply('CA' || repeat('1', 32), '', '', '', 'completed', 'completed', 3, now(), 42);
select is((select count(*)::int from public.call_lifecycle where call_sid = 'CA' || repeat('1', 32)),
  2, 'one lifecycle row per status, however often it is sent');
select isnt((select ended_at from public.call_logs where call_sid = 'CA' || repeat('1', 32)), null,
  'a terminal status sets ended_at');

select * from finish();
rollback;
