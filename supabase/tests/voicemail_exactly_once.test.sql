-- Recording and transcription callbacks, in either order and twice, make one
-- voicemail and one analytics event each.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

-- Transcription first, then the recording, each delivered twice.
select public.voice_voicemail_save('CA' || repeat('2', 32), '+15875550000', '+15877428885',
  'RE' || repeat('a', 32), 'https://api.twilio.com/r', 20, 'TR' || repeat('b', 32), 'completed', 'hello');
select public.voice_voicemail_save('CA' || repeat('2', 32), '+15875550000', '+15877428885',
  'RE' || repeat('a', 32), 'https://api.twilio.com/r', 20, 'TR' || repeat('b', 32), 'completed', 'hello');
select public.voice_voicemail_save('CA' || repeat('2', 32), '+15875550000', '+15877428885',
  'RE' || repeat('a', 32), 'https://api.twilio.com/r', 20, null, null, null);
select public.voice_voicemail_save('CA' || repeat('2', 32), '+15875550000', '+15877428885',
  'RE' || repeat('a', 32), 'https://api.twilio.com/r', 20, null, null, null);

select is((select count(*)::int from public.voicemails where call_sid = 'CA' || repeat('2', 32)), 1, 'one voicemail');
select is((select transcription_text from public.voicemails where call_sid = 'CA' || repeat('2', 32)), 'hello',
  'the transcription is kept');
select is((select duration_seconds from public.voicemails where call_sid = 'CA' || repeat('2', 32)), 20, 'the duration is kept');
select is((select count(*)::int from public.analytics_events
  where call_sid = 'CA' || repeat('2', 32) and event_type = 'voicemail.recorded'), 1, 'one recorded event');
select is((select count(*)::int from public.analytics_events
  where call_sid = 'CA' || repeat('2', 32) and event_type = 'voicemail.transcribed'), 1, 'one transcribed event');

select * from finish();
rollback;
