-- call_success_metrics: counts and rates over the last 30 minutes, 24 hours
-- and 7 days, a call counting in a period when it started in it (the
-- period's first instant included); definitions in the view's migration.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);
\ir fixtures/monitoring.sql

select results_eq(
  $$select period, calls, answered, answer_rate_pct, success_rate_pct, avg_seconds_to_agent, avg_duration_seconds
      from public.call_success_metrics$$,
  $$values ('30 minutes', 0::bigint, 0::bigint, null::numeric, null::numeric, null::numeric, null::numeric),
           ('24 hours', 0, 0, null, null, null, null), ('7 days', 0, 0, null, null, null, null)$$,
  'no calls: three periods, zero counts, no rates');

-- last 30 minutes
select pg_temp.call(1, now() - interval '1 minute', 'agent', seconds_to_agent => 10, duration => 60);
select pg_temp.call(2, now() - interval '2 minutes', 'voicemail');
select pg_temp.call(3, now() - interval '3 minutes', 'abandoned');
select pg_temp.call(4, now() - interval '4 minutes', 'rate_limited');
select pg_temp.call(5, now() - interval '30 minutes', 'menu');                 -- first instant of the period
-- last 24 hours
select pg_temp.call(6, now() - interval '2 hours', 'agent', seconds_to_agent => 30, duration => 120);
select pg_temp.call(7, now() - interval '3 hours', 'voicemail');
select pg_temp.call(8, now() - interval '24 hours', 'abandoned');
select pg_temp.call(9, now() - interval '4 hours', 'abandoned', duration => 90);
update public.call_logs set menu_choice = 'sales', dial_call_status = 'no-answer' where call_sid = pg_temp.sid(9);
-- last 7 days
select pg_temp.call(10, now() - interval '24 hours' - interval '1 microsecond', 'agent', seconds_to_agent => 50);
select pg_temp.call(11, now() - interval '7 days' - interval '1 microsecond', 'agent');   -- too old
select pg_temp.call(12, now() - interval '7 days', 'rate_limited');

select results_eq(
  $$select period, calls, rate_limited, answered, reached_agent, voicemails, abandoned_in_menu, finished_with_choice
      from public.call_success_metrics$$,
  $$values ('30 minutes', 5::bigint, 1::bigint, 4::bigint, 1::bigint, 1::bigint, 1::bigint, 2::bigint),
           ('24 hours', 9, 1, 8, 2, 2, 2, 5),
           ('7 days', 11, 2, 9, 3, 2, 2, 6)$$,
  'counts per period, boundaries included, older calls out');
select results_eq(
  $$select period, answer_rate_pct, agent_reached_rate_pct, voicemail_rate_pct, abandon_rate_pct, success_rate_pct
      from public.call_success_metrics$$,
  $$values ('30 minutes', 80.0, 25.0, 25.0, 25.0, 100.0),
           ('24 hours', 88.9, 25.0, 25.0, 25.0, 80.0),
           ('7 days', 81.8, 33.3, 22.2, 22.2, 83.3)$$,
  'rates in percent, one decimal');
select results_eq(
  $$select period, avg_seconds_to_agent, p90_seconds_to_agent, avg_duration_seconds from public.call_success_metrics$$,
  $$values ('30 minutes', 10.0, 10.0, 60.0), ('24 hours', 20.0, 28.0, 72.9), ('7 days', 30.0, 46.0, 71.3)$$,
  'time to an agent (average, 90th percentile) and average duration, in seconds');

select * from finish();
rollback;
