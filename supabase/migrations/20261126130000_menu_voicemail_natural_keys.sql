-- The menu and voicemail steps stop recording themselves in idempotency_keys
-- (issue 11: the natural keys serve as the idempotency record). Each webhook
-- paid an insert and an update there (two indexes; pg_cron deleting the rows
-- a day later) to record a fact the call's own rows can hold:
--
-- - voice_menu_choice: a menu step is (call, attempt, repeats); each key
--   press moves one of them on, so no two steps of a call share it. The
--   step's answer is kept on the call row (call_logs.menu_answers), written
--   by the update the step already made; a redelivery of the step gets it
--   back and writes nothing. The key parameter becomes the step's name.
--   pgbench, 16 clients, alternating: 2,477 and 2,449 → 3,226 and 2,991
--   calls/s without the idempotency row.
-- - voice_voicemail_save was already idempotent by its own rows: one
--   voicemails row per call, each field filled once, each event written on
--   the transition that sets it (supabase/tests/voicemail_exactly_once sends
--   every callback twice under fresh keys). Its key parameter goes.
--
-- Guarantees kept: a redelivered menu webhook answers the same and adds no
-- event; concurrent deliveries of one step wait on the call row's lock and
-- one of them writes; consent follows the key pressed.

alter table public.call_logs add column menu_answers jsonb;
comment on column public.call_logs.menu_answers is
  'What voice-menu-handler answered at each menu step ({"<attempt>:<repeats>": {"target", "record"}}); a redelivery gets it again.';

drop function public.voice_menu_choice(text, text, text, text, text, integer, text, text, text);

/**
 * voice-menu-handler: records the caller's choice (decided in TypeScript),
 * settles consent, and returns where to ring and whether the call may be
 * recorded (a recorded dial, a voicemail). p_choice: sales | support |
 * voicemail | repeat | retry | opt-out | unrecorded-goodbye. p_step names
 * the menu step within the call ("<attempt>:<repeats>"): a step answers once.
 */
create function public.voice_menu_choice(
  p_call_sid text,
  p_from text,
  p_to text,
  p_choice text,
  p_digits text,
  p_attempt integer,
  p_step text,
  p_default_sales text,
  p_default_support text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  -- The key decides: 0 declines (also when the menu ended on it), and so does
  -- any choice the menu made for a caller who pressed 0 earlier.
  v_declines boolean := p_choice in ('opt-out', 'unrecorded-goodbye') or btrim(coalesce(p_digits, '')) = '0';
  v_goes_on boolean := p_choice in ('sales', 'support', 'voicemail');
  v_answer jsonb;
  v_consent public.consent_state;
  v_target text;
  v_claimed boolean;
begin
  perform public.call_ensure(p_call_sid, p_from, p_to);
  select menu_answers->p_step into v_answer from public.call_logs where call_sid = p_call_sid;
  if v_answer is not null then
    return v_answer; -- a redelivery
  end if;

  -- Consent as this step leaves it (written once the step is claimed, below).
  -- Going on to a choice after hearing the disclosure is implied consent; no
  -- consent row means the disclosure was never played: nothing is recorded.
  select state into v_consent from public.call_recording_consent where call_sid = p_call_sid;
  v_consent := case
    when v_declines then 'declined'
    when v_goes_on and v_consent = 'unknown' then 'granted'
    else v_consent end;

  if p_choice in ('sales', 'support') then
    select case p_choice when 'sales' then n.sales_target else n.support_target end
      into v_target
      from public.call_logs c join public.telephony_numbers n on n.id = c.number_id
     where c.call_sid = p_call_sid;
    v_target := coalesce(v_target, case p_choice when 'sales' then p_default_sales else p_default_support end);
  end if;
  v_answer := jsonb_build_object('target', v_target, 'record', coalesce(v_consent = 'granted', false));

  -- The claim: the first delivery of this step to store its answer wins. A
  -- concurrent one waits for the row lock, finds the step answered, and
  -- answers with what was stored.
  update public.call_logs
     set menu_choice = case when v_goes_on then p_choice else menu_choice end,
         menu_attempts = least(10, greatest(menu_attempts, p_attempt)),
         dial_target = coalesce(v_target, dial_target),
         menu_answers = coalesce(menu_answers, '{}') || jsonb_build_object(p_step, v_answer)
   where call_sid = p_call_sid and not coalesce(menu_answers ? p_step, false)
  returning true into v_claimed;
  if v_claimed is null then
    select menu_answers->p_step into v_answer from public.call_logs where call_sid = p_call_sid;
    return v_answer;
  end if;

  if v_declines then
    -- Without a consent row (the disclosure's row was never written) the 0 still counts.
    insert into public.call_recording_consent (call_sid, state, disclosure_version, basis)
    values (p_call_sid, 'declined', 'unknown', 'opt-out-key')
    on conflict (call_sid) do update
      set state = 'declined', basis = 'opt-out-key', decided_at = now()
      where call_recording_consent.state <> 'declined';
  elsif v_goes_on then
    update public.call_recording_consent
       set state = 'granted', basis = 'implied', decided_at = now()
     where call_sid = p_call_sid and state = 'unknown';
  end if;

  insert into public.analytics_events (call_sid, event_type, properties)
  values (p_call_sid, 'menu.' || replace(p_choice, '-', '_'),
          jsonb_build_object('digits', coalesce(p_digits, ''), 'attempt', p_attempt));
  return v_answer;
end
$$;

drop function public.voice_voicemail_save(text, text, text, text, text, integer, text, text, text, text);

/**
 * voice-voicemail: the Record action, recordingStatusCallback and
 * transcribeCallback each bring part of one voicemail. Whatever the order and
 * however often they come, the call has one voicemail row and each analytics
 * event (voicemail.recorded, voicemail.transcribed) is written once.
 */
create function public.voice_voicemail_save(
  p_call_sid text,
  p_from text,
  p_to text,
  p_recording_sid text,
  p_recording_url text,
  p_duration integer,
  p_transcription_sid text,
  p_transcription_status text,
  p_transcription_text text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_before public.voicemails;
  v_after public.voicemails;
begin
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
  return jsonb_build_object('has_recording', v_after.recording_sid is not null);
end
$$;

revoke execute on function
  public.voice_menu_choice(text, text, text, text, text, integer, text, text, text),
  public.voice_voicemail_save(text, text, text, text, text, integer, text, text, text)
from public, anon, authenticated;
