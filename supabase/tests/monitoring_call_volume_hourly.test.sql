-- call_volume_hourly: 168 hours cut in the configured time zone, empty hours
-- as zeros, each call in the hour it started (an hour includes its first
-- instant and excludes the next hour's), older calls left out.
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);
\ir fixtures/monitoring.sql

select results_eq(
  $$select count(*)::int, sum(calls)::int, sum(answered_by_agent + voicemails + rate_limited + abandoned_in_menu)::int
      from public.call_volume_hourly$$,
  $$values (168, 0, 0)$$,
  'no calls: 168 hours, all zeros');

-- Newfoundland is UTC-3:30: its hours start at half past in UTC, which a
-- view that cut hours in UTC would get wrong.
update public.operations_settings set report_time_zone = 'America/St_Johns';
create temp table h as
select date_trunc('hour', now() at time zone 'America/St_Johns') at time zone 'America/St_Johns' as current_hour;

select pg_temp.call(1, (select current_hour from h), 'agent');                                     -- first instant of this hour
select pg_temp.call(2, (select current_hour from h) - interval '1 microsecond', 'voicemail');     -- last instant of the previous hour
select pg_temp.call(3, (select current_hour from h) - interval '167 hours', 'rate_limited');     -- first instant of the oldest hour
select pg_temp.call(4, (select current_hour from h) - interval '167 hours' - interval '1 microsecond', 'agent'); -- too old
select pg_temp.call(5, (select current_hour from h) - interval '30 hours', 'abandoned');
select pg_temp.call(6, (select current_hour from h) - interval '30 hours' + interval '59 minutes', 'menu');

select is((select count(*)::int from public.call_volume_hourly), 168, 'always 168 hours');
select results_eq(
  $$select hour_start, hour_local, time_zone from public.call_volume_hourly limit 1$$,
  $$select current_hour, current_hour at time zone 'America/St_Johns', 'America/St_Johns'::text from h$$,
  'the first row is the current local hour, with its wall-clock time and the zone named');
select is((select extract(minute from hour_start at time zone 'UTC')::int from public.call_volume_hourly limit 1), 30,
  'Newfoundland hours start at half past the UTC hour');
select results_eq(
  $$select hour_start, calls, answered_by_agent, voicemails, rate_limited, abandoned_in_menu
      from public.call_volume_hourly where calls > 0$$,
  $$select current_hour, 1::bigint, 1::bigint, 0::bigint, 0::bigint, 0::bigint from h
    union all select current_hour - interval '1 hour', 1, 0, 1, 0, 0 from h
    union all select current_hour - interval '30 hours', 2, 0, 0, 0, 1 from h
    union all select current_hour - interval '167 hours', 1, 0, 0, 1, 0 from h$$,
  'each call in the hour it started, newest hour first; the call before the oldest hour is left out');
select is((select sum(calls)::int from public.call_volume_hourly), 5, 'five calls in the window');
select is((select count(*)::int from (select hour_start - lead(hour_start) over () as step
                                        from public.call_volume_hourly) s
            where step is distinct from interval '1 hour'), 1,
  'consecutive hours, one apart (only the last row has no successor)');
update public.operations_settings set report_time_zone = 'UTC';
select is((select extract(minute from hour_start)::int from public.call_volume_hourly limit 1), 0,
  'the zone is read from operations_settings on every query');

select * from finish();
rollback;
