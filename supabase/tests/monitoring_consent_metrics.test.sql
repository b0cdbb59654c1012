-- consent_metrics: disclosures, implied consents, opt-outs, undecided and
-- never-asked calls, and recordings made without granted consent. That last
-- count must stay 0 in production; this test plants violations to prove the
-- view would show them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(3);
\ir fixtures/monitoring.sql

select results_eq(
  $$select period, calls_answered, disclosures_played, never_asked, recordings, recordings_without_consent
      from public.consent_metrics$$,
  $$values ('24 hours', 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint), ('7 days', 0, 0, 0, 0, 0)$$,
  'no calls: both periods, all zero');

select pg_temp.call(1, now() - interval '1 hour', 'voicemail');
select pg_temp.call(2, now() - interval '2 hours', 'voicemail');
select pg_temp.call(3, now() - interval '3 hours', 'abandoned');
select pg_temp.call(4, now() - interval '4 hours', 'voicemail');
select pg_temp.call(5, now() - interval '5 hours', 'rate_limited');
select pg_temp.call(6, now() - interval '24 hours', 'agent');
select pg_temp.call(7, now() - interval '2 days', 'abandoned');
select pg_temp.call(8, now() - interval '7 days' - interval '1 microsecond', 'voicemail');
insert into public.call_recording_consent (call_sid, state, disclosure_version, basis) values
  (pg_temp.sid(1), 'granted', 'v1', 'implied'),
  (pg_temp.sid(2), 'declined', 'v1', 'opt-out-key'),   -- recorded after pressing 0: a violation
  (pg_temp.sid(3), 'unknown', 'v1', 'unknown'),
  -- call 4: no consent row at all, yet recorded: a violation
  (pg_temp.sid(6), 'granted', 'v1', 'implied'),
  (pg_temp.sid(7), 'declined', 'v1', 'opt-out-key'),
  (pg_temp.sid(8), 'declined', 'v1', 'opt-out-key');    -- too old for either period

select results_eq(
  $$select period, calls_answered, disclosures_played, implied_consents, opt_outs, undecided, never_asked,
           recordings, recordings_without_consent
      from public.consent_metrics$$,
  $$values ('24 hours', 5::bigint, 4::bigint, 2::bigint, 1::bigint, 1::bigint, 1::bigint, 3::bigint, 2::bigint),
           ('7 days', 6, 5, 2, 2, 1, 1, 3, 2)$$,
  'recordings after an opt-out or without any consent row show as violations; rate-limited calls are never asked');

delete from public.voicemails where call_sid in (pg_temp.sid(2), pg_temp.sid(4));
select is((select sum(recordings_without_consent)::int from public.consent_metrics), 0,
  'recordings with granted consent only: zero violations');

select * from finish();
rollback;
