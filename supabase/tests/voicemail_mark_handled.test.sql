-- voicemail_mark_handled: ops takes a voicemail off the backlog; the first
-- marking is kept, every call is audited with the person's login, and a call
-- without a recorded voicemail is an error.
begin;
create extension if not exists pgtap with schema extensions;
select plan(6);
\ir fixtures/monitoring.sql

select pg_temp.call(1, now() - interval '2 hours', 'voicemail');
select pg_temp.call(2, now() - interval '1 hour', 'voicemail');
select pg_temp.call(3, now() - interval '1 hour', 'abandoned');

-- An operator: a login role of their own, member of the NOLOGIN ops role.
-- pgTAP itself is not theirs to call, so what they see is kept in psql
-- variables and asserted after.
-- The tests run as postgres, which is no superuser (as on hosted Supabase):
-- it switches to the operator's role with SET ROLE, which the audit names.
create role pat_operator login in role ops;
grant pat_operator to postgres;
set local role pat_operator;
select public.voicemail_mark_handled('CA00000000000000000000000000000001', 'called back') as first_mark \gset
select public.voicemail_mark_handled('CA00000000000000000000000000000001', 'again') as second_mark \gset
select string_agg(call_sid, ',') as backlog_as_ops from public.voicemail_backlog \gset
reset role;

select is(:'first_mark'::boolean, true, 'ops marks a voicemail handled');
select is(:'second_mark'::boolean, false, 'marking it again changes nothing');
select is(:'backlog_as_ops', pg_temp.sid(2), 'the handled voicemail left the backlog ops reads');
select throws_ok(format('select public.voicemail_mark_handled(%L)', pg_temp.sid(3)), 'P0002', null,
  'a call without a recorded voicemail is an error');

select results_eq(
  $$select handled_by, handled_note from public.voicemails where call_sid = pg_temp.sid(1)$$,
  $$values ('postgres as pat_operator'::text, 'called back'::text)$$, 'the first marking is kept, naming the person');
select results_eq(
  $$select actor, action, subject, details from public.operator_audit_log order by id$$,
  $$values ('postgres as pat_operator', 'voicemail.mark_handled', pg_temp.sid(1), '{"note": "called back", "already_handled": false}'::jsonb),
           ('postgres as pat_operator', 'voicemail.mark_handled', pg_temp.sid(1), '{"note": "again", "already_handled": true}'::jsonb)$$,
  'every call audited with the login role, the note and whether it was already handled');

select * from finish();
rollback;
