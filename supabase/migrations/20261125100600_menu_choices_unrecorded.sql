-- menu_choices_daily counted an opt-out only as `menu.opt_out`. A 0 that ends
-- the menu (at the repeat cap) is recorded as `menu.unrecorded_goodbye` with
-- digits 0, and is an opt-out too; and callers who pressed 0 and then reached
-- the end of the menu (no voicemail for them) get a column of their own.
create or replace view public.menu_choices_daily with (security_invoker = true) as
select date_trunc('day', occurred_at) as day,
       count(*) filter (where event_type = 'menu.sales') as sales,
       count(*) filter (where event_type = 'menu.support') as support,
       count(*) filter (where event_type = 'menu.voicemail') as voicemail,
       count(*) filter (where event_type = 'menu.repeat') as repeats,
       count(*) filter (where event_type = 'menu.retry') as retries,
       count(*) filter (where event_type = 'menu.opt_out'
                          or (event_type = 'menu.unrecorded_goodbye' and properties->>'digits' = '0'))
         as recording_opt_outs,
       count(*) filter (where event_type = 'menu.unrecorded_goodbye') as unrecorded_goodbyes
from public.analytics_events
where event_type like 'menu.%'
group by 1 order by 1 desc;
comment on view public.menu_choices_daily is
  'Per day: what callers pressed in the menu; unrecorded_goodbyes: callers who pressed 0 reached the end of the menu (no voicemail for them).';
revoke all on table public.menu_choices_daily from anon, authenticated;
