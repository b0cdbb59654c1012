-- active_calls: calls without a final status that started within 4 hours,
-- oldest first, with their age and where they are in the flow.
begin;
create extension if not exists pgtap with schema extensions;
select plan(3);
\ir fixtures/monitoring.sql

select is_empty('select * from public.active_calls', 'no calls: no rows');

select pg_temp.call(1, now() - interval '10 seconds', 'menu');
select pg_temp.call(2, now() - interval '4 hours' + interval '1 second', 'menu');  -- just inside 4 h
select pg_temp.call(3, now() - interval '4 hours', 'menu');                        -- exactly 4 h: stale_calls
select pg_temp.call(4, now() - interval '1 minute', 'agent');                       -- completed
select pg_temp.call(5, now() - interval '2 minutes', 'menu');
update public.call_logs set menu_choice = 'support', dial_target = '+15875550102' where call_sid = pg_temp.sid(5);
select pg_temp.call(6, now() - interval '3 minutes', 'menu');
update public.call_logs set menu_choice = 'support', screening_accepted_at = now() where call_sid = pg_temp.sid(6);
select pg_temp.call(7, now() - interval '4 minutes', 'menu');
update public.call_logs set menu_choice = 'sales', dial_call_status = 'no-answer' where call_sid = pg_temp.sid(7);

select results_eq(
  $$select call_sid::text, hotline, status::text, stage, department, age_seconds from public.active_calls$$,
  $$values (pg_temp.sid(2), 'Business hotline', 'in-progress', 'menu', null::text, 14399),
           (pg_temp.sid(7), 'Business hotline', 'in-progress', 'voicemail', 'sales', 240),
           (pg_temp.sid(6), 'Business hotline', 'in-progress', 'with agent', 'support', 180),
           (pg_temp.sid(5), 'Business hotline', 'in-progress', 'ringing agent', 'support', 120),
           (pg_temp.sid(1), 'Business hotline', 'in-progress', 'menu', null, 10)$$,
  'open calls within 4 h, oldest first, with stage and age; finished calls left out');
select results_eq($$select call_sid::text from public.stale_calls$$, $$values (pg_temp.sid(3))$$,
  'a call open for exactly 4 h is stale, not active');

select * from finish();
rollback;
