-- Core telephony schema: hotline numbers and their routing, calls, lifecycle
-- events, recording consent, analytics events and error logs.
--
-- Every table has RLS enabled and no policies, and anon/authenticated hold no
-- grants: the data is read and written only by the edge functions (through
-- SUPABASE_DB_URL as a privileged role) and by operators in SQL.

create domain public.e164 as text
  check (value ~ '^\+[1-9][0-9]{1,14}$');
comment on domain public.e164 is 'A phone number in E.164 form, e.g. +15877428885.';

create domain public.call_sid as text
  check (value ~ '^CA[0-9a-f]{32}$');
comment on domain public.call_sid is 'A Twilio CallSid: CA followed by 32 lower-case hex digits.';

-- Twilio's CallStatus values, in lifecycle order: status_rank() gives the order
-- that keeps status updates forward-only.
create type public.call_status as enum (
  'queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'
);

create type public.consent_state as enum ('granted', 'declined', 'unknown');

create table public.telephony_subaccounts (
  id uuid primary key default gen_random_uuid(),
  account_sid text not null unique check (account_sid ~ '^AC[0-9a-f]{32}$'),
  friendly_name text not null check (length(friendly_name) between 1 and 200),
  status text not null default 'active' check (status in ('active', 'suspended', 'closed')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.telephony_subaccounts is
  'Twilio subaccounts that own hotline numbers (one per customer organisation).';

create table public.telephony_numbers (
  id uuid primary key default gen_random_uuid(),
  e164 public.e164 not null unique,
  subaccount_id uuid references public.telephony_subaccounts (id) on delete restrict,
  phone_number_sid text unique check (phone_number_sid ~ '^PN[0-9a-f]{32}$'),
  label text not null check (length(label) between 1 and 200),
  -- Per-number routing; null falls back to SALES_TARGET_E164 / SUPPORT_TARGET_E164.
  sales_target public.e164,
  support_target public.e164,
  voicemail_enabled boolean not null default true,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.telephony_numbers is
  'Hotline numbers answered by voice-frontdoor, and where their menu choices ring.';
create index telephony_numbers_subaccount_idx on public.telephony_numbers (subaccount_id);

create table public.call_logs (
  call_sid public.call_sid primary key,
  account_sid text check (account_sid ~ '^AC[0-9a-f]{32}$'),
  number_id uuid references public.telephony_numbers (id) on delete set null,
  from_number text not null,
  to_number text not null,
  direction text not null default 'inbound' check (direction in ('inbound', 'outbound-api', 'outbound-dial')),
  status public.call_status not null default 'ringing',
  -- The caller's path through the menu: sales, support, voicemail.
  menu_choice text check (menu_choice in ('sales', 'support', 'voicemail')),
  menu_attempts smallint not null default 0 check (menu_attempts between 0 and 10),
  dial_target public.e164,
  dial_call_status text check (dial_call_status in ('completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled')),
  dial_duration_seconds integer check (dial_duration_seconds >= 0),
  duration_seconds integer check (duration_seconds >= 0),
  started_at timestamptz not null default now(),
  answered_at timestamptz,
  ended_at timestamptz,
  updated_at timestamptz not null default now(),
  check (ended_at is null or ended_at >= started_at)
);
comment on table public.call_logs is
  'One row per call to a hotline number; status moves forward only (see voice-status).';
comment on column public.call_logs.from_number is
  'The caller as Twilio gives it: E.164, or anonymous/restricted/client:… for hidden callers.';
create index call_logs_started_at_idx on public.call_logs (started_at desc);
create index call_logs_number_started_idx on public.call_logs (number_id, started_at desc);
create index call_logs_open_idx on public.call_logs (started_at)
  where status in ('queued', 'ringing', 'in-progress');

create table public.call_lifecycle (
  id bigint generated always as identity primary key,
  call_sid public.call_sid not null references public.call_logs (call_sid) on delete cascade,
  status public.call_status not null,
  -- Twilio's StatusCallbackEvent (initiated, ringing, answered, completed) when sent.
  event text check (event in ('initiated', 'ringing', 'answered', 'completed')),
  sequence_number integer check (sequence_number >= 0),
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  -- A status is reached once per call: a redelivered callback is a no-op.
  unique (call_sid, status)
);
comment on table public.call_lifecycle is
  'Status callbacks as received, one row per (call, status); duplicates are dropped.';
create index call_lifecycle_received_idx on public.call_lifecycle (received_at desc);

create table public.call_recording_consent (
  call_sid public.call_sid primary key references public.call_logs (call_sid) on delete cascade,
  state public.consent_state not null,
  -- Which disclosure wording the caller heard (docs/telephony.md lists them).
  disclosure_version text not null,
  -- implied: heard the disclosure and continued; opt-out-key: pressed the key
  -- to continue without recording; unknown: consent could not be determined.
  basis text not null check (basis in ('implied', 'opt-out-key', 'unknown')),
  decided_at timestamptz not null default now(),
  check ((state = 'granted') = (basis = 'implied'))
);
comment on table public.call_recording_consent is
  'PIPEDA: whether this call may be recorded. No row, or unknown, means never record.';

create table public.analytics_events (
  id bigint generated always as identity primary key,
  call_sid public.call_sid references public.call_logs (call_sid) on delete cascade,
  event_type text not null check (event_type ~ '^[a-z][a-z0-9_.]{1,63}$'),
  properties jsonb not null default '{}'::jsonb check (jsonb_typeof(properties) = 'object'),
  occurred_at timestamptz not null default now()
);
comment on table public.analytics_events is 'Product events (menu choices, dial outcomes, voicemails).';
create index analytics_events_type_time_idx on public.analytics_events (event_type, occurred_at desc);
create index analytics_events_call_idx on public.analytics_events (call_sid);

create table public.error_logs (
  id bigint generated always as identity primary key,
  function_slug text not null,
  call_sid text,
  error_name text not null default 'Error',
  message text not null,
  context jsonb not null default '{}'::jsonb,
  occurred_at timestamptz not null default now()
);
comment on table public.error_logs is
  'Exceptions caught by the functions'' error boundary (the caller was rescued).';
create index error_logs_occurred_idx on public.error_logs (occurred_at desc);

-- Keeps updated_at honest without every writer having to remember it.
create function public.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end
$$;

create trigger telephony_subaccounts_touch before update on public.telephony_subaccounts
  for each row execute function public.touch_updated_at();
create trigger telephony_numbers_touch before update on public.telephony_numbers
  for each row execute function public.touch_updated_at();
create trigger call_logs_touch before update on public.call_logs
  for each row execute function public.touch_updated_at();

alter table public.telephony_subaccounts enable row level security;
alter table public.telephony_numbers enable row level security;
alter table public.call_logs enable row level security;
alter table public.call_lifecycle enable row level security;
alter table public.call_recording_consent enable row level security;
alter table public.analytics_events enable row level security;
alter table public.error_logs enable row level security;

revoke all on table
  public.telephony_subaccounts, public.telephony_numbers, public.call_logs,
  public.call_lifecycle, public.call_recording_consent, public.analytics_events,
  public.error_logs
from anon, authenticated;
revoke execute on function public.touch_updated_at() from public, anon, authenticated;
