-- Indexes the monitoring views need on a large history (bench/monitoring-views.sh,
-- one million calls): consent_metrics reads the last 7 days of consent rows.
create index call_recording_consent_decided_idx on public.call_recording_consent (decided_at);
