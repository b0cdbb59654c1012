-- Hidden callers share a bucket of their own, larger than one caller's: eleven
-- hidden calls in a minute are all answered (one caller number gets ten).
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);

select is((select count(*)::int from generate_series(1, 11) i
  where public.voice_frontdoor_answer('CA' || lpad(to_hex(i), 32, 'e'), '',
    (array['anonymous', 'Restricted', 'unavailable', '', '+266696687'])[1 + i % 5], '+15877428885',
    'v2')->>'action' = 'menu'), 11,
  'eleven hidden callers in a minute are all answered');
select is((select count(*)::int from public.rate_limit_state
  where endpoint = 'voice-frontdoor' and key_kind = 'custom' and key = 'hidden-callers'), 1,
  'they are counted in one bucket of their own');
select is((select count(*)::int from generate_series(1, 11) i
  where public.voice_frontdoor_answer('CA' || lpad(to_hex(i), 32, 'f'), '', '+15875551313', '+15877428885',
    'v2')->>'action' = 'reject'), 1,
  'a shown number still gets its own ten a minute');
select ok(public.caller_is_hidden(' ANONYMOUS ') and not public.caller_is_hidden('+15875551313'),
  'hidden is decided case-insensitively, and a real number is not hidden');

select * from finish();
rollback;
