-- A year of history for the monitoring views' benchmark: one million calls,
-- evenly spread over the last 365 days (about 2,740 a day, 19,200 in any
-- 7 days), with their lifecycle rows, analytics events, consent rows and
-- voicemails, plus errors, rate-limit refusals, provisioning transactions
-- and numbers. The 12 newest calls are in progress. Outcomes follow the call's number (deterministic): 5 %
-- rate-limited, 8 % abandoned in the menu, 55 % reach an agent, 25 % leave
-- a voicemail, 7 % choose a department and hang up unserved. Every voicemail
-- is handled except the 100 newest and one in 997 over the year. Run by bench/monitoring-views.sh.

\set calls 1000000
set session_replication_role = replica;  -- no touch_updated_at or outbox triggers while loading

insert into public.telephony_numbers (e164, label, client, state, state_changed_at, webhook_base_url)
select '+1587555' || lpad(i::text, 4, '0'), 'Bench ' || i, 'client-' || (i % 20),
       (array['active', 'active', 'active', 'provisioning', 'released'])[1 + i % 5],
       now() - make_interval(hours => i), 'https://bench.example.com/functions/v1'
from generate_series(1, 200) i
on conflict (e164) do nothing;

create temp table bench_calls as
select i,
       'CA' || lpad(to_hex(i), 32, '0') as call_sid,
       now() - make_interval(secs => i * 31.536) as started_at,
       case when i % 100 < 5 then 'rate_limited' when i % 100 < 13 then 'abandoned'
            when i % 100 < 68 then 'agent' when i % 100 < 93 then 'voicemail' else 'unserved' end as outcome,
       '+1403555' || lpad((i % 9000)::text, 4, '0') as caller
from generate_series(1, :calls) i;

insert into public.call_logs (call_sid, number_id, from_number, to_number, status, menu_choice, menu_attempts,
                              dial_target, dial_call_status, dial_duration_seconds, screening_accepted_at,
                              duration_seconds, started_at, answered_at, ended_at, updated_at)
select c.call_sid, (select id from public.telephony_numbers where e164 = '+15877428885'), c.caller, '+15877428885',
       case when c.outcome = 'rate_limited' then 'busy' when c.i <= 12 then 'in-progress'
            else 'completed' end::public.call_status,
       case c.outcome when 'agent' then 'sales' when 'voicemail' then 'voicemail' when 'unserved' then 'support' end,
       case when c.outcome = 'rate_limited' then 0 else 1 end,
       case when c.outcome in ('agent', 'unserved') then '+15875550101' end,
       case c.outcome when 'agent' then 'completed' when 'unserved' then 'no-answer' end,
       case c.outcome when 'agent' then 60 + c.i % 400 end,
       case c.outcome when 'agent' then c.started_at + make_interval(secs => 8 + c.i % 30) end,
       case when c.outcome <> 'rate_limited' then 20 + c.i % 500 end,
       c.started_at,
       case when c.outcome <> 'rate_limited' then c.started_at + interval '1 second' end,
       case when c.i > 12 then c.started_at + make_interval(secs => 20 + c.i % 500) end,
       c.started_at + make_interval(secs => 20 + c.i % 500)
from bench_calls c;

insert into public.call_lifecycle (call_sid, status, event, occurred_at, received_at)
select c.call_sid, s.status::public.call_status, null, c.started_at + s.offset_, c.started_at + s.offset_
from bench_calls c
cross join lateral (values ('ringing', interval '0 seconds'), ('in-progress', interval '1 second'),
                           ('completed', interval '5 minutes')) s(status, offset_)
where c.outcome <> 'rate_limited' or s.status = 'ringing';

insert into public.analytics_events (call_sid, event_type, properties, occurred_at)
select c.call_sid, e.event_type, '{}'::jsonb, c.started_at + e.offset_
from bench_calls c
cross join lateral (values
  -- call.answered is not stored: call_events derives it from call_logs.frontdoor_answer
  -- (no view here reads it).
  (case when c.outcome = 'rate_limited' then 'call.rate_limited' end, interval '0 seconds'),
  (case c.outcome when 'agent' then 'menu.sales' when 'voicemail' then 'menu.voicemail'
                  when 'unserved' then 'menu.support' end, interval '10 seconds'),
  (case when c.outcome in ('agent', 'unserved') then 'dial.outcome'
        when c.outcome = 'voicemail' then 'voicemail.recorded' end, interval '40 seconds')) e(event_type, offset_)
where e.event_type is not null;

insert into public.call_recording_consent (call_sid, state, disclosure_version, basis, decided_at)
select c.call_sid,
       case when c.outcome = 'abandoned' then 'unknown' when c.i % 50 = 0 and c.outcome <> 'voicemail' then 'declined'
            else 'granted' end::public.consent_state,
       'v1',
       case when c.outcome = 'abandoned' then 'unknown' when c.i % 50 = 0 and c.outcome <> 'voicemail' then 'opt-out-key'
            else 'implied' end,
       c.started_at + interval '10 seconds'
from bench_calls c where c.outcome <> 'rate_limited';

insert into public.voicemails (call_sid, recording_sid, recording_url, duration_seconds, transcription_sid,
                               transcription_status, transcription_text, recorded_at, transcribed_at, created_at,
                               handled_at, handled_by)
select c.call_sid, 'RE' || lpad(to_hex(c.i), 32, '0'),
       'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000001/Recordings/RE'
         || lpad(to_hex(c.i), 32, '0'),
       5 + c.i % 170, 'TR' || lpad(to_hex(c.i), 32, '0'), 'completed', 'Please call me back about order ' || c.i,
       c.started_at + interval '40 seconds', c.started_at + interval '2 minutes', c.started_at + interval '40 seconds',
       case when c.i > 400 and c.i % 997 <> 0 then c.started_at + interval '1 hour' end,
       case when c.i > 400 and c.i % 997 <> 0 then 'bench' end
from bench_calls c where c.outcome = 'voicemail';

insert into public.error_logs (function_slug, call_sid, error_name, message, occurred_at)
select (array['voice-frontdoor', 'voice-menu-handler', 'voice-action', 'voice-status'])[1 + i % 4],
       'CA' || lpad(to_hex(i * 20), 32, '0'), 'PostgresError', 'timeout ' || (i % 7), now() - make_interval(secs => i * 630)
from generate_series(1, 50000) i;

insert into public.rate_limit_violation_counts (endpoint, key_kind, key, hour, denied, first_denied_at, last_denied_at)
select 'voice-frontdoor', 'caller', '+1403555' || lpad((i % 500)::text, 4, '0'),
       date_trunc('hour', now() - make_interval(hours => i / 500)), 1 + i % 9,
       now() - make_interval(hours => i / 500), now() - make_interval(hours => i / 500)
from generate_series(1, 80000) i
on conflict do nothing;

insert into public.telephony_transactions (id, kind, status, client, error_code, twilio_error_code, attempts,
                                          created_at, updated_at)
select md5(i::text)::uuid, (array['provision_number', 'release_number'])[1 + i % 2],
       (array['completed', 'completed', 'completed', 'failed', 'compensated', 'needs_attention'])[1 + i % 6],
       'client-' || (i % 20), case when i % 6 >= 3 then 'twilio_failed' end, case when i % 6 >= 3 then 21422 end,
       1, now() - make_interval(hours => i), now() - make_interval(hours => i)
from generate_series(1, 5000) i;
insert into public.telephony_transaction_steps (transaction_id, position, name, status, error_code, twilio_error_code)
select t.id, s.position, s.name,
       case when t.status = 'completed' or s.position = 1 then 'completed'
            when t.status = 'needs_attention' then 'compensation_failed' else 'failed' end,
       t.error_code, t.twilio_error_code
from public.telephony_transactions t
cross join (values (1, 'buy_number'), (2, 'configure_webhooks'), (3, 'store_number')) s(position, name);

set session_replication_role = origin;
analyze;
