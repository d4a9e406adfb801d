#!/usr/bin/env bash
# Demo, part 3: sign, time-stamp and check the package; the auditor's later check.
# Usage: demo-sign.sh SANDBOX_DIR PACKAGE OUTDIR   (called by demo.sh after `sender pack`, while
# `sandbox serve` runs). Two signers sign one after the other (parallel signatures), the time-stamp
# comes after the last one (SND-12), the initial check is incomplete inside the grace period and valid
# after it (the sandbox policy's OCSP grace period is 2 s), and the auditor checks the result.
set -euo pipefail
SB=$1
PKG=$2
OUT=$3
BIN=$(cd "$(dirname "$0")/.." && pwd)/bin
. "$(dirname "$0")/demo-lib.sh" # step, expect, free_port
CFG=$SB/sender-pelda.json

step "8a. Signing needs a person: without --yes and without a terminal nothing is signed (exit 3)"
expect 3 "$BIN/sender" sign "$PKG" --config "$CFG" </dev/null

step "8b. First signer (signer-pelda-1, from the configuration): what is signed, then the signature (SIG-05..07, SND-08..10)"
# --yes stands for the signer's 'i' at the terminal. Without the sender's own encryption key the
# preview says the encrypted declaration cannot be shown (SIG-20).
"$BIN/sender" sign "$PKG" --config "$CFG" --yes

step "8c. Second signer (signer-pelda-2, by --key/--secret), the declaration decrypted with the sender's own key for review"
"$BIN/sender" sign "$PKG" --config "$CFG" --yes \
  --key "p12:$SB/keys/signer-pelda-2.p12" --secret "file:$SB/secrets/p12.pass" \
  --decrypt-key "p12:$SB/keys/enc-pelda.p12" --decrypt-secret "file:$SB/secrets/p12.pass" --limit 5 |
  sed -n '/ÖSSZESÍTŐ ADATLAP/,/Fizetendő/p;/Meglévő aláírások/,$p'

step "9. Time-stamp after the last signer (SND-12, SND-24)"
"$BIN/sender" timestamp "$PKG" --config "$CFG"

step "10a. Initial check right away: inside the grace period → incomplete (exit 2), with the advice (SIG-23)"
expect 2 "$BIN/sender" verify "$PKG" --config "$CFG" | sed -n '1,8p;/Teendő/,$p'
sleep 3
step "10b. The same check after the grace period → valid (exit 0)"
expect 0 "$BIN/sender" verify "$PKG" --config "$CFG" | sed -n '1,6p;/Teendő/,$p'
tail -n 4 "$SB/state-pelda/signatures.log" | cut -c1-200

step "11a. The auditor, online (fetches revocation evidence): text report"
expect 0 "$BIN/auditor" verify "$PKG" --trust "$SB/trust.json" --policy sandbox --online

step "11b. The same as JSON (first lines)"
"$BIN/auditor" verify "$PKG" --trust "$SB/trust.json" --policy sandbox --online --format json > "$OUT/audit.json"
sed -n '1,12p' "$OUT/audit.json"

step "11c. Offline, an unextended package has no embedded revocation evidence → incomplete (exit 2); the processor's extension (XAdES-A) makes it verifiable offline"
expect 2 "$BIN/auditor" verify "$PKG" --trust "$SB/trust.json" --policy sandbox | sed -n '1,3p'

step "11d. A tampered copy → invalid (exit 1)"
TAMPERED=$OUT/tampered.es3
# One base64 character of the encrypted payload changed, to another base64 letter.
perl -0777 -pe 's/(<ds:Object[^>]*>.{30})(.)/$1.($2 eq "A" ? "B" : "A")/se' "$PKG" > "$TAMPERED"
expect 1 "$BIN/auditor" verify "$TAMPERED" --trust "$SB/trust.json" --policy sandbox | sed -n '1,3p'

step "11e. The auditor shows the signature policy too (SIG-19)"
"$BIN/auditor" policy show --policy sandbox --lang en | sed -n '1,6p'
