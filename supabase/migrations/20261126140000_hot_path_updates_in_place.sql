-- Hot-path updates that Postgres can make in place (HOT: no new index
-- entries, no index bloat). An update is HOT only when no indexed column
-- changes, and a column in a partial index's predicate counts as indexed.

-- No view or function has read call_logs_open_idx since the monitoring views
-- find open calls by `ended_at is null` (call_logs_unfinished_idx). Its
-- predicate on `status` made every status change (ringing → in-progress) write
-- a new entry into each of call_logs' indexes.
drop index if exists public.call_logs_open_idx;

-- rate_limit_state_tat_idx served only the once-a-minute cleanup, and every
-- limiter check moves `tat`: with it, no check could be HOT. The cleanup now
-- reads the table itself (unlogged, one row per key active within its window).
drop index if exists public.rate_limit_state_tat_idx;

-- Room on each page for a row's next versions: most steps of a call update its
-- row, and every check updates its key's row. Applies to pages written from now on.
alter table public.call_logs set (fillfactor = 80);
alter table public.rate_limit_state set (fillfactor = 50);

/**
 * Deletes idle limiter keys (their state equals a fresh key's) and week-old
 * violation counts; returns keys removed. p_batch sizes the violation counts'
 * batches only. The keys go in one statement: without an index on `tat`,
 * batches would each scan the table again, and one transaction held their row
 * locks to the end anyway.
 */
create or replace function public.rate_limit_cleanup(p_batch integer default 5000)
returns integer
language sql
set search_path = ''
as $$
  select public.delete_in_batches('public.rate_limit_violation_counts', $w$hour < now() - interval '7 days'$w$, p_batch);
  with idle as (delete from public.rate_limit_state where tat < clock_timestamp() returning 1)
  select count(*)::int from idle;
$$;
