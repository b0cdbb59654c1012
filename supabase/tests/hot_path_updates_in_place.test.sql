-- Hot-path updates are made in place (HOT): a limiter check on a known key,
-- and a call's status change before it ends. pg_stat_xact_user_tables counts
-- this transaction's own updates.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);

select public.rate_limit_take('voice-frontdoor', 'caller', '+15875552001');
select public.rate_limit_take('voice-frontdoor', 'caller', '+15875552001');
select is((select (n_tup_upd, n_tup_hot_upd)::text from pg_stat_xact_user_tables
            where relid = 'public.rate_limit_state'::regclass),
  '(1,1)', 'a second check on a key updates its row in place');

select public.voice_frontdoor_answer('CA' || repeat('b1', 16), '', '+15875552002', '+15877428885', 'v2');
select public.voice_status_apply('CA' || repeat('b1', 16), 'AC' || repeat('0', 31) || '1', '+15875552002',
  '+15877428885', 'in-progress', 'answered', 1, now(), null);
select is((select (n_tup_upd, n_tup_hot_upd)::text from pg_stat_xact_user_tables
            where relid = 'public.call_logs'::regclass),
  '(1,1)', 'ringing → in-progress updates the call row in place');
select is((select status::text from public.call_logs where call_sid = 'CA' || repeat('b1', 16)),
  'in-progress', 'and the status is stored');

-- The cleanup still finds idle keys without an index on tat.
insert into public.rate_limit_state (endpoint, key_kind, key, tat)
values ('hot-test', 'custom', 'idle', now() - interval '1 minute'),
       ('hot-test', 'custom', 'active', now() + interval '1 minute');
select public.rate_limit_cleanup();
select is((select array_agg(key) from public.rate_limit_state where endpoint = 'hot-test'),
  array['active'], 'rate_limit_cleanup removes idle keys only');

select * from finish();
rollback;
