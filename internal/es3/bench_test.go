package es3

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// heapSampler records the peak of live heap objects while it runs. It reads runtime/metrics, which
// does not stop the world, every 200 µs; a spike shorter than that can be missed, so the figure is a
// lower bound of the true peak.
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), peak: heapNow()}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
				h.peak = max(h.peak, heapNow())
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() uint64 {
	close(h.stop)
	h.done.Wait()
	return max(h.peak, heapNow())
}

// resetPeakRSS asks Linux to reset VmHWM (clear_refs 5); peakRSS reads it. Both report false where
// unsupported, and the metric is then left out.
func resetPeakRSS() bool { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil }

func peakRSS() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// BenchmarkRoundTrip builds, writes, parses and decodes a package with a 1 MB and a 50 MB payload, and
// reports, beyond time and B/op (every byte allocated: the copies), the peak live Go heap above the
// baseline (payload already allocated) and the process's peak RSS, which includes libxml2's C heap.
// Run the 50 MB case with -benchtime=1x on a shared machine.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{1 << 20, 50 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			payload := pseudoPayload(size, 9)
			spec := packageSpec(payload)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var peakHeap, peakRSSBytes uint64
			rssOK := true
			for b.Loop() {
				spec.Rand = seeded(1)
				runtime.GC()
				base := heapNow()
				rssOK = rssOK && resetPeakRSS()
				s := startSampler()

				doc, err := Build(spec)
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				buf.Grow(size/3*4 + size/57 + 4096)
				if err := Write(&buf, doc); err != nil {
					b.Fatal(err)
				}
				doc = nil // the signed bytes are what travels; let the tree go
				d, err := Parse(buf.Bytes(), ParseOptions{})
				if err != nil {
					b.Fatal(err)
				}
				got, err := d.Payload(0)
				d.Close()
				if err != nil || len(got) != size {
					b.Fatalf("payload: %d bytes, %v", len(got), err)
				}

				peakHeap = max(peakHeap, s.finish()-min(base, s.peak))
				if r, ok := peakRSS(); ok && rssOK {
					peakRSSBytes = max(peakRSSBytes, r)
				}
				runtime.KeepAlive(buf)
			}
			b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
			if rssOK && peakRSSBytes > 0 {
				b.ReportMetric(float64(peakRSSBytes)/(1<<20), "peak-RSS-MB")
			}
		})
	}
}

// BenchmarkPayload isolates the decode of a parsed 50 MB package: the streaming base64 decoder's
// allocations should be the result and little else.
func BenchmarkPayload(b *testing.B) {
	const size = 50 << 20
	data := written(b, packageSpec(pseudoPayload(size, 9)))
	d := mustParse(b, data, ParseOptions{})
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if p, err := d.Payload(0); err != nil || len(p) != size {
			b.Fatalf("%d bytes, %v", len(p), err)
		}
	}
}
