-- A redelivered frontdoor webhook changes nothing and does not count twice.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select is(public.voice_frontdoor_answer('CA' || repeat('3', 32), '', '+15875553333', '+15877428885', 'v1')->>'action',
  'menu', 'a first call is answered with the menu');
select is(public.voice_frontdoor_answer('CA' || repeat('3', 32), '', '+15875553333', '+15877428885', 'v1')->>'action',
  'menu', 'its redelivery gets the same answer');
select is((select array_agg(event_type) from public.call_events where call_sid = 'CA' || repeat('3', 32)),
  array['call.answered'], 'one event for the call, the redelivery added none');
select is((select count(*)::int from public.analytics_events where call_sid = 'CA' || repeat('3', 32)), 0,
  'the event is derived from the call row, not written twice');
select is((select state::text || '/' || basis from public.call_recording_consent where call_sid = 'CA' || repeat('3', 32)),
  'unknown/unknown', 'consent is unknown (no recording) until the caller goes on');

select * from finish();
rollback;
