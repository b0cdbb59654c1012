-- Operators mark a voicemail handled (called back, passed on), so
-- voicemail_backlog shrinks; every such action is written to an audit log
-- naming the person who did it.

alter table public.voicemails add column handled_at timestamptz;
alter table public.voicemails add column handled_by text;
alter table public.voicemails add column handled_note text check (length(handled_note) <= 1000);
-- The backlog is the few unhandled voicemails among many handled ones.
create index voicemails_backlog_idx on public.voicemails ((coalesce(recorded_at, created_at)))
  where handled_at is null and recording_sid is not null;

create table public.operator_audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  -- session_user: the person's own login role (ops is NOLOGIN), even inside
  -- a SECURITY DEFINER function where current_user is the function's owner;
  -- with "as <role>" when that login had switched role (SET ROLE).
  actor text not null,
  action text not null check (action ~ '^[a-z][a-z0-9_.]{1,63}$'),
  subject text not null,
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object')
);
comment on table public.operator_audit_log is 'What operators changed through the ops functions, by whom, when.';
create index operator_audit_log_occurred_idx on public.operator_audit_log (occurred_at desc);

/**
 * Marks the voicemail of p_call_sid handled, with an optional note. Returns
 * true when it was marked now, false when it already was (the first marking
 * is kept). Raises P0002 when the call has no recorded voicemail. Audited.
 * SECURITY DEFINER so that ops can call it without any right on the tables.
 */
create function public.voicemail_mark_handled(p_call_sid text, p_note text default null)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_marked boolean;
  -- The login, and the role it switched to if any: SET ROLE leaves session_user
  -- alone, and a SECURITY DEFINER function hides current_user.
  v_actor text := session_user || coalesce(
    ' as ' || nullif(nullif(current_setting('role'), 'none'), session_user::text), '');
begin
  if not exists (select 1 from public.voicemails where call_sid = p_call_sid and recording_sid is not null) then
    raise exception 'no recorded voicemail for call %', p_call_sid using errcode = 'P0002';
  end if;
  update public.voicemails
     set handled_at = now(), handled_by = v_actor, handled_note = left(p_note, 1000)
   where call_sid = p_call_sid and handled_at is null
  returning true into v_marked;
  insert into public.operator_audit_log (actor, action, subject, details)
  values (v_actor, 'voicemail.mark_handled', p_call_sid,
          jsonb_build_object('note', left(p_note, 1000), 'already_handled', v_marked is null));
  return coalesce(v_marked, false);
end
$$;

alter table public.operator_audit_log enable row level security;
revoke all on table public.operator_audit_log from anon, authenticated;
revoke execute on function public.voicemail_mark_handled(text, text) from public, anon, authenticated;
grant execute on function public.voicemail_mark_handled(text, text) to ops;
