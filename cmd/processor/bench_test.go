package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
	code, out, log, rss := runBinRSS(t, bin, nil, "once", "--config", w.Config)
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
