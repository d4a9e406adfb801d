#!/usr/bin/env bash
# `make bench`: speed and memory goals as ratios against references measured in the same run.
# Writes bench-out/results.txt (raw `go test -bench` output) and bench-out/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
OUT=$PWD/bench-out
mkdir -p "$OUT"
: "${MEMBERS:=100000}"
: "${BENCHTIME:=1x}"
summary=$OUT/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

# GNU time reports peak RSS; the Debian package is "time".
TIMEBIN=/usr/bin/time
if [ ! -x "$TIMEBIN" ]; then
  echo "bench: installing GNU time"; sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >/dev/null
fi
measure() { # label, command...: prints "seconds maxrss_kb"
  local label=$1; shift
  "$TIMEBIN" -f '%e %M' -o "$OUT/.time" "$@" >/dev/null 2>"$OUT/.stderr" || true
  read -r secs kb <"$OUT/.time"
  echo "$secs $kb"
}

say "== Declaration of $MEMBERS members ($(date -u +%FT%TZ), $(nproc) cores)"
read -r gen_s gen_kb < <(measure gen "$BIN/sender" declaration generate --members "$MEMBERS" --seed 1 --out "$OUT/decl.xml")
size=$(stat -c %s "$OUT/decl.xml")
mb=$(awk -v s="$size" 'BEGIN{printf "%.1f", s/1048576}')
say "generate:              ${gen_s}s, peak RSS $((gen_kb/1024)) MiB, file ${mb} MiB"
read -r val_s val_kb < <(measure val "$BIN/sender" declaration validate "$OUT/decl.xml")
read -r ref_s ref_kb < <(measure ref xmllint --noout --schema schema/tagdijbevallas.xsd "$OUT/decl.xml")
say "validate (XSD + rules): ${val_s}s, peak RSS $((val_kb/1024)) MiB"
say "xmllint --schema:      ${ref_s}s, peak RSS $((ref_kb/1024)) MiB   (reference, same file, same run)"
awk -v a="$val_s" -v b="$ref_s" -v ka="$val_kb" -v kb="$ref_kb" -v m="$mb" 'BEGIN{
  printf "ratio time ours/xmllint: %.2f   ratio peak memory ours/xmllint: %.2f   ours %.1f MB/s, xmllint %.1f MB/s\n",
    (b>0?a/b:0), (kb>0?ka/kb:0), (a>0?m/a:0), (b>0?m/b:0)}' | tee -a "$summary"

say ""
say "== Go benchmarks (ratios are reported as custom metrics where a reference runs in the same benchmark)"
go test -run '^$' -bench . -benchtime "$BENCHTIME" -benchmem ./... 2>&1 | tee "$OUT/results.txt" | grep -E '^(Benchmark|ok|FAIL|---)' | tee -a "$summary"
echo
echo "bench: summary in $summary, raw output in $OUT/results.txt"
