#!/usr/bin/env bash
# Demo, part 4: the fund's receiver. Usage: demo-receiver.sh SANDBOX_DIR PACKAGE OUTDIR (called by
# demo.sh after demo-sign.sh, while `sandbox serve` runs). The fund registers the employer and its
# signers, starts the HTTPS receiver on loopback (the sandbox's fund-tls certificate), the employer
# sends the signed package with `sender send` and gets a signed, time-stamped receipt, verified and
# kept in its records; a retry gets the same receipt; a tampered package and a garbage upload get
# signed rejection receipts; the receiver stops gracefully on SIGTERM.
set -euo pipefail
SB=$1
PKG=$2
OUT=$3
BIN=$(cd "$(dirname "$0")/.." && pwd)/bin
. "$(dirname "$0")/demo-lib.sh" # step, expect, free_port
RCFG=$SB/receiver.json
export TAGDIJ_RECEIVER_LISTEN=127.0.0.1:$(free_port 18443)
export TAGDIJ_RECEIVER_ADMIN_LISTEN=127.0.0.1:$(free_port 19443)
export TAGDIJ_RECEIVER_DATA_DIR=$OUT/receiver-data
URL=https://localhost:${TAGDIJ_RECEIVER_LISTEN##*:}
ADMIN=http://$TAGDIJ_RECEIVER_ADMIN_LISTEN
CACERT=$SB/certs/tls-ca.pem
NAME=$(basename "$PKG")

step "12a. The fund registers the employer and its signers (registration sheet, schema/bejelentkezes.xsd)"
"$BIN/receiver" registry import "$SB/registration-pelda.xml" --config "$RCFG" | sed -n '1,12p'
"$BIN/receiver" registry list --config "$RCFG"

step "12b. The receiver starts: HTTPS on $TAGDIJ_RECEIVER_LISTEN, admin on $TAGDIJ_RECEIVER_ADMIN_LISTEN"
"$BIN/receiver" serve --config "$RCFG" 2>"$OUT/receiver.log" &
RPID=$!
stop_receiver() { kill -TERM "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null || true; }
trap stop_receiver EXIT
for _ in $(seq 1 100); do
  curl -fsS "$ADMIN/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$ADMIN/readyz"; echo

step "12c. The employer sends the signed package: sender send (HTTPS, the fund's certificate checked; the receipt verified and kept)"
CFG=$SB/sender-pelda.json
export TAGDIJ_SENDER_RECEIVER_URL=$URL/
"$BIN/sender" send "$PKG" --config "$CFG"

step "12d. The receipt in the clerk's records (sender receipts list/show), saved and checked again by the auditor"
"$BIN/sender" receipts list --config "$CFG"
SUM=$(sha256sum "$PKG" | cut -d' ' -f1)
"$BIN/sender" receipts show "$SUM" --config "$CFG" --save "$OUT/receipt.es3" --html "$OUT/receipt.html" | sed -n '1,30p'
sleep 3 # the receipt's own grace period (sandbox: seconds)
expect 0 "$BIN/auditor" verify "$OUT/receipt.es3" --trust "$SB/trust.json" --policy sandbox --online | sed -n '1,4p;/NYUGTA\|Nyugta \/ Receipt/,$p' | head -30

step "12e. A retry of the same bytes (a plain HTTPS POST) returns the identical receipt; the receipt and the status can be fetched again"
curl -sS --cacert "$CACERT" -o "$OUT/receipt-again.es3" -D "$OUT/receipt.headers" \
  -H "Content-Disposition: attachment; filename=\"$NAME\"" --data-binary @"$PKG" "$URL/v1/packages"
grep -i '^HTTP\|^x-tagdij\|^content-disposition' "$OUT/receipt.headers"
RID=$(sed -n 's/^[Xx]-[Tt]agdij-[Rr]eceipt-[Ii]d: *\([0-9a-f-]*\).*/\1/p' "$OUT/receipt.headers")
cmp "$OUT/receipt.es3" "$OUT/receipt-again.es3" && echo "identical receipt"
curl -sS --cacert "$CACERT" "$URL/v1/receipts/$RID" | cmp - "$OUT/receipt.es3" && echo "GET /v1/receipts/$RID: identical"
"$BIN/sender" status "$PKG" --config "$CFG" || true

step "12f. A tampered package under its own name: a signed rejection receipt (ELUTASITVA, A002)"
curl -sS --cacert "$CACERT" -o "$OUT/rejected.es3" \
  -H "Content-Disposition: attachment; filename=\"$NAME\"" --data-binary @"$OUT/tampered.es3" "$URL/v1/packages"
sleep 3 # the receipt's grace period
expect 0 "$BIN/auditor" verify "$OUT/rejected.es3" --trust "$SB/trust.json" --policy sandbox --online | grep -E 'ELUTASITVA|A002|Eredmény|Result' | head -6

step "12g. Garbage under a bad name: rejected with T001 and still answered with a signed receipt"
printf 'not a package' > "$OUT/garbage.txt"
curl -sS --cacert "$CACERT" -o "$OUT/garbage-receipt.es3" -w 'HTTP %{http_code}\n' \
  -H "Content-Disposition: attachment; filename=\"../../etc/passwd\"" --data-binary @"$OUT/garbage.txt" "$URL/v1/packages"
sleep 3
expect 0 "$BIN/auditor" verify "$OUT/garbage-receipt.es3" --trust "$SB/trust.json" --policy sandbox --online | grep -E 'T001' | head -2

step "12h. Operations: Prometheus metrics on the admin listener; the request log (JSON, RCV-01)"
curl -fsS "$ADMIN/metrics" | grep '^tagdij_receiver_uploads_total'
grep '"event":"http.request"' "$OUT/receiver.log" | tail -n 2 | cut -c1-240

step "12i. SIGTERM: the receiver finishes what is in flight and stops"
stop_receiver
trap - EXIT
grep -o '"msg":"stopped"' "$OUT/receiver.log"
