-- twilio_account_auth_token(): the token of an active subaccount, else null;
-- never callable by the API roles.
begin;
create extension if not exists pgtap with schema extensions;
select plan(6);

insert into public.telephony_subaccounts (account_sid, friendly_name, status, auth_token) values
  ('AC' || repeat('a', 32), 'active client', 'active', repeat('1', 32)),
  ('AC' || repeat('b', 32), 'suspended client', 'suspended', repeat('2', 32)),
  ('AC' || repeat('c', 32), 'closed client', 'closed', repeat('3', 32)),
  ('AC' || repeat('d', 32), 'client without a token', 'active', null);

select is(public.twilio_account_auth_token('AC' || repeat('a', 32)), repeat('1', 32),
  'an active subaccount''s token');
select is(public.twilio_account_auth_token('AC' || repeat('b', 32)), null, 'suspended: null');
select is(public.twilio_account_auth_token('AC' || repeat('c', 32)), null, 'closed: null');
select is(public.twilio_account_auth_token('AC' || repeat('d', 32)), null, 'no token stored: null');
select is(public.twilio_account_auth_token('AC' || repeat('e', 32)), null, 'unknown account: null');
set local role anon;
select throws_ok($$select public.twilio_account_auth_token('AC' || repeat('a', 32))$$, '42501', null,
  'anon cannot read a token');
reset role;

select * from finish();
rollback;
