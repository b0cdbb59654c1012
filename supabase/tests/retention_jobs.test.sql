-- Each retention job, run by the very command pg_cron runs, deletes exactly
-- what is past its period (operations_settings), and a voicemail it deletes
-- queues its Twilio recording's deletion.
begin;
create extension if not exists pgtap with schema extensions;
select plan(11);
\ir fixtures/monitoring.sql

create function pg_temp.run_job(p_name text) returns void language plpgsql as $$
declare
  v_command text;
begin
  select command into strict v_command from cron.job where jobname = p_name;
  execute v_command;
end
$$;

select is(array(select format('%s %s', jobname, schedule) from cron.job where jobname like '%retention' order by 1),
  array['cron-history-retention 30 3 * * *', 'error-logs-retention 10 3 * * *', 'events-retention 20 3 * * *',
        'recordings-retention 40 * * * *'],
  'four retention jobs scheduled');

select results_eq(
  $$select error_log_retention_days, event_retention_days, recording_retention_days, cron_history_retention_days
      from public.operations_settings$$,
  $$values (90, 180, 90, 7)$$, 'default periods: errors 90 d, events 180 d, recordings 90 d, cron history 7 d');

insert into public.error_logs (function_slug, message, occurred_at) values
  ('voice-status', 'old', now() - interval '90 days' - interval '1 second'),
  ('voice-status', 'kept', now() - interval '89 days');
select pg_temp.run_job('error-logs-retention');
select results_eq($$select message from public.error_logs$$, $$values ('kept')$$, 'error logs older than 90 days go');

select pg_temp.call(1, now() - interval '200 days', 'agent');
select pg_temp.call(2, now() - interval '10 days', 'agent');
insert into public.call_lifecycle (call_sid, status, occurred_at, received_at) values
  (pg_temp.sid(1), 'completed', now() - interval '200 days', now() - interval '200 days'),
  (pg_temp.sid(2), 'completed', now() - interval '10 days', now() - interval '10 days');
insert into public.analytics_events (call_sid, event_type, occurred_at) values
  (pg_temp.sid(1), 'menu.sales', now() - interval '181 days'),
  (pg_temp.sid(2), 'menu.sales', now() - interval '179 days');
select pg_temp.run_job('events-retention');
select results_eq($$select call_sid::text from public.call_lifecycle$$, $$values (pg_temp.sid(2))$$,
  'lifecycle rows older than 180 days go');
select results_eq($$select occurred_at from public.analytics_events$$, $$values (now() - interval '179 days')$$,
  'analytics events older than 180 days go');
update public.operations_settings set event_retention_days = 5;
select pg_temp.run_job('events-retention');
select is((select count(*)::int from public.call_lifecycle) + (select count(*)::int from public.analytics_events), 0,
  'the period is read from operations_settings');

select pg_temp.call(3, now() - interval '91 days', 'voicemail');
select pg_temp.call(4, now() - interval '89 days', 'voicemail');
update public.voicemails set transcription_status = 'completed', transcription_text = 'call me';
select pg_temp.run_job('recordings-retention');
select results_eq($$select call_sid::text from public.voicemails$$, $$values (pg_temp.sid(4))$$,
  'voicemails (recording link and transcript) older than 90 days go');
select results_eq(
  $$select recording_sid, account_sid, call_sid, reason, deleted_at from public.twilio_recording_deletions$$,
  $$values ('RE' || lpad(to_hex(3), 32, '0'), 'AC00000000000000000000000000000001', pg_temp.sid(3), 'retention',
            null::timestamptz)$$,
  'its Twilio recording is queued for deletion, with the account it lives in');
select is((select count(*)::int from public.call_logs where call_sid = pg_temp.sid(3)), 1,
  'the call itself is kept');

update public.twilio_recording_deletions set deleted_at = now() - interval '31 days';
select pg_temp.run_job('recordings-retention');
select is((select count(*)::int from public.twilio_recording_deletions), 0, 'deletions done 30 days ago are forgotten');

insert into cron.job_run_details (jobid, runid, command, status, start_time) values
  (1, 900001, 'select 1', 'succeeded', now() - interval '8 days'),
  (1, 900002, 'select 1', 'succeeded', now() - interval '6 days');
select pg_temp.run_job('cron-history-retention');
select results_eq($$select runid from cron.job_run_details where runid > 900000$$, $$values (900002::bigint)$$,
  'pg_cron run history older than 7 days goes');

select * from finish();
rollback;
