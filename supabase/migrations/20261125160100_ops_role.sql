-- The ops role: what an operator may do, and nothing else. NOLOGIN, so nobody
-- signs in as "ops": each person gets their own login role that is a member
-- of it (docs/operations.md, "Access"), and the audit log names the person.
-- The grants themselves are made where each monitoring object is created.
do $$
begin
  if not exists (select from pg_roles where rolname = 'ops') then
    create role ops nologin;
  end if;
end
$$;
comment on role ops is
  'Operators: read the monitoring views, mark voicemails handled. Grant it to a login role per person.';
