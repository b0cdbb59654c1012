-- menu_choices_daily counts every 0 as an opt-out, also the 0 that ends the
-- menu, and shows callers who pressed 0 and reached the end of the menu.
begin;
create extension if not exists pgtap with schema extensions;
select plan(2);

delete from public.analytics_events where event_type like 'menu.%' and occurred_at >= date_trunc('day', now());
select public.voice_frontdoor_answer('CA' || repeat('0', 31) || '1', '', '+15875550011', '+15877428885', 'v2');
select public.voice_menu_choice('CA' || repeat('0', 31) || '1', '', '', 'opt-out', '0', 1, 'k-1', '+15875550101', '+15875550102');
select public.voice_menu_choice('CA' || repeat('0', 31) || '1', '', '', 'unrecorded-goodbye', '9', 1, 'k-2', '+15875550101', '+15875550102');
select public.voice_frontdoor_answer('CA' || repeat('0', 31) || '2', '', '+15875550012', '+15877428885', 'v2');
select public.voice_menu_choice('CA' || repeat('0', 31) || '2', '', '', 'unrecorded-goodbye', '0', 1, 'k-3', '+15875550101', '+15875550102');

select is((select recording_opt_outs::int from public.menu_choices_daily where day = date_trunc('day', now())), 2,
  'both 0 presses are opt-outs (one of them ended the menu)');
select is((select unrecorded_goodbyes::int from public.menu_choices_daily where day = date_trunc('day', now())), 2,
  'both callers reached the end of the menu without a voicemail');

select * from finish();
rollback;
