-- Supabase's roles, schemas and privileged extensions for a plain Postgres,
-- created only where missing. Runs as a superuser (locally `supabase_admin`,
-- the cluster's owner, as on hosted Supabase). Hosted Supabase has all of
-- this; migrations must not rely on anything here that hosted lacks.
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit password 'postgres';
  end if;
  if not exists (select from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin login superuser createdb createrole replication bypassrls password 'postgres';
  end if;
  -- Hosted Supabase's `postgres` is not a superuser: the migrations, the
  -- functions and operators all work as this role, so locally it is the same.
  -- (A cluster made before this line has a superuser `postgres`; scripts/reset
  -- --cluster remakes it.)
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres login createdb createrole replication bypassrls password 'postgres';
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;
-- Terminating and cancelling its own sessions, reading statistics: as hosted.
grant pg_signal_backend, pg_read_all_stats to postgres;

alter database postgres owner to postgres;

create schema if not exists extensions authorization postgres;
create schema if not exists auth;
grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;

-- Supabase exposes extension functions through the search path.
alter database postgres set search_path = "$user", public, extensions;

-- pg_cron and plpgsql_check need a superuser to create. Hosted Supabase lets
-- `postgres` create them (its supautils extension runs the command as a
-- superuser); here the bootstrap does it, where Supabase documents pg_cron
-- (schema pg_catalog), and grants the cron schema to `postgres` as hosted
-- does, so a migration's `create extension if not exists pg_cron with schema
-- pg_catalog` is a no-op and its `cron.schedule` runs as `postgres`.
create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres;
grant all privileges on all tables in schema cron to postgres;
grant all privileges on all sequences in schema cron to postgres;
create extension if not exists plpgsql_check with schema extensions;

-- Hosted Supabase grants new tables, sequences and functions in public to its
-- API roles by default; do the same here, so that the migrations' revokes are
-- tested against the same defaults they meet in production.
alter default privileges for role postgres in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant execute on functions to anon, authenticated, service_role;
