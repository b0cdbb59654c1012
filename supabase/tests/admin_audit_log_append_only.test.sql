-- The admin audit log accepts inserts and refuses every change, for every role.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);

insert into public.admin_audit_log (function_slug, actor, method, path, status, outcome)
values ('telephony-provision', 'anonymous', 'POST', '/numbers', 401, 'admin_key_missing');
select is((select count(*)::int from public.admin_audit_log where outcome = 'admin_key_missing' and path = '/numbers'
            and occurred_at >= now()), 1, 'an entry is appended');
select throws_ok($$update public.admin_audit_log set outcome = 'ok'$$, '42501', null, 'update is refused');
select throws_ok($$delete from public.admin_audit_log$$, '42501', null, 'delete is refused');
select throws_ok($$truncate public.admin_audit_log$$, '42501', null, 'truncate is refused');

select * from finish();
rollback;
