-- Auto-replies are rate-limited per sender+number pair (3 per hour) and per
-- sender (5 per minute), so two auto-responders texting each other stop.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);

create function pg_temp.auto(p_n integer, p_from text, p_to text) returns text
language sql as $$
  select coalesce(public.sms_reply_answer('SM' || lpad(to_hex(p_n), 32, '0'), null, p_from, p_to, 'hi', 0,
    null, null, 'auto', null)->>'reply', 'silent')
$$;

select is(array(select pg_temp.auto(n, '+17805550301', '+15877428885') from generate_series(1, 5) n),
  array['auto', 'auto', 'auto', 'silent', 'silent'], 'three replies per sender and number, then silence');
select is((select silence_reason from public.sms_messages where message_sid = 'SM' || lpad(to_hex(5), 32, '0')),
  'rate-limited', 'the silence is recorded as rate-limited');

insert into public.telephony_numbers (e164, label) values
  ('+15877420011', 'n1'), ('+15877420012', 'n2'), ('+15877420013', 'n3');
-- One sender across four numbers: the sender's 5 per minute bind before each pair's 3.
select is(array(select pg_temp.auto(100 + n, '+17805550302',
    (array['+15877428885', '+15877420011', '+15877420012', '+15877420013'])[1 + n % 4])
  from generate_series(0, 7) n),
  array['auto', 'auto', 'auto', 'auto', 'auto', 'silent', 'silent', 'silent'],
  'five replies per sender per minute across numbers');
select is((select count(*)::int from public.rate_limit_violations
  where endpoint = 'webcomms-sms-reply' and key_kind in ('caller', 'custom')), 2,
  'refusals show in rate_limit_violations (both senders)');

select * from finish();
rollback;
