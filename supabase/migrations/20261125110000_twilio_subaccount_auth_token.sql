-- Webhooks for a number inside a Twilio subaccount are signed with that
-- subaccount's auth token, not ours. Provisioning stores the token when it
-- creates the subaccount; the webhook pipeline reads it through
-- twilio_account_auth_token() (cached in the isolate) to verify them.
--
-- The table keeps RLS on with no policies and no grants to anon/authenticated:
-- only the functions' privileged role and operators read it.

alter table public.telephony_subaccounts add column auth_token text;
comment on column public.telephony_subaccounts.auth_token is
  'The subaccount''s Twilio auth token: verifies X-Twilio-Signature on its numbers'' webhooks. Secret.';

/**
 * The auth token that signs webhooks for this subaccount, or null when the
 * account is not one of our active subaccounts (unknown, suspended, closed,
 * or no token stored). One indexed lookup (account_sid is unique).
 */
create function public.twilio_account_auth_token(p_account_sid text) returns text
language sql
stable
set search_path = ''
as $$
  select s.auth_token
    from public.telephony_subaccounts s
   where s.account_sid = p_account_sid
     and s.status = 'active'
$$;
comment on function public.twilio_account_auth_token(text) is
  'Auth token of an active subaccount (for webhook signatures), else null.';

revoke execute on function public.twilio_account_auth_token(text) from public, anon, authenticated;
