-- The Dial action stops recording itself in idempotency_keys: the last call
-- step that still did (issue 11: the natural keys serve as the idempotency
-- record). A call has one <Dial> (a person not reached goes on to voicemail,
-- never back to the menu), so its outcome is keyed by the CallSid alone. The
-- answer is kept on the call row (call_logs.dial_answer), written by the
-- update the step already made; a redelivery gets it back and writes nothing;
-- concurrent deliveries wait on the call row's lock and one of them writes.
-- The function process no longer hashes the signed request (SHA-256) for a key.

alter table public.call_logs add column dial_answer jsonb;
comment on column public.call_logs.dial_answer is
  'What voice-action answered after the Dial ({"screening_accepted", "voicemail_allowed"}); a redelivery gets it again.';

drop function public.voice_dial_outcome(text, text, text, text, integer, text);

/**
 * voice-action, after the Dial: stores its outcome once per call and returns
 * it (the stored dial_call_status), whether an agent accepted at screening,
 * and whether the caller may leave a voicemail (implied consent). A
 * redelivery, even one naming another status, returns the first answer: what
 * the caller is told next is decided from it.
 */
create function public.voice_dial_outcome(
  p_call_sid text,
  p_from text,
  p_to text,
  p_dial_call_status text,
  p_dial_duration integer
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_answer jsonb;
  v_consent public.consent_state;
begin
  perform public.call_ensure(p_call_sid, p_from, p_to);
  select state into v_consent from public.call_recording_consent where call_sid = p_call_sid;

  -- The claim: the first delivery to store its answer on the call row wins. A
  -- concurrent one waits for the row lock, finds the answer, and returns it.
  update public.call_logs
     set dial_call_status = p_dial_call_status,
         dial_duration_seconds = p_dial_duration,
         dial_answer = jsonb_build_object('dial_call_status', p_dial_call_status,
                                          'screening_accepted', screening_accepted_at is not null,
                                          'voicemail_allowed', coalesce(v_consent = 'granted', false))
   where call_sid = p_call_sid and dial_answer is null
  returning dial_answer into v_answer;
  if v_answer is null then
    select dial_answer into v_answer from public.call_logs where call_sid = p_call_sid;
    return v_answer; -- a redelivery
  end if;

  insert into public.analytics_events (call_sid, event_type, properties)
  values (p_call_sid, 'dial.outcome', jsonb_build_object(
    'dial_call_status', p_dial_call_status, 'screening_accepted', v_answer->'screening_accepted'));
  return v_answer;
end
$$;

revoke execute on function public.voice_dial_outcome(text, text, text, text, integer) from public, anon, authenticated;

-- Dials answered by the old function in the last day (its keys' lifetime)
-- keep their answer: a late redelivery gets it from the call row now.
update public.call_logs c
   set dial_answer = k.response || jsonb_build_object('dial_call_status', c.dial_call_status)
  from (select distinct on (fingerprint) fingerprint, response
          from public.idempotency_keys
         where scope = 'voice-action' and state = 'done' and fingerprint like '%:dial'
         order by fingerprint, completed_at) k
 where k.fingerprint = c.call_sid || ':dial' and c.dial_answer is null;
