-- The demo hotline and its targets. Safe to apply again: it converges.
insert into public.telephony_subaccounts (account_sid, friendly_name)
values ('AC00000000000000000000000000000001', 'Demo organisation')
on conflict (account_sid) do update set friendly_name = excluded.friendly_name;

insert into public.telephony_numbers
  (e164, subaccount_id, label, sales_target, support_target, business_name, business_hours)
select '+15877428885', id, 'Business hotline', '+15875550101', '+15875550102',
       'Demo Hotline Co', 'Mon-Fri 9am-5pm MT'
from public.telephony_subaccounts
where account_sid = 'AC00000000000000000000000000000001'
on conflict (e164) do update
  set label = excluded.label,
      sales_target = excluded.sales_target,
      support_target = excluded.support_target,
      subaccount_id = excluded.subaccount_id,
      business_name = excluded.business_name,
      business_hours = excluded.business_hours,
      active = true;
