package sigcache

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// testCerts returns n distinct self-signed certificates (DER).
func testCerts(t testing.TB, n int) [][]byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range out {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "cert"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
		if out[i], err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestParseCertificate(t *testing.T) {
	ders := testCerts(t, 2)
	c := New(0)
	for _, tc := range []struct {
		name  string
		cache *Cache
	}{{"cache", c}, {"nil cache", nil}} {
		a, err := tc.cache.ParseCertificate(ders[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := tc.cache.ParseCertificate(bytes.Clone(ders[0]))
		if err != nil {
			t.Fatal(err)
		}
		other, err := tc.cache.ParseCertificate(ders[1])
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := x509.ParseCertificate(ders[0])
		if !a.Equal(plain) || !other.Equal(mustParse(t, ders[1])) || a.Equal(other) {
			t.Fatalf("%s: not what x509.ParseCertificate returns", tc.name)
		}
		if shared := a == b; shared != (tc.cache != nil) {
			t.Fatalf("%s: same bytes shared a parse: %v", tc.name, shared)
		}
		// A failure is crypto/x509's and is not remembered.
		for range 2 {
			if _, err := tc.cache.ParseCertificate([]byte("not a certificate")); err == nil {
				t.Fatalf("%s: garbage parsed", tc.name)
			}
		}
	}
	if s := c.Stats(); s.Hits != 1 || s.Misses != 4 {
		t.Fatalf("stats %+v, want 1 hit (the second parse) and 4 misses", s)
	}
}

func TestParseCertificates(t *testing.T) {
	ders := testCerts(t, 2)
	set := append(bytes.Clone(ders[0]), ders[1]...)
	c := New(0)
	a, err := c.ParseCertificates(set)
	if err != nil || len(a) != 2 {
		t.Fatal(len(a), err)
	}
	a[0] = nil // the caller's slice: the cache must not see this
	b, err := c.ParseCertificates(set)
	if err != nil || len(b) != 2 || b[0] == nil || !b[0].Equal(mustParse(t, ders[0])) || !b[1].Equal(mustParse(t, ders[1])) {
		t.Fatalf("second parse: %v %v", b, err)
	}
	if _, err := c.ParseCertificates(append(bytes.Clone(set), 0x30)); err == nil {
		t.Fatal("a truncated set parsed")
	}
	// One certificate and the set holding only it are different keys: ParseCertificates never
	// answers with ParseCertificate's entry or the other way round.
	one, _ := c.ParseCertificates(ders[0])
	single, _ := c.ParseCertificate(ders[0])
	if len(one) != 1 || one[0] == single {
		t.Fatal("the key spaces of a certificate and a set overlap")
	}
}

// TestParseCertificateBound: the cache keeps at most two generations; a certificate used all the
// time survives, one not used since two generations is parsed again.
func TestParseCertificateBound(t *testing.T) {
	ders := testCerts(t, 2*certsPerGeneration+2)
	c := New(0)
	hot, _ := c.ParseCertificate(ders[0])
	cold, _ := c.ParseCertificate(ders[1])
	for i, d := range ders[2:] {
		if _, err := c.ParseCertificate(d); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if again, _ := c.ParseCertificate(ders[0]); again != hot {
				t.Fatal("the certificate in use was dropped")
			}
		}
	}
	if n := len(c.certs.cur) + len(c.certs.old); n > 2*certsPerGeneration {
		t.Fatalf("%d certificates held, bound %d", n, 2*certsPerGeneration)
	}
	if again, _ := c.ParseCertificate(ders[1]); again == cold {
		t.Fatal("a certificate unused for two generations is still held")
	}
}

func mustParse(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
