-- idempotency_begin/complete: start, replay, mismatch, in progress, release.
begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

select is(public.idempotency_begin('pgtap', 'k', 'fp')->>'outcome', 'started', 'a new key starts');
select is(public.idempotency_begin('pgtap', 'k', 'fp')->>'outcome', 'in_progress', 'a second claim within the lease waits');
select is(public.idempotency_begin('pgtap', 'k', 'other')->>'outcome', 'mismatch', 'another request with the key is refused');
select public.idempotency_complete('pgtap', 'k', 201, '{"id": 1}');
select is(public.idempotency_begin('pgtap', 'k', 'fp')->'response', '{"id": 1}'::jsonb, 'a done key replays its response');
select public.idempotency_begin('pgtap', 'k5', 'fp');
select public.idempotency_complete('pgtap', 'k5', 503, null);
select is(public.idempotency_begin('pgtap', 'k5', 'fp')->>'outcome', 'started', 'a 503 released the key');

select * from finish();
rollback;
