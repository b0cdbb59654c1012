-- call_events: the frontdoor's events are derived from the call row, once per
-- call, for as long as a stored event would be kept; rate-limited calls keep
-- their stored event.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select public.voice_frontdoor_answer('CA' || repeat('a1', 16), '', '+15875551001', '+15877428885', 'v2');
select public.voice_frontdoor_answer('CA' || repeat('a2', 16), '', '+15875551002', '+15875559999', 'v2');

select is((select array_agg(event_type) from public.call_events where call_sid = 'CA' || repeat('a1', 16)),
  array['call.answered'], 'a call on a known number: call.answered');
select is((select array_agg(event_type) from public.call_events where call_sid = 'CA' || repeat('a2', 16)),
  array['call.unconfigured_number'], 'a call on a number not in telephony_numbers: call.unconfigured_number');

-- Over the caller's ten a minute: the eleventh is rejected, its event stored.
select public.voice_frontdoor_answer('CA' || lpad(to_hex(i), 32, 'c'), '', '+15875551003', '+15877428885', 'v2')
  from generate_series(1, 11) i;
select is((select array_agg(e.event_type || ':' || (e.id is not null)::text) from public.call_events e
            where e.call_sid = 'CA' || lpad(to_hex(11), 32, 'c')),
  array['call.rate_limited:true'], 'a rejected call: its stored call.rate_limited, nothing derived');

select is((select min(occurred_at) from public.call_events where call_sid = 'CA' || repeat('a1', 16)),
  (select started_at from public.call_logs where call_sid = 'CA' || repeat('a1', 16)),
  'the derived event is at the call''s start');

update public.call_logs set started_at = now() - interval '181 days' where call_sid = 'CA' || repeat('a1', 16);
select is((select count(*)::int from public.call_events where call_sid = 'CA' || repeat('a1', 16)), 0,
  'past event_retention_days (180) the derived event is gone, as a stored one would be');

select * from finish();
rollback;
