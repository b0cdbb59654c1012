# shellcheck shell=bash
# The pinned developer tools: Deno and the Supabase CLI, both from the npm
# registry (each package ships its platform's binary as an optional
# dependency), pinned in .tools/package-lock.json and installed into .tools/,
# so a fresh machine needs only Node and npm. Sourced after common.sh.

# `npm install`, not `npm ci`: npm records only this platform's binary package
# of the Supabase CLI in the lock, which `npm ci` then rejects as out of sync;
# install still verifies every package against the lock's integrity hashes.
# The lock is committed as npm writes it here; if npm would rewrite it (another
# platform), the committed one is put back so `git status` stays clean.
install_tools() {
  command -v npm >/dev/null || die "npm is required to install Deno and the Supabase CLI (apt-get install nodejs npm)"
  local lock="$REPO_ROOT/.tools/package-lock.json" saved
  saved=$(mktemp)
  cp "$lock" "$saved"
  say "installing Deno and the Supabase CLI from the npm registry into .tools/"
  (cd "$REPO_ROOT/.tools" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
    { rm -f "$saved"; die "npm install in .tools/ failed"; }
  if ! cmp -s "$saved" "$lock"; then
    say "npm would rewrite .tools/package-lock.json on this platform; the committed lock is kept"
    cp "$saved" "$lock"
  fi
  rm -f "$saved"
  mkdir -p "$REPO_ROOT/.tools/bin"
}

# Links .tools/bin/NAME to the platform binary the package installed, so no
# Node wrapper sits between Ctrl-C and the tool (nor costs a start-up per call).
link_tool() { # link_tool NAME RELATIVE_BINARY...
  local name=$1 rel path
  shift
  for rel in "$@"; do
    # shellcheck disable=SC2086 # RELATIVE_BINARY may hold a glob
    for path in "$REPO_ROOT"/.tools/node_modules/$rel; do
      if [ -x "$path" ]; then
        ln -sfn "../${path#"$REPO_ROOT"/.tools/}" "$REPO_ROOT/.tools/bin/$name"
        return 0
      fi
    done
  done
  return 1
}

tool_works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

# The pinned version of a tool, from .tools/package.json.
pinned_version() {
  sed -nE "s/^ *\"$1\": *\"([^\"]+)\".*/\\1/p" "$REPO_ROOT/.tools/package.json" | head -n 1
}

ensure_deno() {
  tool_works "$DENO" && return 0
  install_tools
  # The deno package's bin is a Node wrapper; its first run puts the platform's
  # binary in place (node_modules/deno/deno), which we then call directly.
  node "$REPO_ROOT/.tools/node_modules/deno/bin.cjs" --version >/dev/null 2>&1 || true
  link_tool deno "deno/deno" "@deno/*/bin/deno" "@deno/*/deno" || ln -sfn ../node_modules/.bin/deno "$DENO"
  tool_works "$DENO" || die "Deno did not install: see .tools/node_modules/deno"
}

# True when .tools/bin/supabase runs and is the pinned version.
supabase_is_pinned() {
  tool_works "$SUPABASE" && [ "$("$SUPABASE" --version 2>/dev/null)" = "$(pinned_version supabase)" ]
}

ensure_supabase() {
  supabase_is_pinned && return 0
  # Installed with Deno a moment ago, only not linked yet?
  link_tool supabase "@supabase/cli-*/bin/supabase" && supabase_is_pinned && return 0
  install_tools
  link_tool supabase "@supabase/cli-*/bin/supabase" ||
    die "the Supabase CLI's platform binary is missing: see .tools/node_modules/@supabase"
  supabase_is_pinned || die "the Supabase CLI did not install: see .tools/node_modules/supabase"
}
