#!/usr/bin/env bash
# The benchmark suite (`deno task bench`): installs what it needs, starts a
# throwaway Postgres with pg_stat_statements, and runs bench/suite.ts, which
# prints the table and rewrites docs/benchmarks.md and its chart.
#
#   deno task bench [--seconds N] [--memory-seconds N] [--cold-runs N] [--clients N]
#
# Works as root (Postgres runs as the `postgres` user) and as any other user.
# On a shared machine, take the machine-wide lock around it:
#   flock /work/wt/loadtest.lock deno task bench
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
source "$REPO_ROOT/scripts/lib/tools.sh"
source "$REPO_ROOT/scripts/lib/postgres.sh"
cd "$REPO_ROOT"

ensure_deno
ensure_postgres
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { as_root apt-get update -qq >/dev/null 2>&1 &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1; }; } ||
    die "wrk is needed. Install it with: sudo apt-get update && sudo apt-get install -y wrk"
fi
[ -x "$PG_BIN/pgbench" ] || die "pgbench not found in $PG_BIN (it ships with postgresql-$PG_MAJOR_WANTED)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hotline-bench.XXXXXX")
chmod 755 "$WORK"
PG_DATA="$WORK/pg"
cleanup() {
  set +e
  pg_cluster_stop "$PG_DATA"
  rm -rf "$WORK"
}
trap cleanup EXIT

DB_PORT=$(free_port)
say "throwaway Postgres with pg_stat_statements on 127.0.0.1:$DB_PORT"
mkdir -p "$PG_DATA"
is_root && chown "$(pg_run_user)" "$PG_DATA"
pg_cluster_start "$PG_DATA" "$DB_PORT" throwaway
# pg_stat_statements must be preloaded: a later line in the conf wins, so a
# restart picks it up beside pg_cron. It tracks top-level statements only;
# the suite counts nested ones (track = all) just while it counts statements
# per webhook: tracking every nested statement costs the step functions time
# the insert ceiling does not pay.
printf "shared_preload_libraries = 'pg_cron,pg_stat_statements'\n" |
  as_pg_user tee -a "$PG_DATA/postgresql.conf" >/dev/null
as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -o "-p $DB_PORT" -w -t 30 restart >/dev/null
# The cluster's superuser is supabase_admin; `postgres` exists once bootstrapped.
db_urls "$DB_PORT"
wait_for_db "$ADMIN_URL"
db_bootstrap "$ADMIN_URL" "$DB_URL"
db_migrate "$DB_URL" >/dev/null
db_seed "$DB_URL"

"$DENO" cache --quiet bench/suite.ts supabase/functions/*/index.ts bench/fixtures/*.ts >/dev/null
"$DENO" run --allow-all bench/suite.ts --db-url "$DB_URL" --admin-url "$ADMIN_URL" --pg-bin "$PG_BIN" \
  --command "deno task bench${*:+ $*}" "$@"
