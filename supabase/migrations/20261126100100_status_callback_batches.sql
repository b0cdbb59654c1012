-- Status callbacks written in batches (voice-status coalesces the callbacks
-- that arrive while one write is in flight: platform/write-coalescer.ts).
-- Each callback is applied by voice_status_apply, exactly as alone; the batch
-- saves the round trip, the statement start-up and the commit per callback.
--
-- Lock order: callbacks are applied in CallSid order (a call's own callbacks
-- in the order they arrived), so two batches that share calls lock their call
-- rows in the same order and cannot deadlock each other.

/**
 * Applies a JSON array of status callbacks ({call_sid, account_sid, from, to,
 * status, event, sequence, occurred_at, duration}); returns the array of
 * voice_status_apply's answers, in the order given. One transaction: all are
 * stored, or none.
 */
create function public.voice_status_apply_batch(p_callbacks jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_cb record;
  v_answers jsonb[] := array_fill(null::jsonb, array[jsonb_array_length(p_callbacks)]);
begin
  for v_cb in
    select e.value as cb, e.i
      from jsonb_array_elements(p_callbacks) with ordinality as e(value, i)
     order by e.value->>'call_sid', e.i
  loop
    v_answers[v_cb.i] := public.voice_status_apply(
      v_cb.cb->>'call_sid', v_cb.cb->>'account_sid', v_cb.cb->>'from', v_cb.cb->>'to',
      v_cb.cb->>'status', v_cb.cb->>'event', (v_cb.cb->>'sequence')::integer,
      (v_cb.cb->>'occurred_at')::timestamptz, (v_cb.cb->>'duration')::integer);
  end loop;
  return to_jsonb(v_answers);
end
$$;

revoke execute on function public.voice_status_apply_batch(jsonb) from public, anon, authenticated;
