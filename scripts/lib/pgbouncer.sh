# shellcheck shell=bash
# PgBouncer in transaction mode in front of a local cluster: what the
# functions meet on hosted Supabase's pooler port (6543). Each transaction may
# get a different server connection; session state and start-up parameters it
# does not know (statement_timeout) are refused. Sourced after common.sh.

# pgbouncer_start DIR PORT DB_PORT: runs PgBouncer as the unprivileged
# Postgres user (it refuses to run as root), daemonized, with its files in DIR.
pgbouncer_start() {
  local dir=$1 port=$2 db_port=$3 bin
  bin=$(find_pgbouncer) || die "pgbouncer is not installed (apt-get install pgbouncer)"
  mkdir -p "$dir"
  # Plain-text passwords let PgBouncer do SCRAM with both the client and the server.
  printf '"postgres" "postgres"\n' >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$db_port dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
; After a failed server login PgBouncer waits this long before trying again
; (default 15 s): the restart tests bring Postgres back within a second or two.
server_login_retry = 1
INI
  is_root && chown -R "$(pg_run_user)" "$dir"
  as_pg_user "$bin" -d -q "$dir/pgbouncer.ini" ||
    { tail -n 20 "$dir/pgbouncer.log" >&2 2>/dev/null; die "PgBouncer did not start"; }
  local i
  for i in $(seq 1 50); do port_in_use "$port" && return 0; sleep 0.1; done
  tail -n 20 "$dir/pgbouncer.log" >&2 2>/dev/null
  die "PgBouncer did not listen on $port"
}

pgbouncer_stop() {
  local dir=$1 pid
  [ -f "$dir/pgbouncer.pid" ] || return 0
  pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null) || return 0
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  return 0
}
