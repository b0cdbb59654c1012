-- Hidden callers (From `anonymous`, `restricted`, `unavailable`, empty, or
-- Twilio's keypad spellings of those) cannot be told apart. They used to
-- share one caller's allowance (10 a minute, and `anonymous` vs empty were
-- even keyed differently), so ten hidden calls in a minute turned the next
-- legitimate hidden caller away as busy. Now they share a separate, larger
-- bucket (custom key `hidden-callers`, 60 a minute, fail open): ordinary
-- hidden-caller traffic is never refused, and a flood of hidden calls is
-- still capped without touching callers whose number is shown. Change the
-- policy row to change the allowance. See docs/rate-limiting.md.
--
-- voice_frontdoor_answer is redefined here for that key; it also now fills
-- placeholders of a call row a callback created first (as call_ensure does).

insert into public.rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode)
values ('voice-frontdoor', 'custom', 60, 60, 'open')
on conflict (endpoint, key_kind) do nothing;

/** True when From does not identify the caller (withheld, restricted, unavailable, missing). */
create function public.caller_is_hidden(p_from text) returns boolean
language sql immutable
set search_path = ''
as $$
  select coalesce(btrim(p_from), '') = ''
      or lower(btrim(p_from)) in ('anonymous', 'restricted', 'unavailable', 'unknown', 'private', 'blocked')
      -- ANONYMOUS, RESTRICTED, UNAVAILABLE spelled on a keypad, as some carriers send them.
      or ltrim(btrim(p_from), '+') in ('266696687', '7378742833', '86282452253')
$$;

/** The rate-limit bucket of a caller: their number, or the one shared by hidden callers. */
create function public.frontdoor_rate_limit_take(p_from text) returns jsonb
language sql
set search_path = ''
as $$
  select case when public.caller_is_hidden(p_from)
    then public.rate_limit_take('voice-frontdoor', 'custom', 'hidden-callers')
    else public.rate_limit_take('voice-frontdoor', 'caller', btrim(p_from)) end
$$;

/**
 * voice-frontdoor: rate limit, number lookup, the call row and a provisional
 * consent row (the disclosure is being played). Returns
 * {"action": "menu"|"reject", "known_number": bool}.
 */
create or replace function public.voice_frontdoor_answer(
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

  v_limit := public.frontdoor_rate_limit_take(p_from);
  select * into v_number from public.telephony_numbers where e164 = p_to and active;

  insert into public.call_logs as c (call_sid, account_sid, number_id, from_number, to_number, status)
  values (p_call_sid, nullif(p_account_sid, ''), v_number.id, coalesce(nullif(p_from, ''), 'unknown'),
          coalesce(nullif(p_to, ''), 'unknown'),
          case when (v_limit->>'allowed')::boolean then 'ringing' else 'busy' end::public.call_status)
  on conflict (call_sid) do update set
    number_id = excluded.number_id,
    account_sid = coalesce(c.account_sid, excluded.account_sid),
    from_number = case when c.from_number = 'unknown' then excluded.from_number else c.from_number end,
    to_number = case when c.to_number = 'unknown' then excluded.to_number else c.to_number end;

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

revoke execute on function public.caller_is_hidden(text), public.frontdoor_rate_limit_take(text)
from public, anon, authenticated;
