-- PIPEDA: a caller who pressed 0 is `declined`, whatever the menu did with the
-- key and whatever they choose after it; nothing may be recorded for them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);

-- `* * * 0`: the 0 hits the repeat cap. Before, the menu called that voicemail
-- and consent became granted/implied; the key still declines.
select public.voice_frontdoor_answer('CA' || repeat('4', 32), '', '+15875554444', '+15877428885', 'v2');
select public.voice_menu_choice('CA' || repeat('4', 32), '', '', 'repeat', '*', 1, 'k-m1', '+15875550101', '+15875550102');
select public.voice_menu_choice('CA' || repeat('4', 32), '', '', 'repeat', '*', 1, 'k-m2', '+15875550101', '+15875550102');
select public.voice_menu_choice('CA' || repeat('4', 32), '', '', 'repeat', '*', 1, 'k-m3', '+15875550101', '+15875550102');
select is((public.voice_menu_choice('CA' || repeat('4', 32), '', '', 'voicemail', '0', 1, 'k-m4',
  '+15875550101', '+15875550102')->>'record')::boolean, false, 'a 0 that ends the menu allows no recording');
select is((select state::text || '/' || basis from public.call_recording_consent where call_sid = 'CA' || repeat('4', 32)),
  'declined/opt-out-key', '* * * 0 is declined, not granted/implied');

-- 0, then 1: the dial is not recorded, and no voicemail follows an unanswered dial.
select public.voice_frontdoor_answer('CA' || repeat('5', 32), '', '+15875555555', '+15877428885', 'v2');
select public.voice_menu_choice('CA' || repeat('5', 32), '', '', 'opt-out', '0', 1, 'k-5a', '+15875550101', '+15875550102');
select is((public.voice_menu_choice('CA' || repeat('5', 32), '', '', 'sales', '1', 1, 'k-5b',
  '+15875550101', '+15875550102')->>'record')::boolean, false, 'a dial after 0 is not recorded');
select is((select state::text from public.call_recording_consent where call_sid = 'CA' || repeat('5', 32)),
  'declined', 'a choice after 0 never turns consent into granted');
select is((public.voice_dial_outcome('CA' || repeat('5', 32), '', '', 'no-answer', 0)->>'voicemail_allowed')::boolean,
  false, 'after 0, an unanswered dial allows no voicemail');

-- The opt-out choice for a caller who pressed 0 earlier declines on its own too.
select public.voice_frontdoor_answer('CA' || repeat('6', 32), '', '+15875556666', '+15877428885', 'v2');
select public.voice_menu_choice('CA' || repeat('6', 32), '', '', 'unrecorded-goodbye', '9', 1, 'k-6a',
  '+15875550101', '+15875550102');
select is((select state::text from public.call_recording_consent where call_sid = 'CA' || repeat('6', 32)),
  'declined', 'unrecorded-goodbye declines');

-- Without a consent row (the frontdoor's step was lost), the 0 still counts.
select public.voice_menu_choice('CA' || repeat('7', 32), '+15875557777', '+15877428885', 'opt-out', '0', 1, 'k-7',
  '+15875550101', '+15875550102');
select is((select state::text || '/' || basis from public.call_recording_consent where call_sid = 'CA' || repeat('7', 32)),
  'declined/opt-out-key', 'a 0 with no consent row yet writes a declined row');

-- Without a 0, an answered choice is implied consent, and a voicemail is allowed.
select public.voice_frontdoor_answer('CA' || repeat('8', 32), '', '+15875558888', '+15877428885', 'v2');
select public.voice_menu_choice('CA' || repeat('8', 32), '', '', 'support', '2', 1, 'k-8a', '+15875550101', '+15875550102');
select is((public.voice_dial_outcome('CA' || repeat('8', 32), '', '', 'busy', 0)->>'voicemail_allowed')::boolean,
  true, 'with implied consent an unanswered dial goes to voicemail');

select * from finish();
rollback;
