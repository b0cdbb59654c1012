-- rate_limit_take admits the policy's number of requests, then refuses with a retry time.
begin;
create extension if not exists pgtap with schema extensions;
select plan(6);

insert into public.rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode)
values ('pgtap', 'custom', 3, 60, 'closed');

select is((select count(*)::int from generate_series(1, 5) g
  where (public.rate_limit_take('pgtap', 'custom', 'k')->>'allowed')::boolean), 3, 'three of five admitted');
insert into public.rate_limit_policies (endpoint, key_kind, max_requests, window_seconds, failure_mode)
values ('pgtap-odd', 'custom', 7, 60, 'closed');
select is((select count(*)::int from generate_series(1, 10) g
  where (public.rate_limit_take('pgtap-odd', 'custom', 'k')->>'allowed')::boolean), 7,
  'a full burst gets the whole allowance when the window does not divide evenly (60 s / 7)');
select ok((select r between 1 and 20 from
    (select (public.rate_limit_take('pgtap', 'custom', 'k')->>'retry_after_seconds')::int as r offset 0) once),
  'a refusal says when to retry (one request''s share of the window)');
select ok((public.rate_limit_take('pgtap', 'custom', 'other')->>'allowed')::boolean, 'keys are independent');
select is((select count(*)::int from public.rate_limit_state where endpoint = 'pgtap'), 2, 'one row per key');
select is((select denied::int from public.rate_limit_violations where endpoint = 'pgtap'), 3,
  'refusals are counted for the violations view');

select * from finish();
rollback;
