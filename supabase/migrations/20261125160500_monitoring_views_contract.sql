-- The monitoring views operators were promised (DESIGN.md's contract: nine
-- names), plus the earlier views that still serve an operator.
--
-- Access. Each view's query lives in the schema `monitoring`, which the API
-- does not expose and where only ops (and the owner) have usage; there it
-- reads the tables with its owner's rights. The view operators query,
-- public.<name>, is `select * from monitoring.<name>` with security_invoker:
-- it runs with the caller's rights, so anon/authenticated (no usage on
-- monitoring, no grant on the view) get permission denied, and ops reads
-- exactly these views without any right on a table. Views stay plain SQL, so
-- filters like `where hours_old > 24` reach the indexes.
--
-- Windows ("last 24 hours", "last 7 days") are relative to now(): inside one
-- transaction that is the transaction's start, so a query sees one instant.
--
-- Replaced: call_outcomes_daily (by call_volume_hourly and
-- call_success_metrics, whose definitions are written down below) and
-- recording_consent_daily (by consent_metrics); both scanned all history.

create schema monitoring;
comment on schema monitoring is
  'Queries behind the public monitoring views; not exposed through the API, readable by ops only.';
revoke all on schema monitoring from public;
grant usage on schema monitoring to ops;
grant usage on schema public to ops;

drop view public.active_calls, public.stale_calls, public.call_outcomes_daily, public.menu_choices_daily,
  public.dial_outcomes, public.voicemail_inbox, public.recording_consent_daily, public.recent_errors,
  public.rate_limit_violations;

-- Calls in progress now: started within 4 h and without a final status (older
-- ones are in stale_calls). stage: where the caller is in the flow.
create view monitoring.active_calls as
select c.call_sid,
       n.label as hotline,
       c.to_number,
       c.from_number,
       c.status,
       case
         when c.dial_call_status in ('completed', 'answered') and c.screening_accepted_at is not null then 'goodbye'
         when c.dial_call_status is not null or c.menu_choice = 'voicemail' then 'voicemail'
         when c.screening_accepted_at is not null then 'with agent'
         when c.menu_choice in ('sales', 'support') then 'ringing agent'
         else 'menu'
       end as stage,
       c.menu_choice as department,
       c.dial_target,
       c.started_at,
       floor(extract(epoch from now() - c.started_at))::integer as age_seconds
from public.call_logs c
left join public.telephony_numbers n on n.id = c.number_id
-- Open: no final status yet. As text, so a status added to the enum later
-- (initiated) needs no change here; ended_at is set with every final status.
where c.ended_at is null and c.status::text in ('initiated', 'queued', 'ringing', 'in-progress')
  and c.started_at > now() - interval '4 hours'
order by c.started_at;

-- Calls older than 4 h that never got a final status callback: a number
-- without its statusCallback, or callbacks that were lost.
create view monitoring.stale_calls as
select call_sid, from_number, status, started_at, now() - started_at as age
from public.call_logs
where ended_at is null and status::text in ('initiated', 'queued', 'ringing', 'in-progress')
  and started_at <= now() - interval '4 hours'
order by started_at;

-- One row per call of the last 7 days with its outcome: the one place the
-- outcomes are defined, read by call_volume_hourly, call_success_metrics and
-- consent_metrics, and by operators who want the calls behind a figure.
--   rate_limited         rejected busy by the rate limiter (event
--                        call.rate_limited): never answered, not billed
--   answered             the hotline picked up (answered_at set, or status
--                        in-progress/completed)
--   reached_agent        an agent accepted the screening prompt and the Dial
--                        ended completed/answered
--   left_voicemail       a voicemail recording was stored
--   abandoned_in_menu    completed without a menu choice (hung up during the
--                        greeting, the disclosure or the menu)
--   finished_with_choice completed after choosing sales, support or voicemail
--   seconds_to_agent     from the call's start to the agent's acceptance
--   duration_seconds     Twilio's CallDuration
--   consent              the call's recording consent (null: no consent row)
-- Voicemails, rate-limit events and consent rows are all written after their
-- call row, so each is read for the window only, through its time index,
-- instead of being looked up call by call; a view that reads fewer calls
-- (the last 30 minutes) passes its filter down to call_logs.
create view monitoring.call_outcomes as
select c.call_sid,
       c.started_at,
       rl.call_sid is not null as rate_limited,
       c.answered_at is not null or c.status in ('in-progress', 'completed') as answered,
       c.screening_accepted_at is not null and c.dial_call_status in ('completed', 'answered') as reached_agent,
       v.call_sid is not null as left_voicemail,
       c.status = 'completed' and c.menu_choice is null and rl.call_sid is null as abandoned_in_menu,
       c.status = 'completed' and c.menu_choice is not null as finished_with_choice,
       extract(epoch from c.screening_accepted_at - c.started_at) as seconds_to_agent,
       c.duration_seconds,
       k.state as consent
from public.call_logs c
left join (select call_sid from public.voicemails
            where recording_sid is not null and created_at >= now() - interval '7 days') v on v.call_sid = c.call_sid
left join (select distinct call_sid from public.analytics_events
            where event_type = 'call.rate_limited' and occurred_at >= now() - interval '7 days') rl
  on rl.call_sid = c.call_sid
left join (select call_sid, state from public.call_recording_consent
            where decided_at >= now() - interval '7 days') k on k.call_sid = c.call_sid
where c.started_at >= now() - interval '7 days';

-- Per hour of the last 7 days (168 rows, the current hour first, hours
-- without calls as zeros), cut in operations_settings.report_time_zone
-- (hour_local is the wall-clock hour there; hour_start the same instant as
-- timestamptz). A call counts in the hour it started; the counts are
-- call_outcomes' (answered_by_agent is reached_agent).
create view monitoring.call_volume_hourly as
with grid as (
  -- Successive local hour starts are one hour apart also across DST changes,
  -- so one-hour bins from the oldest local hour are the local hours.
  select tz, (date_trunc('hour', now() at time zone tz) at time zone tz) - interval '167 hours' as first_hour
  from (select coalesce((select report_time_zone from public.operations_settings where id), 'UTC') as tz) zone
), per_hour as (
  select date_bin('1 hour', c.started_at, g.first_hour) as hour_start,
         count(*) as calls,
         count(*) filter (where c.reached_agent) as answered_by_agent,
         count(*) filter (where c.left_voicemail) as voicemails,
         count(*) filter (where c.rate_limited) as rate_limited,
         count(*) filter (where c.abandoned_in_menu) as abandoned_in_menu
  from grid g
  join monitoring.call_outcomes c on c.started_at >= g.first_hour
  group by 1
)
select h.hour_start,
       h.hour_start at time zone g.tz as hour_local,
       g.tz as time_zone,
       coalesce(p.calls, 0) as calls,
       coalesce(p.answered_by_agent, 0) as answered_by_agent,
       coalesce(p.voicemails, 0) as voicemails,
       coalesce(p.rate_limited, 0) as rate_limited,
       coalesce(p.abandoned_in_menu, 0) as abandoned_in_menu
from grid g
cross join lateral generate_series(g.first_hour, g.first_hour + interval '167 hours', interval '1 hour') as h(hour_start)
left join per_hour p on p.hour_start = h.hour_start
order by h.hour_start desc;

-- The last 24 h of errors the functions caught (each one rescued its
-- caller), grouped by function, error and message; first_seen/last_seen
-- within those 24 h.
create view monitoring.recent_errors as
select function_slug,
       error_name,
       left(message, 200) as message,
       count(*) as occurrences,
       count(distinct call_sid) as calls_affected,
       min(occurred_at) as first_seen,
       max(occurred_at) as last_seen
from public.error_logs
where occurred_at > now() - interval '24 hours'
group by 1, 2, 3
order by last_seen desc, occurrences desc;

-- Keys refused by a rate limit in the last 24 hours, masked (numbers keep
-- their prefix and last four digits), most refused first. The masking is
-- inline, not public.mask_key (dropped below): a function in a view is
-- called with the reader's rights, and ops may execute nothing else.
create view monitoring.rate_limit_violations as
select endpoint,
       key_kind,
       case
         when key ~ '^\+?[0-9]{7,}$' then left(key, 5) || '***' || right(key, 4)
         when length(key) > 8 then left(key, 4) || '***'
         else '***'
       end as key_masked,
       sum(denied)::bigint as denied,
       min(first_denied_at) as first_denied_at,
       max(last_denied_at) as last_denied_at
from public.rate_limit_violation_counts
where hour >= date_trunc('hour', now() - interval '24 hours')
group by endpoint, key_kind, key
order by denied desc, key_masked;

-- Provisioning/release transactions that need an operator's eyes: every
-- needs_attention one, and those failed or compensated in the last 7 days.
-- failed_step: the first forward step that failed; compensation_failed_step:
-- the first undo that failed (why it needs attention).
create view monitoring.failed_transactions as
select t.id as transaction_id,
       t.kind,
       t.client,
       t.status,
       f.name as failed_step,
       f.position as failed_step_position,
       cf.name as compensation_failed_step,
       coalesce(t.error_code, f.error_code, cf.error_code) as error_code,
       t.error_message,
       coalesce(t.twilio_error_code, f.twilio_error_code, cf.twilio_error_code) as twilio_error_code,
       t.attempts,
       t.created_at,
       t.updated_at
from public.telephony_transactions t
left join lateral (
  select s.name, s.position, s.error_code, s.twilio_error_code from public.telephony_transaction_steps s
   where s.transaction_id = t.id and s.status = 'failed' order by s.position limit 1
) f on true
left join lateral (
  select s.name, s.error_code, s.twilio_error_code from public.telephony_transaction_steps s
   where s.transaction_id = t.id and s.status = 'compensation_failed' order by s.position limit 1
) cf on true
where t.status = 'needs_attention'
   or (t.status in ('failed', 'compensated') and t.updated_at > now() - interval '7 days')
order by t.status = 'needs_attention' desc, t.updated_at desc;

-- Every number: its client and provisioning state, since when, and whether
-- its Twilio webhook URLs were last set to this deployment's base URL
-- (operations_settings.public_base_url; null when either is unknown).
create view monitoring.number_provisioning_status as
select n.e164,
       n.client,
       n.label,
       coalesce(n.state, case when n.active then 'active' else 'released' end) as state,
       coalesce(n.state_changed_at, n.updated_at) as state_changed_at,
       floor(extract(epoch from now() - coalesce(n.state_changed_at, n.updated_at)) / 60)::integer
         as minutes_in_state,
       n.active,
       n.phone_number_sid,
       n.webhook_base_url,
       s.public_base_url as deployment_base_url,
       rtrim(n.webhook_base_url, '/') = rtrim(s.public_base_url, '/') as urls_point_here
from public.telephony_numbers n
left join public.operations_settings s on s.id
order by case coalesce(n.state, 'active')
           when 'needs_attention' then 0 when 'provisioning' then 1 when 'releasing' then 2
           when 'active' then 3 else 4 end,
         n.e164;

-- Recorded voicemails nobody has marked handled (voicemail_mark_handled),
-- oldest first. hours_old: hours since the message was left (2 decimals).
-- transcript is null exactly when no_transcript_reason says why.
create view monitoring.voicemail_backlog as
select v.call_sid,
       n.label as hotline,
       c.from_number as caller,
       coalesce(v.recorded_at, v.created_at) as left_at,
       round((extract(epoch from now() - coalesce(v.recorded_at, v.created_at)) / 3600)::numeric, 2) as hours_old,
       v.duration_seconds,
       case when v.transcription_status = 'completed' and btrim(v.transcription_text) <> ''
         then v.transcription_text end as transcript,
       case
         when v.transcription_status = 'completed' and btrim(v.transcription_text) <> '' then null
         when v.transcription_status = 'completed' then 'transcription empty'
         when v.transcription_status = 'failed' then 'transcription failed'
         when v.duration_seconds <= 2 then 'too short to transcribe (2 s or less)'
         when v.duration_seconds >= 120 then 'too long to transcribe (120 s or more)'
         when coalesce(v.recorded_at, v.created_at) > now() - interval '30 minutes' then 'transcription pending'
         else 'no transcription received'
       end as no_transcript_reason,
       v.recording_url
from public.voicemails v
join public.call_logs c using (call_sid)
left join public.telephony_numbers n on n.id = c.number_id
where v.handled_at is null and v.recording_sid is not null
order by coalesce(v.recorded_at, v.created_at), v.call_sid;

-- Outcomes over three periods ending now: '30 minutes' (for alerts),
-- '24 hours' and '7 days'. A call counts in a period when it started in it;
-- the counts are call_outcomes' (calls: every call that reached
-- voice-frontdoor; voicemails: left_voicemail).
--   answer_rate_pct        = answered / calls
--   agent_reached_rate_pct = reached_agent / answered
--   voicemail_rate_pct     = voicemails / answered
--   abandon_rate_pct       = abandoned_in_menu / answered
--   success_rate_pct       = finished_with_choice calls that reached an agent
--                            or left a voicemail / finished_with_choice
--   avg_/p90_seconds_to_agent: over reached_agent calls (p90 interpolated)
--   avg_duration_seconds: over calls that have a duration
-- Percentages have one decimal; null when the denominator is zero.
create view monitoring.call_success_metrics as
with periods(period, length, position) as (
  values ('30 minutes', interval '30 minutes', 1), ('24 hours', interval '24 hours', 2),
         ('7 days', interval '7 days', 3)
)
select p.period,
       now() - p.length as since,
       m.calls,
       m.rate_limited,
       m.answered,
       m.reached_agent,
       m.voicemails,
       m.abandoned_in_menu,
       m.finished_with_choice,
       round(100.0 * m.answered / nullif(m.calls, 0), 1) as answer_rate_pct,
       round(100.0 * m.reached_agent / nullif(m.answered, 0), 1) as agent_reached_rate_pct,
       round(100.0 * m.voicemails / nullif(m.answered, 0), 1) as voicemail_rate_pct,
       round(100.0 * m.abandoned_in_menu / nullif(m.answered, 0), 1) as abandon_rate_pct,
       round(100.0 * m.served / nullif(m.finished_with_choice, 0), 1) as success_rate_pct,
       round(m.avg_to_agent::numeric, 1) as avg_seconds_to_agent,
       round(m.p90_to_agent::numeric, 1) as p90_seconds_to_agent,
       round(m.avg_duration::numeric, 1) as avg_duration_seconds
from periods p
cross join lateral (
  select count(*) as calls,
         count(*) filter (where c.rate_limited) as rate_limited,
         count(*) filter (where c.answered) as answered,
         count(*) filter (where c.reached_agent) as reached_agent,
         count(*) filter (where c.left_voicemail) as voicemails,
         count(*) filter (where c.abandoned_in_menu) as abandoned_in_menu,
         count(*) filter (where c.finished_with_choice) as finished_with_choice,
         count(*) filter (where c.finished_with_choice and (c.reached_agent or c.left_voicemail)) as served,
         avg(c.seconds_to_agent) filter (where c.reached_agent) as avg_to_agent,
         percentile_cont(0.9) within group (order by c.seconds_to_agent) filter (where c.reached_agent) as p90_to_agent,
         avg(c.duration_seconds) as avg_duration
  from monitoring.call_outcomes c
  where c.started_at >= now() - p.length
) m
order by p.position;

-- Recording consent (PIPEDA) over the last 24 hours and 7 days, by call start.
--   calls_answered        calls not rejected by the rate limiter
--   disclosures_played    of those, calls with a consent row (the frontdoor
--                         writes it as it plays the disclosure)
--   implied_consents      consent granted (heard the disclosure, went on)
--   opt_outs              consent declined (pressed 0)
--   undecided             still unknown (hung up before going on)
--   never_asked           answered calls without a consent row (the fallback
--                         path, or a call first seen through a callback)
--   recordings            recordings stored for these calls (voicemails: a
--                         voicemail and its transcript are recordings too)
--   recordings_without_consent  recordings whose call's consent is not
--                         granted (declined, unknown or missing): must be 0
create view monitoring.consent_metrics as
with periods(period, length, position) as (
  values ('24 hours', interval '24 hours', 1), ('7 days', interval '7 days', 2)
)
select p.period,
       now() - p.length as since,
       m.*
from periods p
cross join lateral (
  select count(*) filter (where not c.rate_limited) as calls_answered,
         count(*) filter (where not c.rate_limited and c.consent is not null) as disclosures_played,
         count(*) filter (where c.consent = 'granted') as implied_consents,
         count(*) filter (where c.consent = 'declined') as opt_outs,
         count(*) filter (where c.consent = 'unknown') as undecided,
         count(*) filter (where not c.rate_limited and c.consent is null) as never_asked,
         count(*) filter (where c.left_voicemail) as recordings,
         count(*) filter (where c.left_voicemail and c.consent is distinct from 'granted') as recordings_without_consent
  from monitoring.call_outcomes c
  where c.started_at >= now() - p.length
) m
order by p.position;

-- Per day (in the session's time zone) of the last 30 days: what callers
-- pressed in the menu. The columns are the call-flow work's (issue 7:
-- every 0 is an opt-out, also the one that ends the menu; unrecorded
-- goodbyes: pressed 0, then reached where a voicemail would be).
create view monitoring.menu_choices_daily as
select date_trunc('day', occurred_at) as day,
       count(*) filter (where event_type = 'menu.sales') as sales,
       count(*) filter (where event_type = 'menu.support') as support,
       count(*) filter (where event_type = 'menu.voicemail') as voicemail,
       count(*) filter (where event_type = 'menu.repeat') as repeats,
       count(*) filter (where event_type = 'menu.retry') as retries,
       count(*) filter (where event_type = 'menu.opt_out'
                          or (event_type = 'menu.unrecorded_goodbye' and properties->>'digits' = '0'))
         as recording_opt_outs,
       count(*) filter (where event_type = 'menu.unrecorded_goodbye') as unrecorded_goodbyes
from public.analytics_events
where event_type like 'menu.%' and occurred_at >= now() - interval '30 days'
group by 1
order by 1 desc;

-- Last 7 days: how dials to each target ended (busy, no-answer, screened out, answered).
create view monitoring.dial_outcomes as
select menu_choice as department, dial_target, dial_call_status,
       screening_accepted_at is not null as screening_accepted,
       count(*) as calls, round(avg(dial_duration_seconds)) as avg_talk_seconds
from public.call_logs
where dial_call_status is not null and started_at > now() - interval '7 days'
group by 1, 2, 3, 4
order by calls desc;

-- Voicemails of the last 30 days, newest first, handled or not.
create view monitoring.voicemail_inbox as
select v.call_sid, c.from_number, n.label as hotline, v.duration_seconds, v.recording_url,
       v.transcription_status, v.transcription_text, coalesce(v.recorded_at, v.created_at) as left_at,
       v.handled_at, v.handled_by
from public.voicemails v
join public.call_logs c using (call_sid)
left join public.telephony_numbers n on n.id = c.number_id
where v.recording_sid is not null and v.created_at >= now() - interval '30 days'
order by left_at desc;

-- The pg_cron jobs and how their runs went in the last 24 hours. pg_cron's
-- row security shows a role only its own jobs, and current_user is the
-- reader even inside a view: a SECURITY DEFINER function reads them as the
-- owner that scheduled them.
create function monitoring.cron_job_runs()
returns table (jobname text, schedule text, active boolean, last_started timestamptz, last_status text,
               last_message text, failures_24h bigint, runs_24h bigint)
language sql
stable
security definer
set search_path = ''
as $$
  select j.jobname, j.schedule, j.active, r.last_started, r.last_status, r.last_message,
         coalesce(r.failures_24h, 0), coalesce(r.runs_24h, 0)
  from cron.job j
  left join lateral (
    select max(d.start_time) as last_started,
           (array_agg(d.status order by d.start_time desc))[1] as last_status,
           left((array_agg(d.return_message order by d.start_time desc))[1], 200) as last_message,
           count(*) filter (where d.status = 'failed') as failures_24h,
           count(*) as runs_24h
    from cron.job_run_details d
    where d.jobid = j.jobid and d.start_time > now() - interval '24 hours'
  ) r on true
  order by j.jobname
$$;
revoke execute on function monitoring.cron_job_runs() from public, anon, authenticated;
grant execute on function monitoring.cron_job_runs() to ops;

create view monitoring.cron_job_health as select * from monitoring.cron_job_runs();

-- The public faces: security_invoker, so each runs with its caller's rights.
create view public.active_calls with (security_invoker = true) as select * from monitoring.active_calls;
create view public.call_outcomes with (security_invoker = true) as select * from monitoring.call_outcomes;
create view public.stale_calls with (security_invoker = true) as select * from monitoring.stale_calls;
create view public.call_volume_hourly with (security_invoker = true) as
  select * from monitoring.call_volume_hourly;
create view public.recent_errors with (security_invoker = true) as select * from monitoring.recent_errors;
create view public.rate_limit_violations with (security_invoker = true) as
  select * from monitoring.rate_limit_violations;
create view public.failed_transactions with (security_invoker = true) as
  select * from monitoring.failed_transactions;
create view public.number_provisioning_status with (security_invoker = true) as
  select * from monitoring.number_provisioning_status;
create view public.voicemail_backlog with (security_invoker = true) as select * from monitoring.voicemail_backlog;
create view public.call_success_metrics with (security_invoker = true) as
  select * from monitoring.call_success_metrics;
create view public.consent_metrics with (security_invoker = true) as select * from monitoring.consent_metrics;
create view public.menu_choices_daily with (security_invoker = true) as
  select * from monitoring.menu_choices_daily;
create view public.dial_outcomes with (security_invoker = true) as select * from monitoring.dial_outcomes;
create view public.voicemail_inbox with (security_invoker = true) as select * from monitoring.voicemail_inbox;
create view public.cron_job_health with (security_invoker = true) as select * from monitoring.cron_job_health;

comment on view public.active_calls is 'Calls in progress now (started within 4 h, no final status), with age and stage.';
comment on view public.call_outcomes is
  'Each call of the last 7 days with its outcome (rate-limited, answered, agent, voicemail, abandoned) and consent.';
comment on view public.stale_calls is 'Calls older than 4 h without a final status: missing or lost status callbacks.';
comment on view public.call_volume_hourly is
  'Last 7 days per hour (operations_settings.report_time_zone): calls, answered by an agent, voicemails, rate-limited, abandoned in the menu.';
comment on view public.recent_errors is 'Last 24 h: errors the functions caught (each rescued its caller), grouped.';
comment on view public.rate_limit_violations is 'Last 24 h: keys refused by a rate limit, masked, most refused first.';
comment on view public.failed_transactions is
  'Provisioning/release transactions needing attention, or failed/compensated in the last 7 days, with the failing step.';
comment on view public.number_provisioning_status is
  'Every number: client, state, since when, and whether its Twilio URLs point at this deployment.';
comment on view public.voicemail_backlog is 'Voicemails not yet handled, oldest first, with hours_old and the transcript or why none.';
comment on view public.call_success_metrics is
  'Answer, agent-reached, voicemail, abandon and success rates, time to an agent, duration: last 30 min, 24 h, 7 days.';
comment on view public.consent_metrics is
  'PIPEDA: disclosures, consents, opt-outs, never asked, and recordings without consent (must be 0): 24 h, 7 days.';
comment on view public.menu_choices_daily is
  'Per day, last 30 days: what callers pressed in the menu; unrecorded_goodbyes: pressed 0, then reached the end of the menu.';
comment on view public.dial_outcomes is 'Last 7 days: how dials to each target ended.';
comment on view public.voicemail_inbox is 'Voicemails of the last 30 days, newest first, handled or not.';
comment on view public.cron_job_health is 'pg_cron jobs: last run, its status, failures in the last 24 h.';

revoke all on all tables in schema monitoring from public, anon, authenticated;
grant select on all tables in schema monitoring to ops;
revoke all on table public.active_calls, public.call_outcomes, public.stale_calls, public.call_volume_hourly, public.recent_errors,
  public.rate_limit_violations, public.failed_transactions, public.number_provisioning_status,
  public.voicemail_backlog, public.call_success_metrics, public.consent_metrics, public.menu_choices_daily,
  public.dial_outcomes, public.voicemail_inbox, public.cron_job_health
from anon, authenticated;
grant select on table public.active_calls, public.call_outcomes, public.stale_calls, public.call_volume_hourly, public.recent_errors,
  public.rate_limit_violations, public.failed_transactions, public.number_provisioning_status,
  public.voicemail_backlog, public.call_success_metrics, public.consent_metrics, public.menu_choices_daily,
  public.dial_outcomes, public.voicemail_inbox, public.cron_job_health
to ops;
drop function public.mask_key(text);
