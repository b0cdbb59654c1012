-- The call flow's state changes, one SQL function per webhook step, so each
-- webhook is one round trip and every concurrency decision is made here.
-- Redelivered webhooks (same I-Twilio-Idempotency-Token, or CallSid + step)
-- replay the stored result through idempotency_begin/complete and change nothing.
-- Every step claims and completes its key in its own transaction, so a claim
-- is either new or a replay; anything else (the key reused for another
-- request) makes idempotency_complete raise, and the error boundary rescues
-- the call.

create table public.voicemails (
  call_sid public.call_sid primary key references public.call_logs (call_sid) on delete cascade,
  recording_sid text unique check (recording_sid ~ '^RE[0-9a-f]{32}$'),
  recording_url text check (recording_url ~ '^https://'),
  duration_seconds integer check (duration_seconds >= 0),
  transcription_sid text check (transcription_sid ~ '^TR[0-9a-f]{32}$'),
  transcription_status text check (transcription_status in ('completed', 'failed')),
  transcription_text text,
  recorded_at timestamptz,
  transcribed_at timestamptz,
  created_at timestamptz not null default now()
);
comment on table public.voicemails is
  'One voicemail per call. The recording and transcription callbacks arrive in any order; each fills its half once.';
create index voicemails_created_idx on public.voicemails (created_at desc);

-- The agent accepted the screening prompt: a Dial that Twilio reports as
-- completed without this was an agent's voicemail or a declined call.
alter table public.call_logs add column screening_accepted_at timestamptz;

/** Lifecycle order; terminal statuses share the top rank so none overwrites another. */
create function public.call_status_rank(p_status public.call_status) returns integer
language sql immutable
set search_path = ''
as $$
  select case p_status
    when 'queued' then 0 when 'ringing' then 1 when 'in-progress' then 2 else 3 end
$$;

/** A call row for a step that arrives before (or without) the frontdoor's. */
create function public.call_ensure(p_call_sid text, p_from text, p_to text) returns void
language sql
set search_path = ''
as $$
  insert into public.call_logs (call_sid, from_number, to_number)
  values (p_call_sid, coalesce(nullif(p_from, ''), 'unknown'), coalesce(nullif(p_to, ''), 'unknown'))
  on conflict (call_sid) do nothing
$$;

/**
 * voice-frontdoor: rate limit, number lookup, the call row and a provisional
 * consent row (the disclosure is being played). Returns
 * {"action": "menu"|"reject", "known_number": bool}.
 */
create function public.voice_frontdoor_answer(
  p_call_sid text,
  p_account_sid text,
  p_from text,
  p_to text,
  p_idempotency_key text,
  p_disclosure_version text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_claim jsonb;
  v_limit jsonb;
  v_number public.telephony_numbers;
  v_result jsonb;
begin
  v_claim := public.idempotency_begin('voice-frontdoor', p_idempotency_key, p_call_sid || ':frontdoor');
  if v_claim->>'outcome' = 'replay' then
    return v_claim->'response';
  end if;

  -- Hidden callers share one key: together they get one caller's allowance.
  v_limit := public.rate_limit_take('voice-frontdoor', 'caller', coalesce(nullif(p_from, ''), 'anonymous'));
  select * into v_number from public.telephony_numbers where e164 = p_to and active;

  insert into public.call_logs (call_sid, account_sid, number_id, from_number, to_number, status)
  values (p_call_sid, nullif(p_account_sid, ''), v_number.id, coalesce(nullif(p_from, ''), 'unknown'), p_to,
          case when (v_limit->>'allowed')::boolean then 'ringing' else 'busy' end::public.call_status)
  on conflict (call_sid) do update set number_id = excluded.number_id;

  if not (v_limit->>'allowed')::boolean then
    insert into public.analytics_events (call_sid, event_type, properties)
    values (p_call_sid, 'call.rate_limited', jsonb_build_object('retry_after_seconds', v_limit->'retry_after_seconds'));
    v_result := jsonb_build_object('action', 'reject', 'known_number', v_number.id is not null);
  else
    insert into public.call_recording_consent (call_sid, state, disclosure_version, basis)
    values (p_call_sid, 'unknown', p_disclosure_version, 'unknown')
    on conflict (call_sid) do nothing;
    insert into public.analytics_events (call_sid, event_type, properties)
    values (p_call_sid, case when v_number.id is null then 'call.unconfigured_number' else 'call.answered' end, '{}');
    v_result := jsonb_build_object('action', 'menu', 'known_number', v_number.id is not null);
  end if;

  perform public.idempotency_complete('voice-frontdoor', p_idempotency_key, 200, v_result);
  return v_result;
end
$$;

/**
 * voice-menu-handler: records the caller's choice (decided in TypeScript),
 * settles consent, and for a dial returns where to ring and whether to record.
 * p_choice: sales | support | voicemail | repeat | retry | opt-out.
 */
create function public.voice_menu_choice(
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

  -- Consent: pressing 0 declines recording; going on to a choice after hearing
  -- the disclosure is implied consent. No consent row means the disclosure was
  -- never played, and then nothing is recorded.
  if p_choice = 'opt-out' then
    update public.call_recording_consent
       set state = 'declined', basis = 'opt-out-key', decided_at = now()
     where call_sid = p_call_sid;
  elsif p_choice in ('sales', 'support', 'voicemail') then
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

/** The agent pressed a key on the screening prompt of this call's Dial. */
create function public.voice_screening_accept(p_call_sid text) returns void
language sql
set search_path = ''
as $$
  update public.call_logs
     set screening_accepted_at = coalesce(screening_accepted_at, now())
   where call_sid = p_call_sid
$$;

/**
 * voice-action: the Dial's outcome lands on the call. Returns
 * {"screening_accepted": bool} for the TypeScript decision.
 */
create function public.voice_dial_outcome(
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
  insert into public.analytics_events (call_sid, event_type, properties)
  values (p_call_sid, 'dial.outcome', jsonb_build_object(
    'dial_call_status', p_dial_call_status, 'screening_accepted', v_accepted));
  v_result := jsonb_build_object('screening_accepted', v_accepted);
  perform public.idempotency_complete('voice-action', p_idempotency_key, 200, v_result);
  return v_result;
end
$$;

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
    recorded_at = case when recorded_at is null and p_recording_sid is not null then now() else recorded_at end,
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

/**
 * voice-status: a status callback. Lifecycle rows are unique per (call,
 * status), so duplicates are no-ops; the call's status only moves forward
 * (a late "ringing" never overwrites "completed").
 */
create function public.voice_status_apply(
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
  v_status public.call_status := p_status::public.call_status;
  v_claim jsonb;
  v_inserted boolean;
  v_current public.call_status;
  v_result jsonb;
begin
  v_claim := public.idempotency_begin('voice-status', p_idempotency_key, p_call_sid || ':status:' || p_status);
  if v_claim->>'outcome' = 'replay' then
    return v_claim->'response' || '{"duplicate": true}';
  end if;
  perform public.call_ensure(p_call_sid, p_from, p_to);
  insert into public.call_lifecycle (call_sid, status, event, sequence_number, occurred_at)
  values (p_call_sid, v_status, p_event, p_sequence, coalesce(p_occurred_at, now()))
  on conflict (call_sid, status) do nothing
  returning true into v_inserted;

  update public.call_logs set
    status = case when public.call_status_rank(v_status) > public.call_status_rank(status) then v_status else status end,
    account_sid = coalesce(account_sid, nullif(p_account_sid, '')),
    answered_at = case when v_status = 'in-progress' then coalesce(answered_at, p_occurred_at, now()) else answered_at end,
    ended_at = case when public.call_status_rank(v_status) = 3
      then coalesce(ended_at, greatest(started_at, coalesce(p_occurred_at, now()))) else ended_at end,
    duration_seconds = coalesce(p_duration, duration_seconds)
  where call_sid = p_call_sid
  returning status into v_current;
  v_result := jsonb_build_object('duplicate', v_inserted is null, 'status', v_current);
  perform public.idempotency_complete('voice-status', p_idempotency_key, 200, v_result);
  return v_result;
end
$$;

alter table public.voicemails enable row level security;
revoke all on table public.voicemails from anon, authenticated;
revoke execute on function
  public.call_status_rank(public.call_status),
  public.call_ensure(text, text, text),
  public.voice_frontdoor_answer(text, text, text, text, text, text),
  public.voice_menu_choice(text, text, text, text, text, integer, text, text, text),
  public.voice_screening_accept(text),
  public.voice_dial_outcome(text, text, text, text, integer, text),
  public.voice_voicemail_save(text, text, text, text, text, integer, text, text, text, text),
  public.voice_status_apply(text, text, text, text, text, text, integer, timestamptz, integer, text)
from public, anon, authenticated;
