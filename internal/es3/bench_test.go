package es3

import (
	"bytes"
	"fmt"
	"github.com/tagdij/tagdij/internal/memstat"
	"runtime"
	"testing"
)

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
				base := memstat.HeapNow()
				rssOK = rssOK && memstat.ResetPeakRSS()
				s := memstat.StartHeapSampler()

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

				p := s.Finish()
				peakHeap = max(peakHeap, p-min(base, p))
				if r, ok := memstat.PeakRSS(); ok && rssOK {
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
