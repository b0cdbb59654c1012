-- Status callback batches applied set-based (issue 11). voice-status sends
-- the callbacks that arrive together as one batch (platform/write-coalescer.ts);
-- voice_status_apply_batch applied them one by one, each a call to
-- voice_status_apply: two write statements per callback, each paying the
-- executor's start-up, its constraint checks' set-up and its foreign-key
-- trigger again. Now a batch of two or more is one statement: one upsert of
-- its call rows (one row per call, its callbacks folded in arrival order) and
-- one insert of its lifecycle rows. Measured with pgbench, 16 clients,
-- batches of 16 callbacks with fresh CallSids, old and new alternating:
-- 7,800-8,500 → 11,300-12,400 callbacks/s. A batch of one still goes through
-- voice_status_apply, which is cheaper alone.
--
-- The set-based fold comes to exactly what voice_status_apply, applied to the
-- same callbacks one by one in arrival order, comes to
-- (tests/integration/status-batch-equivalence.test.ts checks it on random
-- batches):
-- - a call's status moves to the first of its callbacks with the highest
--   rank, if that rank is above the row's (forward only; terminal statuses
--   share the top rank, so the first terminal one stays);
-- - answered_at is the first in-progress callback's time, ended_at the first
--   terminal one's (never before the call started), unless already set;
--   duration_seconds the last one given;
-- - placeholders ('unknown' From/To, no account) take the first real value;
-- - a lifecycle row is stored once per (call, status), or (call, reported
--   status) for one we do not recognise; the others are duplicates.
-- One answer differs in kind: each callback's `status` is the call's status
-- after its whole batch (it is only logged).
--
-- Lock order: call rows are upserted in CallSid order, and the lifecycle rows
-- are inserted only after them (the insert reads the upsert's rows), so
-- batches that share calls take their locks in the same order.

create or replace function public.voice_status_apply_batch(p_callbacks jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_answers jsonb;
  v_one jsonb;
begin
  if jsonb_array_length(p_callbacks) = 1 then
    -- Alone, a callback costs less through voice_status_apply's two plain
    -- statements than through this one's plan (pgbench: ~4,300-5,600 against
    -- ~3,100-3,300 single callbacks/s); from two callbacks on, the set wins.
    v_one := p_callbacks->0;
    return jsonb_build_array(public.voice_status_apply(
      v_one->>'call_sid', v_one->>'account_sid', v_one->>'from', v_one->>'to', v_one->>'status',
      v_one->>'event', (v_one->>'sequence')::integer, (v_one->>'occurred_at')::timestamptz,
      (v_one->>'duration')::integer));
  end if;

  with item as (
    select e.i,
           e.value->>'call_sid' as call_sid,
           nullif(e.value->>'account_sid', '') as account_sid,
           coalesce(nullif(e.value->>'from', ''), 'unknown') as from_number,
           coalesce(nullif(e.value->>'to', ''), 'unknown') as to_number,
           e.value->>'status' as reported,
           s.status,
           -- Null for a status we do not recognise: it moves nothing.
           case when s.status is not null then public.call_status_rank(s.status) end as rank,
           e.value->>'event' as event,
           (e.value->>'sequence')::integer as sequence_number,
           coalesce((e.value->>'occurred_at')::timestamptz, now()) as occurred_at,
           (e.value->>'duration')::integer as duration
      from jsonb_array_elements(p_callbacks) with ordinality as e(value, i)
     cross join lateral (
       select case when e.value->>'status' = any (enum_range(null::public.call_status)::text[])
                   then (e.value->>'status')::public.call_status end as status
     ) s
  ),
  -- Each call's callbacks folded in arrival order.
  fold as (
    select call_sid,
           (array_agg(status order by rank desc, i) filter (where rank is not null))[1] as top_status,
           max(rank) as top_rank,
           (array_agg(occurred_at order by i) filter (where status = 'in-progress'))[1] as answered_at,
           (array_agg(occurred_at order by i) filter (where rank = 3))[1] as ended_at,
           (array_agg(duration order by i desc) filter (where duration is not null))[1] as duration,
           (array_agg(account_sid order by i) filter (where account_sid is not null))[1] as account_sid,
           coalesce((array_agg(from_number order by i) filter (where from_number <> 'unknown'))[1], 'unknown') as from_number,
           coalesce((array_agg(to_number order by i) filter (where to_number <> 'unknown'))[1], 'unknown') as to_number
      from item
     group by call_sid
  ),
  calls as (
    insert into public.call_logs as c (call_sid, account_sid, from_number, to_number, number_id, status,
                                       answered_at, ended_at, duration_seconds)
    select f.call_sid, f.account_sid, f.from_number, f.to_number,
           (select n.id from public.telephony_numbers n where n.e164 = f.to_number and n.active),
           -- A new row starts ringing: queued/initiated leave it there.
           case when f.top_rank > 1 then f.top_status else 'ringing' end::public.call_status,
           f.answered_at,
           case when f.top_rank = 3 then greatest(now(), f.ended_at) end, -- not before started_at (now())
           f.duration
      from fold f
     order by f.call_sid
    on conflict (call_sid) do update set
      status = coalesce((select case when f.top_rank > public.call_status_rank(c.status) then f.top_status end
                           from fold f where f.call_sid = excluded.call_sid), c.status),
      account_sid = coalesce(c.account_sid, excluded.account_sid),
      answered_at = coalesce(c.answered_at, excluded.answered_at),
      ended_at = coalesce(c.ended_at, (select greatest(c.started_at, f.ended_at)
                                         from fold f
                                        where f.call_sid = excluded.call_sid and f.ended_at is not null)),
      duration_seconds = coalesce(excluded.duration_seconds, c.duration_seconds),
      from_number = case when c.from_number = 'unknown' then excluded.from_number else c.from_number end,
      to_number = case when c.to_number = 'unknown' then excluded.to_number else c.to_number end,
      number_id = case when c.to_number = 'unknown' then excluded.number_id else c.number_id end
    returning c.call_sid, c.status
  ),
  stored as (
    -- Read through `calls`, so the call rows are locked before any lifecycle row is inserted.
    insert into public.call_lifecycle (call_sid, status, reported_status, event, sequence_number, occurred_at)
    select item.call_sid, item.status, case when item.status is null then left(item.reported, 64) end,
           item.event, item.sequence_number, item.occurred_at
      from item
      join calls using (call_sid)
     order by item.call_sid, item.i
    on conflict do nothing
    returning call_sid, status, reported_status
  ),
  -- Of a batch's callbacks with the same lifecycle key, the first was stored.
  keyed as (
    select i, call_sid, status, coalesce(status::text, left(reported, 64)) as key,
           row_number() over (partition by call_sid, coalesce(status::text, left(reported, 64)) order by i) as nth
      from item
  )
  select jsonb_agg(jsonb_build_object(
           'duplicate', not (k.nth = 1 and exists (
             select from stored s
              where s.call_sid = k.call_sid and coalesce(s.status::text, s.reported_status) = k.key)),
           'status', calls.status,
           'recognised', k.status is not null)
         order by k.i)
    into v_answers
    from keyed k
    join calls using (call_sid);
  return coalesce(v_answers, '[]'::jsonb);
end
$$;
