-- When a voicemail's row goes (retention, or an operator deleting it), the
-- recording still exists at Twilio until someone deletes it there. A trigger
-- writes that obligation to an outbox in the same transaction as the delete,
-- so it cannot be lost; the Twilio REST client claims rows, calls
-- DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.json, and
-- reports back. Claims are leases: a worker that dies loses its rows to the
-- next one after the lease.

create table public.twilio_recording_deletions (
  id bigint generated always as identity primary key,
  recording_sid text not null unique check (recording_sid ~ '^RE[0-9a-f]{32}$'),
  recording_url text,
  -- The account that owns the recording (a subaccount's recordings are
  -- reached under its own AccountSid); null: the main account.
  account_sid text check (account_sid ~ '^AC[0-9a-f]{32}$'),
  call_sid text not null,
  reason text not null,
  enqueued_at timestamptz not null default now(),
  attempts integer not null default 0,
  claimed_by text,
  claimed_until timestamptz,
  not_before timestamptz not null default now(),
  last_error text,
  deleted_at timestamptz
);
comment on table public.twilio_recording_deletions is
  'Outbox: Twilio recordings whose voicemail row was deleted and that must be deleted at Twilio too.';
create index twilio_recording_deletions_pending_idx on public.twilio_recording_deletions (not_before)
  where deleted_at is null;

/** Queues the Twilio deletion of a deleted voicemail's recording (reason from the deleting transaction). */
create function public.voicemail_queue_recording_deletion() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.recording_sid is not null then
    insert into public.twilio_recording_deletions (recording_sid, recording_url, account_sid, call_sid, reason)
    values (old.recording_sid, old.recording_url,
            -- The call row may be going in the same cascade: the URL names the account too.
            coalesce((select account_sid from public.call_logs where call_sid = old.call_sid),
                     substring(old.recording_url from '/Accounts/(AC[0-9a-f]{32})/')),
            old.call_sid, coalesce(nullif(current_setting('hotline.deletion_reason', true), ''), 'deleted'))
    on conflict (recording_sid) do nothing;
  end if;
  return old;
end
$$;
create trigger voicemails_queue_recording_deletion after delete on public.voicemails
  for each row execute function public.voicemail_queue_recording_deletion();

/**
 * Claims up to p_limit pending deletions for p_worker for p_lease_seconds.
 * Concurrent workers get disjoint rows (skip locked). Returns the rows.
 */
create function public.twilio_recording_deletion_claim(
  p_worker text,
  p_limit integer default 20,
  p_lease_seconds integer default 60
) returns setof public.twilio_recording_deletions
language sql
set search_path = ''
as $$
  update public.twilio_recording_deletions d
     set claimed_by = p_worker,
         claimed_until = clock_timestamp() + make_interval(secs => p_lease_seconds),
         attempts = d.attempts + 1
   where d.id in (
     select id from public.twilio_recording_deletions
      where deleted_at is null and not_before <= clock_timestamp()
        and (claimed_until is null or claimed_until < clock_timestamp())
      order by not_before
      limit p_limit
      for update skip locked)
  returning d.*
$$;

/**
 * Reports a claimed deletion's outcome. p_error null: Twilio deleted it (or
 * answered 404: already gone). Otherwise it is retried after
 * p_retry_after_seconds. Returns false when p_worker no longer holds the claim.
 */
create function public.twilio_recording_deletion_finish(
  p_id bigint,
  p_worker text,
  p_error text default null,
  p_retry_after_seconds integer default 300
) returns boolean
language sql
set search_path = ''
as $$
  update public.twilio_recording_deletions
     set deleted_at = case when p_error is null then clock_timestamp() end,
         last_error = left(p_error, 1000),
         not_before = case when p_error is null then not_before
                           else clock_timestamp() + make_interval(secs => p_retry_after_seconds) end,
         claimed_by = null, claimed_until = null
   where id = p_id and claimed_by = p_worker and deleted_at is null
  returning true
$$;

alter table public.twilio_recording_deletions enable row level security;
revoke all on table public.twilio_recording_deletions from anon, authenticated;
revoke execute on function
  public.voicemail_queue_recording_deletion(),
  public.twilio_recording_deletion_claim(text, integer, integer),
  public.twilio_recording_deletion_finish(bigint, text, text, integer)
from public, anon, authenticated;
