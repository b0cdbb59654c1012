-- Retention (PIPEDA: keep personal information only as long as it is needed).
-- Periods come from operations_settings (days); each job deletes in batches
-- (delete_in_batches) so it never holds long locks. Existing jobs kept:
-- rate-limit-cleanup (idle rate-limit keys) and idempotency-cleanup (expired keys).

create extension if not exists pg_cron;

/**
 * Deletes the rows of p_table whose p_column is older than p_days days, in
 * batches; returns how many. Callers pass fixed names, never user input.
 */
create function public.retention_delete(p_table regclass, p_column text, p_days integer, p_batch integer)
returns integer
language sql
set search_path = ''
as $$
  select public.delete_in_batches(p_table, format('%I < %L', p_column, now() - make_interval(days => p_days)), p_batch)
$$;

/** Deletes error_logs older than error_log_retention_days (default 90); returns rows deleted. */
create function public.retention_purge_error_logs(p_batch integer default 5000) returns integer
language sql
set search_path = ''
as $$
  select public.retention_delete('public.error_logs', 'occurred_at', error_log_retention_days, p_batch)
  from public.operations_settings where id
$$;

/**
 * Deletes call lifecycle rows and analytics events older than
 * event_retention_days (default 180); returns rows deleted.
 */
create function public.retention_purge_events(p_batch integer default 5000) returns integer
language sql
set search_path = ''
as $$
  select public.retention_delete('public.call_lifecycle', 'received_at', event_retention_days, p_batch)
       + public.retention_delete('public.analytics_events', 'occurred_at', event_retention_days, p_batch)
  from public.operations_settings where id
$$;

/**
 * Deletes voicemails (recording link, transcript) older than
 * recording_retention_days (default 90); each deleted row queues its
 * recording's deletion at Twilio (twilio_recording_deletions, reason
 * 'retention'). Outbox rows done for 30 days go too. Returns voicemails deleted.
 */
create function public.retention_purge_recordings(p_batch integer default 1000) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  perform set_config('hotline.deletion_reason', 'retention', true);
  select public.retention_delete('public.voicemails', 'created_at', recording_retention_days, p_batch)
    into v_deleted from public.operations_settings where id;
  perform set_config('hotline.deletion_reason', '', true);
  perform public.retention_delete('public.twilio_recording_deletions', 'deleted_at', 30, p_batch);
  return v_deleted;
end
$$;

/** Deletes pg_cron's run history older than cron_history_retention_days (default 7); pg_cron keeps it forever. */
create function public.retention_purge_cron_history(p_batch integer default 5000) returns integer
language sql
set search_path = ''
as $$
  select public.retention_delete('cron.job_run_details', 'start_time', cron_history_retention_days, p_batch)
  from public.operations_settings where id
$$;

select cron.schedule('error-logs-retention', '10 3 * * *', 'select public.retention_purge_error_logs()');
select cron.schedule('events-retention', '20 3 * * *', 'select public.retention_purge_events()');
select cron.schedule('recordings-retention', '40 * * * *', 'select public.retention_purge_recordings()');
select cron.schedule('cron-history-retention', '30 3 * * *', 'select public.retention_purge_cron_history()');

create index analytics_events_occurred_idx on public.analytics_events (occurred_at);

revoke execute on function
  public.retention_delete(regclass, text, integer, integer),
  public.retention_purge_error_logs(integer),
  public.retention_purge_events(integer),
  public.retention_purge_recordings(integer),
  public.retention_purge_cron_history(integer)
from public, anon, authenticated;
