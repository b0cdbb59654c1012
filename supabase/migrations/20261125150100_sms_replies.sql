-- Text messages to hotline numbers (webcomms-sms-reply). One function per
-- webhook, so the webhook is one round trip and every concurrency decision is
-- made here:
-- - each message is stored once, keyed on Twilio's signed MessageSid, which
--   every redelivery repeats; a redelivery gets the first answer back and
--   changes nothing (no second opt-out change, no second rate-limit take);
-- - opt-out state is kept per sender and number (STOP to one number says
--   nothing about another client's number);
-- - an auto-reply passes three gates, in order: the number is ours and active
--   (else we cannot name the business, which CASL requires), the sender has
--   not opted out, and the rate limits per sender and per sender+number pair
--   (two auto-responders texting each other stop after the pair's burst).
-- The keyword and the reply wanted are decided in TypeScript (pure, in
-- _shared/sms/); the wording is rendered there too.

create table public.sms_messages (
  message_sid text primary key check (message_sid ~ '^(SM|MM)[0-9a-f]{32}$'),
  account_sid text check (account_sid ~ '^AC[0-9a-f]{32}$'),
  number_id uuid references public.telephony_numbers (id) on delete set null,
  -- As Twilio gives them: E.164, or a short code or sender ID; no format check,
  -- since a refused row would be answered 503 and redelivered for nothing.
  from_number text not null,
  to_number text not null,
  body text not null default '',
  num_media integer not null default 0 check (num_media >= 0),
  -- What the message was, from our keyword detection or Twilio's OptOutType.
  keyword text check (keyword in ('opt-out', 'opt-in', 'help')),
  -- Twilio's OptOutType as sent (only with Advanced Opt-Out on a Messaging Service).
  opt_out_type text,
  -- The reply we answered with, or why we answered nothing.
  reply_kind text check (reply_kind in ('auto', 'help', 'opt-in')),
  silence_reason text check (silence_reason in
    ('opt-out', 'twilio-replied', 'unknown-number', 'opted-out', 'rate-limited')),
  received_at timestamptz not null default now(),
  check (num_nonnulls(reply_kind, silence_reason) <= 1)
);
comment on table public.sms_messages is
  'Inbound text messages, one row per MessageSid, with what we answered (reply_kind) or why not (silence_reason).';
create index sms_messages_received_idx on public.sms_messages (received_at desc);
create index sms_messages_sender_idx on public.sms_messages (from_number, to_number, received_at desc);

create table public.sms_opt_outs (
  from_number text not null,
  to_number text not null,
  opted_out boolean not null,
  changed_at timestamptz not null default now(),
  -- The message that set the state. No foreign key: purging old messages must
  -- never re-subscribe a sender who said STOP.
  last_message_sid text not null,
  primary key (from_number, to_number)
);
comment on table public.sms_opt_outs is
  'Opt-out state per sender and hotline number: no auto-reply while opted_out (STOP … START).';

-- Two auto-responders texting each other would loop: the pair's burst of 3
-- ends it (each side only texts in reply, so once we fall silent, so do they).
-- The per-sender policy ('caller', 5 per 60 s) is seeded by the rate-limiting
-- migration. The key of 'custom' is "<from>><to>".
insert into public.rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode)
values ('webcomms-sms-reply', 'custom', 3, 3600, 'closed')
on conflict (endpoint, key_kind) do nothing;

/**
 * webcomms-sms-reply: stores the message once and decides whether the reply
 * the TypeScript decision wants (p_reply: auto | help | opt-in, or null with
 * p_silence_reason) may be sent. p_keyword (opt-out | opt-in | help | null)
 * changes the sender's opt-out state for this number. Returns
 * {"reply": kind|null, "silence_reason", "replayed", "business_name", "business_hours"}.
 */
create function public.sms_reply_answer(
  p_message_sid text,
  p_account_sid text,
  p_from text,
  p_to text,
  p_body text,
  p_num_media integer,
  p_opt_out_type text,
  p_keyword text,
  p_reply text,
  p_silence_reason text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_number public.telephony_numbers;
  v_rows integer;
  v_inserted boolean;
  v_reason text := case when p_reply is null then coalesce(p_silence_reason, 'opt-out') end;
  v_opted_out boolean;
  v_limit jsonb;
  v_result jsonb;
begin
  select * into v_number from public.telephony_numbers where e164 = p_to and active;

  -- A concurrent delivery of the same MessageSid waits here for the first
  -- transaction, then conflicts and replays what it stored.
  insert into public.sms_messages
    (message_sid, account_sid, number_id, from_number, to_number, body, num_media, keyword, opt_out_type)
  values (p_message_sid, nullif(p_account_sid, ''), v_number.id, p_from, p_to, coalesce(p_body, ''),
          coalesce(p_num_media, 0), p_keyword, nullif(p_opt_out_type, ''))
  on conflict (message_sid) do nothing;
  get diagnostics v_rows = row_count;
  v_inserted := v_rows = 1;

  if v_inserted then
    if p_keyword in ('opt-out', 'opt-in') then
      insert into public.sms_opt_outs as o (from_number, to_number, opted_out, last_message_sid)
      values (p_from, p_to, p_keyword = 'opt-out', p_message_sid)
      on conflict (from_number, to_number) do update
        set opted_out = excluded.opted_out, changed_at = now(), last_message_sid = excluded.last_message_sid;
    end if;

    if v_reason is null then
      select opted_out into v_opted_out from public.sms_opt_outs
       where from_number = p_from and to_number = p_to;
      if v_number.id is null then
        v_reason := 'unknown-number';
      elsif coalesce(v_opted_out, false) then
        v_reason := 'opted-out';
      else
        -- The sender is only charged when the pair admits the reply: a loop
        -- stopped on one pair does not also silence the sender elsewhere.
        v_limit := public.rate_limit_take('webcomms-sms-reply', 'custom', p_from || '>' || p_to);
        if (v_limit->>'allowed')::boolean then
          v_limit := public.rate_limit_take('webcomms-sms-reply', 'caller', p_from);
        end if;
        if not (v_limit->>'allowed')::boolean then
          v_reason := 'rate-limited';
        end if;
      end if;
    end if;

    update public.sms_messages
       set reply_kind = case when v_reason is null then p_reply end, silence_reason = v_reason
     where message_sid = p_message_sid;
  end if;

  select jsonb_build_object(
           'reply', m.reply_kind,
           'silence_reason', m.silence_reason,
           'replayed', not v_inserted,
           'business_name', coalesce(n.business_name, n.label),
           'business_hours', n.business_hours)
    into v_result
    from public.sms_messages m left join public.telephony_numbers n on n.id = m.number_id
   where m.message_sid = p_message_sid;
  return v_result;
end
$$;

alter table public.sms_messages enable row level security;
alter table public.sms_opt_outs enable row level security;
revoke all on table public.sms_messages, public.sms_opt_outs from anon, authenticated;
revoke execute on function
  public.sms_reply_answer(text, text, text, text, text, integer, text, text, text, text)
from public, anon, authenticated;
