-- voicemail_backlog: recorded voicemails not yet handled, oldest first, with
-- hours_old (so `where hours_old > 24` works), caller, duration, and the
-- transcript or why there is none.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);
\ir fixtures/monitoring.sql

select is_empty('select * from public.voicemail_backlog', 'no voicemails: no rows');

select pg_temp.call(n, now() - make_interval(hours => h) - interval '40 seconds', 'voicemail', caller => c)
from (values (1, 30, '+15875550111'), (2, 24, '+15875550112'), (3, 2, '+15875550113'),
             (4, 1, '+15875550114'), (5, 0, '+15875550115'), (6, 0, '+15875550116'),
             (7, 50, '+15875550117'), (8, 3, '+15875550118')) v(n, h, c);
update public.voicemails set transcription_status = 'completed', transcription_text = 'Please call me back'
 where call_sid = pg_temp.sid(1);
update public.voicemails set transcription_status = 'failed' where call_sid = pg_temp.sid(2);
update public.voicemails set transcription_status = 'completed', transcription_text = ' ' where call_sid = pg_temp.sid(3);
update public.voicemails set duration_seconds = 150 where call_sid = pg_temp.sid(4);
update public.voicemails set duration_seconds = 2 where call_sid = pg_temp.sid(6);
update public.voicemails set handled_at = now(), handled_by = 'alice' where call_sid = pg_temp.sid(7);
update public.voicemails set recording_sid = null, recording_url = null where call_sid = pg_temp.sid(8);

select results_eq(
  $$select call_sid::text, caller, hours_old, duration_seconds, transcript, no_transcript_reason
      from public.voicemail_backlog$$,
  $$values (pg_temp.sid(1), '+15875550111', 30.00, 30, 'Please call me back', null),
           (pg_temp.sid(2), '+15875550112', 24.00, 30, null, 'transcription failed'),
           (pg_temp.sid(3), '+15875550113', 2.00, 30, null, 'transcription empty'),
           (pg_temp.sid(4), '+15875550114', 1.00, 150, null, 'too long to transcribe (120 s or more)'),
           (pg_temp.sid(5), '+15875550115', 0.00, 30, null, 'transcription pending'),
           (pg_temp.sid(6), '+15875550116', 0.00, 2, null, 'too short to transcribe (2 s or less)')$$,
  'unhandled recorded voicemails, oldest first, transcript or the reason there is none');

select results_eq($$select call_sid::text from public.voicemail_backlog where hours_old > 24$$,
  $$values (pg_temp.sid(1))$$, 'where hours_old > 24: older than a day, exactly 24 h is not');

update public.voicemails set recorded_at = now() - interval '45 minutes', created_at = now() - interval '45 minutes'
 where call_sid = pg_temp.sid(5);
select is((select no_transcript_reason from public.voicemail_backlog where call_sid = pg_temp.sid(5)),
  'no transcription received', 'no transcription 30 minutes after the message: reported as not received');

select * from finish();
rollback;
