-- The migrations ran (scripts/test: `supabase db push` on a fresh cluster) as
-- `postgres` without superuser, as on hosted Supabase: pg_cron where Supabase
-- documents it, and its jobs scheduled by (and run as) `postgres`.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select is(current_user::text, 'postgres', 'the tests run as postgres');
select is((select rolsuper from pg_roles where rolname = 'postgres'), false,
  'postgres is not a superuser');
select is(
  (select array_agg(distinct pg_get_userbyid(c.relowner)::text) from pg_class c
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'),
  array['postgres'], 'every table, view and sequence in public is owned by postgres'
);
select is((select extnamespace::regnamespace::text from pg_extension where extname = 'pg_cron'),
  'pg_catalog', 'pg_cron lives in pg_catalog, as Supabase documents');
select is(
  (select array_agg(distinct username::text) from cron.job), array['postgres'],
  'the cron jobs were scheduled by postgres'
);

select * from finish();
rollback;
