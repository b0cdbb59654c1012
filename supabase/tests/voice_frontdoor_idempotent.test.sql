-- A redelivered frontdoor webhook changes nothing and does not count twice.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);

select is(public.voice_frontdoor_answer('CA' || repeat('3', 32), '', '+15875553333', '+15877428885', 'v1')->>'action',
  'menu', 'a first call is answered with the menu');
select is(public.voice_frontdoor_answer('CA' || repeat('3', 32), '', '+15875553333', '+15877428885', 'v1')->>'action',
  'menu', 'its redelivery gets the same answer');
select is((select count(*)::int from public.analytics_events where call_sid = 'CA' || repeat('3', 32)), 1,
  'the redelivery wrote nothing');
select is((select state::text || '/' || basis from public.call_recording_consent where call_sid = 'CA' || repeat('3', 32)),
  'unknown/unknown', 'consent is unknown (no recording) until the caller goes on');

select * from finish();
rollback;
