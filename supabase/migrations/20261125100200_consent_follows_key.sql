-- PIPEDA: consent follows the key the caller pressed, never the place the
-- caller ends up. Pressing 0 declines recording for the whole call, whatever
-- the menu decided on that key (e.g. `* * * 0` used to end in voicemail with
-- consent granted/implied); a later choice never turns it back into granted.
-- A voicemail is a recording: voice_dial_outcome now says whether one may be
-- taken (consent granted), so a caller who pressed 0 and whose dial is not
-- answered gets no voicemail.

/**
 * voice-menu-handler: records the caller's choice (decided in TypeScript),
 * settles consent, and returns where to ring and whether the call may be
 * recorded (a recorded dial, a voicemail). p_choice: sales | support |
 * voicemail | repeat | retry | opt-out | unrecorded-goodbye.
 */
create or replace function public.voice_menu_choice(
  p_call_sid text,
  p_from text,
  p_to text,
  p_choice text,
  p_digits text,
  p_attempt integer,
  p_idempotency_key text,
  p_default_sales text,
  p_default_support text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_claim jsonb;
  v_target text;
  v_consent public.consent_state;
  v_result jsonb;
begin
  v_claim := public.idempotency_begin('voice-menu-handler', p_idempotency_key, p_call_sid || ':menu:' || p_choice);
  if v_claim->>'outcome' = 'replay' then
    return v_claim->'response';
  end if;

  perform public.call_ensure(p_call_sid, p_from, p_to);

  -- The key decides: 0 declines (also when the menu ended on it), and so does
  -- any choice the menu made for a caller who pressed 0 earlier. Without a
  -- consent row (the disclosure's row was never written) the 0 still counts.
  if p_choice in ('opt-out', 'unrecorded-goodbye') or btrim(coalesce(p_digits, '')) = '0' then
    insert into public.call_recording_consent (call_sid, state, disclosure_version, basis)
    values (p_call_sid, 'declined', 'unknown', 'opt-out-key')
    on conflict (call_sid) do update
      set state = 'declined', basis = 'opt-out-key', decided_at = now()
      where call_recording_consent.state <> 'declined';
  elsif p_choice in ('sales', 'support', 'voicemail') then
    -- Going on to a choice after hearing the disclosure is implied consent.
    -- No consent row means the disclosure was never played: nothing is recorded.
    update public.call_recording_consent
       set state = 'granted', basis = 'implied', decided_at = now()
     where call_sid = p_call_sid and state = 'unknown';
  end if;
  select state into v_consent from public.call_recording_consent where call_sid = p_call_sid;

  if p_choice in ('sales', 'support') then
    select case p_choice when 'sales' then n.sales_target else n.support_target end
      into v_target
      from public.call_logs c join public.telephony_numbers n on n.id = c.number_id
     where c.call_sid = p_call_sid;
    v_target := coalesce(v_target, case p_choice when 'sales' then p_default_sales else p_default_support end);
  end if;

  update public.call_logs
     set menu_choice = case when p_choice in ('sales', 'support', 'voicemail') then p_choice else menu_choice end,
         menu_attempts = least(10, greatest(menu_attempts, p_attempt)),
         dial_target = coalesce(v_target, dial_target)
   where call_sid = p_call_sid;

  insert into public.analytics_events (call_sid, event_type, properties)
  values (p_call_sid, 'menu.' || replace(p_choice, '-', '_'),
          jsonb_build_object('digits', coalesce(p_digits, ''), 'attempt', p_attempt));

  v_result := jsonb_build_object('target', v_target, 'record', coalesce(v_consent = 'granted', false));
  perform public.idempotency_complete('voice-menu-handler', p_idempotency_key, 200, v_result);
  return v_result;
end
$$;

/**
 * voice-action: the Dial's outcome lands on the call. Returns
 * {"screening_accepted": bool, "voicemail_allowed": bool} for the TypeScript
 * decision; a voicemail is allowed only when the call's consent is granted.
 */
create or replace function public.voice_dial_outcome(
  p_call_sid text,
  p_from text,
  p_to text,
  p_dial_call_status text,
  p_dial_duration integer,
  p_idempotency_key text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_claim jsonb;
  v_accepted boolean;
  v_consent public.consent_state;
  v_result jsonb;
begin
  v_claim := public.idempotency_begin('voice-action', p_idempotency_key, p_call_sid || ':dial');
  if v_claim->>'outcome' = 'replay' then
    return v_claim->'response';
  end if;
  perform public.call_ensure(p_call_sid, p_from, p_to);
  update public.call_logs
     set dial_call_status = p_dial_call_status, dial_duration_seconds = p_dial_duration
   where call_sid = p_call_sid
  returning screening_accepted_at is not null into v_accepted;
  select state into v_consent from public.call_recording_consent where call_sid = p_call_sid;
  insert into public.analytics_events (call_sid, event_type, properties)
  values (p_call_sid, 'dial.outcome', jsonb_build_object(
    'dial_call_status', p_dial_call_status, 'screening_accepted', v_accepted));
  v_result := jsonb_build_object('screening_accepted', v_accepted,
                                 'voicemail_allowed', coalesce(v_consent = 'granted', false));
  perform public.idempotency_complete('voice-action', p_idempotency_key, 200, v_result);
  return v_result;
end
$$;
