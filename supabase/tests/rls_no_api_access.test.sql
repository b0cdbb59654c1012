-- Nothing is readable or writable by the API roles: every table has RLS on,
-- and anon/authenticated hold no privilege on any table, view or function.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select is(
  (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity),
  0, 'every public table has row level security enabled'
);
select is(
  (select count(*)::int from information_schema.role_table_grants
    where table_schema = 'public' and grantee in ('anon', 'authenticated')),
  0, 'anon and authenticated hold no grant on any public table or view'
);
select is(
  (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public'
      and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')),
  0, 'anon and authenticated can execute no public function of ours'
);
set local role anon;
select throws_ok('select * from public.call_logs', '42501', null, 'anon cannot read calls');
reset role;
set local role authenticated;
select throws_ok('select * from public.voicemail_inbox', '42501', null, 'authenticated cannot read voicemails');
reset role;

select * from finish();
rollback;
