#!/usr/bin/env bash
# The Tagdíj story end to end on the embedded defaults: sandbox trust services on loopback, the sandbox
# (TEST) signature policy, files under demo-out/. Run through `make demo` (which builds bin/ first).
# Every server it starts listens on 127.0.0.1 and is stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
OUT=$PWD/demo-out
SB=$OUT/sandbox
rm -rf "$OUT"
mkdir -p "$OUT"

. scripts/demo-lib.sh # step, expect, free_port
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  pids=()
}
trap cleanup EXIT

PORT=$(free_port 18901)
step "1. Sandbox trust services: test PKI, RFC 3161 TSA, OCSP, CRLs on 127.0.0.1:$PORT"
"$BIN/sandbox" init "$SB" --listen "127.0.0.1:$PORT"
"$BIN/sandbox" list "$SB" | sed -n '1,12p'
"$BIN/sandbox" serve "$SB" --listen "127.0.0.1:$PORT" >"$OUT/sandbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  sleep 0.1
done
CFG=$SB/sender-pelda.json

step "2. The payroll clerk generates this month's declaration of 25 members (deterministic, seed 42)"
"$BIN/sender" declaration generate --members 25 --seed 42 --config "$CFG" --out "$OUT/bevallas.xml"

step "3. Validate it: XSD + content rules"
"$BIN/sender" declaration validate "$OUT/bevallas.xml"

step "4. Show the summary sheet and the itemised list (SND-08), and write the printable page"
"$BIN/sender" declaration show "$OUT/bevallas.xml" --limit 8 --html "$OUT/bevallas.html"

step "5. A broken declaration is refused with its D-code"
sed "0,/<Tagdij>/s#<Tagdij>\([0-9]*\)</Tagdij>#<Tagdij>1\1</Tagdij>#" "$OUT/bevallas.xml" > "$OUT/bevallas-hibas.xml"
expect 1 "$BIN/sender" declaration validate "$OUT/bevallas-hibas.xml"

scripts/demo-trust.sh "$SB" "http://127.0.0.1:$PORT"

step "7. Pack: ZIP, encrypt for the fund and for ourselves (CMS, AES-256, RSA-OAEP), e-akta dossier"
"$BIN/sender" pack "$OUT/bevallas.xml" --config "$CFG" --out "$OUT" | tee "$OUT/pack.txt"
PKG=$(sed -n 's#^Fájl / File: *##p' "$OUT/pack.txt")
echo "package: $PKG"

scripts/demo-sign.sh "$SB" "$PKG" "$OUT"
scripts/demo-receiver.sh "$SB" "$PKG" "$OUT"
scripts/demo-processor.sh "$SB" "$PKG" "$OUT"

step "Sandbox down"
cleanup
echo "sandbox stopped"

step "Done"
echo "Printable declaration page: $OUT/bevallas.html"
echo "Package:                    $PKG"
echo "Receipt:                    $OUT/receipt.es3"
echo "Extended (archived):        $OUT/extended.es3"
echo "Back-office hand-off:       $OUT/processor-data/handoff/"
