-- Indexes the monitoring views need on a large history (bench/monitoring-views.sh,
-- one million calls): consent_metrics reads the last 7 days of consent rows.
create index call_recording_consent_decided_idx on public.call_recording_consent (decided_at);
-- active_calls and stale_calls: the few calls without a final status, found
-- whatever their status's enum value (call_logs_open_idx lists the statuses).
create index call_logs_unfinished_idx on public.call_logs (started_at) where ended_at is null;
-- Rate-limited calls (a few percent of all events), read per window by
-- call_volume_hourly, call_success_metrics and consent_metrics.
create index analytics_events_rate_limited_idx on public.analytics_events (occurred_at)
  where event_type = 'call.rate_limited';
