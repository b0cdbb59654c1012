-- What a text message reply says about the business behind a number. CASL
-- requires a message to identify who sends it; the number's row is the one
-- place that knows, since every provisioned number may belong to another
-- client. Null business_name falls back to the number's label.

alter table public.telephony_numbers
  add column business_name text check (length(business_name) between 1 and 60),
  add column business_hours text check (length(business_hours) between 1 and 60);

comment on column public.telephony_numbers.business_name is
  'The business named in SMS replies from this number (null: the label).';
comment on column public.telephony_numbers.business_hours is
  'When a person answers this number, as SMS replies quote it (e.g. "Mon-Fri 9am-5pm MT"); null: not quoted.';
