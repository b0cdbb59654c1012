-- A CallStatus we do not know is stored as received and changes no status;
-- redelivered, it is still one row. Never an error (a 5xx to Twilio).
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select public.voice_status_apply('CA' || repeat('c', 32), '', '+15875551212', '+15877428885',
  'in-progress', 'answered', 1, now(), null);
select lives_ok($$select public.voice_status_apply('CA' || repeat('c', 32), '', '', '', 'teleported', null, 2, now(),
  null)$$, 'an unknown CallStatus is accepted');
select is((select reported_status from public.call_lifecycle where call_sid = 'CA' || repeat('c', 32) and status is null),
  'teleported', 'stored raw in reported_status');
select is((select status::text from public.call_logs where call_sid = 'CA' || repeat('c', 32)),
  'in-progress', 'the call''s status is unchanged');
select public.voice_status_apply('CA' || repeat('c', 32), '', '', '', 'teleported', null, 2, now(), null);
select is((select count(*)::int from public.call_lifecycle where call_sid = 'CA' || repeat('c', 32)), 2,
  'a repeated unknown status is one row');
select lives_ok($$select public.voice_status_apply('CA' || repeat('c', 32), '', '', '', '', null, null, null,
  null)$$, 'an empty CallStatus is accepted too');

select * from finish();
rollback;
