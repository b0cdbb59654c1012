-- Settings the database itself needs for monitoring and retention, in one
-- row of a table rather than GUCs: hosted Supabase lets the project's SQL
-- change a row but not every database parameter, a row is read by views and
-- cron jobs alike, and it is visible and checkable (constraints, updated_at).
-- Change a setting with an update; the next view query or job run uses it.

create table public.operations_settings (
  -- One row: the primary key can only be true.
  id boolean primary key default true check (id),
  -- This deployment's PUBLIC_BASE_URL (ending in /functions/v1): the base the
  -- numbers' Twilio webhook URLs should start with. Set it at deploy time.
  public_base_url text check (public_base_url ~ '^https?://[^ ]+$'),
  -- The zone call_volume_hourly's hours are cut in (an IANA name).
  report_time_zone text not null default 'America/Edmonton',
  -- Retention, in days (docs/operations.md, "Retention").
  error_log_retention_days integer not null default 90 check (error_log_retention_days between 1 and 3650),
  event_retention_days integer not null default 180 check (event_retention_days between 1 and 3650),
  recording_retention_days integer not null default 90 check (recording_retention_days between 1 and 3650),
  cron_history_retention_days integer not null default 7 check (cron_history_retention_days between 1 and 365),
  updated_at timestamptz not null default now()
);
comment on table public.operations_settings is
  'One row: this deployment''s public base URL, the report time zone and the retention periods (days).';

/** Refuses a time zone Postgres does not know, so views never fail on a typo. */
create function public.operations_settings_check() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform now() at time zone new.report_time_zone;
  new.updated_at := now();
  return new;
end
$$;
create trigger operations_settings_check before insert or update on public.operations_settings
  for each row execute function public.operations_settings_check();

insert into public.operations_settings (id) values (true) on conflict (id) do nothing;

alter table public.operations_settings enable row level security;
revoke all on table public.operations_settings from anon, authenticated;
revoke execute on function public.operations_settings_check() from public, anon, authenticated;
