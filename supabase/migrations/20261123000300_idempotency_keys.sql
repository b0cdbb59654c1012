-- Idempotency keys: the first request with a key does the work; a repeat gets
-- the stored response. Shared by every isolate through the database.

-- Where Supabase documents it; hosted lets `postgres` create it.
create extension if not exists pg_cron with schema pg_catalog;

create table public.idempotency_keys (
  -- The endpoint plus whose key it is (caller, account): keys never collide across scopes.
  scope text not null,
  key text not null check (length(key) between 1 and 255),
  -- A hash of the request: the same key with another request is an error (422).
  fingerprint text not null,
  state text not null check (state in ('in_progress', 'done')),
  -- Who holds the key: a holder whose lease ran out may be replaced, and its
  -- late completion is then refused.
  lease_id uuid not null default gen_random_uuid(),
  locked_until timestamptz not null,
  attempts integer not null default 1,
  response_status integer check (response_status between 100 and 599),
  response jsonb,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  expires_at timestamptz not null,
  primary key (scope, key),
  check ((state = 'done') = (response_status is not null))
);
comment on table public.idempotency_keys is
  'Idempotency keys with the stored response; expire after 24 h by default (pg_cron removes them).';
create index idempotency_keys_expires_idx on public.idempotency_keys (expires_at);

/**
 * Claims a key. Outcomes: started | taken_over (the previous holder's lease
 * expired before it finished) | replay (done: status and response returned)
 * | in_progress | mismatch (another request used this key).
 */
create function public.idempotency_begin(
  p_scope text,
  p_key text,
  p_fingerprint text,
  p_lease_seconds integer default 30,
  p_ttl_seconds integer default 86400
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_row public.idempotency_keys;
  v_now timestamptz := clock_timestamp();
begin
  -- A concurrent first claim of the same key waits here for the other
  -- transaction, then sees its row: exactly one request starts the work.
  insert into public.idempotency_keys (scope, key, fingerprint, state, locked_until, expires_at)
  values (p_scope, p_key, p_fingerprint, 'in_progress',
          v_now + make_interval(secs => p_lease_seconds), v_now + make_interval(secs => p_ttl_seconds))
  on conflict (scope, key) do nothing
  returning * into v_row;
  if found then
    return jsonb_build_object('outcome', 'started', 'lease_id', v_row.lease_id);
  end if;

  select * into v_row from public.idempotency_keys
   where scope = p_scope and key = p_key
   for update;
  if not found then
    -- The conflicting row was deleted (expired, cleaned up) between our insert
    -- and our lock: the key is free again, so claim it afresh.
    return public.idempotency_begin(p_scope, p_key, p_fingerprint, p_lease_seconds, p_ttl_seconds);
  end if;

  if v_row.expires_at <= v_now then
    update public.idempotency_keys
       set fingerprint = p_fingerprint, state = 'in_progress', lease_id = gen_random_uuid(),
           locked_until = v_now + make_interval(secs => p_lease_seconds), attempts = 1,
           response_status = null, response = null, created_at = v_now, completed_at = null,
           expires_at = v_now + make_interval(secs => p_ttl_seconds)
     where scope = p_scope and key = p_key
    returning * into v_row;
    return jsonb_build_object('outcome', 'started', 'lease_id', v_row.lease_id);
  end if;
  if v_row.fingerprint <> p_fingerprint then
    return jsonb_build_object('outcome', 'mismatch');
  end if;
  if v_row.state = 'done' then
    return jsonb_build_object('outcome', 'replay', 'status', v_row.response_status, 'response', v_row.response);
  end if;
  if v_row.locked_until > v_now then
    return jsonb_build_object('outcome', 'in_progress');
  end if;
  update public.idempotency_keys
     set lease_id = gen_random_uuid(), locked_until = v_now + make_interval(secs => p_lease_seconds),
         attempts = attempts + 1
   where scope = p_scope and key = p_key
  returning * into v_row;
  return jsonb_build_object('outcome', 'taken_over', 'lease_id', v_row.lease_id, 'attempts', v_row.attempts);
end
$$;

/**
 * Finishes a claim. Cacheable responses are stored for replay; 5xx, 429 and
 * 401 release the key so that a retry runs the work again. With p_lease_id,
 * a holder that lost its lease is refused (SQLSTATE 40001).
 */
create function public.idempotency_complete(
  p_scope text,
  p_key text,
  p_status integer,
  p_response jsonb,
  p_lease_id uuid default null
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_holder uuid;
begin
  select lease_id into v_holder from public.idempotency_keys
   where scope = p_scope and key = p_key and state = 'in_progress'
   for update;
  if not found or (p_lease_id is not null and v_holder <> p_lease_id) then
    raise exception 'idempotency key %/% is not held by this request', p_scope, p_key
      using errcode = '40001';
  end if;
  if p_status >= 500 or p_status in (401, 429) then
    delete from public.idempotency_keys where scope = p_scope and key = p_key;
  else
    update public.idempotency_keys
       set state = 'done', response_status = p_status, response = p_response,
           completed_at = clock_timestamp()
     where scope = p_scope and key = p_key;
  end if;
end
$$;

/** Removes expired keys in batches; returns how many. */
create function public.idempotency_cleanup(p_batch integer default 5000)
returns integer
language sql
set search_path = ''
as $$
  select public.delete_in_batches('public.idempotency_keys', 'expires_at < clock_timestamp()', p_batch)
$$;

select cron.schedule('idempotency-cleanup', '*/5 * * * *', 'select public.idempotency_cleanup()');

alter table public.idempotency_keys enable row level security;
revoke all on table public.idempotency_keys from anon, authenticated;
revoke execute on function
  public.idempotency_begin(text, text, text, integer, integer),
  public.idempotency_complete(text, text, integer, jsonb, uuid),
  public.idempotency_cleanup(integer)
from public, anon, authenticated;
