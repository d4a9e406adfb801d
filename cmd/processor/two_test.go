package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// TestTwoProcessors: two processor processes (`processor once`, two workers each) on the same SQLite
// store process 1,000 queued jobs (TAGDIJ_TEST_JOBS changes the count), each exactly once: every job
// ends processed, with one archive entry and one hand-off, the two logs together name each package
// finished exactly once, no job was resumed or taken over, and both processors did part of the work.
// The jobs are real: distinct signed, time-stamped packages accepted by the receiver's pipeline.
func TestTwoProcessors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the processor and processes 1,000 packages")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("TAGDIJ_TEST_JOBS")); err == nil && v > 0 {
		n = v
	}
	bin := buildProcessor(t)
	w := newProcWorld(t, map[string]any{"workers": 2, "lease": "5m"})
	start := time.Now()
	sums := w.SubmitMany(t, n, 2, w.Spread(receivertest.PackageOptions{Members: 2}))
	t.Logf("%d packages built and accepted in %s", n, time.Since(start).Round(time.Millisecond))
	w.waitDue(t, sums)

	start = time.Now()
	type result struct {
		code     int
		out, log string
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i, name := range []string{"proc-a", "proc-b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, log := runBin(t, bin, []string{"TAGDIJ_PROCESSOR_INSTANCE=" + name}, "once", "--config", w.Config, "--json")
			results[i] = result{code, out, log}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	finished := map[string]string{}
	for i, r := range results {
		var sum processor.Summary
		if err := json.Unmarshal([]byte(r.out), &sum); err != nil || r.code != 0 {
			t.Fatalf("processor %d: exit %d %s\n%.2000s", i, r.code, r.out, r.log)
		}
		if sum.Processed == 0 || sum.Jobs() != sum.Processed {
			t.Errorf("processor %d: %+v", i, sum)
		}
		for _, ev := range events(r.log, "processor.finished") {
			sha, _ := ev["sha256"].(string)
			if prev, ok := finished[sha]; ok {
				t.Errorf("%s finished by %s and by %d", sha[:12], prev, i)
			}
			finished[sha] = strconv.Itoa(i)
		}
		for _, e := range []string{"processor.resume", "processor.lease-lost", "processor.retry"} {
			if evs := events(r.log, e); len(evs) != 0 {
				t.Errorf("processor %d: %d %s events", i, len(evs), e)
			}
		}
		t.Logf("processor %d: %+v", i, sum)
	}
	t.Logf("%d jobs in %s by two processors: %.1f jobs/s", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	if len(finished) != n {
		t.Errorf("%d packages finished, want %d", len(finished), n)
	}
	ctx := context.Background()
	arch := w.openArchive(t)
	if size, err := arch.Index().Size(ctx); err != nil || size != uint64(n) {
		t.Errorf("archive size %d, %v", size, err)
	}
	done, _ := published(t, w.HandOff)
	if len(done) != n {
		t.Errorf("%d hand-offs", len(done))
	}
	for _, s := range sums {
		if _, ok := finished[hex.EncodeToString(s[:])]; !ok {
			t.Errorf("%x never finished", s[:6])
		}
		st, err := w.DB.PackageStatus(ctx, s)
		if err != nil || st.Status != string(processor.Processed) {
			t.Errorf("%x: %+v %v", s[:6], st, err)
		}
	}
}
