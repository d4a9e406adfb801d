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

# Flood documents (issue 7): shapes that cost libxml2 far more memory per byte than a declaration. For
# each, BenchmarkFlood parses it under DefaultLimits (refused by the pre-scan, or accepted: the densest
# shapes the tree-node budget lets through) and runs xmllint --stream on the same file in the same
# iteration (a parse that builds no tree: the cost of reading the bytes at all); then it measures the
# peak RSS of one Parse in a fresh process and of xmllint --noout (a full tree, no limits) on the file.
say ""
say "== Flood documents (time and peak RSS per MB; references: xmllint --stream and --noout on the same file, same run)"
flood=$(go test -run '^$' -bench '^BenchmarkFlood$' -benchtime "$BENCHTIME" ./internal/libxml 2>&1 | tee "$OUT/flood.txt" | grep '^BenchmarkFlood/' || true)
if [ -n "$flood" ]; then
  echo "$flood" | awk '{
    for (i = 3; i < NF; i++) v[$(i+1)] = $i
    name = $1; sub(/^BenchmarkFlood\//, "", name); sub(/-[0-9]+$/, "", name)
    s = v["ns/op"] / 1e9; mb = v["MB/s"] * s
    printf "%-22s %5.1f MB %-8s %7.2f ms/MB (%6.1f MB/s); stream-time-ratio %6.3f; peak RSS %5.2f MB/MB, xmllint --noout %5.2f MB/MB (ratio %.2f)\n",
      name, mb, (v["accepted"] > 0 ? "accepted" : "refused"), (mb > 0 ? 1000 * s / mb : 0), v["MB/s"], v["stream-time-ratio"],
      v["peak-RSS-MB/MB"], v["xmllint-peak-RSS-MB/MB"], (v["xmllint-peak-RSS-MB/MB"] > 0 ? v["peak-RSS-MB/MB"] / v["xmllint-peak-RSS-MB/MB"] : 0)
  }' | tee -a "$summary"
else
  say "flood documents:        benchmark failed or skipped (xmllint missing?), see $OUT/flood.txt"
fi

# The verifiers on the same shapes: `auditor verify` (one parse under libxml.VerifierLimits, then
# detection and verification) on flood files of 30 and 100 MB, time and peak RSS per MB beside
# xmllint --noout on the same file. Refused floods must cost about the input; the densest shape the
# verifier admits must stay within 8x + 64 MB.
say ""
say "== Verify of flood documents (auditor verify: time and peak RSS per MB; reference: xmllint --noout, same file, same run)"
flood_file() { # flood_file OUT MB UNIT: <r>, UNIT repeated to about MB megabytes, </r>
  perl -e 'my ($mb, $u) = @ARGV; my $n = int($mb * 1048576 / length($u)); print "<r>", $u x $n, "</r>";' "$2" "$3" > "$1"
}
attrs63=$(perl -e 'print "<e", (map { " a$_=\"\"" } 0..62), "/>"')
for spec in "attributes-30:30:$attrs63" "attributes-100:100:$attrs63" "empty-elements-30:30:<e/>" "comments-55:55:<!---->" \
            "densest-admitted-30:30:<e a=\"\" b=\"\" c=\"\"/>$(printf '%173s' '')"; do
  name=${spec%%:*}; rest=${spec#*:}; mb=${rest%%:*}; unit=${rest#*:}
  f=$OUT/flood-$name.xml
  flood_file "$f" "$mb" "$unit"
  size=$(stat -c %s "$f")
  "$TIMEBIN" -f '%e %U %S %M' -o "$OUT/.time" "$BIN/auditor" verify "$f" >/dev/null 2>&1 || true
  read -r a_s a_u a_sys a_kb < <(tail -n 1 "$OUT/.time")
  "$TIMEBIN" -f '%e %U %S %M' -o "$OUT/.time" xmllint --noout --nonet --huge "$f" >/dev/null 2>&1 || true
  read -r x_s x_u x_sys x_kb < <(tail -n 1 "$OUT/.time")
  awk -v n="$name" -v s="$size" -v as="$a_s" -v ak="$a_kb" -v xs="$x_s" -v xk="$x_kb" 'BEGIN{
    mb = s / 1048576
    printf "%-22s %6.1f MB  auditor %6.3f s/MB, peak RSS %5.2f MB/MB (goal <= 8 + 64/%.0f)   xmllint --noout %6.3f s/MB, %5.2f MB/MB\n",
      n, mb, as / mb, ak / 1024 / mb, mb, xs / mb, xk / 1024 / mb }' | tee -a "$summary"
  rm -f "$f"
done

say ""
scripts/bench-sender.sh "$summary"

say ""
scripts/bench-receiver.sh "$summary"

say ""
scripts/bench-processor.sh "$summary"

say ""
say "== Go benchmarks (ratios are reported as custom metrics where a reference runs in the same benchmark)"
go test -run '^$' -bench "${BENCH:-.}" -benchtime "$BENCHTIME" -benchmem ${BENCH_PKGS:-./...} 2>&1 | tee "$OUT/results.txt" | grep -E '^(Benchmark|ok|FAIL|---)' | tee -a "$summary"
echo
echo "bench: summary in $summary, raw output in $OUT/results.txt"
