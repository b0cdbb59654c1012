-- The resumer on a schedule, as Supabase documents scheduling an edge
-- function: pg_cron runs net.http_post (pg_net) against
-- POST /telephony-provision/transactions/resume every 30 s, with the URL and
-- the admin key read from Vault at run time (nothing secret in this file or
-- in cron.job). Set them once per project:
--
--   select vault.create_secret('https://<ref>.supabase.co/functions/v1', 'hotline_functions_url');
--   select vault.create_secret('<ADMIN_API_KEY>', 'hotline_admin_api_key');
--
-- pg_net and Vault exist on hosted Supabase only. Where either is missing
-- (the local stack, the tests) nothing is scheduled here: the local stack's
-- functions gateway calls the same endpoint on a timer instead
-- (scripts/serve-functions.ts --resume-every), see docs/provisioning.md.

do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_net')
     and exists (select 1 from pg_namespace where nspname = 'vault') then
    create extension if not exists pg_net;
    perform cron.schedule(
      'telephony-transactions-resume',
      '30 seconds',
      $job$
        select net.http_post(
          url := (select decrypted_secret from vault.decrypted_secrets
                   where name = 'hotline_functions_url') || '/telephony-provision/transactions/resume',
          headers := jsonb_build_object(
            'content-type', 'application/json',
            'authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                            where name = 'hotline_admin_api_key')),
          body := '{}'::jsonb,
          timeout_milliseconds := 25000)
        where exists (select 1 from vault.decrypted_secrets where name = 'hotline_admin_api_key')
      $job$);
  else
    raise notice 'pg_net or Vault absent: the provisioning resumer is not scheduled in the database';
  end if;
end
$$;
