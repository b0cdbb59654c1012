-- recent_errors: the last 24 hours of caught errors, grouped by function,
-- error and message, with counts and first/last seen; 24 h ago exactly is out.
begin;
create extension if not exists pgtap with schema extensions;
select plan(2);
\ir fixtures/monitoring.sql

select is_empty('select * from public.recent_errors', 'no errors: no rows');

insert into public.error_logs (function_slug, call_sid, error_name, message, occurred_at) values
  ('voice-menu-handler', pg_temp.sid(1), 'PostgresError', 'timeout', now() - interval '24 hours'),  -- out
  ('voice-menu-handler', pg_temp.sid(1), 'PostgresError', 'timeout', now() - interval '23 hours 59 minutes'),
  ('voice-menu-handler', pg_temp.sid(2), 'PostgresError', 'timeout', now() - interval '5 minutes'),
  ('voice-menu-handler', pg_temp.sid(2), 'PostgresError', 'timeout', now() - interval '4 minutes'),
  ('voice-status', null, 'TypeError', repeat('x', 300), now() - interval '1 hour');

select results_eq(
  $$select function_slug, error_name, message, occurrences, calls_affected, first_seen, last_seen
      from public.recent_errors$$,
  $$values ('voice-menu-handler', 'PostgresError', 'timeout', 3::bigint, 2::bigint,
            now() - interval '23 hours 59 minutes', now() - interval '4 minutes'),
           ('voice-status', 'TypeError', repeat('x', 200), 1, 0, now() - interval '1 hour', now() - interval '1 hour')$$,
  'grouped, counted, first and last seen within 24 h, messages cut at 200 characters, latest first');

select * from finish();
rollback;
