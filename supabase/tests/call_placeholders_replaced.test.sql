-- A call first seen through a callback without From/To gets `unknown`
-- placeholders; the first webhook with real values replaces them, and real
-- values are never overwritten afterwards.
begin;
create extension if not exists pgtap with schema extensions;
select plan(6);

-- The fallback path: the recording callback is the first we hear of the call.
select public.voice_voicemail_save('CA' || repeat('9', 32), '', '',
  'RE' || repeat('a', 32), 'https://api.twilio.com/r', 12, null, null, null);
select is((select from_number || ' ' || to_number from public.call_logs where call_sid = 'CA' || repeat('9', 32)),
  'unknown unknown', 'a callback without From/To leaves placeholders');

select public.voice_status_apply('CA' || repeat('9', 32), '', '+15875559999', '+15877428885',
  'completed', 'completed', 3, now(), 40);
select is((select from_number from public.call_logs where call_sid = 'CA' || repeat('9', 32)),
  '+15875559999', 'the first webhook with a From replaces the placeholder');
select is((select to_number from public.call_logs where call_sid = 'CA' || repeat('9', 32)),
  '+15877428885', 'and its To too');
select is((select number_id from public.call_logs where call_sid = 'CA' || repeat('9', 32)),
  (select id from public.telephony_numbers where e164 = '+15877428885'), 'the real To links the hotline number');

select public.voice_status_apply('CA' || repeat('9', 32), '', '+15875550000', '+15875550001',
  'completed', 'completed', 4, now(), 40);
select is((select from_number || ' ' || to_number from public.call_logs where call_sid = 'CA' || repeat('9', 32)),
  '+15875559999 +15877428885', 'real values are never overwritten');

-- A frontdoor arriving after a callback fills them too.
select public.voice_status_apply('CA' || repeat('a', 32), '', '', '', 'ringing', 'ringing', 1, now(), null);
select public.voice_frontdoor_answer('CA' || repeat('a', 32), '', '+15875551010', '+15877428885', 'v2');
select is((select from_number || ' ' || to_number from public.call_logs where call_sid = 'CA' || repeat('a', 32)),
  '+15875551010 +15877428885', 'the frontdoor replaces placeholders too');

select * from finish();
rollback;
