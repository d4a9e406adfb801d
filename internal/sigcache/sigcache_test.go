package sigcache_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/sigcache"
)

// pki is root → CA → leaf, and an impostor CA with the same name as CA but another key.
type pki struct {
	root, ca, leaf, impostor *revtest.Identity
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	p := &pki{root: revtest.NewRoot(t, revtest.Spec{Name: "Root"})}
	p.ca = p.root.Issue(t, revtest.Spec{Name: "CA", CA: true})
	p.leaf = p.ca.Issue(t, revtest.Spec{Name: "Leaf", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	p.impostor = p.root.Issue(t, revtest.Spec{Name: "CA", CA: true})
	return p
}

// reparse returns a fresh parse of c: same bytes, another value.
func reparse(t testing.TB, c *x509.Certificate) *x509.Certificate {
	t.Helper()
	x, err := x509.ParseCertificate(c.Raw)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// tampered returns c with the last byte of its signature changed, re-encoded and parsed: a
// well-formed certificate whose signature does not verify.
func tampered(t testing.TB, c *x509.Certificate) *x509.Certificate {
	t.Helper()
	raw := slices.Clone(c.Raw)
	raw[len(raw)-1] ^= 0x01
	x, err := x509.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestCheckSignatureFrom(t *testing.T) {
	p := newPKI(t)
	c := sigcache.New(0)
	if err := c.CheckSignatureFrom(p.leaf.Cert, p.ca.Cert); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Hits != 0 || s.Misses != 1 || s.Entries != 1 {
		t.Fatalf("after the first check: %+v", s)
	}
	// Same bytes, other values: a hit.
	if err := c.CheckSignatureFrom(reparse(t, p.leaf.Cert), reparse(t, p.ca.Cert)); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Hits != 1 {
		t.Fatalf("second check not served from the cache: %+v", s)
	}

	// The success for (leaf, CA) is never an answer for another issuer or another child.
	copyStruct := *p.leaf.Cert
	copyStruct.Signature = slices.Clone(copyStruct.Signature)
	copyStruct.Signature[len(copyStruct.Signature)-1] ^= 0x01
	notCA := *p.ca.Cert
	notCA.IsCA = false
	for name, pair := range map[string][2]*x509.Certificate{
		"other issuer, same name":                  {p.leaf.Cert, p.impostor.Cert},
		"tampered child":                           {tampered(t, p.leaf.Cert), p.ca.Cert},
		"child with another signature value":       {&copyStruct, p.ca.Cert},
		"same issuer key, not a CA (cA false)":     {p.leaf.Cert, &notCA},
		"the child's own key as issuer":            {p.leaf.Cert, p.leaf.Cert},
		"the issuer signed by its child (swapped)": {p.ca.Cert, p.leaf.Cert},
	} {
		want := pair[0].CheckSignatureFrom(pair[1])
		if want == nil {
			t.Fatalf("%s: the test pair verifies", name)
		}
		for i := range 2 { // failures are not remembered: the same answer twice
			if err := c.CheckSignatureFrom(pair[0], pair[1]); err == nil || err.Error() != want.Error() {
				t.Fatalf("%s, try %d: %v, want %v", name, i, err, want)
			}
		}
	}
	if s := c.Stats(); s.Entries != 1 {
		t.Fatalf("a failure was remembered: %+v", s)
	}
	// A nil cache is the plain check.
	var none *sigcache.Cache
	if err := none.CheckSignatureFrom(p.leaf.Cert, p.ca.Cert); err != nil {
		t.Fatal(err)
	}
	if err := none.CheckSignatureFrom(p.leaf.Cert, p.impostor.Cert); err == nil {
		t.Fatal("nil cache: impostor accepted")
	}
	if (none.Stats() != sigcache.Stats{}) {
		t.Fatal("nil cache has stats")
	}
}

func TestCheckSignature(t *testing.T) {
	p := newPKI(t)
	c := sigcache.New(0)
	leaf := p.leaf.Cert
	if err := c.CheckSignature(p.ca.Cert, leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignature(reparse(t, p.ca.Cert), leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Fatal(err)
	}
	if c.Stats().Hits != 1 {
		t.Fatalf("not a hit: %+v", c.Stats())
	}
	otherData := slices.Clone(leaf.RawTBSCertificate)
	otherData[len(otherData)-1] ^= 1
	for name, err := range map[string]error{
		"other key":       c.CheckSignature(p.impostor.Cert, leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature),
		"other data":      c.CheckSignature(p.ca.Cert, leaf.SignatureAlgorithm, otherData, leaf.Signature),
		"other algorithm": c.CheckSignature(p.ca.Cert, x509.ECDSAWithSHA384, leaf.RawTBSCertificate, leaf.Signature),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckCRLSignatureFrom(t *testing.T) {
	p := newPKI(t)
	parse := func(issuer *revtest.Identity) *x509.RevocationList {
		der, err := revtest.BuildCRL(revtest.CRLConfig{Issuer: issuer, Number: 7})
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		return crl
	}
	crl := parse(p.ca)
	c := sigcache.New(0)
	for range 2 {
		if err := c.CheckCRLSignatureFrom(crl, p.ca.Cert); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Hits != 1 || s.Entries != 1 {
		t.Fatalf("stats %+v", s)
	}
	if err := c.CheckCRLSignatureFrom(crl, p.impostor.Cert); err == nil {
		t.Fatal("a CRL of CA verified with the impostor's key")
	}
	bad := *crl
	bad.Signature = slices.Clone(bad.Signature)
	bad.Signature[len(bad.Signature)-1] ^= 1
	if err := c.CheckCRLSignatureFrom(&bad, p.ca.Cert); err == nil {
		t.Fatal("a tampered CRL signature verified")
	}
	// The same key in an issuer certificate without cRLSign: refused, not served from the cache.
	noCRLSign := p.root.Issue(t, revtest.Spec{Name: "CA", CA: true, Key: p.ca.Key, KeyUsage: x509.KeyUsageCertSign})
	if err := c.CheckCRLSignatureFrom(crl, noCRLSign.Cert); err == nil {
		t.Fatal("an issuer without cRLSign accepted from the cache")
	}
}

// chainRaw is a chain as raw bytes, to compare results of different calls.
func chainRaw(chains [][]*x509.Certificate) string {
	var s string
	for _, ch := range chains {
		for _, c := range ch {
			s += fmt.Sprintf("%x,", c.Raw[len(c.Raw)-8:])
		}
		s += ";"
	}
	return s
}

func TestVerify(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	// An intermediate that expires in 30 minutes: the path exists now, not in an hour.
	short := p.root.Issue(t, revtest.Spec{Name: "Short CA", CA: true, NotAfter: now.Add(30 * time.Minute)})
	underShort := short.Issue(t, revtest.Spec{Name: "Leaf of Short"})
	roots := sigcache.NewRoots(p.root.Cert)
	anyUsage := []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	c := sigcache.New(0)

	plain := func(leaf *x509.Certificate, inter []*x509.Certificate, r *sigcache.Roots, at time.Time, u []x509.ExtKeyUsage) ([][]*x509.Certificate, error) {
		var none *sigcache.Cache
		return none.Verify(leaf, inter, r, at, u)
	}
	type call struct {
		name  string
		leaf  *x509.Certificate
		inter []*x509.Certificate
		roots *sigcache.Roots
		at    time.Time
		usage []x509.ExtKeyUsage
		ok    bool
	}
	calls := []call{
		{"valid path", p.leaf.Cert, []*x509.Certificate{p.ca.Cert}, roots, now, anyUsage, true},
		{"impostor as the only intermediate", p.leaf.Cert, []*x509.Certificate{p.impostor.Cert}, roots, now, anyUsage, false},
		{"impostor first, CA second", p.leaf.Cert, []*x509.Certificate{p.impostor.Cert, p.ca.Cert}, roots, now, anyUsage, true},
		{"no intermediate", p.leaf.Cert, nil, roots, now, anyUsage, false},
		{"tampered leaf", tampered(t, p.leaf.Cert), []*x509.Certificate{p.ca.Cert}, roots, now, anyUsage, false},
		{"tampered intermediate", p.leaf.Cert, []*x509.Certificate{tampered(t, p.ca.Cert)}, roots, now, anyUsage, false},
		{"other anchors", p.leaf.Cert, []*x509.Certificate{p.ca.Cert}, sigcache.NewRoots(p.impostor.Cert), now, anyUsage, false},
		{"no anchors", p.leaf.Cert, []*x509.Certificate{p.ca.Cert}, sigcache.NewRoots(), now, anyUsage, false},
		{"key usage the leaf lacks", p.leaf.Cert, []*x509.Certificate{p.ca.Cert}, roots, now, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, false},
		{"short CA now", underShort.Cert, []*x509.Certificate{short.Cert}, roots, now, anyUsage, true},
		{"short CA expired in an hour", underShort.Cert, []*x509.Certificate{short.Cert}, roots, now.Add(time.Hour), anyUsage, false},
		{"leaf not yet valid", p.leaf.Cert, []*x509.Certificate{p.ca.Cert}, roots, now.Add(-2 * time.Hour), anyUsage, false},
		{"nil intermediates skipped", p.leaf.Cert, []*x509.Certificate{nil, p.ca.Cert, nil}, roots, now, anyUsage, true},
	}
	// Three rounds over one cache: the first fills it, the others must answer exactly as
	// crypto/x509 does, whatever an earlier call left in it.
	for round := range 3 {
		for _, k := range calls {
			want, werr := plain(k.leaf, k.inter, k.roots, k.at, k.usage)
			got, gerr := c.Verify(k.leaf, k.inter, k.roots, k.at, k.usage)
			if (werr == nil) != k.ok {
				t.Fatalf("%s: crypto/x509 says %v (test expects ok=%v)", k.name, werr, k.ok)
			}
			switch {
			case (gerr == nil) != (werr == nil):
				t.Fatalf("round %d, %s: cached %v, crypto/x509 %v", round, k.name, gerr, werr)
			case werr != nil && gerr.Error() != werr.Error():
				t.Fatalf("round %d, %s: cached error %q, crypto/x509 %q", round, k.name, gerr, werr)
			case chainRaw(got) != chainRaw(want):
				t.Fatalf("round %d, %s: cached chains %s, crypto/x509 %s", round, k.name, chainRaw(got), chainRaw(want))
			}
		}
	}
	s := c.Stats()
	if s.Hits == 0 {
		t.Fatalf("nothing served from the cache: %+v", s)
	}

	// A hit returns this call's certificate values, not the ones of the call that filled it.
	leaf, ca := reparse(t, p.leaf.Cert), reparse(t, p.ca.Cert)
	before := c.Stats().Hits
	chains, err := c.Verify(leaf, []*x509.Certificate{ca}, roots, now, anyUsage)
	if err != nil || c.Stats().Hits != before+1 {
		t.Fatalf("not a hit: %v %+v", err, c.Stats())
	}
	if len(chains) != 1 || len(chains[0]) != 3 || chains[0][0] != leaf || chains[0][1] != ca || chains[0][2] != p.root.Cert {
		t.Fatalf("chain not made of this call's certificates: %v", chains)
	}
	if _, err := c.Verify(leaf, nil, nil, now, anyUsage); err == nil {
		t.Fatal("nil roots accepted")
	}
}

func TestBounded(t *testing.T) {
	p := newPKI(t)
	var leaves []*x509.Certificate
	for i := range 12 {
		leaves = append(leaves, p.ca.Issue(t, revtest.Spec{Name: fmt.Sprint("leaf ", i)}).Cert)
	}
	c := sigcache.New(4)
	for _, l := range leaves {
		if err := c.CheckSignatureFrom(l, p.ca.Cert); err != nil {
			t.Fatal(err)
		}
		// leaves[0] is used all along: it survives every generation change.
		if err := c.CheckSignatureFrom(leaves[0], p.ca.Cert); err != nil {
			t.Fatal(err)
		}
		if n := c.Stats().Entries; n > 4 {
			t.Fatalf("%d entries in a cache of 4", n)
		}
	}
	hits := c.Stats().Hits
	if err := c.CheckSignatureFrom(leaves[0], p.ca.Cert); err != nil || c.Stats().Hits != hits+1 {
		t.Fatal("the entry in use was dropped")
	}
	if err := c.CheckSignatureFrom(leaves[1], p.ca.Cert); err != nil || c.Stats().Hits != hits+1 {
		t.Fatal("an old entry survived a cache of 4")
	}
}

// Many goroutines share a small cache (run with -race): every answer is right.
func TestConcurrent(t *testing.T) {
	p := newPKI(t)
	roots := sigcache.NewRoots(p.root.Cert)
	var leaves []*x509.Certificate
	for i := range 6 {
		leaves = append(leaves, p.ca.Issue(t, revtest.Spec{Name: fmt.Sprint("leaf ", i)}).Cert)
	}
	bad := tampered(t, leaves[0])
	c := sigcache.New(8)
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				l := leaves[(w+i)%len(leaves)]
				if err := c.CheckSignatureFrom(l, p.ca.Cert); err != nil {
					errs <- err
					return
				}
				if err := c.CheckSignatureFrom(bad, p.ca.Cert); err == nil {
					errs <- errors.New("tampered certificate accepted")
					return
				}
				if err := c.CheckSignatureFrom(l, p.impostor.Cert); err == nil {
					errs <- errors.New("impostor accepted")
					return
				}
				chains, err := c.Verify(l, []*x509.Certificate{p.impostor.Cert, p.ca.Cert}, roots, now, nil)
				if err != nil || len(chains) != 1 || chains[0][0] != l {
					errs <- fmt.Errorf("verify: %v %v", err, chains)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Hits == 0 || s.Entries > 8 {
		t.Fatalf("stats %+v", s)
	}
}
