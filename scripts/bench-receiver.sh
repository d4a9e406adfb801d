#!/usr/bin/env bash
# The receiver section of `make bench` (issue 8). scripts/bench.sh runs it with its summary file; alone,
# after `make build` and with the Makefile's Go environment, it writes bench-out/receiver-summary.txt:
#
#   GOTOOLCHAIN=go1.27.4 CGO_ENABLED=1 GOFLAGS=-buildvcs=false scripts/bench-receiver.sh
#
# RECEIVER_UPLOADS (default 400) is the number of uploads per load run (12 runs: 2 receipt keys x 2
# client counts x full + baseline before + baseline after); RECEIVER_BIG_MB (default 50) the size of the
# large upload. Peak RSS is measured with GNU time (/usr/bin/time), which bench.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
OUT=$PWD/bench-out
mkdir -p "$OUT"
: "${RECEIVER_UPLOADS:=400}"
: "${RECEIVER_BIG_MB:=50}"
if [ $# -ge 1 ]; then
  summary=$1
else
  summary=$OUT/receiver-summary.txt
  : >"$summary"
fi
say() { echo "$*" | tee -a "$summary"; }

say "== Receiver (issue 8): $RECEIVER_UPLOADS uploads per run by 16 and 64 keep-alive TLS clients, against the bare intake in the same run"
# internal/receiver/bench_test.go (about a minute): TestBenchReceiverLoad runs, per receipt key (ECDSA
# P-256, RSA-2048) and client count, the full receiver between two runs of the bare intake baseline (same
# TLS server and API, same blob and SQLite stores and fsyncs; no validation, no registry, no receipt),
# each on a fresh store; TestBenchReceiverRSS uploads one large signed package to bin/receiver and runs
# bin/auditor verify on the same file. Both print "bench-receiver" lines; raw output in receiver.txt.
TAGDIJ_BENCH_RECEIVER=1 TAGDIJ_BENCH_BIN="$BIN" TAGDIJ_BENCH_UPLOADS="$RECEIVER_UPLOADS" TAGDIJ_BENCH_BIG_MB="$RECEIVER_BIG_MB" \
  go test -count=1 -timeout 30m -v -run '^TestBenchReceiver' ./internal/receiver >"$OUT/receiver.txt" 2>&1 || true
if grep -q '^bench-receiver run ' "$OUT/receiver.txt"; then
  awk '
    /^bench-receiver / {
      delete v
      for (i = 3; i <= NF; i++) { k = $i; sub(/=.*/, "", k); x = $i; sub(/^[^=]*=/, "", x); v[k] = x }
    }
    /^bench-receiver packages / {
      printf "packages: %d distinct (3 members, 1 signer, time-stamped, uploaded after the grace period), %.1f KB on average; HTTP/2, one connection per client;\n", v["n"], v["avg_bytes"] / 1000
      printf "a fresh store per run; the baseline runs before and after each full run (merged); CPU is the whole test process (receiver, clients, sandbox TSA/OCSP)\n"
      placeholder = v["placeholder_bytes"]
      printf "%-11s %7s | %-30s | %-17s | %-17s | %-19s | %s\n", "receipt key", "clients", "accepted/s full / base = ratio", "p50 ms full / base",
        "p99 ms full / base", "CPU ms/upload f / b", "goals (ratio >= 0.50; p99 < 500 ms at 64)"
    }
    /^bench-receiver run / {
      id = v["key"] SUBSEP v["clients"]
      if (!(id in seen)) { seen[id] = 1; order[++n] = id }
      for (k in v) r[id, v["mode"], k] = v[k]
    }
    /^bench-receiver receipt / { receipts = receipts sprintf("%s%s %.1f KB", (receipts == "" ? "" : ", "), v["key"], v["bytes"] / 1000) }
    /^bench-receiver first-problem / { problems = problems "  " $0 "\n" }
    /^bench-receiver rss / {
      rk = v["receiver_peak_kb"] / 1024; ak = v["auditor_peak_kb"] / 1024; d = rk - ak
      rss = sprintf("large upload (%.1f MB package, %s in %.2f s): receiver peak RSS %.1f MiB (%.1f MiB before the upload), auditor verify --online %.1f MiB; receiver - auditor %+.1f MiB (goal <= +64 MiB: %s)",
        v["package_bytes"] / 1e6, v["result"], v["upload_s"], rk, v["receiver_idle_kb"] / 1024, ak, d, (d <= 64 && v["result"] == "accepted") ? "met" : "NOT met")
      if (v["result"] != "accepted") rss = rss " -- the receiver did not accept it"
    }
    END {
      for (i = 1; i <= n; i++) {
        id = order[i]; split(id, p, SUBSEP)
        fa = r[id, "full", "accepted_per_s"]; ba = r[id, "baseline", "accepted_per_s"]
        ratio = (ba + 0 > 0) ? fa / ba : 0
        goals = (ratio >= 0.5) ? "ratio met" : "ratio NOT met"
        if (p[2] + 0 == 64) goals = goals ((r[id, "full", "p99_ms"] + 0 < 500) ? ", p99 met" : ", p99 NOT met")
        for (m = 1; m <= 2; m++) {
          mode = (m == 1) ? "full" : "baseline"
          if (r[id, mode, "accepted"] + 0 != r[id, mode, "requests"] + 0)
            goals = goals sprintf(", %s accepted %d of %d (status %s)", mode, r[id, mode, "accepted"], r[id, mode, "requests"], r[id, mode, "status"])
        }
        printf "%-11s %7d | %12.1f / %7.1f = %5.2f | %7.0f / %7.0f | %7.0f / %7.0f | %8.1f / %8.1f | %s\n", p[1], p[2], fa, ba, ratio,
          r[id, "full", "p50_ms"], r[id, "baseline", "p50_ms"], r[id, "full", "p99_ms"], r[id, "baseline", "p99_ms"],
          r[id, "full", "cpu_ms_per_upload"], r[id, "baseline", "cpu_ms_per_upload"], goals
      }
      if (receipts != "") printf "receipt packages: %s; the baseline stores and sends a placeholder of %.1f KB instead\n", receipts, placeholder / 1000
      if (problems != "") printf "first problems:\n%s", problems
      if (rss != "") print rss; else print "large upload: not measured, see bench-out/receiver.txt"
    }' "$OUT/receiver.txt" | tee -a "$summary"
else
  say "receiver: benchmark failed, see $OUT/receiver.txt"
fi
if grep -qE '^(--- FAIL|FAIL)' "$OUT/receiver.txt"; then
  say "receiver: a benchmark test failed, see $OUT/receiver.txt"
fi


# Where the CPU goes, one upload at a time (internal/receiver/cpu_bench_test.go, about 20 s): the bare
# intake, pack.Verify alone, the full pipeline with each receipt key (the sandbox TSA included), and
# the reference engine, xmlsec1, verifying the same packages and re-signing their dossiers (18-19 KB,
# about a receipt package's size), in every round beside the phases (one process over all packages,
# its start-up subtracted). The bound printed last is the throughput
# ratio a receiver could reach if it were CPU-bound and its two signature operations cost what
# xmlsec1's do, with nothing else added: bare / (bare + verify + sign).
say "== Receiver: CPU per upload, one at a time (minimum of 5 rounds over 50 packages), and the reference engine (xmlsec1) on the same packages in the same rounds"
TAGDIJ_BENCH_RECEIVER_CPU=1 go test -count=1 -timeout 10m -v -run '^TestReceiverCPUPerUpload$' ./internal/receiver >"$OUT/receiver-cpu.txt" 2>&1 || true
if grep -q '^receiver-cpu phase=full' "$OUT/receiver-cpu.txt"; then
  awk '
    /^receiver-cpu / {
      for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); x = $i; sub(/^[^=]*=/, "", x); v[k] = x }
      c[v["phase"]] = v["cpu_ms_min"]; a[v["phase"]] = v["allocs"]
    }
    END {
      b = c["baseline"]
      printf "bare intake %.2f ms | pack.Verify %.2f ms (xmlsec1 --verify %.2f ms) | full, ECDSA receipt key %.2f ms, RSA-2048 %.2f ms (xmlsec1 --sign %.2f ms)\n",
        b, c["verify"], c["xmlsec1-verify"], c["full-ecdsa-p256"], c["full-rsa-2048"], c["xmlsec1-sign"]
      printf "CPU ratio bare / full: ECDSA %.2f, RSA-2048 %.2f; allocations per upload: full %d, bare %d\n",
        b / c["full-ecdsa-p256"], b / c["full-rsa-2048"], a["full-ecdsa-p256"], a["baseline"]
      if (c["xmlsec1-verify"] + 0 > 0)
        printf "bound for a receiver whose two signature operations cost as much as in xmlsec1: bare / (bare + xmlsec1 verify + xmlsec1 sign) = %.2f (xmlsec1 checks no time-stamp, revocation, policy or registry, and builds no receipt)\n",
          b / (b + c["xmlsec1-verify"] + c["xmlsec1-sign"])
    }' "$OUT/receiver-cpu.txt" | tee -a "$summary"
else
  say "receiver: the CPU breakdown failed, see $OUT/receiver-cpu.txt"
fi
