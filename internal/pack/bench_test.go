package pack_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"github.com/tagdij/tagdij/internal/memstat"
	"runtime"
	"testing"

	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/payload"
)

// measure runs f b.N times and reports the peak live Go heap above the baseline (inputs already
// allocated) and the process's peak RSS (which includes libxml2's C heap).
func measure(b *testing.B, size int, f func()) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var peakHeap, rss uint64
	rssOK := true
	for b.Loop() {
		runtime.GC()
		base := memstat.HeapNow()
		rssOK = rssOK && memstat.ResetPeakRSS()
		s := memstat.StartHeapSampler()
		f()
		p := s.Finish()
		peakHeap = max(peakHeap, p-min(base, p))
		if r, ok := memstat.PeakRSS(); ok && rssOK {
			rss = max(rss, r)
		}
	}
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
	if rssOK && rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	}
}

// BenchmarkPack100k packs a 100,000-member declaration (~38 MB) and, beside it, the raw costs of its
// parts: validation (libxml2 parse + XSD + Go decode + Check), ZIP alone, CMS encryption alone. Run with
// -benchtime=1x on a shared machine:
//
//	go test -run '^$' -bench Pack100k -benchtime 1x ./internal/pack
func BenchmarkPack100k(b *testing.B) {
	f := newFixture(b)
	decl := f.decl(b, 100_000, 42, nil)
	set := schemas(b)

	b.Run("Pack", func(b *testing.B) {
		var out int
		measure(b, len(decl), func() {
			opts, _ := f.options(b)
			res, err := pack.Pack(context.Background(), decl, opts)
			if err != nil {
				b.Fatal(err)
			}
			out = len(res.Bytes)
		})
		b.ReportMetric(float64(out)/(1<<20), "package-MB")
	})
	b.Run("Validate", func(b *testing.B) {
		measure(b, len(decl), func() {
			d, findings, err := declaration.Validate(decl, set, declaration.CheckContext{Now: f.now})
			if err != nil || d == nil || declaration.Rejects(findings) {
				b.Fatal(err, findings)
			}
		})
	})
	var zipped []byte
	b.Run("Zip", func(b *testing.B) {
		measure(b, len(decl), func() {
			var buf bytes.Buffer
			buf.Grow(len(decl)/4 + 512)
			if err := payload.Zip(&buf, payload.EntryName, bytes.NewReader(decl)); err != nil {
				b.Fatal(err)
			}
			zipped = buf.Bytes()
		})
		b.ReportMetric(float64(len(zipped))/(1<<20), "zip-MB")
	})
	b.Run("Encrypt", func(b *testing.B) {
		measure(b, len(zipped), func() {
			if _, err := cmsenc.Encrypt(zipped, []*x509.Certificate{f.fundEnc.Cert, f.ownEnc.Cert}, nil); err != nil {
				b.Fatal(err)
			}
		})
	})
}
