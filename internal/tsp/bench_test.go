package tsp

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"testing"
)

// BenchmarkStampLoopback measures full Stamp round trips (request, HTTP over
// 127.0.0.1 with keep-alive, signing by the in-test TSA, all client checks)
// against the digitorus-based TSA. ns/op is one time stamp.
func BenchmarkStampLoopback(b *testing.B) {
	p := newPKI(b)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
	}{
		{"ecdsa-p256", nil},
		{"rsa-2048", rsaKey(b)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cert, key := p.issue(b, certSpec{key: tc.key})
			c, _ := startTSA(b, p, &testTSA{cert: cert, key: key, chain: []*x509.Certificate{p.root}})
			digest := sha256.Sum256([]byte("benchmark"))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Stamp(ctx, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
