# shellcheck shell=bash
# Shared set-up for scripts/start and scripts/test: tools, Postgres binaries, the
# unprivileged user Postgres runs as. Sourced, never executed.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL_DIR="$REPO_ROOT/.local"
DENO="$REPO_ROOT/.tools/bin/deno"
SUPABASE="$REPO_ROOT/.tools/bin/supabase"
PG_MAJOR_WANTED=15

say() { printf '\033[1m[hotline]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[hotline] %s\033[0m\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a command as root: directly when we are root, through passwordless sudo
# otherwise; fails (without prompting) when neither is possible.
as_root() {
  if is_root; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"; else return 1; fi
}

# Finds pg_ctl and friends on PATH or under /usr/lib/postgresql/*/bin.
find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/"$PG_MAJOR_WANTED"/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

pg_apt_packages() {
  local major=$1
  echo "postgresql-$major postgresql-$major-cron postgresql-$major-pgtap postgresql-$major-plpgsql-check pgbouncer"
}

# PgBouncer (Debian installs it in /usr/sbin, often not on an ordinary user's PATH).
find_pgbouncer() {
  command -v pgbouncer 2>/dev/null || { [ -x /usr/sbin/pgbouncer ] && echo /usr/sbin/pgbouncer; }
}

# Ensures Postgres with pg_cron, pgTAP and plpgsql_check (for `supabase db
# lint`), and PgBouncer (the tests' transaction-mode pooler). Installs them with apt when we are
# root (or have passwordless sudo); otherwise says exactly what to install.
ensure_postgres() {
  local bin major share
  if bin=$(find_pg_bin); then
    major=$("$bin/pg_config" --version 2>/dev/null | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
    [ -n "$major" ] || major=$(basename "$(dirname "$bin")")
  else
    major=$PG_MAJOR_WANTED
  fi
  share="/usr/share/postgresql/$major/extension"
  if [ -z "$bin" ] || [ ! -f "$share/pg_cron.control" ] || [ ! -f "$share/pgtap.control" ] ||
    [ ! -f "$share/plpgsql_check.control" ] || ! find_pgbouncer >/dev/null; then
    local pkgs
    pkgs=$(pg_apt_packages "$major")
    say "installing $pkgs"
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 ||
      { as_root apt-get update -qq >/dev/null 2>&1 &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1; }; }; then
      die "Postgres $major with pg_cron, pgTAP and plpgsql_check, and PgBouncer are needed. Install them with:
    sudo apt-get update && sudo apt-get install -y $pkgs"
    fi
    bin=$(find_pg_bin) || die "Postgres binaries still not found after installing $pkgs"
  fi
  PG_BIN=$bin
  export PG_BIN
}

# Postgres refuses to run as root. As root we run it as the `postgres` system
# user (created by Debian's package); as anyone else, as ourselves.
pg_run_user() {
  if is_root; then
    id -u postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    echo postgres
  else
    id -un
  fi
}

as_pg_user() {
  if is_root; then runuser -u "$(pg_run_user)" -- "$@"; else "$@"; fi
}

# True when the Postgres user can reach (search) the directory; a repo cloned
# under a 0700 folder of root's is not reachable by the `postgres` user.
pg_user_can_reach() {
  as_pg_user test -x "$1" 2>/dev/null
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  "$DENO" eval 'const l = Deno.listen({ hostname: "127.0.0.1", port: 0 }); console.log((l.addr as Deno.NetAddr).port); l.close();'
}
