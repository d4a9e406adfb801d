#!/usr/bin/env bash
# Runs each Go fuzz target in the module for the given time (default 30s), then prints a table: per
# target the wall time (build included), the execs and new interesting inputs the fuzzer last
# reported, and the result. Exits non-zero if any target failed; the others still run.
#
#   scripts/fuzz.sh [fuzztime] [regexp on "package Target"]
#   FUZZ_MINIMIZE_TIME  cap on minimizing one input: runs ("100x", the default) or time ("60s", Go's
#                       default; use it to minimize a crasher properly, or "0" for no minimization)
#   FUZZ_PARALLEL       fuzz workers (default: go test's, GOMAXPROCS)
#
# Why the minimization cap: when a worker finds an input with new coverage, the fuzzer minimizes it
# before counting it, for up to -fuzzminimizetime: first byte by byte, then every sub-range, which is
# quadratic in the input's size. Seeds that are real documents (xades FuzzVerify: signed packages of
# 17-73 KB at about 1 ms a run; policy FuzzParse: 16 KB) made every new input a minimization that
# filled the whole run, and a worker reports its execs only when a minimization ends, the ones cut
# off at the end of -fuzztime never: the execs counter froze after a few runs while the workers ran
# thousands of execs a second ("fuzzing stalls"). A cap in runs bounds each pause by the target's own
# cost (100 runs: 2 ms for es3 FuzzParse, 0.3 s for xades FuzzVerify) where a cap in time does not:
# early in a run nearly every round finds new coverage, and with a 3 s cap revocation FuzzParseOCSP
# reached 171 execs in 20 s, with 100x 158,000 in 10 s. A crash is still written to testdata/fuzz,
# minimized only as far as the cap allows.
set -uo pipefail
t=${1:-30s}
only=${2:-}
mt=${FUZZ_MINIMIZE_TIME:-100x}
par=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
  par=(-parallel "$FUZZ_PARALLEL")
fi
cd "$(dirname "$0")/.."
log=$(mktemp)
summary=$(mktemp)
trap 'rm -f "$log" "$summary"' EXIT
failed=0
while read -r f; do
  pkg=./$(dirname "${f#./}")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
    if [ -n "$only" ] && ! [[ "$pkg $fn" =~ $only ]]; then
      continue
    fi
    echo "== $pkg $fn ($t, minimize ${mt})"
    start=$(date +%s.%N)
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" -fuzzminimizetime "$mt" "${par[@]}" "$pkg" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    interesting=$(grep -o 'new interesting: [0-9]*' "$log" | tail -1 | cut -d' ' -f3)
    result=ok
    if [ "$rc" -ne 0 ]; then
      result=FAIL
      failed=1
    fi
    printf '%-32s %-28s %7.1f %12s %6s  %s\n' "$pkg" "$fn" "$wall" "${execs:--}" "${interesting:--}" "$result" >>"$summary"
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
echo
printf '%-32s %-28s %7s %12s %6s  %s\n' package target wall_s execs new result
cat "$summary"
exit $failed
