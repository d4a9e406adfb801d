#!/usr/bin/env bash
# The sender section of `make bench` (issue 10): a declaration of $SENDER_MEMBERS members (default
# 100,000, 36.7 MiB) through `sender pack` -> `sender sign` -> `sender timestamp`, beside the reference
# pipeline on the same bytes in the same run:
#
#   xmllint --schema (XSD) + zip + openssl cms -encrypt (AES-256, RSA-OAEP, fund and sender) + openssl dgst -sign
#
# Both run SENDER_RUNS times (default 3), interleaved, so that both see the same machine load; the
# summary reports each run and the ratio of the medians of the total wall time, and the peak RSS of the
# largest step of each. Goals: time <= 1.2x the reference; peak RSS <= 2x the plaintext + 100 MiB.
# scripts/bench.sh runs it with its summary file; alone, after `make build` and with the Makefile's Go
# environment, it writes bench-out/sender-summary.txt:
#
#   GOTOOLCHAIN=go1.27.4 CGO_ENABLED=1 GOFLAGS=-buildvcs=false scripts/bench-sender.sh
#
# The sender uses a sandbox (bin/sandbox: test PKI, RFC 3161 TSA on loopback) and its sender-pelda
# configuration, whose own decryption key lets `sender sign` show the declaration before signing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
OUT=$PWD/bench-out
mkdir -p "$OUT"
: "${SENDER_MEMBERS:=100000}"
: "${SENDER_RUNS:=3}"
if [ $# -ge 1 ]; then
  summary=$1
else
  summary=$OUT/sender-summary.txt
  : >"$summary"
fi
say() { echo "$*" | tee -a "$summary"; }
TIMEBIN=/usr/bin/time
for tool in "$TIMEBIN" xmllint zip openssl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "sender: $tool missing (scripts/deps.sh installs it; bench.sh installs GNU time); section skipped"
    exit 0
  fi
done

W=$OUT/sender
rm -rf "$W"
mkdir -p "$W"
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
port=""
for p in $(seq 18801 18899); do
  if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { say "sender: no free port in 18801-18899; section skipped"; exit 0; }
"$BIN/sandbox" init "$W/sb" --listen "127.0.0.1:$port" >/dev/null
"$BIN/sandbox" serve "$W/sb" --listen "127.0.0.1:$port" >"$W/sandbox.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
CFG=$W/sb/sender-pelda.json
DECL=$W/decl.xml
"$BIN/sender" declaration generate --members "$SENDER_MEMBERS" --seed 1 --config "$CFG" --out "$DECL" 2>/dev/null
size=$(stat -c %s "$DECL")
# The reference signs with the same signer key, as PEM.
openssl pkcs12 -in "$W/sb/keys/signer-pelda-1.p12" -nocerts -nodes -passin "file:$W/sb/secrets/p12.pass" -out "$W/signer.key" 2>/dev/null

# step LABEL command...: runs it under GNU time; prints "wall maxrss_kb"; a failure is reported and
# measured as "0 0".
step() {
  local label=$1 rc=0; shift
  "$TIMEBIN" -f '%e %M' -o "$W/.time" "$@" >"$W/.out" 2>"$W/.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "bench-sender: $label failed (exit $rc): $(head -c 400 "$W/.err")" >&2
    echo "0 0"; return
  fi
  tail -n 1 "$W/.time"
}

say "== Sender (issue 10): $SENDER_MEMBERS members, $(awk -v s="$size" 'BEGIN{printf "%.1f MiB", s/1048576}') declaration, pack -> sign -> time-stamp beside xmllint --schema + zip + openssl cms -encrypt + openssl dgst -sign, same bytes, same run ($SENDER_RUNS runs, interleaved)"
printf '%-5s | %-40s | %-46s\n' run "ours: pack + sign + time-stamp = total s" "reference: xmllint + zip + cms + dgst = total s" | tee -a "$summary"
: >"$W/runs"
for r in $(seq 1 "$SENDER_RUNS"); do
  rm -rf "$W/pkg" "$W/ref.zip" "$W/ref.cms" "$W/ref.sig"
  mkdir -p "$W/pkg"
  read -r p_s p_kb < <(step pack "$BIN/sender" pack "$DECL" --config "$CFG" --out "$W/pkg" --json)
  pkg=$(sed -n 's/^ *"path": "\(.*\)",$/\1/p' "$W/.out")
  read -r s_s s_kb < <(step sign "$BIN/sender" sign "$pkg" --config "$CFG" --yes)
  read -r t_s t_kb < <(step timestamp "$BIN/sender" timestamp "$pkg" --config "$CFG")
  read -r x_s x_kb < <(step xmllint xmllint --noout --nonet --schema schema/tagdijbevallas.xsd "$DECL")
  read -r z_s z_kb < <(step zip zip -q -j "$W/ref.zip" "$DECL")
  read -r c_s c_kb < <(step cms openssl cms -encrypt -binary -aes256 -in "$W/ref.zip" -outform DER -out "$W/ref.cms" \
    -recip "$W/sb/certs/enc-fund.pem" -keyopt rsa_padding_mode:oaep -recip "$W/sb/certs/enc-pelda.pem" -keyopt rsa_padding_mode:oaep)
  read -r d_s d_kb < <(step dgst openssl dgst -sha256 -sign "$W/signer.key" -out "$W/ref.sig" "$W/ref.cms")
  echo "$p_s $s_s $t_s $x_s $z_s $c_s $d_s $p_kb $s_kb $t_kb $x_kb $z_kb $c_kb $d_kb" >>"$W/runs"
  awk -v r="$r" '{ o = $1 + $2 + $3; f = $4 + $5 + $6 + $7
    printf "%-5s | %5.2f + %5.2f + %5.2f = %5.2f          | %5.2f + %5.2f + %5.2f + %5.2f = %5.2f\n", r, $1, $2, $3, o, $4, $5, $6, $7, f }' \
    <(tail -n 1 "$W/runs") | tee -a "$summary"
done
# The sign step without the pack record (a package packed elsewhere, or more rows asked for than
# recorded): the declaration is decrypted, decompressed and validated again for the preview.
rm -rf "$W/pkg"; mkdir -p "$W/pkg"
read -r _ _ < <(step pack "$BIN/sender" pack "$DECL" --config "$CFG" --out "$W/pkg" --json)
pkg=$(sed -n 's/^ *"path": "\(.*\)",$/\1/p' "$W/.out")
# Pack records live in the workspace database: sign from a fresh state directory that has none.
rm -rf "$W/state-unrecorded"; mkdir -p "$W/state-unrecorded"
read -r n_s n_kb < <(TAGDIJ_SENDER_STATE_DIR="$W/state-unrecorded" step sign-unrecorded "$BIN/sender" sign "$pkg" --config "$CFG" --yes)
awk -v s="$n_s" -v k="$n_kb" 'BEGIN{printf "sign without the pack record (decrypts and validates the declaration again): %.2f s, peak RSS %.1f MiB\n", s, k / 1024}' | tee -a "$summary"
awk -v size="$size" '
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  { n++; ours[n] = $1 + $2 + $3; ref[n] = $4 + $5 + $6 + $7; pk[n] = $1; sk[n] = $2; tk[n] = $3
    for (i = 8; i <= 10; i++) if ($i > orss) orss = $i
    for (i = 11; i <= 14; i++) if ($i > rrss) rrss = $i
    if ($8 > prss) prss = $8; if ($9 > srss) srss = $9; if ($10 > trss) trss = $10 }
  END {
    mo = median(ours, n); mr = median(ref, n); ratio = (mr > 0) ? mo / mr : 0
    goalkb = 2 * size / 1024 + 100 * 1024
    printf "median: ours %.2f s (pack %.2f, sign %.2f, time-stamp %.2f), reference %.2f s; ratio %.2f (goal <= 1.20: %s)\n",
      mo, median(pk, n), median(sk, n), median(tk, n), mr, ratio, (ratio > 0 && ratio <= 1.2) ? "met" : "NOT met"
    printf "peak RSS: ours %.1f MiB (pack %.1f, sign %.1f, time-stamp %.1f), reference %.1f MiB; goal <= 2 x %.1f MiB + 100 MiB = %.1f MiB: %s\n",
      orss / 1024, prss / 1024, srss / 1024, trss / 1024, rrss / 1024, size / 1048576, goalkb / 1024, (orss > 0 && orss <= goalkb) ? "met" : "NOT met"
  }' "$W/runs" | tee -a "$summary"
