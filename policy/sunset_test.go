package policy

import (
	"crypto"
	"crypto/elliptic"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/report"
)

func subOf(t *testing.T, err error) report.SubIndication {
	t.Helper()
	if err == nil {
		return ""
	}
	var f Finding
	if !errors.As(err, &f) || f.Code != A013 || f.HU == "" || f.EN == "" {
		t.Fatalf("%v is not a bilingual A013 finding", err)
	}
	return f.Sub
}

// TestAlgorithmsAtPOE: under the generic validation policy a hash or RSA key size with a sunset passes
// only with a proof of existence before the sunset; without one it is CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
// and what has no sunset stays CRYPTO_CONSTRAINTS_FAILURE whatever the proof.
func TestAlgorithmsAtPOE(t *testing.T) {
	p := mustProduction(t)
	const (
		rsaSHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
		rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
		rsaMD5    = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5"
		ecSHA256  = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
		hmac      = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	none := time.Time{}
	cases := []struct {
		name string
		uri  string
		pub  crypto.PublicKey
		poe  time.Time
		want report.SubIndication // "" accepted, else the Sub
	}{
		{"current algorithm, no proof needed", rsaSHA256, rsaPub(2048), none, ""},
		{"SHA-1 without proof", rsaSHA1, rsaPub(2048), none, SubCryptoNoPOE},
		{"SHA-1 proven before its sunset", rsaSHA1, rsaPub(2048), day(2011, 12, 31), ""},
		{"SHA-1 proven at its sunset", rsaSHA1, rsaPub(2048), day(2012, 1, 1), SubCryptoNoPOE},
		{"SHA-1 proven after its sunset", rsaSHA1, rsaPub(2048), day(2020, 1, 1), SubCryptoNoPOE},
		{"RSA-1024 without proof", rsaSHA256, rsaPub(1024), none, SubCryptoNoPOE},
		{"RSA-1024 proven before its sunset", rsaSHA256, rsaPub(1024), day(2013, 6, 1), ""},
		{"RSA-1024 proven after its sunset", rsaSHA256, rsaPub(1024), day(2014, 1, 2), SubCryptoNoPOE},
		{"SHA-1 and RSA-1024 proven before both", rsaSHA1, rsaPub(1024), day(2011, 6, 1), ""},
		{"SHA-1 and RSA-1024 proven between the sunsets", rsaSHA1, rsaPub(1024), day(2013, 6, 1), SubCryptoNoPOE},
		{"SHA-1 and RSA-1024 without proof", rsaSHA1, rsaPub(1024), none, SubCryptoNoPOE},
		{"RSA-512 has no sunset", rsaSHA256, rsaPub(512), day(2000, 1, 1), SubCryptoConstr},
		{"MD5 has no sunset", rsaMD5, rsaPub(2048), day(2000, 1, 1), SubCryptoConstr},
		{"P-224 has no sunset", ecSHA256, ecPub(elliptic.P224()), day(2000, 1, 1), SubCryptoConstr},
		{"key does not fit the scheme", ecSHA256, rsaPub(2048), day(2000, 1, 1), SubCryptoConstr},
		{"SHA-1 with a key that does not fit", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", rsaPub(2048), day(2000, 1, 1), SubCryptoConstr},
		{"unknown method", hmac, rsaPub(2048), day(2000, 1, 1), SubCryptoConstr},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.CheckAlgorithmURIAt(c.uri, c.pub, c.poe)
			if got := subOf(t, err); got != c.want {
				t.Fatalf("CheckAlgorithmURIAt = %v (%q), want %q", err, got, c.want)
			}
		})
	}

	digests := []struct {
		name string
		uri  string
		poe  time.Time
		want report.SubIndication
	}{
		{"SHA-256", "http://www.w3.org/2001/04/xmlenc#sha256", none, ""},
		{"SHA-1 without proof", "http://www.w3.org/2000/09/xmldsig#sha1", none, SubCryptoNoPOE},
		{"SHA-1 proven before its sunset", "http://www.w3.org/2000/09/xmldsig#sha1", day(2010, 1, 1), ""},
		{"SHA-1 proven after its sunset", "http://www.w3.org/2000/09/xmldsig#sha1", day(2012, 1, 2), SubCryptoNoPOE},
		{"SHA-224 is not in the policy and has no sunset", "http://www.w3.org/2001/04/xmldsig-more#sha224", day(2000, 1, 1), SubCryptoConstr},
		{"MD5", "http://www.w3.org/2001/04/xmldsig-more#md5", day(2000, 1, 1), SubCryptoConstr},
		{"unknown", "urn:x-digest", day(2000, 1, 1), SubCryptoConstr},
	}
	for _, c := range digests {
		t.Run("digest "+c.name, func(t *testing.T) {
			_, err := p.CheckDigestURIAt(c.uri, c.poe)
			if got := subOf(t, err); got != c.want {
				t.Fatalf("CheckDigestURIAt = %v (%q), want %q", err, got, c.want)
			}
		})
	}
	if subOf(t, p.CheckDigestAt(crypto.SHA1, none)) != SubCryptoNoPOE || p.CheckDigestAt(crypto.SHA1, day(2011, 1, 1)) != nil {
		t.Fatal("CheckDigestAt disagrees with CheckDigestURIAt")
	}
	// The message names what the proof does not cover, in both languages.
	_, err := p.CheckAlgorithmURIAt(rsaSHA1, rsaPub(1024), day(2013, 6, 1))
	var f Finding
	if !errors.As(err, &f) || !strings.Contains(f.EN, "after SHA-1 was retired") || strings.Contains(f.EN, "RSA < 2048 bits:") ||
		!strings.Contains(f.HU, "2012-01-01") {
		t.Fatalf("message %+v", f)
	}

	// The policy's own rules never move: a Tagdíj signature cannot be older than the sunsets.
	if _, err := p.CheckAlgorithmURI(rsaSHA1, rsaPub(2048)); err == nil {
		t.Fatal("CheckAlgorithmURI accepts SHA-1 after the relaxed checks")
	}
	if !slices.Contains(p.Algorithms.Forbidden, crypto.SHA1) || p.Algorithms.MinRSABits != 2048 || slices.Contains(p.Algorithms.Digests, crypto.SHA1) {
		t.Fatalf("the relaxed checks changed the policy: %+v", p.Algorithms)
	}
}

func TestSunsets(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
		get  func() (Sunset, bool)
	}{
		{"SHA-1", true, func() (Sunset, bool) { return HashSunset(crypto.SHA1) }},
		{"SHA-256", false, func() (Sunset, bool) { return HashSunset(crypto.SHA256) }},
		{"MD5", false, func() (Sunset, bool) { return HashSunset(crypto.MD5) }},
		{"RSA-1024", true, func() (Sunset, bool) { return KeySunset(rsaPub(1024)) }},
		{"RSA-2047", true, func() (Sunset, bool) { return KeySunset(rsaPub(2047)) }},
		{"RSA-2048", false, func() (Sunset, bool) { return KeySunset(rsaPub(2048)) }},
		{"RSA-1023", false, func() (Sunset, bool) { return KeySunset(rsaPub(1023)) }},
		{"ECDSA", false, func() (Sunset, bool) { return KeySunset(ecPub(elliptic.P256())) }},
		{"no key", false, func() (Sunset, bool) { return KeySunset(nil) }},
	}
	for _, c := range cases {
		s, ok := c.get()
		if ok != c.ok || ok && (s.Date.IsZero() || s.Source == "" || s.Name == "") {
			t.Errorf("%s: %+v %v, want ok=%v with a date and a source", c.name, s, ok, c.ok)
		}
	}
}
