package memstat

import (
	"runtime"
	"testing"
)

func TestHeapSamplerSeesAllocation(t *testing.T) {
	runtime.GC()
	s := StartHeapSampler()
	base := HeapNow()
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	runtime.KeepAlive(buf)
	if peak := s.Finish(); peak < base+60<<20 {
		t.Fatalf("peak %d, base %d: a 64 MiB allocation was not seen", peak, base)
	}
	if rss, ok := PeakRSS(); ok && rss < 64<<20 {
		t.Fatalf("peak RSS %d below the 64 MiB just touched", rss)
	}
}
