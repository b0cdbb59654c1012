-- failed_transactions: every needs_attention transaction, and failed or
-- compensated ones of the last 7 days, with the failing step and Twilio's code.
begin;
create extension if not exists pgtap with schema extensions;
select plan(2);
\ir fixtures/monitoring.sql

select is_empty('select * from public.failed_transactions', 'no transactions: no rows');

insert into public.telephony_transactions (id, kind, status, client, error_code, error_message, twilio_error_code,
                                          attempts, created_at, updated_at) values
  ('00000000-0000-0000-0000-000000000001', 'provision_number', 'needs_attention', 'acme', 'compensation_failed',
   'release failed', null, 3, now() - interval '30 days', now() - interval '30 days'),
  ('00000000-0000-0000-0000-000000000002', 'provision_number', 'compensated', 'beta', 'number_unavailable',
   'number taken', 21422, 1, now() - interval '1 day', now() - interval '1 day'),
  ('00000000-0000-0000-0000-000000000003', 'release_number', 'failed', 'gamma', 'twilio_failed', 'boom', null, 1,
   now() - interval '8 days', now() - interval '7 days'),                                  -- 7 days ago exactly: out
  ('00000000-0000-0000-0000-000000000004', 'provision_number', 'completed', 'delta', null, null, null, 1, now(), now()),
  ('00000000-0000-0000-0000-000000000005', 'provision_number', 'running', 'epsilon', null, null, null, 1, now(), now());
insert into public.telephony_transaction_steps (transaction_id, position, name, status, error_code, twilio_error_code)
values
  ('00000000-0000-0000-0000-000000000001', 1, 'buy_number', 'compensation_failed', 'twilio_failed', 20003),
  ('00000000-0000-0000-0000-000000000001', 2, 'configure_webhooks', 'failed', 'twilio_failed', 21609),
  ('00000000-0000-0000-0000-000000000002', 1, 'buy_number', 'failed', 'number_unavailable', 21422),
  ('00000000-0000-0000-0000-000000000002', 2, 'store_number', 'pending', null, null);

select results_eq(
  $$select transaction_id::text, kind, client, status, failed_step, failed_step_position, compensation_failed_step,
           error_code, twilio_error_code, attempts
      from public.failed_transactions$$,
  $$values ('00000000-0000-0000-0000-000000000001', 'provision_number', 'acme', 'needs_attention',
            'configure_webhooks', 2, 'buy_number', 'compensation_failed', 21609, 3),
           ('00000000-0000-0000-0000-000000000002', 'provision_number', 'beta', 'compensated',
            'buy_number', 1, null, 'number_unavailable', 21422, 1)$$,
  'needs_attention first whatever its age, then recent failures; the failing and failed-undo steps named');

select * from finish();
rollback;
