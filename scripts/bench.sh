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
# measure label command...: runs the command under GNU time and prints "wall_s cpu_s maxrss_kb" (cpu is
# user + system). A failing command is reported on stderr and measured as "0 0 0"; GNU time then writes
# a "Command exited…" line first, so only the last line of its report is read.
measure() {
  local label=$1 rc=0; shift
  "$TIMEBIN" -f '%e %U %S %M' -o "$OUT/.time" "$@" >/dev/null 2>"$OUT/.stderr" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "bench: $label failed (exit $rc): $(head -c 400 "$OUT/.stderr")" >&2
    echo "0 0 0"; return
  fi
  tail -n 1 "$OUT/.time" | awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}'
}

say "== Declaration of $MEMBERS members ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'))"
read -r gen_s gen_cpu gen_kb < <(measure generate "$BIN/sender" declaration generate --members "$MEMBERS" --seed 1 --out "$OUT/decl.xml")
size=$(stat -c %s "$OUT/decl.xml" 2>/dev/null || echo 0)
mib=$(awk -v s="$size" 'BEGIN{printf "%.1f", s/1048576}')
say "generate:               ${gen_s}s (cpu ${gen_cpu}s), peak RSS $((gen_kb/1024)) MiB, file ${mib} MiB"
read -r val_s val_cpu val_kb < <(measure validate "$BIN/sender" declaration validate "$OUT/decl.xml")
say "validate (XSD + rules): ${val_s}s (cpu ${val_cpu}s), peak RSS $((val_kb/1024)) MiB"
if command -v xmllint >/dev/null 2>&1; then
  read -r ref_s ref_cpu ref_kb < <(measure xmllint xmllint --noout --nonet --schema schema/tagdijbevallas.xsd "$OUT/decl.xml")
  say "xmllint --schema:       ${ref_s}s (cpu ${ref_cpu}s), peak RSS $((ref_kb/1024)) MiB   (reference: same file, same run)"
  awk -v a="$val_s" -v b="$ref_s" -v ca="$val_cpu" -v cb="$ref_cpu" -v ka="$val_kb" -v kb="$ref_kb" -v s="$size" 'BEGIN{
    m = s/1e6
    printf "ratio ours/xmllint:     time %.2f, cpu %.2f, peak RSS %.2f   (ours %.1f MB/s, xmllint %.1f MB/s)\n",
      (b>0?a/b:0), (cb>0?ca/cb:0), (kb>0?ka/kb:0), (a>0?m/a:0), (b>0?m/b:0)}' | tee -a "$summary"
else
  say "xmllint --schema:       not installed, no reference (scripts/deps.sh installs it)"
fi

# XSD alone, in process: BenchmarkXSD100k parses + validates and runs xmllint --noout --schema on the
# same bytes in the same iteration, so both see the same machine load.
xsd=$(go test -run '^$' -bench '^BenchmarkXSD100k$' -benchtime "$BENCHTIME" ./internal/declaration 2>&1 | tee "$OUT/xsd.txt" | grep '^BenchmarkXSD100k' || true)
if [ -n "$xsd" ]; then
  echo "$xsd" | awk '{
    for (i = 3; i < NF; i++) v[$(i+1)] = $i
    if ("xmllint-MB/s" in v)
      printf "XSD only (in-process):  ours %.1f MB/s (cpu %.1f), xmllint %.1f MB/s (cpu %.1f); ratio ours/xmllint time %.2f, cpu %.2f\n",
        v["MB/s"], v["cpu-MB/s"], v["xmllint-MB/s"], v["xmllint-cpu-MB/s"], v["time-ratio"], v["cpu-ratio"]
    else
      printf "XSD only (in-process):  ours %.1f MB/s (cpu %.1f); no xmllint reference\n", v["MB/s"], v["cpu-MB/s"]
  }' | tee -a "$summary"
else
  say "XSD only (in-process):  benchmark failed, see $OUT/xsd.txt"
fi

say ""
scripts/bench-receiver.sh "$summary"

say ""
say "== Go benchmarks (ratios are reported as custom metrics where a reference runs in the same benchmark)"
go test -run '^$' -bench "${BENCH:-.}" -benchtime "$BENCHTIME" -benchmem ${BENCH_PKGS:-./...} 2>&1 | tee "$OUT/results.txt" | grep -E '^(Benchmark|ok|FAIL|---)' | tee -a "$summary"
echo
echo "bench: summary in $summary, raw output in $OUT/results.txt"
