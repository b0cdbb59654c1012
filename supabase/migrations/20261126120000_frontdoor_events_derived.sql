-- voice-frontdoor wrote an analytics event for every call it let in
-- (call.answered; call.unconfigured_number on a number not in
-- telephony_numbers) that said again what the call row already holds since
-- 20261126100000: call_logs.frontdoor_answer = {"action": "menu",
-- "known_number": true|false}. That event was a whole write per call (the
-- row, four indexes, a foreign-key check that locks the call row): with it
-- gone the frontdoor's SQL alone ran ~20-35% more calls per second (pgbench,
-- 16 clients, alternating runs; docs/benchmarks.md has this run's figure).
--
-- Those two events are now derived. `call_events` is every analytics event
-- plus one derived from each call the frontdoor let in, at the call's
-- started_at: what analytics_events held before, read from one place.
-- call.rate_limited is still written: it carries retry_after_seconds, and
-- rate_limit_violations counts it through its own partial index.
--
-- A derived event is shown for as long as a stored one would be kept
-- (operations_settings.event_retention_days), though its call row stays.

/**
 * voice-frontdoor: rate limit, number lookup, the call row and a provisional
 * consent row (the disclosure is being played). Returns
 * {"action": "menu"|"reject", "known_number": bool}; a redelivery, the same.
 */
create or replace function public.voice_frontdoor_answer(
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
    -- Its event (call.answered, call.unconfigured_number) is the answer on
    -- the call row, read through call_events.
    insert into public.call_recording_consent (call_sid, state, disclosure_version, basis)
    values (p_call_sid, 'unknown', p_disclosure_version, 'unknown')
    on conflict (call_sid) do nothing;
  end if;
  return v_answer;
end
$$;


-- Calls the frontdoor answered before this migration: their stored event is
-- now the derived one (one per call either way). Calls without an answer on
-- their row (answered before 20261126100000, their idempotency key expired)
-- keep the stored event.
delete from public.analytics_events e
 using public.call_logs c
 where e.call_sid = c.call_sid
   and e.event_type in ('call.answered', 'call.unconfigured_number')
   and c.frontdoor_answer->>'action' = 'menu';

-- As the monitoring views are built (20261125160500): the query in
-- `monitoring`, read by ops without any right on the tables.
create view monitoring.call_events as
select e.id, e.call_sid, e.event_type, e.properties, e.occurred_at
  from public.analytics_events e
union all
select null::bigint, c.call_sid,
       case when (c.frontdoor_answer->>'known_number')::boolean then 'call.answered'
            else 'call.unconfigured_number' end,
       '{}'::jsonb, c.started_at
  from public.call_logs c
 where c.frontdoor_answer->>'action' = 'menu'
   -- As long as a stored event would be kept (events-retention).
   and c.started_at >= now() - make_interval(days => coalesce(
         (select s.event_retention_days from public.operations_settings s), 180));

create view public.call_events with (security_invoker = true) as
  select * from monitoring.call_events;
comment on view public.call_events is
  'Every call event: analytics_events, plus call.answered / call.unconfigured_number derived from each call the frontdoor let in (id null; each call''s first: order by id nulls first).';

revoke all on table monitoring.call_events, public.call_events from public, anon, authenticated;
grant select on table monitoring.call_events, public.call_events to ops;
