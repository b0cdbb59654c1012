-- Deleting a voicemail queues its Twilio recording's deletion, whoever deletes
-- it; workers claim disjoint rows under a lease and report the outcome.
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);
\ir fixtures/monitoring.sql
delete from public.twilio_recording_deletions;

select pg_temp.call(n, now() - interval '1 hour', 'voicemail') from generate_series(1, 3) n;
update public.call_logs set account_sid = 'AC' || repeat('a', 32) where call_sid = pg_temp.sid(1);
delete from public.voicemails where call_sid = pg_temp.sid(1);
delete from public.call_logs where call_sid = pg_temp.sid(2);   -- the voicemail goes by cascade
select pg_temp.call(4, now(), 'abandoned');
delete from public.call_logs where call_sid = pg_temp.sid(4);   -- no voicemail, nothing to delete

select results_eq(
  $$select call_sid, account_sid, reason from public.twilio_recording_deletions order by call_sid$$,
  $$values (pg_temp.sid(1), 'AC' || repeat('a', 32), 'deleted'),
           (pg_temp.sid(2), 'AC00000000000000000000000000000001', 'deleted')$$,
  'a deleted voicemail, directly or by cascade, queues its recording with its account');

select is((select count(*)::int from public.twilio_recording_deletion_claim('worker-a', 1)), 1, 'worker a claims one');
select is((select count(*)::int from public.twilio_recording_deletion_claim('worker-b', 10)), 1,
  'worker b gets only the other one');
select is((select count(*)::int from public.twilio_recording_deletion_claim('worker-c', 10)), 0,
  'nothing left to claim while the leases run');

select ok(public.twilio_recording_deletion_finish(
  (select id from public.twilio_recording_deletions where claimed_by = 'worker-a'), 'worker-a'),
  'worker a reports the deletion done');
select ok(public.twilio_recording_deletion_finish(
  (select id from public.twilio_recording_deletions where claimed_by = 'worker-b'), 'worker-b', 'HTTP 503', 0),
  'worker b reports a failure, retry at once');
select results_eq(
  $$select call_sid, attempts, last_error from public.twilio_recording_deletion_claim('worker-c', 10)$$,
  $$values (pg_temp.sid(2), 2, 'HTTP 503')$$,
  'the failed one is claimed again, the done one never');
select is(public.twilio_recording_deletion_finish(
  (select id from public.twilio_recording_deletions where call_sid = pg_temp.sid(2)), 'worker-b'), null,
  'a worker that lost its claim cannot finish it');

select * from finish();
rollback;
