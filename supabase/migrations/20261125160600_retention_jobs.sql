-- Retention (PIPEDA: keep personal information only as long as it is needed).
-- Periods come from operations_settings (days); each job deletes in batches
-- (delete_in_batches) so it never holds long locks. Existing jobs kept:
-- rate-limit-cleanup (idle rate-limit keys) and idempotency-cleanup (expired keys).

create extension if not exists pg_cron;

/** Cutoff for a retention period: now() minus the setting's days. */
create function public.retention_cutoff(p_days integer) returns timestamptz
language sql
stable
set search_path = ''
as $$
  select now() - make_interval(days => p_days)
$$;

/** Deletes error_logs older than error_log_retention_days (default 90); returns rows deleted. */
create function public.retention_purge_error_logs(p_batch integer default 5000) returns integer
language sql
set search_path = ''
as $$
  select public.delete_in_batches('public.error_logs',
    format('occurred_at < %L', public.retention_cutoff(s.error_log_retention_days)), p_batch)
  from public.operations_settings s where s.id
$$;

/**
 * Deletes call lifecycle rows and analytics events older than
 * event_retention_days (default 180); returns rows deleted.
 */
create function public.retention_purge_events(p_batch integer default 5000) returns integer
language sql
set search_path = ''
as $$
  select public.delete_in_batches('public.call_lifecycle',
           format('received_at < %L', public.retention_cutoff(s.event_retention_days)), p_batch)
       + public.delete_in_batches('public.analytics_events',
           format('occurred_at < %L', public.retention_cutoff(s.event_retention_days)), p_batch)
  from public.operations_settings s where s.id
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
  v_days integer;
  v_deleted integer;
begin
  select recording_retention_days into v_days from public.operations_settings where id;
  perform set_config('hotline.deletion_reason', 'retention', true);
  v_deleted := public.delete_in_batches('public.voicemails',
    format('created_at < %L', public.retention_cutoff(v_days)), p_batch);
  perform set_config('hotline.deletion_reason', '', true);
  perform public.delete_in_batches('public.twilio_recording_deletions',
    format('deleted_at < %L', public.retention_cutoff(30)), p_batch);
  return v_deleted;
end
$$;

/** Deletes pg_cron's run history older than cron_history_retention_days (default 7); pg_cron keeps it forever. */
create function public.retention_purge_cron_history(p_batch integer default 5000) returns integer
language sql
set search_path = ''
as $$
  select public.delete_in_batches('cron.job_run_details',
    format('start_time < %L', public.retention_cutoff(s.cron_history_retention_days)), p_batch)
  from public.operations_settings s where s.id
$$;

select cron.schedule('error-logs-retention', '10 3 * * *', 'select public.retention_purge_error_logs()');
select cron.schedule('events-retention', '20 3 * * *', 'select public.retention_purge_events()');
select cron.schedule('recordings-retention', '40 * * * *', 'select public.retention_purge_recordings()');
select cron.schedule('cron-history-retention', '30 3 * * *', 'select public.retention_purge_cron_history()');

create index analytics_events_occurred_idx on public.analytics_events (occurred_at);

revoke execute on function
  public.retention_cutoff(integer),
  public.retention_purge_error_logs(integer),
  public.retention_purge_events(integer),
  public.retention_purge_recordings(integer),
  public.retention_purge_cron_history(integer)
from public, anon, authenticated;
