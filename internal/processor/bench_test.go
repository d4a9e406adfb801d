package processor_test

// The processor section of `make bench` (issue 9): scripts/bench-processor.sh runs TestBenchProcessor
// with TAGDIJ_BENCH_PROCESSOR=1 and turns its "bench-processor" lines into the summary; `make test`
// skips it. The large declaration's peak RSS is measured on the binary (cmd/processor
// TestBenchProcessorRSS).
//
//	TAGDIJ_BENCH_PROCESSOR=1 TAGDIJ_BENCH_JOBS=1000 go test -count=1 -timeout 30m -v \
//	    -run '^TestBenchProcessor$' ./internal/processor

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/trust"
)

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBenchProcessor queues TAGDIJ_BENCH_JOBS (default 1,000) small packages (2 members, one signer,
// time-stamped, accepted by the receiver's pipeline, spread over the sandbox's employers and two
// periods) and measures, after the grace period, with as many workers as CPUs (TAGDIJ_BENCH_WORKERS
// changes it):
//
//   - final validations per second (pack.Verify with online revocation, the processor's final check)
//     with a cold revocation cache — a new, empty cache for every package, so each validation fetches
//     the OCSP responses of the signer's and the TSA's chains — and with a warm one (one cache, filled
//     by the first validation);
//   - whole jobs per second (RunOnce: final check, extension with three time-stamps per signature,
//     decryption, content check, archive, hand-off, store) on a fresh processor whose revocation cache
//     starts empty and warms on the first jobs.
//
// CPU is the whole test process's: the sandbox's TSA and OCSP responder run in it too.
func TestBenchProcessor(t *testing.T) {
	if os.Getenv("TAGDIJ_BENCH_PROCESSOR") == "" {
		t.Skip("a benchmark: set TAGDIJ_BENCH_PROCESSOR=1 (scripts/bench-processor.sh does)")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("TAGDIJ_BENCH_JOBS")); err == nil && v > 0 {
		n = v
	}
	workers := runtime.NumCPU()
	if v, err := strconv.Atoi(os.Getenv("TAGDIJ_BENCH_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	ctx := context.Background()
	start := time.Now()
	r := newRig(t, func(c *processor.Config) { c.Workers = workers; c.Lease = 10 * time.Minute })
	sums := r.SubmitMany(t, n, workers, r.Spread(receivertest.PackageOptions{Members: 2}))
	t.Logf("%d packages built and accepted in %s", n, time.Since(start).Round(time.Millisecond))
	r.afterGrace()
	fmt.Printf("bench-processor setup jobs=%d workers=%d cpus=%d\n", n, workers, runtime.NumCPU())

	root := r.SB.World.MustEntity(sandbox.RootCA)
	freshEnv := func() *trust.Env {
		env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}}, r.SB.Dir, r.Policy)
		if err != nil {
			t.Fatal(err)
		}
		env.Online.Now = r.SB.Clock.Now
		return env
	}
	datas := make([][]byte, n)
	names := make([]string, n)
	for i, s := range sums {
		d, err := r.Blobs.Read(s)
		if err != nil {
			t.Fatal(err)
		}
		st := r.status(t, s)
		datas[i] = d
		names[i] = packageName(t, r, st.ReceiptID)
	}
	validate := func(label string, count int, env func() *trust.Env) {
		var next, failed int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		cpu0, t0 := cpuTime(), time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= int64(count) {
						return
					}
					v, err := pack.Verify(ctx, datas[i], pack.VerifyOptions{Env: env(), Schemas: r.Schemas, Now: r.SB.Clock.Now(), FileName: names[i], RequireName: true})
					if err != nil || v.Report.Verdict.Indication != report.TotalPassed {
						mu.Lock()
						failed++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		if failed > 0 {
			t.Errorf("%s: %d of %d validations not TOTAL-PASSED", label, failed, count)
		}
		fmt.Printf("bench-processor validate cache=%s n=%d wall_s=%.3f per_s=%.1f cpu_ms=%.2f\n", label, count, wall.Seconds(),
			float64(count)/wall.Seconds(), float64(cpu.Milliseconds())/float64(count))
	}
	validate("cold", min(n, 300), freshEnv)
	warm := freshEnv()
	validate("warm", n, func() *trust.Env { return warm })

	// The whole pipeline, on a processor with its own, empty revocation cache.
	proc, err := processor.New(withConfig(r.Cfg, func(c *processor.Config) { c.Env = freshEnv() }))
	if err != nil {
		t.Fatal(err)
	}
	cpu0, t0 := cpuTime(), time.Now()
	s, err := proc.RunOnce(ctx)
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	if err != nil || s.Processed != n {
		t.Errorf("pipeline: %+v %v", s, err)
	}
	fmt.Printf("bench-processor pipeline n=%d processed=%d wall_s=%.3f per_s=%.1f cpu_ms=%.2f\n", n, s.Processed, wall.Seconds(),
		float64(n)/wall.Seconds(), float64(cpu.Milliseconds())/float64(n))
	if len(r.handOffs(t)) != n {
		t.Errorf("%d hand-offs", len(r.handOffs(t)))
	}
}

// packageName is the file name a package was received under (its receipt's name with TBA for TBN).
func packageName(t *testing.T, r *rig, receiptID string) string {
	t.Helper()
	st, err := r.DB.ReceiptByID(context.Background(), receiptID)
	if err != nil {
		t.Fatal(err)
	}
	return "TBA" + st.Name[3:]
}
