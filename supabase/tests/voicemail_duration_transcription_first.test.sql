-- Transcription first (it carries no RecordingDuration), recording second:
-- the voicemail.recorded event is written when the recording arrives, with
-- its duration.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);

select public.voice_voicemail_save('CA' || repeat('d', 32), '', '',
  'RE' || repeat('d', 32), 'https://api.twilio.com/r', null, 'TR' || repeat('d', 32), 'completed', 'hi');
select is((select count(*)::int from public.analytics_events
  where call_sid = 'CA' || repeat('d', 32) and event_type = 'voicemail.recorded'), 0,
  'a transcription alone does not mark the recording (its duration is not known yet)');
select public.voice_voicemail_save('CA' || repeat('d', 32), '', '',
  'RE' || repeat('d', 32), 'https://api.twilio.com/r', 33, null, null, null);
select is((select (properties->>'duration_seconds')::int from public.analytics_events
  where call_sid = 'CA' || repeat('d', 32) and event_type = 'voicemail.recorded'), 33,
  'the recording callback writes the event with the duration');
select is((select duration_seconds from public.voicemails where call_sid = 'CA' || repeat('d', 32)), 33,
  'the voicemail has its duration');
select isnt((select recorded_at from public.voicemails where call_sid = 'CA' || repeat('d', 32)), null,
  'and is marked recorded');

select * from finish();
rollback;
