# shellcheck shell=bash
# A Postgres cluster of our own (initdb/pg_ctl), Supabase's bootstrap, the
# migrations (applied by the Supabase CLI, as on hosted) and the seed.
# Sourced after common.sh and tools.sh.
#
# Roles, as on hosted Supabase: the cluster's superuser is `supabase_admin`
# (it only runs the bootstrap); `postgres`, not a superuser, applies the
# migrations and is what the functions and operators use.

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
    as_pg_user "$PG_BIN/initdb" -D "$data" -U supabase_admin --pwfile="$pwfile" --auth-local=trust \
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

# The dev stack's data directory: .local/postgres, or, when the postgres user
# cannot enter this checkout (e.g. under a 0700 home), a per-checkout folder it
# can reach, linked from .local/.
local_cluster_dir() {
  local data
  mkdir -p "$LOCAL_DIR"
  if pg_user_can_reach "$LOCAL_DIR"; then
    echo "$LOCAL_DIR/postgres"
    return
  fi
  data="${TMPDIR:-/tmp}/hotline-postgres-$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
  mkdir -p "$data" && chown "$(pg_run_user)" "$data" && chmod 700 "$data"
  ln -sfn "$data" "$LOCAL_DIR/postgres"
  say "the postgres user cannot reach $LOCAL_DIR; cluster kept in $data (linked as .local/postgres)"
  echo "$data"
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

# db_urls PORT: sets ADMIN_URL (the superuser, for the bootstrap only) and
# DB_URL (`postgres`, for everything else) of a local cluster.
db_urls() {
  ADMIN_URL="postgresql://supabase_admin:postgres@127.0.0.1:$1/postgres"
  DB_URL="postgresql://postgres:postgres@127.0.0.1:$1/postgres"
}

# Supabase's roles, schemas and privileged extensions, created only where
# missing (hosted Supabase already has them; migrations never depend on this
# file). Needs a superuser's URL. A cluster made before `supabase_admin` owned
# it has a superuser `postgres` and no `supabase_admin` login: then it runs as
# `postgres`.
db_bootstrap() {
  local admin=$1 url=$2
  if ! db_psql "$admin" -c 'select 1' >/dev/null 2>&1; then admin=$url; fi
  db_psql "$admin" -f "$REPO_ROOT/scripts/sql/bootstrap.sql"
}

# supabase CLI with the repo (or SUPABASE_WORKDIR) as its workdir. A database
# on this machine is reached without TLS (the CLI's notice about it is noise);
# any other keeps the CLI's default, so a password never crosses a network
# in clear text.
supabase_cli() {
  local workdir=${SUPABASE_WORKDIR:-$REPO_ROOT}
  if [ -z "${PGSSLMODE:-}" ] && [[ " $* " =~ @(127\.0\.0\.1|localhost)[:/] ]]; then
    (cd "$workdir" && PGSSLMODE=disable "$SUPABASE" "$@")
  else
    (cd "$workdir" && "$SUPABASE" "$@")
  fi
}

# Applies the migrations with `supabase db push`, exactly as on hosted
# Supabase (same history table, same checks). A migration dated before the
# newest applied one is not applied by `db push` (some CLI versions only warn
# and exit 0): every file in supabase/migrations must be in the history table
# afterwards, or this fails.
db_migrate() {
  local url=$1 out applied file version missing=()
  out=$(supabase_cli db push --remote="$url" --yes 2>&1) || { printf '%s\n' "$out" >&2; die "supabase db push failed"; }
  grep -E '^Applying migration' <<<"$out" | sed 's/^/  /' >&2 || true
  applied=$(db_psql "$url" -At -c 'select version from supabase_migrations.schema_migrations' 2>/dev/null || true)
  for file in "${SUPABASE_WORKDIR:-$REPO_ROOT}"/supabase/migrations/*.sql; do
    [ -e "$file" ] || continue
    version=$(basename "$file" | cut -d_ -f1)
    grep -qx "$version" <<<"$applied" || missing+=("$(basename "$file")")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    printf '%s\n' "$out" >&2
    die "supabase db push left migrations unapplied (dated before the newest applied one? give them a newer timestamp): ${missing[*]}"
  fi
}

# The demo hotline: inserts what is missing and never changes what exists, so
# an operator's routing edits survive the next start.
db_seed() {
  [ -f "$REPO_ROOT/supabase/seed.sql" ] && db_psql "$1" -1 -f "$REPO_ROOT/supabase/seed.sql"
  return 0
}
