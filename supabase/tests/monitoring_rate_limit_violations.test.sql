-- rate_limit_violations: refusals of the last 24 hours per key, the key
-- masked, most refused first.
begin;
create extension if not exists pgtap with schema extensions;
select plan(2);
\ir fixtures/monitoring.sql

select is_empty('select * from public.rate_limit_violations', 'no refusals: no rows');

insert into public.rate_limit_violation_counts (endpoint, key_kind, key, hour, denied, first_denied_at, last_denied_at)
values
  ('voice-frontdoor', 'caller', '+15875550199', date_trunc('hour', now()), 3, now() - interval '1 minute', now()),
  ('voice-frontdoor', 'caller', '+15875550199', date_trunc('hour', now() - interval '2 hours'), 4,
   now() - interval '2 hours', now() - interval '2 hours'),
  ('voice-frontdoor', 'caller', '+15875550199', date_trunc('hour', now() - interval '25 hours'), 50,
   now() - interval '25 hours', now() - interval '25 hours'),
  ('telephony-provision', 'ip', '203.0.113.10', date_trunc('hour', now()), 2, now(), now()),
  ('voice-frontdoor', 'caller', 'anonymous', date_trunc('hour', now()), 1, now(), now());

select results_eq(
  $$select endpoint, key_kind, key_masked, denied from public.rate_limit_violations$$,
  $$values ('voice-frontdoor', 'caller', '+1587***0199', 7::bigint),
           ('telephony-provision', 'ip', '203.***', 2),
           ('voice-frontdoor', 'caller', 'anon***'::text, 1)$$,
  'per key over 24 h, masked (E.164 keeps prefix and last four, others their first four), most refused first');

select * from finish();
rollback;
