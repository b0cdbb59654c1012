-- Admin audit log: one row per admin request (refused ones included): who,
-- what, when, outcome. Append-only: a trigger refuses update, delete and
-- truncate for every role, so nothing reachable through the API can alter it.
-- Retention is an operator decision (drop the trigger in a reviewed migration).

create table public.admin_audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  function_slug text not null,
  -- admin: a valid admin key; anonymous: no key; invalid-key: a wrong key.
  actor text not null check (actor in ('admin', 'anonymous', 'invalid-key')),
  client_ip text,
  user_agent text,
  method text not null,
  path text not null,
  idempotency_key text,
  -- The request body as parsed (admin bodies carry no secrets), or null.
  request jsonb,
  status integer not null check (status between 100 and 599),
  -- ok, or the error code the caller was given.
  outcome text not null,
  transaction_id uuid,
  duration_ms integer
);
comment on table public.admin_audit_log is
  'Every admin API request (refused ones included): who, what, when, outcome. Append-only.';
create index admin_audit_log_occurred_idx on public.admin_audit_log (occurred_at desc);
create index admin_audit_log_transaction_idx on public.admin_audit_log (transaction_id)
  where transaction_id is not null;

create function public.admin_audit_log_refuse_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'admin_audit_log is append-only (% refused)', tg_op
    using errcode = 'insufficient_privilege';
end
$$;
create trigger admin_audit_log_append_only before update or delete on public.admin_audit_log
  for each row execute function public.admin_audit_log_refuse_change();
create trigger admin_audit_log_no_truncate before truncate on public.admin_audit_log
  for each statement execute function public.admin_audit_log_refuse_change();

alter table public.admin_audit_log enable row level security;
revoke all on table public.admin_audit_log from anon, authenticated;
revoke execute on function public.admin_audit_log_refuse_change() from public, anon, authenticated;
