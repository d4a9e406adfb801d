#!/usr/bin/env bash
# The processor section of `make bench` (issue 9). scripts/bench.sh runs it with its summary file;
# alone, with the Makefile's Go environment, it writes bench-out/processor-summary.txt:
#
#   GOTOOLCHAIN=go1.27.4 CGO_ENABLED=1 GOFLAGS=-buildvcs=false scripts/bench-processor.sh
#
# PROCESSOR_JOBS (default 1000) is the number of queued small packages; PROCESSOR_MEMBERS (default
# 100000) the size of the large declaration. Throughput runs in one test process (internal/processor
# TestBenchProcessor: the sandbox's TSA and OCSP responder share its CPU); the large declaration runs
# through the processor binary (cmd/processor TestBenchProcessorRSS), its peak RSS measured by GNU time
# (/usr/bin/time, which bench.sh installs; the child's own getrusage would include the test's memory).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$PWD/bench-out
mkdir -p "$OUT"
: "${PROCESSOR_JOBS:=1000}"
: "${PROCESSOR_MEMBERS:=100000}"
if [ $# -ge 1 ]; then
  summary=$1
else
  summary=$OUT/processor-summary.txt
  : >"$summary"
fi
say() { echo "$*" | tee -a "$summary"; }

say "== Processor (issue 9): $PROCESSOR_JOBS queued small packages, and one declaration of $PROCESSOR_MEMBERS members ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'))"
TAGDIJ_BENCH_PROCESSOR=1 TAGDIJ_BENCH_JOBS="$PROCESSOR_JOBS" \
  go test -count=1 -timeout 60m -v -run '^TestBenchProcessor$' ./internal/processor >"$OUT/processor.txt" 2>&1 || true
TAGDIJ_BENCH_PROCESSOR=1 TAGDIJ_BENCH_MEMBERS="$PROCESSOR_MEMBERS" \
  go test -count=1 -timeout 60m -v -run '^TestBenchProcessorRSS$' ./cmd/processor >>"$OUT/processor.txt" 2>&1 || true
if grep -q '^bench-processor ' "$OUT/processor.txt"; then
  awk '
    /^bench-processor / {
      delete v
      for (i = 3; i <= NF; i++) { k = $i; sub(/=.*/, "", k); x = $i; sub(/^[^=]*=/, "", x); v[k] = x }
    }
    /^bench-processor setup / {
      printf "packages: %d (2 members, 1 signer, time-stamped, accepted by the receiver pipeline), %d workers on %d CPUs; CPU is the whole test process (processor, sandbox TSA and OCSP)\n", v["jobs"], v["workers"], v["cpus"]
    }
    /^bench-processor validate / {
      printf "final validations, %s revocation cache: %7.1f /s  (%d in %.2f s, %.2f ms CPU each)%s\n", v["cache"], v["per_s"], v["n"], v["wall_s"], v["cpu_ms"],
        (v["cache"] == "cold" ? "  -- a new empty cache per package: every validation fetches its OCSP responses" : "")
    }
    /^bench-processor pipeline / {
      printf "whole jobs (final check, extension, decryption, content, archive, hand-off, store): %.1f jobs/s (%d of %d in %.2f s, %.2f ms CPU each); goal >= 50 jobs/s: %s\n",
        v["per_s"], v["processed"], v["n"], v["wall_s"], v["cpu_ms"], (v["per_s"] + 0 >= 50 ? "met" : "NOT met")
    }
    /^bench-processor rss / {
      printf "large declaration: %d members, package %.1f MB, plaintext %.1f MB, processed in %.2f s (%s); processor peak RSS %.1f MiB, goal <= 2 x plaintext + 100 MB = %.1f MiB: %s\n",
        v["members"], v["package_bytes"] / 1e6, v["plaintext_bytes"] / 1e6, v["wall_s"], v["result"], v["peak_rss_bytes"] / 1048576, v["goal_bytes"] / 1048576,
        (v["peak_rss_bytes"] + 0 <= v["goal_bytes"] + 0 && v["result"] == "processed" ? "met" : "NOT met")
    }' "$OUT/processor.txt" | tee -a "$summary"
else
  say "processor: benchmark failed, see $OUT/processor.txt"
fi
if grep -qE '^(--- FAIL|FAIL)' "$OUT/processor.txt"; then
  say "processor: a benchmark test failed, see $OUT/processor.txt"
fi
