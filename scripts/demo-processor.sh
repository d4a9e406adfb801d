#!/usr/bin/env bash
# Demo, part 5: the fund's processor. Usage: demo-processor.sh SANDBOX_DIR PACKAGE OUTDIR (called by
# demo.sh after demo-receiver.sh, while `sandbox serve` runs). The receiver starts again on the same
# data; the demo waits until the package's grace period is over (polling the status endpoint), runs
# `processor once` (final check with fresh revocation evidence, extension to XAdES-X-L + archive
# time-stamp, decryption, content check, archive, back-office hand-off), shows the final outcome through
# the status endpoint, the hand-off, the extended package verified offline by the auditor, and
# `processor archive verify`; then `processor run` answers /healthz and /metrics and stops on SIGTERM.
set -euo pipefail
SB=$1
PKG=$2
OUT=$3
BIN=$(cd "$(dirname "$0")/.." && pwd)/bin
. "$(dirname "$0")/demo-lib.sh" # step, expect, free_port
RCFG=$SB/receiver.json
PCFG=$SB/processor.json
export TAGDIJ_RECEIVER_LISTEN=127.0.0.1:$(free_port 18443)
export TAGDIJ_RECEIVER_ADMIN_LISTEN=127.0.0.1:$(free_port 19443)
export TAGDIJ_RECEIVER_DATA_DIR=$OUT/receiver-data
# The processor works on the receiver's data (the job queue, the package blobs); its archive and the
# back office's hand-off directory go under OUT.
export TAGDIJ_PROCESSOR_DATA_DIR=$OUT/receiver-data
export TAGDIJ_PROCESSOR_ARCHIVE_DIR=$OUT/processor-data/archive
export TAGDIJ_PROCESSOR_HANDOFF_DIR=$OUT/processor-data/handoff
export TAGDIJ_PROCESSOR_ADMIN_LISTEN=127.0.0.1:$(free_port 19544)
URL=https://localhost:${TAGDIJ_RECEIVER_LISTEN##*:}
CACERT=$SB/certs/tls-ca.pem
SUM=$(sha256sum "$PKG" | cut -d' ' -f1)
status() { curl -fsS --cacert "$CACERT" "$URL/v1/packages/$SUM/status"; }

"$BIN/receiver" serve --config "$RCFG" 2>"$OUT/receiver-2.log" &
RPID=$!
PPID_RUN=
stop_all() {
  [ -n "$PPID_RUN" ] && kill -TERM "$PPID_RUN" 2>/dev/null && wait "$PPID_RUN" 2>/dev/null || true
  kill -TERM "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null || true
}
trap stop_all EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://$TAGDIJ_RECEIVER_ADMIN_LISTEN/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

step "13a. The receiver, restarted on the same data, still knows the package: accepted, awaiting its final check"
status | jq .

step "13b. Wait out the grace period (SPEC §3; the sandbox policy: OCSP 2 s, CRL 5 s) — polling the status, no blind sleep"
FINAL=$(status | jq -r .earliestFinalCheck)
echo "earliest final check: $FINAL"
for _ in $(seq 1 600); do
  [ "$(date -u +%s%N)" -ge "$(date -u -d "$FINAL" +%s%N)" ] && break
  sleep 0.1
done
echo "now:                  $(date -u +%FT%T.%NZ) — the grace period is over"

step "13c. processor once: final check with fresh revocation evidence, extension, decryption, content, archive, hand-off"
# Exit 2 means "not final yet" (e.g. the freshest OCSP response still predates the grace end): the job
# is rescheduled after a short backoff, and the next pass takes it.
for i in $(seq 1 30); do
  set +e; "$BIN/processor" once --config "$PCFG" 2>>"$OUT/processor.log"; rc=$?; set -e
  [ "$rc" != 2 ] && break
  echo "(not final yet, pass $i; again after the backoff)"; sleep 1
done
[ "$rc" = 0 ] || { echo "demo: processor once exited $rc" >&2; tail -n 5 "$OUT/processor.log" >&2; exit 1; }
grep '"event":"processor.finished"' "$OUT/processor.log" | tail -n 1 | cut -c1-400

step "13d. The final outcome through the receiver's status endpoint, and as the payroll clerk sees it (sender status)"
status | jq '{status, result, preCheck, finalCheck}'
TAGDIJ_SENDER_RECEIVER_URL=$URL/ "$BIN/sender" status "$PKG" --config "$SB/sender-pelda.json"

step "13e. The back office's hand-off: one directory per package, published atomically (declaration + summary)"
HDIR=$(ls -d "$TAGDIJ_PROCESSOR_HANDOFF_DIR"/TBA_* | head -n 1)
ls -l "$HDIR"
jq '{package: .package.fileName, outcome, finalState, declaration, archiveId}' "$HDIR/osszesito.json"
head -c 300 "$HDIR/bevallas.xml"; echo " …"
echo "plaintext elsewhere under $OUT/receiver-data or the archive: $(grep -rl '<Bevallas' "$OUT/receiver-data" "$TAGDIJ_PROCESSOR_ARCHIVE_DIR" 2>/dev/null | wc -l) file(s)"

step "13f. The archive: write-once, Merkle tree, signed and time-stamped tree head; the entry with its inclusion proof"
AID=$(status | jq -r .finalCheck.archiveId)
"$BIN/processor" archive show "$AID" --config "$PCFG" | head -n 30
EXT=$("$BIN/processor" archive show "$AID" --config "$PCFG" --json | jq -r .entry.parts.extended.sha256)
cp "$TAGDIJ_PROCESSOR_ARCHIVE_DIR/parts/sha256/${EXT:0:2}/$EXT" "$OUT/extended.es3"

step "13g. The extended package (XAdES-X-L + ArchiveTimeStamp) verifies offline, also a year from now"
expect 0 "$BIN/auditor" verify "$OUT/extended.es3" --trust "$SB/trust.json" --policy sandbox | sed -n '1,3p;/Szint\|Level/p' | head -12
expect 0 "$BIN/auditor" verify "$OUT/extended.es3" --trust "$SB/trust.json" --policy sandbox --at "$(date -u -d '+1 year' +%FT%TZ)" | sed -n '1,3p'
cmp -s "$PKG" "$OUT/extended.es3" || echo "the original package is archived unchanged beside it ($(stat -c %s "$PKG") → $(stat -c %s "$OUT/extended.es3") bytes)"

step "13h. processor archive verify: every part, leaf and tree head, every package re-verified offline"
expect 0 "$BIN/processor" archive verify --config "$PCFG"

step "13i. processor run: a pass on the schedule, /healthz and /metrics on the admin listener; SIGTERM stops it"
"$BIN/processor" run --config "$PCFG" 2>"$OUT/processor-run.log" &
PPID_RUN=$!
for _ in $(seq 1 100); do
  curl -fsS "http://$TAGDIJ_PROCESSOR_ADMIN_LISTEN/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$TAGDIJ_PROCESSOR_ADMIN_LISTEN/healthz"
for _ in $(seq 1 100); do
  grep -q '"event":"processor.run"' "$OUT/processor-run.log" && break
  sleep 0.1
done
curl -fsS "http://$TAGDIJ_PROCESSOR_ADMIN_LISTEN/metrics" | grep '^tagdij_processor_runs_total\|^tagdij_processor_jobs_total' || true
kill -TERM "$PPID_RUN"; wait "$PPID_RUN" 2>/dev/null || true
PPID_RUN=
grep -o '"msg":"stopped"' "$OUT/processor-run.log"
stop_all
trap - EXIT
