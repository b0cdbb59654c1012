-- A status callback's idempotency record is its lifecycle row (call, status):
-- no idempotency_keys row is written, and a redelivery is a no-op whatever its key.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select public.voice_status_apply('CA' || repeat('7', 32), '', '+15875550000', '+15877428885',
  'completed', 'completed', 3, now(), 42);
select is((select count(*)::int from public.idempotency_keys where scope = 'voice-status'), 0,
  'no idempotency_keys row for a status callback');

select is((public.voice_status_apply('CA' || repeat('7', 32), '', '', '', 'completed', 'completed', 3, now(),
  42)->>'duplicate')::boolean, true,
  'a redelivery is a duplicate (the lifecycle row is the record)');
select is((select count(*)::int from public.call_lifecycle where call_sid = 'CA' || repeat('7', 32)), 1,
  'one lifecycle row for the status');

select is((public.voice_status_apply('CA' || repeat('7', 32), '', '', '', 'in-progress', 'answered', 2,
  now() - interval '1 minute', null)->>'status'), 'completed',
  'a late answered after completed is stored but the call stays completed');
select is((select duration_seconds from public.call_logs where call_sid = 'CA' || repeat('7', 32)), 42,
  'a later callback without a duration keeps the duration');

select * from finish();
rollback;
