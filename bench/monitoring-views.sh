#!/usr/bin/env bash
# The monitoring views on a large history: loads a year of data (one million
# calls and their events, bench/monitoring-views.sql) into a throwaway
# Postgres cluster of its own, then times each of the nine views with
# EXPLAIN ANALYZE, as the ops role. Goal: each under 100 ms.
#
#   .tools/bin/deno task bench:monitoring            (or bash bench/monitoring-views.sh)
#   KEEP=1 …  leaves the cluster running and prints its URL, to explore plans.
#
# Takes a few minutes of both cores: not part of scripts/test.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
source "$REPO_ROOT/scripts/lib/postgres.sh"
cd "$REPO_ROOT"
ensure_postgres

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hotline-bench.XXXXXX")
chmod 755 "$WORK"
PG_DATA="$WORK/pg"
cleanup() { [ "${KEEP:-}" = 1 ] || { pg_cluster_stop "$PG_DATA"; rm -rf "$WORK"; }; }
trap cleanup EXIT

PORT=$(free_port)
mkdir -p "$PG_DATA"
is_root && chown "$(pg_run_user)" "$PG_DATA"
pg_cluster_start "$PG_DATA" "$PORT" throwaway
URL="postgresql://postgres:postgres@127.0.0.1:$PORT/postgres"
wait_for_db "$URL"
db_bootstrap "$URL"
db_migrate "$URL" >/dev/null 2>&1
db_seed "$URL"
# No scheduled job may run in the middle of a measurement.
db_psql "$URL" -c "update cron.job set active = false" >/dev/null

say "loading one million calls and their events"
started=$(date +%s)
db_psql "$URL" -f bench/monitoring-views.sql
say "loaded in $(($(date +%s) - started)) s: $(db_psql "$URL" -At -c "select format('%s calls, %s lifecycle rows, %s analytics events, %s voicemails, database %s',
  (select count(*) from call_logs), (select count(*) from call_lifecycle), (select count(*) from analytics_events),
  (select count(*) from voicemails), pg_size_pretty(pg_database_size(current_database())))")"

QUERIES=(
  "select * from active_calls"
  "select * from call_volume_hourly"
  "select * from recent_errors"
  "select * from rate_limit_violations"
  "select * from failed_transactions"
  "select * from number_provisioning_status"
  "select * from voicemail_backlog"
  "select * from voicemail_backlog where hours_old > 24"
  "select * from call_success_metrics"
  "select * from consent_metrics"
)
# Each query in a session of its own: the first run pays the session's
# one-time costs (catalog caches, time zone data); then the best of 3.
printf '\n| query | rows | first in a new session (ms) | best of next 3 (ms) |\n| --- | ---: | ---: | ---: |\n'
for q in "${QUERIES[@]}"; do
  explain="explain (analyze, timing off, summary on) $q"
  plans=$(db_psql "$URL" -At -c "set role ops" -c "$explain" -c "$explain" -c "$explain" -c "$explain")
  times=$(sed -nE 's/^Execution Time: ([0-9.]+) ms$/\1/p' <<<"$plans")
  rows=$(sed -nE '1s/.*\(actual rows=([0-9]+).*/\1/p' <<<"$plans")
  first=$(head -n 1 <<<"$times")
  best=$(tail -n 3 <<<"$times" | sort -g | head -n 1)
  printf '| `%s` | %s | %s | %s |\n' "$q" "$rows" "$first" "$best"
done
if [ -n "${PLANS:-}" ]; then
  for q in "${QUERIES[@]}"; do
    printf '\n-- %s\n' "$q"
    db_psql "$URL" -At -c "set role ops; explain (analyze, costs off) $q"
  done
fi
[ "${KEEP:-}" = 1 ] && say "cluster kept: $URL (stop: pg_ctl -D $PG_DATA stop)"
exit 0
