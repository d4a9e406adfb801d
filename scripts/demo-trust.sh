#!/usr/bin/env bash
# Demo, part 2: the trust services of a running sandbox seen through the sender's own clients.
# Usage: demo-trust.sh SANDBOX_DIR BASE_URL   (called by demo.sh while `sandbox serve` runs)
set -euo pipefail
SB=$1
BIN=$(cd "$(dirname "$0")/.." && pwd)/bin
. "$(dirname "$0")/demo-lib.sh" # step, expect, free_port
TRUST=(--trust "$SB/trust.json" --policy sandbox)

step "6a. The signature policy in force (SIG-19) — the sandbox TEST policy, grace 2 s (OCSP) / 5 s (CRL)"
"$BIN/sender" policy show --policy sandbox --lang en | sed -n '1,12p'

step "6b. The signer's certificate (SIG-06, SIG-21)"
"$BIN/sender" cert show "$SB/certs/signer-pelda-1.pem" | sed -n '1,18p'

step "6c. Initial check of the certificate right now: inside the grace period → incomplete (exit 2)"
AT=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
expect 2 "$BIN/sender" cert check "${TRUST[@]}" --at "$AT" "$SB/chains/signer-pelda-1.pem"
sleep 3
step "6d. The same check for the same time after the grace period → valid (OCSP evidence issued after T + 2 s)"
expect 0 "$BIN/sender" cert check "${TRUST[@]}" --at "$AT" "$SB/chains/signer-pelda-1.pem"

step "6e. Revoke a signer (key compromise) and check it → invalid, A005"
"$BIN/sandbox" revoke "$SB" signer-minta-1 --reason keyCompromise
expect 1 "$BIN/sender" cert check "${TRUST[@]}" "$SB/chains/signer-minta-1.pem"

step "6f. The expired signer → invalid, A006"
expect 1 "$BIN/sender" cert check "${TRUST[@]}" "$SB/chains/signer-expired.pem"
