-- Hardening of the public schema, checked object by object by
-- supabase/tests/security_catalog.test.sql.
--
-- Hosted Supabase grants every new table, sequence and function in public to
-- anon and authenticated by default, so each migration has had to revoke what
-- it creates. Nothing in this project is for the API roles: stop the default
-- grants at the source, and revoke what earlier migrations left behind
-- (identity sequences were never revoked). supabase/tests/security_catalog
-- checks every object, so a slip is caught rather than relied on.
alter default privileges for role postgres in schema public revoke all on tables from anon, authenticated;
alter default privileges for role postgres in schema public revoke all on sequences from anon, authenticated;
alter default privileges for role postgres in schema public revoke execute on functions from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;

-- The one function left with a search_path taken from the caller.
alter function public.touch_updated_at() set search_path = '';
