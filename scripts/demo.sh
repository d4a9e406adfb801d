#!/usr/bin/env bash
# The Tagdíj story end to end on the embedded defaults. Run through `make demo` (which builds bin/ first).
# Everything it writes goes to demo-out/; every server it starts listens on loopback and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
OUT=$PWD/demo-out
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(seq 18901 18999); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port in 18901-18999" >&2; exit 3
}

step "1. Generate a declaration of 25 members (deterministic, seed 42)"
"$BIN/sender" declaration generate --members 25 --seed 42 --out "$OUT/bevallas.xml"

step "2. Validate it: XSD + content rules"
"$BIN/sender" declaration validate "$OUT/bevallas.xml"

step "3. Show the summary sheet and the itemised list (SND-08), and write the printable page"
"$BIN/sender" declaration show "$OUT/bevallas.xml" --limit 8 --html "$OUT/bevallas.html"

step "4. A broken declaration is refused with its D-code and row"
sed "0,/<Tagdij>/s#<Tagdij>\([0-9]*\)</Tagdij>#<Tagdij>1\1</Tagdij>#" "$OUT/bevallas.xml" > "$OUT/bevallas-hibas.xml" || true
if "$BIN/sender" declaration validate "$OUT/bevallas-hibas.xml"; then
  echo "demo: the broken declaration was accepted" >&2; exit 1
else
  echo "(refused, as it must be)"
fi

if [ -x "$BIN/sandbox" ] && "$BIN/sandbox" --help >/dev/null 2>&1; then
  PORT=$(free_port)
  step "5. Sandbox trust services: test PKI, RFC 3161 TSA, OCSP, CRLs on 127.0.0.1:$PORT"
  "$BIN/sandbox" init "$OUT/sandbox" --listen "127.0.0.1:$PORT"
  "$BIN/sandbox" list "$OUT/sandbox"
  "$BIN/sandbox" serve "$OUT/sandbox" --listen "127.0.0.1:$PORT" >"$OUT/sandbox.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
    sleep 0.1
  done
  if [ -x scripts/demo-trust.sh ]; then
    scripts/demo-trust.sh "$OUT/sandbox" "http://127.0.0.1:$PORT"
  fi
  step "6. Sandbox down"
  cleanup
  pids=()
  echo "sandbox stopped"
fi

step "Done"
echo "Printable declaration page: $OUT/bevallas.html"
