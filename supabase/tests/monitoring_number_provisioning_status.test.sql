-- number_provisioning_status: every number with its client, state, when the
-- state changed, and whether its Twilio URLs were last set to this
-- deployment's base URL (operations_settings.public_base_url).
begin;
create extension if not exists pgtap with schema extensions;
select plan(3);
\ir fixtures/monitoring.sql
delete from public.telephony_numbers;

select is_empty('select * from public.number_provisioning_status', 'no numbers: no rows');

update public.operations_settings set public_base_url = 'https://abc.supabase.co/functions/v1';
insert into public.telephony_numbers (e164, label, client, state, state_changed_at, webhook_base_url, active) values
  ('+15875550001', 'A', 'acme', 'active', now() - interval '2 days', 'https://abc.supabase.co/functions/v1/', true),
  ('+15875550002', 'B', 'acme', 'active', now() - interval '1 day', 'https://old.example.com/functions/v1', true),
  ('+15875550003', 'C', 'beta', 'provisioning', now() - interval '90 minutes', null, true),
  ('+15875550004', 'D', 'beta', 'needs_attention', now() - interval '5 minutes', 'https://abc.supabase.co/functions/v1', true),
  ('+15875550005', 'E', 'beta', 'released', now() - interval '3 days', 'https://abc.supabase.co/functions/v1', false);

select results_eq(
  $$select e164::text, client, state, state_changed_at, minutes_in_state, urls_point_here
      from public.number_provisioning_status$$,
  $$values ('+15875550004', 'beta', 'needs_attention', now() - interval '5 minutes', 5, true),
           ('+15875550003', 'beta', 'provisioning', now() - interval '90 minutes', 90, null),
           ('+15875550001', 'acme', 'active', now() - interval '2 days', 2880, true),
           ('+15875550002', 'acme', 'active', now() - interval '1 day', 1440, false),
           ('+15875550005', 'beta', 'released', now() - interval '3 days', 4320, true)$$,
  'needs attention first; URLs compared with the deployment''s base (a trailing slash does not matter)');

update public.operations_settings set public_base_url = null;
select is((select count(*)::int from public.number_provisioning_status where urls_point_here is not null), 0,
  'no deployment base URL set: unknown (null), never a false alarm');

select * from finish();
rollback;
