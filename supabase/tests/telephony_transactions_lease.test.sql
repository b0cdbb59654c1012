-- The resumer's claim: only expired leases are taken, a live lease never is,
-- leases last at most 30 s, and a number's state change is timestamped.
begin;
create extension if not exists pgtap with schema extensions;
select plan(9);

insert into public.telephony_transactions (id, kind, status, lease_owner, lease_expires_at)
values ('00000000-0000-0000-0000-0000000000e1', 'provision_number', 'running', 'dead', now() - interval '1 second'),
       ('00000000-0000-0000-0000-0000000000e2', 'provision_number', 'running', 'alive', now() + interval '20 seconds'),
       ('00000000-0000-0000-0000-0000000000e3', 'provision_number', 'completed', null, null),
       ('00000000-0000-0000-0000-0000000000e4', 'release_number', 'compensating', null, null);

select set_eq(
  $$select * from public.telephony_transactions_claim_expired('resumer-a', 300, 10)$$,
  $$values ('00000000-0000-0000-0000-0000000000e1'::uuid), ('00000000-0000-0000-0000-0000000000e4'::uuid)$$,
  'the resumer takes expired and unleased open transactions, not live or finished ones'
);
select ok(
  (select bool_and(lease_owner = 'resumer-a' and lease_expires_at <= clock_timestamp() + interval '30 seconds')
     from public.telephony_transactions
    where id in ('00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-0000000000e4')),
  'a lease is capped at 30 s whatever is asked'
);
select is(
  (select attempts from public.telephony_transactions where id = '00000000-0000-0000-0000-0000000000e1'),
  1, 'each takeover is counted'
);
select is_empty(
  $$select * from public.telephony_transactions_claim_expired('resumer-b', 30, 10)$$,
  'a second resumer finds nothing left to take'
);
select is(
  public.telephony_transaction_claim('00000000-0000-0000-0000-0000000000e2', 'someone-else', 30),
  false, 'a live lease is never taken over'
);
select is(
  public.telephony_transaction_claim('00000000-0000-0000-0000-0000000000e2', 'alive', 30),
  true, 'the holder renews its own lease'
);
select is(
  public.telephony_transaction_claim('00000000-0000-0000-0000-0000000000e3', 'anyone', 30),
  false, 'a finished transaction is never taken'
);

insert into public.telephony_numbers (e164, label, state, state_changed_at)
values ('+15870000001', 'lease test', 'provisioning', now() - interval '1 hour');
update public.telephony_numbers set state = 'active' where e164 = '+15870000001';
select ok(
  (select state_changed_at > now() - interval '1 minute' from public.telephony_numbers where e164 = '+15870000001'),
  'a state change stamps state_changed_at'
);
select throws_ok(
  $$insert into public.telephony_numbers (e164, label, state) values ('+15870000002', 'x', 'bought')$$,
  '23514', null, 'number states are the documented ones'
);

select * from finish();
rollback;
