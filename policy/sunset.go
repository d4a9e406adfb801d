package policy

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sunset is the date from which an algorithm, or a key size, no longer protects a signature: a
// signature that depends on it is acceptable only with a proof of existence (POE) from before that
// date, such as a verified time-stamp (ETSI EN 319 102-1 §5.2.8; without one the signature is
// INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE).
type Sunset struct {
	Name   string    // e.g. "SHA-1", "RSA < 2048 bits"
	Date   time.Time // the first instant at which it no longer counts as secure
	Source string    // where the date comes from
}

// The sunset table. It is Go-side on purpose: the policy documents are immutable (their SHA-256 is in
// every SignaturePolicyIdentifier), and the dates concern signatures made under other policies — a
// Tagdíj signature is always newer than all of them. An algorithm the policy does not accept and that
// has no entry here (MD5, DSA, an unknown curve) has no sunset: no proof of existence makes it
// acceptable. Changing a date is a policy decision; the sources are the ones to keep in step with.
var (
	sha1Sunset = Sunset{Name: "SHA-1", Date: time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC),
		Source: "ETSI TS 119 312 (formerly TS 102 176-1) and the SOG-IS Agreed Cryptographic Mechanisms " +
			"withdraw SHA-1 from signature creation; NIST SP 800-131A disallowed it after 2013. Tagdíj uses " +
			"the earlier date (issue 7)."}
	rsaSunset = Sunset{Name: "RSA < 2048 bits", Date: time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC),
		Source: "NIST SP 800-131A: RSA keys below 2048 bits (under 112-bit strength) disallowed for " +
			"signature generation after 2013-12-31; ETSI TS 119 312 and SOG-IS require at least 2048 bits."}
)

// minSunsetRSABits is the smallest RSA key the RSA sunset covers: smaller keys never count.
const minSunsetRSABits = 1024

// HashSunset returns the sunset of digest algorithm h; ok is false when h has none (accepted, or
// never acceptable).
func HashSunset(h crypto.Hash) (s Sunset, ok bool) {
	if h == crypto.SHA1 {
		return sha1Sunset, true
	}
	return Sunset{}, false
}

// KeySunset returns the sunset of pub's size: RSA keys from 1024 bits up to (not including) 2048
// bits have one; ok is false for every other key.
func KeySunset(pub crypto.PublicKey) (s Sunset, ok bool) {
	if k, isRSA := pub.(*rsa.PublicKey); isRSA && k != nil && k.N != nil {
		if bits := k.N.BitLen(); bits >= minSunsetRSABits && bits < 2048 {
			return rsaSunset, true
		}
	}
	return Sunset{}, false
}

// The *At methods below are the algorithm rules of the generic validation policy Tagdíj applies to
// signatures that are not its own (VerifyGeneric, non-Tagdíj e-akta dossiers): the policy's rules,
// except that a hash or an RSA key size with a sunset passes when the signature is proven to exist
// before that sunset. poe is the proven time (the genTime of a verified time-stamp); zero means no
// proof. A failure is a Finding (A013) whose Sub is SubCryptoNoPOE when only sunsets stand in the way
// (a proof of existence would help) and SubCryptoConstr otherwise.

// CheckDigestAt is CheckDigest under the generic validation policy.
func (p *Policy) CheckDigestAt(h crypto.Hash, poe time.Time) error {
	err := p.CheckDigest(h)
	if err == nil {
		return nil
	}
	return p.atPOE(err, poe, func(q *Policy) error { return q.CheckDigest(h) }, sunsetsOf(p, h, nil))
}

// CheckDigestURIAt is CheckDigestURI under the generic validation policy.
func (p *Policy) CheckDigestURIAt(uri string, poe time.Time) (crypto.Hash, error) {
	h, err := p.CheckDigestURI(uri)
	if err == nil {
		return h, nil
	}
	if _, known := digestURIs[uri]; !known {
		return h, err
	}
	return h, p.CheckDigestAt(h, poe)
}

// CheckAlgorithmURIAt is CheckAlgorithmURI under the generic validation policy.
func (p *Policy) CheckAlgorithmURIAt(uri string, pub crypto.PublicKey, poe time.Time) (crypto.Hash, error) {
	h, err := p.CheckAlgorithmURI(uri, pub)
	if err == nil {
		return h, nil
	}
	a, known := signatureURIs[uri]
	if !known {
		return h, err
	}
	return h, p.atPOE(err, poe, func(q *Policy) error { return q.checkSig(a, uri, pub) }, sunsetsOf(p, a.hash, pub))
}

// sunsetsOf lists the sunsets of h and of pub's size that the policy's current rules do not accept.
func sunsetsOf(p *Policy, h crypto.Hash, pub crypto.PublicKey) []Sunset {
	var out []Sunset
	if s, ok := HashSunset(h); ok && p.CheckDigest(h) != nil {
		out = append(out, s)
	}
	if s, ok := KeySunset(pub); ok && p.CheckPublicKey(pub) != nil {
		out = append(out, s)
	}
	return out
}

// atPOE decides a failed check under the generic validation policy: check is run again on the policy
// relaxed by the sunsets that lie after poe (passing: accepted), then relaxed by every sunset
// (passing: only a POE was missing, CRYPTO_CONSTRAINTS_FAILURE_NO_POE); otherwise the original
// finding stands.
func (p *Policy) atPOE(orig error, poe time.Time, check func(*Policy) error, sunsets []Sunset) error {
	if len(sunsets) == 0 {
		return orig
	}
	if !poe.IsZero() && check(p.relaxed(sunsets, poe)) == nil {
		return nil
	}
	if check(p.relaxed(sunsets, time.Time{})) != nil {
		return orig
	}
	var names, dates []string
	for _, s := range sunsets {
		if !poe.IsZero() && poe.Before(s.Date) {
			continue // this one the proof covers
		}
		names = append(names, s.Name)
		dates = append(dates, s.Name+": "+stamp(s.Date))
	}
	f, _ := orig.(Finding)
	hu := strings.TrimSpace(f.HU + " " + fmt.Sprintf("Semmi nem bizonyítja, hogy az aláírás az elavulás előtt (%s) létezett.", strings.Join(dates, ", ")))
	were := map[bool]string{true: "was", false: "were"}[len(names) == 1]
	en := strings.TrimSpace(f.EN + " " + fmt.Sprintf("Nothing proves that the signature existed before %s %s retired (%s).", strings.Join(names, " and "), were, strings.Join(dates, ", ")))
	if !poe.IsZero() {
		hu = strings.TrimSpace(f.HU + " " + fmt.Sprintf("Az aláírás létezését %s-tól bizonyítja időbélyeg, az elavulás után (%s).", stamp(poe), strings.Join(dates, ", ")))
		en = strings.TrimSpace(f.EN + " " + fmt.Sprintf("The signature is proven to exist from %s, after %s %s retired (%s).", stamp(poe), strings.Join(names, " and "), were, strings.Join(dates, ", ")))
	}
	return finding(A013, SubCryptoNoPOE, hu, en)
}

// relaxed returns a copy of p whose algorithm rules also accept what the sunsets cover, for each
// sunset that lies after before (every one when before is zero).
func (p *Policy) relaxed(sunsets []Sunset, before time.Time) *Policy {
	q := *p
	al := p.Algorithms
	al.Digests = slices.Clone(al.Digests)
	al.Forbidden = slices.Clone(al.Forbidden)
	for _, s := range sunsets {
		if !before.IsZero() && !before.Before(s.Date) {
			continue
		}
		switch s.Name {
		case sha1Sunset.Name:
			al.Forbidden = slices.DeleteFunc(al.Forbidden, func(h crypto.Hash) bool { return h == crypto.SHA1 })
			if !slices.Contains(al.Digests, crypto.SHA1) {
				al.Digests = append(al.Digests, crypto.SHA1)
			}
		case rsaSunset.Name:
			al.MinRSABits = min(al.MinRSABits, minSunsetRSABits)
		}
	}
	q.Algorithms = al
	return &q
}
