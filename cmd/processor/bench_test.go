package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// TestBenchProcessorRSS (the processor section of `make bench`, with TAGDIJ_BENCH_PROCESSOR=1): one
// package with a declaration of TAGDIJ_BENCH_MEMBERS members (default 100,000), accepted by the
// receiver's pipeline, processed by `processor once` (final check, extension, decryption, XSD and
// content rules, archive, hand-off); it reports the binary's peak RSS beside the declaration's
// plaintext size. Goal: within 2 × plaintext + 100 MB.
func TestBenchProcessorRSS(t *testing.T) {
	if os.Getenv("TAGDIJ_BENCH_PROCESSOR") == "" {
		t.Skip("a benchmark: set TAGDIJ_BENCH_PROCESSOR=1 (scripts/bench-processor.sh does)")
	}
	members := 100000
	if v, err := strconv.Atoi(os.Getenv("TAGDIJ_BENCH_MEMBERS")); err == nil && v > 0 {
		members = v
	}
	bin := buildProcessor(t)
	w := newProcWorld(t, map[string]any{"workers": 1, "jobTimeout": "30m"}, receivertest.Options{MaxBytes: 96 << 20})
	start := time.Now()
	data, name := w.Package(t, receivertest.PackageOptions{Members: members})
	res := w.Submit(t, data, name)
	t.Logf("%d-member package (%d bytes) built and received in %s: %s", members, len(data), time.Since(start).Round(time.Millisecond), res.Kind)
	w.waitDue(t, [][32]byte{res.SHA256})
	start = time.Now()
	code, out, log, rss := runBinPeak(t, bin, "once", "--config", w.Config)
	elapsed := time.Since(start)
	result := "processed"
	if code != 0 {
		result = fmt.Sprintf("exit-%d", code)
		t.Errorf("processor once: exit %d\n%s\n%.3000s", code, out, log)
	}
	done, _ := published(t, w.HandOff)
	var plain int64
	if len(done) == 1 {
		if st, err := os.Stat(filepath.Join(w.HandOff, done[0], "bevallas.xml")); err == nil {
			plain = st.Size()
		}
	}
	goal := 2*plain + 100<<20
	fmt.Printf("bench-processor rss members=%d package_bytes=%d plaintext_bytes=%d peak_rss_bytes=%d goal_bytes=%d wall_s=%.2f result=%s\n",
		members, len(data), plain, rss, goal, elapsed.Seconds(), result)
	if plain == 0 {
		t.Error("no declaration handed off")
	}
}

// runBinPeak runs the processor binary under GNU time and returns its exit status, output, log and
// peak RSS in bytes. Not getrusage on the child: Go starts commands with a vfork-style clone that shares
// this test's memory until exec, and Linux carries that memory's high-water mark into the child's
// ru_maxrss, so the child would report the test's own peak (it built a 38 MB declaration). GNU time
// forks a small process of its own, whose mark is negligible.
func runBinPeak(t *testing.T, bin string, args ...string) (int, string, string, int64) {
	t.Helper()
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		t.Skipf("%s (GNU time) is needed to measure the peak RSS; scripts/bench.sh installs it", gnuTime)
	}
	report := filepath.Join(t.TempDir(), "time.txt")
	code, out, log, _ := runBinRSS(t, gnuTime, nil, append([]string{"-f", "%M", "-o", report, bin}, args...)...)
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("GNU time wrote no report: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	kb, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	if err != nil {
		t.Fatalf("GNU time report %q: %v", b, err)
	}
	return code, out, log, kb << 10
}
