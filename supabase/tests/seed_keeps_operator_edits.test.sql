-- The seed runs on every start: it must add what is missing and never undo an
-- operator's routing edits.
begin;
create extension if not exists pgtap with schema extensions;
select plan(3);

update public.telephony_numbers
set sales_target = '+15875559999', label = 'Edited by an operator', active = false
where e164 = '+15877428885';
update public.telephony_subaccounts set friendly_name = 'Renamed'
where account_sid = 'AC00000000000000000000000000000001';

\ir ../seed.sql

select is(
  (select (sales_target, label, active)::text from public.telephony_numbers where e164 = '+15877428885'),
  '(+15875559999,"Edited by an operator",f)',
  'a second seed keeps the edited target, label and active flag'
);
select is(
  (select friendly_name from public.telephony_subaccounts
    where account_sid = 'AC00000000000000000000000000000001'),
  'Renamed', 'a second seed keeps the renamed subaccount'
);

delete from public.telephony_numbers where e164 = '+15877428885';
\ir ../seed.sql
select is(
  (select sales_target from public.telephony_numbers where e164 = '+15877428885'),
  '+15875550101', 'a missing hotline number is inserted again'
);

select * from finish();
rollback;
