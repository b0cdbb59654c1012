-- voice_status_apply without a second idempotency record: the lifecycle row's
-- natural key (call_sid, status), or (call_sid, reported_status) for a status
-- we do not recognise, already makes a redelivered callback a no-op. The
-- idempotency_keys row it also wrote (an insert, then an update, two more
-- index entries and four more statements per callback) recorded the same fact
-- twice; measured with `deno task bench` (docs/benchmarks.md).
--
-- A duplicate still changes nothing: its lifecycle insert does nothing, and
-- the call_logs update is idempotent (status only moves forward, the
-- timestamps are coalesced, the duration is the one Twilio sends again).
-- Concurrent duplicates meet at the unique index: the second waits for the
-- first to commit and then finds the row. A duplicate is answered with the
-- call's current status rather than the first answer replayed; the answer is
-- only logged (voice-status answers an empty <Response/> either way).
--
-- The idempotency key parameter goes with it (nothing is deployed yet that
-- still passes one).
drop function public.voice_status_apply(
  text, text, text, text, text, text, integer, timestamptz, integer, text);
create function public.voice_status_apply(
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
  v_inserted boolean;
  v_current public.call_status;
begin
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
  return jsonb_build_object('duplicate', v_inserted is null, 'status', v_current,
                            'recognised', v_status is not null);
end
$$;

-- A new function is executable by PUBLIC (and so by anon and authenticated)
-- unless revoked; Twilio's webhooks reach it only through the functions.
revoke execute on function public.voice_status_apply(
  text, text, text, text, text, text, integer, timestamptz, integer) from public, anon, authenticated;
