-- The hot-path steps do less work per webhook in Postgres (issue 11). Measured
-- with perf on a backend running voice_status_apply under pgbench: most of
-- its time went to parsing and planning, on every call, the small SQL-language
-- helpers it called (call_ensure, call_status_rank). A SQL function with a
-- `set search_path` clause is never inlined, and a non-inlined SQL function
-- called from PL/pgSQL is parsed, analysed and planned afresh each time; a
-- PL/pgSQL function keeps its plans for the session. So:
--
-- - the helpers on the hot path become PL/pgSQL (same names, signatures and
--   results), and
-- - voice_status_apply is two statements: the lifecycle row and one upsert of
--   the call row (it was the helper's insert, then an update);
-- - voice_frontdoor_answer keeps its answer on the call row
--   (call_logs.frontdoor_answer): the CallSid is the natural key of the
--   frontdoor step, so the idempotency_keys row (an insert and an update, two
--   indexes) recorded the same fact a second time. Its key parameter goes.
--
-- Guarantees kept (pgTAP and the reliability sequences check them): a
-- redelivered frontdoor webhook gets the first answer and changes nothing;
-- statuses move forward only; placeholders are filled by the first webhook
-- with real values. One change: two deliveries of the same frontdoor webhook
-- *at the same instant* (Twilio redelivers after its 15 s timeout, so this is
-- a retry racing a slow first attempt) may both take a rate-limit token; the
-- call row still decides one answer, which both return.

alter table public.call_logs add column frontdoor_answer jsonb;
comment on column public.call_logs.frontdoor_answer is
  'What voice-frontdoor answered ({"action", "known_number"}); a redelivery gets it again. Null: the frontdoor has not answered this call.';

-- Calls answered before this migration: their answer is in idempotency_keys.
update public.call_logs c
   set frontdoor_answer = k.response
  from public.idempotency_keys k
 where k.scope = 'voice-frontdoor' and k.state = 'done'
   and k.fingerprint = c.call_sid || ':frontdoor';

/** Lifecycle order; terminal statuses share the top rank so none overwrites another. */
create or replace function public.call_status_rank(p_status public.call_status) returns integer
language plpgsql immutable
set search_path = ''
as $$
begin
  return case p_status
    when 'queued' then 0 when 'initiated' then 0 when 'ringing' then 1 when 'in-progress' then 2 else 3 end;
end
$$;

/** A call row for a step that arrives before (or without) the frontdoor's; fills placeholders. */
create or replace function public.call_ensure(p_call_sid text, p_from text, p_to text) returns void
language plpgsql
set search_path = ''
as $$
begin
  insert into public.call_logs as c (call_sid, from_number, to_number, number_id)
  values (p_call_sid, coalesce(nullif(p_from, ''), 'unknown'), coalesce(nullif(p_to, ''), 'unknown'),
          (select n.id from public.telephony_numbers n where n.e164 = nullif(p_to, '') and n.active))
  on conflict (call_sid) do update set
    from_number = case when c.from_number = 'unknown' then excluded.from_number else c.from_number end,
    to_number = case when c.to_number = 'unknown' then excluded.to_number else c.to_number end,
    number_id = case when c.to_number = 'unknown' then excluded.number_id else c.number_id end
  where (c.from_number = 'unknown' and excluded.from_number <> 'unknown')
     or (c.to_number = 'unknown' and excluded.to_number <> 'unknown');
end
$$;

/** True when From does not identify the caller (withheld, restricted, unavailable, missing). */
create or replace function public.caller_is_hidden(p_from text) returns boolean
language plpgsql immutable
set search_path = ''
as $$
begin
  return coalesce(btrim(p_from), '') = ''
      or lower(btrim(p_from)) in ('anonymous', 'restricted', 'unavailable', 'unknown', 'private', 'blocked')
      -- ANONYMOUS, RESTRICTED, UNAVAILABLE spelled on a keypad, as some carriers send them.
      or ltrim(btrim(p_from), '+') in ('266696687', '7378742833', '86282452253');
end
$$;

/** The rate-limit bucket of a caller: their number, or the one shared by hidden callers. */
create or replace function public.frontdoor_rate_limit_take(p_from text) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  if public.caller_is_hidden(p_from) then
    return public.rate_limit_take('voice-frontdoor', 'custom', 'hidden-callers');
  end if;
  return public.rate_limit_take('voice-frontdoor', 'caller', btrim(p_from));
end
$$;

drop function public.voice_frontdoor_answer(text, text, text, text, text, text);

/**
 * voice-frontdoor: rate limit, number lookup, the call row and a provisional
 * consent row (the disclosure is being played). Returns
 * {"action": "menu"|"reject", "known_number": bool}; a redelivery, the same.
 */
create function public.voice_frontdoor_answer(
  p_call_sid text,
  p_account_sid text,
  p_from text,
  p_to text,
  p_disclosure_version text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_answer jsonb;
  v_limit jsonb;
  v_allowed boolean;
  v_number_id uuid;
  v_claimed boolean;
begin
  select frontdoor_answer into v_answer from public.call_logs where call_sid = p_call_sid;
  if v_answer is not null then
    return v_answer;
  end if;

  v_limit := public.frontdoor_rate_limit_take(p_from);
  v_allowed := (v_limit->>'allowed')::boolean;
  select id into v_number_id from public.telephony_numbers where e164 = p_to and active;
  v_answer := jsonb_build_object('action', case when v_allowed then 'menu' else 'reject' end,
                                 'known_number', v_number_id is not null);

  -- The claim: the first delivery to store its answer on the call row wins.
  -- A row a callback created first (placeholders, no answer) is claimed too.
  insert into public.call_logs as c (call_sid, account_sid, number_id, from_number, to_number, status,
                                     frontdoor_answer)
  values (p_call_sid, nullif(p_account_sid, ''), v_number_id, coalesce(nullif(p_from, ''), 'unknown'),
          coalesce(nullif(p_to, ''), 'unknown'),
          case when v_allowed then 'ringing' else 'busy' end::public.call_status, v_answer)
  on conflict (call_sid) do update set
    number_id = excluded.number_id,
    account_sid = coalesce(c.account_sid, excluded.account_sid),
    from_number = case when c.from_number = 'unknown' then excluded.from_number else c.from_number end,
    to_number = case when c.to_number = 'unknown' then excluded.to_number else c.to_number end,
    frontdoor_answer = excluded.frontdoor_answer
  where c.frontdoor_answer is null
  returning true into v_claimed;
  if v_claimed is null then
    -- A concurrent delivery of this webhook answered first (we waited for it).
    select frontdoor_answer into v_answer from public.call_logs where call_sid = p_call_sid;
    return v_answer;
  end if;

  if not v_allowed then
    insert into public.analytics_events (call_sid, event_type, properties)
    values (p_call_sid, 'call.rate_limited', jsonb_build_object('retry_after_seconds', v_limit->'retry_after_seconds'));
  else
    insert into public.call_recording_consent (call_sid, state, disclosure_version, basis)
    values (p_call_sid, 'unknown', p_disclosure_version, 'unknown')
    on conflict (call_sid) do nothing;
    insert into public.analytics_events (call_sid, event_type, properties)
    values (p_call_sid, case when v_number_id is null then 'call.unconfigured_number' else 'call.answered' end, '{}');
  end if;
  return v_answer;
end
$$;

/**
 * voice-status: a status callback. The lifecycle row's natural key (call,
 * status; or call, reported status for one we do not recognise) makes a
 * redelivery a no-op; the call's status only moves forward (a late "ringing"
 * never overwrites "completed"). Two statements: the call row (created with
 * placeholders when the callback comes first), then the lifecycle row.
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
  p_duration integer
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_status public.call_status;
  v_rank integer;
  v_at timestamptz := coalesce(p_occurred_at, now());
  v_current public.call_status;
  v_inserted boolean;
begin
  if p_status = any (enum_range(null::public.call_status)::text[]) then
    v_status := p_status::public.call_status;
    v_rank := public.call_status_rank(v_status);
  end if;

  -- The call row first: the lifecycle row's foreign key needs it. Its
  -- placeholders are filled as call_ensure fills them.
  insert into public.call_logs as c (call_sid, account_sid, from_number, to_number, number_id, status,
                                     answered_at, ended_at, duration_seconds)
  values (p_call_sid, nullif(p_account_sid, ''), coalesce(nullif(p_from, ''), 'unknown'),
          coalesce(nullif(p_to, ''), 'unknown'),
          (select n.id from public.telephony_numbers n where n.e164 = nullif(p_to, '') and n.active),
          -- As if created ringing and then moved forward: queued/initiated stay ringing.
          case when v_rank > 1 then v_status else 'ringing' end::public.call_status,
          case when v_status = 'in-progress' then v_at end,
          case when v_rank = 3 then greatest(now(), v_at) end, -- not before started_at (now())
          p_duration)
  on conflict (call_sid) do update set
    -- An unrecognised status (v_rank null) changes no status.
    status = case when v_rank > public.call_status_rank(c.status) then v_status else c.status end,
    account_sid = coalesce(c.account_sid, excluded.account_sid),
    answered_at = coalesce(c.answered_at, excluded.answered_at),
    ended_at = case when v_rank = 3 then coalesce(c.ended_at, greatest(c.started_at, v_at)) else c.ended_at end,
    duration_seconds = coalesce(excluded.duration_seconds, c.duration_seconds),
    from_number = case when c.from_number = 'unknown' then excluded.from_number else c.from_number end,
    to_number = case when c.to_number = 'unknown' then excluded.to_number else c.to_number end,
    number_id = case when c.to_number = 'unknown' then excluded.number_id else c.number_id end
  returning c.status into v_current;

  insert into public.call_lifecycle (call_sid, status, reported_status, event, sequence_number, occurred_at)
  values (p_call_sid, v_status, case when v_status is null then left(p_status, 64) end, p_event, p_sequence, v_at)
  on conflict do nothing
  returning true into v_inserted;

  return jsonb_build_object('duplicate', v_inserted is null, 'status', v_current,
                            'recognised', v_status is not null);
end
$$;

revoke execute on function public.voice_frontdoor_answer(text, text, text, text, text)
from public, anon, authenticated;
