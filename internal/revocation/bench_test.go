package revocation

import (
	"context"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
)

// BenchmarkOCSPCheck measures full loopback OCSP round trips: request with nonce, HTTP POST, a
// response signed on the fly by the delegated responder, verification. ns/op is one round trip.
func BenchmarkOCSPCheck(b *testing.B) {
	f := newFixture(b)
	ch := &Checker{Methods: []Method{MethodOCSP}}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkCacheHit measures a check served from the disk cache: file read, re-verification of
// the stored response (signature, CertID, freshness).
func BenchmarkCacheHit(b *testing.B) {
	f := newFixture(b)
	cache, err := NewDirCache(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ch := &Checker{Methods: []Method{MethodOCSP}, Cache: cache}
	ctx := context.Background()
	if _, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ev, err := ch.Check(ctx, f.leaf.Cert, f.root.Cert, time.Now())
		if err != nil || !ev.FromCache {
			b.Fatal("not a cache hit", err)
		}
	}
}

// BenchmarkRepeatedCertificates is the receiver's workload in miniature: 100 checks over 5
// certificates of one CA, OCSP with the cache. It reports the hit ratio (95% expected: one miss per
// certificate) and the time per check.
func BenchmarkRepeatedCertificates(b *testing.B) {
	f := newFixture(b)
	certs := make([]*revtest.Identity, 5)
	for i := range certs {
		certs[i] = f.root.Issue(b, revtest.Spec{Name: "signer", OCSP: []string{f.ocsp.URL}})
	}
	ctx := context.Background()
	var ratio float64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		cache, err := NewDirCache(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		ch := &Checker{Methods: []Method{MethodOCSP}, Cache: cache}
		b.StartTimer()
		for i := 0; i < 100; i++ {
			if _, err := ch.Check(ctx, certs[i%len(certs)].Cert, f.root.Cert, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		ratio = cache.HitRatio()
	}
	b.ReportMetric(ratio, "hit-ratio")
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*100), "µs/check")
}
