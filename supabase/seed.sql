-- The demo hotline and its targets. Inserts what is missing and never changes
-- what exists: an operator's routing edits (targets, label, active) survive
-- every later start (scripts/start applies this file each time).
insert into public.telephony_subaccounts (account_sid, friendly_name)
values ('AC00000000000000000000000000000001', 'Demo organisation')
on conflict (account_sid) do nothing;

insert into public.telephony_numbers
  (e164, subaccount_id, label, sales_target, support_target, business_name, business_hours)
select '+15877428885', id, 'Business hotline', '+15875550101', '+15875550102',
       'Demo Hotline Co', 'Mon-Fri 9am-5pm MT'
from public.telephony_subaccounts
where account_sid = 'AC00000000000000000000000000000001'
on conflict (e164) do nothing;
