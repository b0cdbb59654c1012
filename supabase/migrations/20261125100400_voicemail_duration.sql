-- The transcription callback can arrive before the recording's (Twilio does
-- not order them) and carries no RecordingDuration. It used to mark the
-- voicemail recorded, so `voicemail.recorded` was written with a null
-- duration that the recording callback never corrected. Now only a callback
-- that brings the recording's duration (the Record action, the recording
-- status callback) marks it recorded: the event is written then, with the
-- duration. The transcription still fills its half, and the recording's SID
-- and URL, whenever it comes.

/**
 * voice-voicemail: the Record action, recordingStatusCallback and
 * transcribeCallback each bring part of one voicemail. Whatever the order and
 * however often they come, the call has one voicemail row and each analytics
 * event (voicemail.recorded, voicemail.transcribed) is written once.
 */
create or replace function public.voice_voicemail_save(
  p_call_sid text,
  p_from text,
  p_to text,
  p_recording_sid text,
  p_recording_url text,
  p_duration integer,
  p_transcription_sid text,
  p_transcription_status text,
  p_transcription_text text,
  p_idempotency_key text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_claim jsonb;
  v_before public.voicemails;
  v_after public.voicemails;
  v_result jsonb;
begin
  v_claim := public.idempotency_begin('voice-voicemail', p_idempotency_key, p_idempotency_key);
  if v_claim->>'outcome' = 'replay' then
    return v_claim->'response';
  end if;
  perform public.call_ensure(p_call_sid, p_from, p_to);
  insert into public.voicemails (call_sid) values (p_call_sid) on conflict (call_sid) do nothing;
  -- The row lock orders concurrent callbacks for one call.
  select * into v_before from public.voicemails where call_sid = p_call_sid for update;

  update public.voicemails set
    recording_sid = coalesce(recording_sid, p_recording_sid),
    recording_url = coalesce(recording_url, p_recording_url),
    duration_seconds = coalesce(duration_seconds, p_duration),
    recorded_at = case
      when recorded_at is null and p_recording_sid is not null and p_duration is not null then now()
      else recorded_at end,
    transcription_sid = coalesce(transcription_sid, p_transcription_sid),
    transcription_status = case
      when transcription_status = 'completed' then transcription_status
      else coalesce(p_transcription_status, transcription_status) end,
    transcription_text = coalesce(transcription_text, p_transcription_text),
    transcribed_at = case
      when transcribed_at is null and p_transcription_status is not null then now() else transcribed_at end
  where call_sid = p_call_sid
  returning * into v_after;

  if v_before.recorded_at is null and v_after.recorded_at is not null then
    insert into public.analytics_events (call_sid, event_type, properties)
    values (p_call_sid, 'voicemail.recorded', jsonb_build_object('duration_seconds', v_after.duration_seconds));
  end if;
  if v_before.transcribed_at is null and v_after.transcribed_at is not null then
    insert into public.analytics_events (call_sid, event_type, properties)
    values (p_call_sid, 'voicemail.transcribed', jsonb_build_object('status', v_after.transcription_status));
  end if;
  v_result := jsonb_build_object('has_recording', v_after.recording_sid is not null);
  perform public.idempotency_complete('voice-voicemail', p_idempotency_key, 200, v_result);
  return v_result;
end
$$;
