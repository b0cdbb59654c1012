-- For every table, view and function in public (whoever's migration made it):
-- RLS on, views security_invoker, functions with a fixed search_path, no
-- SECURITY DEFINER function executable by anon/authenticated, and the ops
-- role reading exactly the views and executing exactly its two functions.
-- Written over the catalog, so a new migration that slips fails here.
begin;
create extension if not exists pgtap with schema extensions;
select plan(11);

create temp view ours as
select c.oid, c.relname, c.relkind, c.relrowsecurity, c.reloptions
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
  and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e');

create temp view our_functions as
select p.oid, p.oid::regprocedure::text as signature, p.prosecdef, p.proconfig, n.nspname
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('public', 'monitoring')
  and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e');

select is(array(select relname::text from ours where relkind in ('r', 'p') and not relrowsecurity order by 1),
  '{}'::text[], 'every table in public has row level security on');

select is(array(select relname::text from ours where relkind = 'v'
                   and not coalesce('security_invoker=true' = any (reloptions), false) order by 1),
  '{}'::text[], 'every view in public is security_invoker');

select is(array(select relname::text from ours where relkind = 'm' order by 1), '{}'::text[],
  'no materialized view in public (they cannot be security_invoker)');

select is(array(select signature from our_functions
                 where not exists (select 1 from unnest(coalesce(proconfig, '{}')) c where c like 'search_path=%')
                 order by 1),
  '{}'::text[], 'every function in public and monitoring has a fixed search_path');

select is(array(select signature from our_functions
                 where prosecdef and (has_function_privilege('anon', oid, 'execute')
                                   or has_function_privilege('authenticated', oid, 'execute'))
                 order by 1),
  '{}'::text[], 'no SECURITY DEFINER function is executable by anon or authenticated');

select is(array(select relname::text from ours
                 where case when relkind <> 'S' then
                         has_table_privilege('anon', oid, 'select,insert,update,delete,truncate,references,trigger')
                      or has_table_privilege('authenticated', oid, 'select,insert,update,delete,truncate,references,trigger') end
                 union all
                 select relname::text from ours
                  where case when relkind = 'S' then has_sequence_privilege('anon', oid, 'usage,select,update')
                               or has_sequence_privilege('authenticated', oid, 'usage,select,update') end
                 order by 1),
  '{}'::text[], 'anon and authenticated hold no privilege on any table, view or sequence');

select is(array(select relname::text from ours where relkind = 'v' and not has_table_privilege('ops', oid, 'select')
                 order by 1),
  '{}'::text[], 'ops may select every view in public');

select is(array(select relname::text || ':' || priv from ours
                 cross join unnest('{select,insert,update,delete,truncate,references,trigger}'::text[]) priv
                 where case when relkind <> 'S' then has_table_privilege('ops', oid, priv) end
                   and not (relkind = 'v' and priv = 'select')
                 union all
                 select relname::text from ours
                  where case when relkind = 'S' then has_sequence_privilege('ops', oid, 'usage,select,update') end
                 order by 1),
  '{}'::text[], 'ops holds no other privilege in public: no table, no sequence, no write to a view');

select is(array(select signature from our_functions where has_function_privilege('ops', oid, 'execute') order by 1),
  array['monitoring.cron_job_runs()', 'voicemail_mark_handled(text,text)'],
  'ops executes exactly voicemail_mark_handled and the cron-health reader');

-- The grants are not enough if a view reads a table directly: read each one as ops
-- (postgres, no superuser, must be a member to SET ROLE; rolled back at the end).
grant ops to postgres;
create function pg_temp.unreadable_by_ops() returns text[] language plpgsql as $$
declare
  v record;
  bad text[] := '{}';
begin
  for v in select relname from ours where relkind = 'v' order by 1 loop
    begin
      set local role ops;
      execute format('select * from public.%I limit 1', v.relname);
      reset role;
    exception when others then
      reset role;
      bad := bad || (v.relname::text || ': ' || sqlerrm);
    end;
  end loop;
  return bad;
end
$$;
select is(pg_temp.unreadable_by_ops(), '{}'::text[], 'ops can actually read every view in public');

set local role anon;
select throws_ok('select * from public.voicemail_backlog', '42501', null, 'anon cannot read a monitoring view');
reset role;

select * from finish();
rollback;
