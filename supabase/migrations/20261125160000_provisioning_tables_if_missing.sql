-- The provisioning tables the monitoring views read (failed_transactions,
-- number_provisioning_status), created only where missing, with the columns
-- of the provisioning work's own migration (issue 9,
-- 20261125140000_telephony_transactions.sql), which owns them and runs
-- first: then every statement here is a no-op. Applied without it, this lets
-- the views exist and be tested. Its functions, triggers and indexes are not
-- copied: the views only read these columns.

create table if not exists public.telephony_transactions (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind in ('provision_number', 'release_number')),
  status text not null default 'pending' check (status in (
    'pending', 'running', 'completed', 'compensating', 'compensated', 'failed', 'needs_attention')),
  client text check (length(client) between 1 and 100),
  idempotency_key text,
  request jsonb not null default '{}'::jsonb,
  response jsonb,
  error_code text,
  error_message text,
  twilio_error_code integer,
  lease_owner text,
  lease_expires_at timestamptz,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists public.telephony_transaction_steps (
  id bigint generated always as identity primary key,
  transaction_id uuid not null references public.telephony_transactions (id) on delete cascade,
  position integer not null check (position >= 0),
  name text not null check (name ~ '^[a-z][a-z_]{1,62}$'),
  status text not null default 'pending' check (status in (
    'pending', 'started', 'completed', 'failed', 'compensating', 'compensated', 'compensation_failed')),
  intent jsonb,
  result jsonb,
  undo jsonb,
  error_code text,
  twilio_error_code integer,
  attempts integer not null default 0,
  started_at timestamptz,
  finished_at timestamptz,
  unique (transaction_id, position)
);

alter table public.telephony_numbers add column if not exists client text;
alter table public.telephony_numbers add column if not exists state text not null default 'active'
  check (state in ('provisioning', 'active', 'releasing', 'released', 'needs_attention'));
alter table public.telephony_numbers add column if not exists state_changed_at timestamptz not null default now();
alter table public.telephony_numbers add column if not exists webhook_base_url text;

alter table public.telephony_transactions enable row level security;
alter table public.telephony_transaction_steps enable row level security;
revoke all on table public.telephony_transactions, public.telephony_transaction_steps from anon, authenticated;
