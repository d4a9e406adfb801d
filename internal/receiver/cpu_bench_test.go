package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// envCPU runs TestReceiverCPUPerUpload: the CPU time and the allocations per upload of the intake
// pipeline without HTTP and without concurrency, for comparing two versions of the code on a shared
// machine (allocations do not depend on the load; the CPU time is the minimum over rounds):
//
//	TAGDIJ_BENCH_RECEIVER_CPU=1 go test -count=1 -v -run '^TestReceiverCPUPerUpload$' ./internal/receiver
const envCPU = "TAGDIJ_BENCH_RECEIVER_CPU"

// TestReceiverCPUPerUpload submits the same small packages to the full intake pipeline (ECDSA P-256
// and RSA-2048 receipt keys), to the bare intake of the load benchmark and to pack.Verify alone, one
// upload at a time, in alternating rounds, and prints per upload the smallest CPU time of the rounds
// and the allocations. The sandbox's TSA runs in this process and is included, as in the load
// benchmark.
func TestReceiverCPUPerUpload(t *testing.T) {
	if os.Getenv(envCPU) == "" {
		t.Skipf("a benchmark: set %s=1", envCPU)
	}
	n := envInt(t, envUploads, 50)
	s := receivertest.Start(t, receivertest.Options{})
	ups := buildPackages(t, s, n)
	s.SB.Clock.Advance(10 * time.Second)
	keys := []benchKey{ecdsaReceiptKey(t, s), sandboxReceiptKey(t, s)}

	type phase struct {
		name string
		run  func(dir string) // submits every upload once, on fresh stores in dir
	}
	submitAll := func(sub receiver.Submitter, want intake.Kind) {
		for _, u := range ups {
			out, err := sub.Submit(context.Background(), intake.Upload{FileName: u.Name, Body: bytes.NewReader(u.Data), SizeHint: int64(len(u.Data))})
			if err != nil || out.Kind != want {
				t.Fatalf("%s: %v %+v", u.Name, err, out)
			}
		}
	}
	phases := []phase{
		{"baseline", func(dir string) {
			db, blobs := openStores(t, dir)
			submitAll(&bareIntake{blobs: blobs, db: db, max: 8 << 20, receipt: bytes.Repeat([]byte("R"), placeholderReceiptBytes)}, intake.Accepted)
		}},
		{"verify", func(string) {
			now := s.SB.Clock.Now()
			for _, u := range ups {
				v, err := pack.Verify(context.Background(), u.Data, pack.VerifyOptions{Env: s.Env, Schemas: s.Schemas, Now: now, Arrival: now,
					FileName: u.Name, RequireName: true}) // the intake's options
				if err != nil || !v.Authenticated() {
					t.Fatalf("%s: %v", u.Name, err)
				}
			}
		}},
	}
	for _, k := range keys {
		phases = append(phases, phase{"full-" + k.name, func(dir string) {
			svc, _ := fullIntake(t, s, k, dir)
			submitAll(svc, intake.Accepted)
		}})
	}
	// The reference engine on the same packages (reference_bench_test.go), measured in every round
	// beside the phases: the same statistic (minimum and median of the rounds) for both.
	ref := newXmlsecRef(t, s, ups)
	rounds := envInt(t, "TAGDIJ_BENCH_ROUNDS", 5)
	cpu := map[string][]time.Duration{}
	allocs, allocBytes := map[string]uint64{}, map[string]uint64{}
	for r := range rounds {
		for _, p := range phases {
			dir := t.TempDir()
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			c0 := cpuTime()
			p.run(dir)
			d := cpuTime() - c0
			runtime.ReadMemStats(&m1)
			cpu[p.name] = append(cpu[p.name], d/time.Duration(n))
			if a := (m1.Mallocs - m0.Mallocs) / uint64(n); r == 0 || a < allocs[p.name] {
				allocs[p.name] = a
			}
			if b := (m1.TotalAlloc - m0.TotalAlloc) / uint64(n); r == 0 || b < allocBytes[p.name] {
				allocBytes[p.name] = b
			}
		}
		if ref != nil {
			cpu["xmlsec1-verify"] = append(cpu["xmlsec1-verify"], ref.verify(t))
			cpu["xmlsec1-sign"] = append(cpu["xmlsec1-sign"], ref.sign(t))
		}
	}
	names := make([]string, 0, len(phases)+2)
	for _, p := range phases {
		names = append(names, p.name)
	}
	if ref != nil {
		names = append(names, "xmlsec1-verify", "xmlsec1-sign")
	}
	for _, name := range names {
		c := slices.Clone(cpu[name])
		slices.Sort(c)
		fmt.Printf("receiver-cpu phase=%s uploads=%d rounds=%d cpu_ms_min=%.2f cpu_ms_median=%.2f allocs=%d alloc_kb=%d\n",
			name, n, rounds, ms(c[0]), ms(c[len(c)/2]), allocs[name], allocBytes[name]>>10)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
