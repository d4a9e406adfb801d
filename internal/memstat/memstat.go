// Package memstat measures memory for benchmarks: the peak of the live Go heap while work runs, and
// the process's peak resident set size. It is a measuring aid, not used by the programs themselves.
package memstat

import (
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

const heapMetric = "/memory/classes/heap/objects:bytes"

// HeapNow returns the bytes of live heap objects.
func HeapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// HeapSampler records the peak of live heap objects while it runs. It reads runtime/metrics, which
// does not stop the world, every 200 µs; a spike shorter than that can be missed, so the figure is a
// lower bound of the true peak.
type HeapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

// StartHeapSampler starts sampling; Finish stops it.
func StartHeapSampler() *HeapSampler {
	h := &HeapSampler{stop: make(chan struct{}), peak: HeapNow()}
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
				h.peak = max(h.peak, HeapNow())
			}
		}
	}()
	return h
}

// Finish stops the sampler and returns the peak it saw.
func (h *HeapSampler) Finish() uint64 {
	close(h.stop)
	h.done.Wait()
	return max(h.peak, HeapNow())
}

// ResetPeakRSS asks Linux to reset VmHWM (clear_refs 5); PeakRSS reads it. Both report false where
// unsupported, and callers then leave the metric out.
func ResetPeakRSS() bool { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil }

// PeakRSS returns the process's peak resident set size since start or the last ResetPeakRSS.
func PeakRSS() (uint64, bool) {
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
