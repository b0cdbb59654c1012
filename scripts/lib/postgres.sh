# shellcheck shell=bash
# A Postgres cluster of our own (initdb/pg_ctl), plus bootstrap, migrations and
# seed applied with psql. Sourced after common.sh.

PSQL_OPTS=(-X -q -v ON_ERROR_STOP=1 --no-psqlrc)

# pg_cluster_start DATA_DIR PORT MODE: MODE "durable" for the dev stack,
# "throwaway" for tests (fsync off: a crash only loses a database we drop anyway).
pg_cluster_start() {
  local data=$1 port=$2 mode=$3 user
  user=$(pg_run_user)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    is_root && chown "$user" "$data"
    chmod 700 "$data"
    local pwfile
    pwfile=$(mktemp)
    echo postgres >"$pwfile"
    is_root && chown "$user" "$pwfile"
    as_pg_user "$PG_BIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" --auth-local=trust \
      --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 ||
      { rm -f "$pwfile"; cat "$data.initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile" "$data.initdb.log"
    {
      echo "# written by scripts/lib/postgres.sh"
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$data'"
      echo "shared_preload_libraries = 'pg_cron'"
      echo "cron.database_name = 'postgres'"
      echo "max_connections = 400"
      echo "shared_buffers = '256MB'"
      echo "log_min_messages = warning"
      echo "log_min_error_statement = panic"
      if [ "$mode" = throwaway ]; then
        echo "fsync = off"
        # On, as in production: with fsync off a commit only waits for a write()
        # to the OS, and the fault tests' immediate shutdown then loses nothing
        # that was acknowledged. Off, the soak "lost" stored callbacks that
        # Postgres had dropped after saying COMMIT (tests/reliability/soak.test.ts).
        echo "synchronous_commit = on"
        echo "full_page_writes = off"
      fi
    } | as_pg_user tee -a "$data/postgresql.conf" >/dev/null
  fi
  # pg_cron's default is to log in over TCP, which our password auth refuses;
  # background workers run the jobs inside the server instead. Added to
  # clusters made before this line existed, too.
  if ! grep -q '^cron.use_background_workers' "$data/postgresql.conf" 2>/dev/null; then
    printf "cron.use_background_workers = on\nmax_worker_processes = 16\n" |
      as_pg_user tee -a "$data/postgresql.conf" >/dev/null
  fi
  # The port lives on the command line, not in the conf, so one data dir can be
  # started on whatever port the caller chose.
  as_pg_user "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port" -w -t 30 start >/dev/null ||
    { tail -n 20 "$data/server.log" >&2; die "Postgres did not start (log: $data/server.log)"; }
}

pg_cluster_stop() {
  local data=$1
  [ -f "$data/postmaster.pid" ] || return 0
  as_pg_user "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

db_psql() {
  local url=$1; shift
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" "$PG_BIN/psql" "${PSQL_OPTS[@]}" -d "$url" "$@"
}

wait_for_db() {
  local url=$1 i
  for i in $(seq 1 50); do
    db_psql "$url" -c 'select 1' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "database at ${url%%@*}@… did not answer"
}

# Supabase's roles and schemas, created only where missing (hosted Supabase
# already has them; migrations never depend on this file).
db_bootstrap() {
  db_psql "$1" -f "$REPO_ROOT/scripts/sql/bootstrap.sql"
}

# Applies every migration not yet recorded, each in its own transaction, and
# records it where the Supabase CLI does (supabase_migrations.schema_migrations).
db_migrate() {
  local url=$1 file name version applied
  db_psql "$url" -c "create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations
      (version text primary key, statements text[], name text);"
  applied=$(db_psql "$url" -At -c 'select version from supabase_migrations.schema_migrations')
  for file in "$REPO_ROOT"/supabase/migrations/*.sql; do
    [ -e "$file" ] || continue
    name=$(basename "$file" .sql)
    version=${name%%_*}
    grep -qx "$version" <<<"$applied" && continue
    db_psql "$url" -1 -o /dev/null -f "$file" \
      -c "insert into supabase_migrations.schema_migrations (version, name) values ('$version', '${name#*_}')" ||
      die "migration $name failed"
    say "applied migration $name"
  done
}

db_seed() {
  [ -f "$REPO_ROOT/supabase/seed.sql" ] && db_psql "$1" -1 -f "$REPO_ROOT/supabase/seed.sql"
  return 0
}
