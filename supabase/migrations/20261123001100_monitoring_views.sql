-- Monitoring views operators query in SQL (psql, the Supabase SQL editor).
-- With rate_limit_violations (rate limiting migration) these are the nine.
-- security_invoker: a view reads with its caller's rights, so RLS and the
-- revoked grants on the tables still keep anon/authenticated out.

create view public.active_calls with (security_invoker = true) as
select c.call_sid, n.label as hotline, c.from_number, c.status, c.menu_choice, c.dial_target,
       c.started_at, now() - c.started_at as age
from public.call_logs c left join public.telephony_numbers n on n.id = c.number_id
where c.status in ('queued', 'ringing', 'in-progress') and c.started_at > now() - interval '4 hours'
order by c.started_at;
comment on view public.active_calls is 'Calls in progress now (started within 4 h and not ended).';

create view public.stale_calls with (security_invoker = true) as
select call_sid, from_number, status, started_at, now() - started_at as age
from public.call_logs
where status in ('queued', 'ringing', 'in-progress') and started_at <= now() - interval '4 hours'
order by started_at;
comment on view public.stale_calls is
  'Calls that never got a final status callback: a missing statusCallback on the number, or lost callbacks.';

create view public.call_outcomes_daily with (security_invoker = true) as
select date_trunc('day', started_at) as day,
       count(*) as calls,
       count(*) filter (where screening_accepted_at is not null and dial_call_status in ('completed', 'answered'))
         as reached_agent,
       count(v.call_sid) filter (where v.recording_sid is not null) as voicemails,
       count(*) filter (where status = 'busy' and menu_choice is null) as rejected,
       count(*) filter (where menu_choice is null and status = 'completed') as hung_up_in_menu,
       round(avg(c.duration_seconds)) as avg_duration_seconds
from public.call_logs c left join public.voicemails v using (call_sid)
group by 1 order by 1 desc;
comment on view public.call_outcomes_daily is 'Per day: calls, how many reached an agent, voicemails, rejections, hang-ups in the menu.';

create view public.menu_choices_daily with (security_invoker = true) as
select date_trunc('day', occurred_at) as day,
       count(*) filter (where event_type = 'menu.sales') as sales,
       count(*) filter (where event_type = 'menu.support') as support,
       count(*) filter (where event_type = 'menu.voicemail') as voicemail,
       count(*) filter (where event_type = 'menu.repeat') as repeats,
       count(*) filter (where event_type = 'menu.retry') as retries,
       count(*) filter (where event_type = 'menu.opt_out') as recording_opt_outs
from public.analytics_events
where event_type like 'menu.%'
group by 1 order by 1 desc;
comment on view public.menu_choices_daily is 'Per day: what callers pressed in the menu.';

create view public.dial_outcomes with (security_invoker = true) as
select menu_choice as department, dial_target, dial_call_status,
       screening_accepted_at is not null as screening_accepted,
       count(*) as calls, round(avg(dial_duration_seconds)) as avg_talk_seconds
from public.call_logs
where dial_call_status is not null and started_at > now() - interval '7 days'
group by 1, 2, 3, 4 order by calls desc;
comment on view public.dial_outcomes is 'Last 7 days: how dials to each target ended (busy, no-answer, screened out, answered).';

create view public.voicemail_inbox with (security_invoker = true) as
select v.call_sid, c.from_number, n.label as hotline, v.duration_seconds, v.recording_url,
       v.transcription_status, v.transcription_text, coalesce(v.recorded_at, v.created_at) as left_at
from public.voicemails v
join public.call_logs c using (call_sid)
left join public.telephony_numbers n on n.id = c.number_id
where v.recording_sid is not null
order by left_at desc;
comment on view public.voicemail_inbox is 'Voicemails, newest first, with transcriptions as they arrive.';

create view public.recording_consent_daily with (security_invoker = true) as
select date_trunc('day', decided_at) as day, state, basis, disclosure_version, count(*) as calls
from public.call_recording_consent
group by 1, 2, 3, 4 order by 1 desc, calls desc;
comment on view public.recording_consent_daily is 'PIPEDA: per day, how many callers consented, opted out, or were never asked.';

create view public.recent_errors with (security_invoker = true) as
select function_slug, error_name, left(message, 200) as message, count(*) as occurrences,
       max(occurred_at) as last_seen, min(occurred_at) as first_seen
from public.error_logs
where occurred_at > now() - interval '24 hours'
group by 1, 2, 3 order by last_seen desc;
comment on view public.recent_errors is 'Last 24 h: errors the functions caught (every one rescued the caller), grouped.';

revoke all on table public.active_calls, public.stale_calls, public.call_outcomes_daily,
  public.menu_choices_daily, public.dial_outcomes, public.voicemail_inbox,
  public.recording_consent_daily, public.recent_errors
from anon, authenticated;
