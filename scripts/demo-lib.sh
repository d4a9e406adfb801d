# Helpers the demo scripts share (sourced, not run).

# step TITLE: a bold heading for the next part of the story.
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# expect STATUS command...: run the command (its output shown), fail the demo if its exit status differs.
expect() {
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  if [ "$got" != "$want" ]; then echo "demo: expected exit status $want, got $got: $*" >&2; exit 1; fi
}

# free_port FIRST: the first loopback TCP port from FIRST to FIRST+98 nothing listens on.
free_port() {
  local p
  for p in $(seq "$1" "$(( $1 + 98 ))"); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port from $1" >&2; exit 3
}
