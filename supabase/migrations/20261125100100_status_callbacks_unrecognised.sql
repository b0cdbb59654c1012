-- Nothing Twilio delivered is silently lost: a status callback whose
-- CallStatus we do not know (a value Twilio adds later, or a broken one) is
-- stored as received, in call_lifecycle.reported_status with status null, and
-- leaves the call's status alone. `initiated` joins the lifecycle order at the
-- rank of `queued` (before ringing), so it never moves a call backwards.

alter table public.call_lifecycle
  alter column status drop not null,
  add column reported_status text check (length(reported_status) <= 64),
  add constraint call_lifecycle_status_or_reported check ((status is null) = (reported_status is not null));
comment on column public.call_lifecycle.reported_status is
  'A CallStatus we do not know, exactly as Twilio sent it (status is then null). Null for known statuses.';
-- A redelivered unrecognised status is a no-op too.
create unique index call_lifecycle_reported_status_idx on public.call_lifecycle (call_sid, reported_status)
  where status is null;

/** Lifecycle order; terminal statuses share the top rank so none overwrites another. */
create or replace function public.call_status_rank(p_status public.call_status) returns integer
language sql immutable
set search_path = ''
as $$
  select case p_status
    when 'queued' then 0 when 'initiated' then 0 when 'ringing' then 1 when 'in-progress' then 2 else 3 end
$$;

/**
 * voice-status: a status callback. Lifecycle rows are unique per (call,
 * status), so duplicates are no-ops; the call's status only moves forward
 * (a late "ringing" never overwrites "completed"). An unrecognised p_status is
 * kept raw (reported_status) and changes no status.
 */
create or replace function public.voice_status_apply(
  p_call_sid text,
  p_account_sid text,
  p_from text,
  p_to text,
  p_status text,
  p_event text,
  p_sequence integer,
  p_occurred_at timestamptz,
  p_duration integer,
  p_idempotency_key text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_status public.call_status;
  v_claim jsonb;
  v_inserted boolean;
  v_current public.call_status;
  v_result jsonb;
begin
  v_claim := public.idempotency_begin('voice-status', p_idempotency_key, p_call_sid || ':status:' || p_status);
  if v_claim->>'outcome' = 'replay' then
    return v_claim->'response' || '{"duplicate": true}';
  end if;
  if p_status = any (enum_range(null::public.call_status)::text[]) then
    v_status := p_status::public.call_status;
  end if;
  perform public.call_ensure(p_call_sid, p_from, p_to);
  insert into public.call_lifecycle (call_sid, status, reported_status, event, sequence_number, occurred_at)
  values (p_call_sid, v_status, case when v_status is null then left(p_status, 64) end, p_event, p_sequence,
          coalesce(p_occurred_at, now()))
  on conflict do nothing
  returning true into v_inserted;

  -- call_status_rank(null) is 3 (its `else`): an unrecognised status must not reach it.
  update public.call_logs set
    status = case when v_status is not null and public.call_status_rank(v_status) > public.call_status_rank(status)
      then v_status else status end,
    account_sid = coalesce(account_sid, nullif(p_account_sid, '')),
    answered_at = case when v_status = 'in-progress' then coalesce(answered_at, p_occurred_at, now()) else answered_at end,
    ended_at = case when v_status is not null and public.call_status_rank(v_status) = 3
      then coalesce(ended_at, greatest(started_at, coalesce(p_occurred_at, now()))) else ended_at end,
    duration_seconds = coalesce(p_duration, duration_seconds)
  where call_sid = p_call_sid
  returning status into v_current;
  v_result := jsonb_build_object('duplicate', v_inserted is null, 'status', v_current,
                                 'recognised', v_status is not null);
  perform public.idempotency_complete('voice-status', p_idempotency_key, 200, v_result);
  return v_result;
end
$$;
