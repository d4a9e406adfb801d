package pathval

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/sigcache"
)

// BenchmarkValidateSigCache validates a qualified signer under a P-384 root and CA (the sandbox's
// shape: two P-384 signature checks per path) without and with a warm signature cache, both in the
// same iteration so they see the same machine load. ns/op is one pair; "speedup" is the ratio of
// the uncached to the cached time.
func BenchmarkValidateSigCache(b *testing.B) {
	p384 := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	root := revtest.NewRoot(b, revtest.Spec{Name: "Root", Key: p384()})
	ca := root.Issue(b, revtest.Spec{Name: "Qualified CA", CA: true, Key: p384()})
	leaf := ca.Issue(b, revtest.Spec{Name: "Teszt Elek", Qualified: true, KeyUsage: x509.KeyUsageContentCommitment, Key: p384()})
	opts := Options{Purpose: PurposeSigner, Anchors: NewAnchors(PurposeSigner, root.Cert), Time: time.Now()}
	inter := []*x509.Certificate{ca.Cert}
	ctx := context.Background()
	cached := opts
	cached.SigCache = sigcache.New(0)
	if _, err := Validate(ctx, leaf.Cert, inter, cached); err != nil {
		b.Fatal(err)
	}
	var plain, warm time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := Validate(ctx, leaf.Cert, inter, opts); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := Validate(ctx, leaf.Cert, inter, cached); err != nil {
			b.Fatal(err)
		}
		plain += t1.Sub(t0)
		warm += time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(plain.Microseconds())/n, "uncached-µs")
	b.ReportMetric(float64(warm.Microseconds())/n, "cached-µs")
	if warm > 0 {
		b.ReportMetric(float64(plain)/float64(warm), "speedup")
	}
}
