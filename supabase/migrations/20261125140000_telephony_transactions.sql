-- Telephony transactions: number provisioning and release as persisted,
-- ordered step logs (pgflow-like). The runner (_shared/provisioning/) commits
-- each step's intent and undo before its external call and its result after,
-- so a crash between any two statements leaves enough here for the resumer to
-- find the effect at Twilio and complete or compensate the transaction.

create table public.telephony_transactions (
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
  -- Who drives the transaction now; a lease that ran out may be taken over by the resumer.
  lease_owner text,
  lease_expires_at timestamptz,
  -- How many times a runner took the transaction (1 = the request itself).
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.telephony_transactions is
  'Provisioning and release transactions: one row each, driven by one lease holder at a time.';
-- One unfinished transaction per idempotency key: a retry with the key finds it instead of buying again.
create unique index telephony_transactions_open_key_idx on public.telephony_transactions (idempotency_key)
  where status in ('pending', 'running', 'compensating');
create index telephony_transactions_resumable_idx on public.telephony_transactions (lease_expires_at)
  where status in ('pending', 'running', 'compensating');
create index telephony_transactions_created_idx on public.telephony_transactions (created_at desc);

create table public.telephony_transaction_steps (
  id bigint generated always as identity primary key,
  transaction_id uuid not null references public.telephony_transactions (id) on delete cascade,
  position integer not null check (position >= 0),
  name text not null check (name ~ '^[a-z][a-z_]{1,62}$'),
  status text not null default 'pending' check (status in (
    'pending', 'started', 'completed', 'failed', 'compensating', 'compensated', 'compensation_failed')),
  -- Committed before the external call: everything needed to find its effect later.
  intent jsonb,
  result jsonb,
  -- Committed before the external call too: how to undo the step (null: nothing to undo).
  undo jsonb,
  error_code text,
  twilio_error_code integer,
  attempts integer not null default 0,
  started_at timestamptz,
  finished_at timestamptz,
  unique (transaction_id, position)
);
comment on table public.telephony_transaction_steps is
  'The ordered step log of a telephony transaction: intent, undo, result, compensation.';

-- Provisioning state of a number, for operators (number_provisioning_status).
alter table public.telephony_numbers
  add column client text,
  add column state text not null default 'active'
    check (state in ('provisioning', 'active', 'releasing', 'released', 'needs_attention')),
  add column state_changed_at timestamptz not null default now(),
  -- The PUBLIC_BASE_URL the number's Twilio webhooks were last set to.
  add column webhook_base_url text,
  -- The transaction that last changed the row: compensation only undoes its own rows.
  add column last_transaction_id uuid references public.telephony_transactions (id) on delete set null;
create index telephony_numbers_last_transaction_idx on public.telephony_numbers (last_transaction_id);

-- The subaccount's own auth token signs the webhooks of its numbers (the voice
-- and SMS functions read it); the edge work adds the same column, hence "if not exists".
alter table public.telephony_subaccounts add column if not exists auth_token text;
alter table public.telephony_subaccounts add column if not exists client text;

create function public.telephony_numbers_track_state() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.state is distinct from old.state then
    new.state_changed_at := now();
  end if;
  return new;
end
$$;
create trigger telephony_numbers_state_changed before update on public.telephony_numbers
  for each row execute function public.telephony_numbers_track_state();

create trigger telephony_transactions_touch before update on public.telephony_transactions
  for each row execute function public.touch_updated_at();

/**
 * Takes up to p_limit transactions whose lease ran out (a crashed or stuck
 * runner) for p_owner. Two resumers at once never take the same one: the
 * rows are locked with skip locked, and a live lease is never taken.
 */
create function public.telephony_transactions_claim_expired(
  p_owner text,
  p_lease_seconds integer default 30,
  p_limit integer default 10
) returns setof uuid
language sql
set search_path = ''
as $$
  update public.telephony_transactions t
     set lease_owner = p_owner,
         lease_expires_at = clock_timestamp() + make_interval(secs => least(p_lease_seconds, 30)),
         attempts = t.attempts + 1
   where t.id in (
     select id from public.telephony_transactions
      where status in ('pending', 'running', 'compensating')
        and (lease_expires_at is null or lease_expires_at < clock_timestamp())
      order by created_at
      limit p_limit
      for update skip locked)
  returning t.id
$$;

/**
 * Takes one transaction for p_owner if its lease is free or already
 * p_owner's; false when another runner holds a live lease.
 */
create function public.telephony_transaction_claim(
  p_id uuid,
  p_owner text,
  p_lease_seconds integer default 30
) returns boolean
language sql
set search_path = ''
as $$
  with taken as (
    update public.telephony_transactions
       set lease_owner = p_owner,
           lease_expires_at = clock_timestamp() + make_interval(secs => least(p_lease_seconds, 30)),
           attempts = attempts + case when lease_owner = p_owner then 0 else 1 end
     where id = p_id
       and status in ('pending', 'running', 'compensating')
       and (lease_owner = p_owner or lease_expires_at is null or lease_expires_at < clock_timestamp())
    returning 1)
  select exists (select 1 from taken)
$$;

alter table public.telephony_transactions enable row level security;
alter table public.telephony_transaction_steps enable row level security;
revoke all on table public.telephony_transactions, public.telephony_transaction_steps
from anon, authenticated;
revoke execute on function
  public.telephony_numbers_track_state(),
  public.telephony_transactions_claim_expired(text, integer, integer),
  public.telephony_transaction_claim(uuid, text, integer)
from public, anon, authenticated;
