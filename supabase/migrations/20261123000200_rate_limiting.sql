-- Distributed rate limiting: one row of state per active key, decided in one
-- statement under the row lock, on the database clock. Every edge isolate in
-- every region shares it.
--
-- Algorithm: GCRA (generic cell rate algorithm). A key stores its theoretical
-- arrival time (tat). With L requests per window W, each admitted request
-- pushes tat forward by T = W/L; a request is admitted while tat - now stays
-- within the burst tolerance W - T. This is a smooth sliding window (no 2L
-- burst at a fixed window's edge) in a single timestamp per key.

-- Where Supabase documents it; hosted lets `postgres` create it.
create extension if not exists pg_cron with schema pg_catalog;

create table public.rate_limit_policies (
  endpoint text not null,
  -- caller: the caller's number (voice, SMS); ip: the client address (admin
  -- HTTP APIs only, see docs/rate-limiting.md); account: an account or admin
  -- key; custom: any key the endpoint chooses.
  key_kind text not null check (key_kind in ('caller', 'ip', 'account', 'custom')),
  max_requests integer not null check (max_requests > 0),
  window_seconds integer not null check (window_seconds > 0),
  -- open: admit when the limiter cannot be asked (live calls);
  -- closed: refuse (actions that cost money).
  failure_mode text not null check (failure_mode in ('open', 'closed')),
  updated_at timestamptz not null default now(),
  primary key (endpoint, key_kind)
);
comment on table public.rate_limit_policies is
  'Rate limits per endpoint and key kind; change a row to change a limit, no deploy needed.';

insert into public.rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode) values
  ('voice-frontdoor', 'caller', 10, 60, 'open'),
  ('telephony-provision', 'account', 20, 3600, 'closed'),
  ('telephony-provision', 'ip', 60, 60, 'closed'),
  ('webcomms-sms-reply', 'caller', 5, 60, 'closed')
on conflict (endpoint, key_kind) do nothing;

create unlogged table public.rate_limit_state (
  endpoint text not null,
  key_kind text not null,
  key text not null,
  tat timestamptz not null,
  primary key (endpoint, key_kind, key)
);
comment on table public.rate_limit_state is
  'GCRA state, one row per active key. Unlogged: after a crash limits restart empty, which only ever admits more.';
create index rate_limit_state_tat_idx on public.rate_limit_state (tat);

-- Denials, aggregated per key and hour: storage follows the number of
-- offending keys, not the number of refused requests.
create table public.rate_limit_violation_counts (
  endpoint text not null,
  key_kind text not null,
  key text not null,
  hour timestamptz not null,
  denied integer not null default 0,
  first_denied_at timestamptz not null,
  last_denied_at timestamptz not null,
  primary key (endpoint, key_kind, key, hour)
);
create index rate_limit_violation_counts_hour_idx on public.rate_limit_violation_counts (hour);

/**
 * Takes one request from the key's allowance. Returns
 * {"allowed", "remaining", "limit", "retry_after_seconds"}. No policy for the
 * endpoint and key kind means no limit.
 */
create function public.rate_limit_take(p_endpoint text, p_key_kind text, p_key text)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_policy public.rate_limit_policies;
  v_now timestamptz := clock_timestamp();
  v_interval interval;
  v_tolerance interval;
  v_tat timestamptz;
  v_backlog double precision;
  v_step double precision;
begin
  select * into v_policy from public.rate_limit_policies
   where endpoint = p_endpoint and key_kind = p_key_kind;
  if not found then
    return jsonb_build_object('allowed', true, 'remaining', null, 'limit', null, 'retry_after_seconds', 0);
  end if;

  -- W/L rounded down to the microsecond (an interval's resolution): rounded
  -- up, L steps would overshoot the window and a full burst would get L - 1.
  v_interval := make_interval(secs => floor(v_policy.window_seconds * 1e6 / v_policy.max_requests) / 1e6);
  v_tolerance := make_interval(secs => v_policy.window_seconds) - v_interval;

  -- The conflict arm updates only when the request fits; the row lock makes
  -- concurrent requests on one key queue here, so none is lost or double-counted.
  insert into public.rate_limit_state as s (endpoint, key_kind, key, tat)
  values (p_endpoint, p_key_kind, p_key, v_now + v_interval)
  on conflict (endpoint, key_kind, key) do update
    set tat = greatest(s.tat, v_now) + v_interval
    where greatest(s.tat, v_now) - v_now <= v_tolerance
  returning s.tat into v_tat;

  v_step := extract(epoch from v_interval);
  if v_tat is not null then
    v_backlog := extract(epoch from v_tat - v_now);
    return jsonb_build_object(
      'allowed', true,
      'remaining', greatest(0, floor((extract(epoch from v_tolerance) - v_backlog) / v_step) + 1)::int,
      'limit', v_policy.max_requests,
      'retry_after_seconds', 0
    );
  end if;

  select tat into v_tat from public.rate_limit_state
   where endpoint = p_endpoint and key_kind = p_key_kind and key = p_key;
  insert into public.rate_limit_violation_counts as c
    (endpoint, key_kind, key, hour, denied, first_denied_at, last_denied_at)
  values (p_endpoint, p_key_kind, p_key, date_trunc('hour', v_now), 1, v_now, v_now)
  on conflict (endpoint, key_kind, key, hour) do update
    set denied = c.denied + 1, last_denied_at = excluded.last_denied_at;
  return jsonb_build_object(
    'allowed', false,
    'remaining', 0,
    'limit', v_policy.max_requests,
    'retry_after_seconds',
      greatest(1, ceil(extract(epoch from (v_tat - v_now) - v_tolerance)))::int
  );
end
$$;

/**
 * Deletes the rows of p_table matching p_where, p_batch at a time, so a
 * cleanup job never holds long locks or builds one huge transaction's worth
 * of dead rows. Returns how many it deleted. Callers pass fixed conditions,
 * never user input (p_where is SQL).
 */
create function public.delete_in_batches(p_table regclass, p_where text, p_batch integer default 5000)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_total integer := 0;
  v_rows integer;
begin
  loop
    execute format(
      'delete from %s where ctid = any (array(select ctid from %s where %s limit %s))',
      p_table, p_table, p_where, p_batch);
    get diagnostics v_rows = row_count;
    v_total := v_total + v_rows;
    exit when v_rows < p_batch;
  end loop;
  return v_total;
end
$$;

/** Deletes idle keys (their state equals a fresh key's) and week-old violation counts; returns keys removed. */
create function public.rate_limit_cleanup(p_batch integer default 5000)
returns integer
language sql
set search_path = ''
as $$
  select public.delete_in_batches('public.rate_limit_violation_counts', $w$hour < now() - interval '7 days'$w$, p_batch);
  select public.delete_in_batches('public.rate_limit_state', 'tat < clock_timestamp()', p_batch);
$$;

select cron.schedule('rate-limit-cleanup', '* * * * *', 'select public.rate_limit_cleanup()');

/** Mask a key for operators: numbers keep their prefix and last four digits. */
create function public.mask_key(p_key text) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_key ~ '^\+?[0-9]{7,}$' then left(p_key, 5) || '***' || right(p_key, 4)
    when length(p_key) > 8 then left(p_key, 4) || '***'
    else '***'
  end
$$;

create view public.rate_limit_violations
with (security_invoker = true) as
select endpoint,
       key_kind,
       public.mask_key(key) as key_masked,
       sum(denied)::bigint as denied,
       min(first_denied_at) as first_denied_at,
       max(last_denied_at) as last_denied_at
from public.rate_limit_violation_counts
where hour >= date_trunc('hour', now() - interval '24 hours')
group by endpoint, key_kind, key
order by denied desc;
comment on view public.rate_limit_violations is
  'Monitoring: who was refused by a rate limit in the last 24 hours, most refused first.';

alter table public.rate_limit_policies enable row level security;
alter table public.rate_limit_state enable row level security;
alter table public.rate_limit_violation_counts enable row level security;
revoke all on table public.rate_limit_policies, public.rate_limit_state,
  public.rate_limit_violation_counts, public.rate_limit_violations
from anon, authenticated;
revoke execute on function public.rate_limit_take(text, text, text), public.rate_limit_cleanup(integer),
  public.mask_key(text), public.delete_in_batches(regclass, text, integer)
from public, anon, authenticated;
