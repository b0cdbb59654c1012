-- A call first seen through a callback without From/To (a recording or
-- transcription callback, the fallback path) got `unknown` placeholders that
-- stayed forever. Now the first webhook that carries real values replaces
-- them (and, with the real To, links the hotline number). Real values are
-- never overwritten, and the conflict arm writes only when there is a
-- placeholder to fill, so the common case stays a no-op.

/** A call row for a step that arrives before (or without) the frontdoor's; fills placeholders. */
create or replace function public.call_ensure(p_call_sid text, p_from text, p_to text) returns void
language sql
set search_path = ''
as $$
  insert into public.call_logs as c (call_sid, from_number, to_number, number_id)
  values (p_call_sid, coalesce(nullif(p_from, ''), 'unknown'), coalesce(nullif(p_to, ''), 'unknown'),
          (select n.id from public.telephony_numbers n where n.e164 = nullif(p_to, '') and n.active))
  on conflict (call_sid) do update set
    from_number = case when c.from_number = 'unknown' then excluded.from_number else c.from_number end,
    to_number = case when c.to_number = 'unknown' then excluded.to_number else c.to_number end,
    number_id = case when c.to_number = 'unknown' then excluded.number_id else c.number_id end
  where (c.from_number = 'unknown' and excluded.from_number <> 'unknown')
     or (c.to_number = 'unknown' and excluded.to_number <> 'unknown')
$$;
