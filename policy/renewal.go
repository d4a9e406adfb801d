package policy

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"time"
)

// DefaultRenewalMargin is how long before the end of an archive time-stamp's protection (its TSA
// certificate's notAfter, or the sunset of an algorithm it depends on) the archive renews it (ADM-02,
// issue 9) when the deployment configures no margin of its own. Half a year leaves room for a renewal
// run that fails and is retried for weeks, and for a TSA that must first be replaced. Like the sunset
// table it is Go-side: the policy documents are immutable and say nothing about archiving.
const DefaultRenewalMargin = 180 * 24 * time.Hour

// ArchiveStamp is what a renewal decision looks at in the archive time-stamp that currently protects
// a signature (its last one): when it was made, until when its TSA certificate is valid, and the
// algorithms its proof rests on.
type ArchiveStamp struct {
	GenTime     time.Time
	TSANotAfter time.Time        // zero: unknown, not a trigger
	Imprint     crypto.Hash      // the hash of the token's message imprint
	TSAKey      crypto.PublicKey // the TSA certificate's public key (nil: unknown)
	TSACertHash crypto.Hash      // the hash the TSA certificate is signed with (0: unknown)
}

// Renewal is the decision about one archive time-stamp: renewal is due from At on, because of Reason.
type Renewal struct {
	Due    bool
	At     time.Time
	Reason Text
}

// RenewalDue decides when the archive time-stamp s needs a successor: margin before its TSA
// certificate's notAfter, margin before the sunset (HashSunset, KeySunset) of its imprint hash, of its
// TSA certificate's signature hash or of its TSA's key size — whichever comes first — and at once
// (At = s.GenTime) for an algorithm the policy no longer accepts and the sunset table does not list
// (nothing makes it acceptable again, so the time-stamp protects nothing). Due reports whether now
// is at or after At. margin ≤ 0 means DefaultRenewalMargin. With nothing to go by (no notAfter,
// no algorithm), At is zero and Due false.
func (p *Policy) RenewalDue(s ArchiveStamp, now time.Time, margin time.Duration) Renewal {
	if margin <= 0 {
		margin = DefaultRenewalMargin
	}
	var r Renewal
	consider := func(at time.Time, hu, en string) {
		if r.At.IsZero() || at.Before(r.At) {
			r.At, r.Reason = at, Text{HU: hu, EN: en}
		}
	}
	if !s.TSANotAfter.IsZero() {
		consider(s.TSANotAfter.Add(-margin),
			fmt.Sprintf("az utolsó archív időbélyeg szolgáltatójának tanúsítványa %s-kor lejár", stamp(s.TSANotAfter)),
			fmt.Sprintf("the TSA certificate of the last archive time-stamp expires at %s", stamp(s.TSANotAfter)))
	}
	for _, h := range []struct {
		h    crypto.Hash
		what Text
	}{
		{s.Imprint, Text{"az időbélyeg lenyomata", "the time-stamp's imprint"}},
		{s.TSACertHash, Text{"a szolgáltató tanúsítványának aláírása", "the TSA certificate's signature"}},
	} {
		if h.h == 0 {
			continue
		}
		if sun, ok := HashSunset(h.h); ok {
			consider(sun.Date.Add(-margin),
				fmt.Sprintf("%s: %s, elavul %s-kor", h.what.HU, sun.Name, stamp(sun.Date)),
				fmt.Sprintf("%s uses %s, retired at %s", h.what.EN, sun.Name, stamp(sun.Date)))
		} else if p.CheckDigest(h.h) != nil {
			consider(s.GenTime,
				fmt.Sprintf("%s: a szabályzat nem fogadja el a(z) %s algoritmust", h.what.HU, hashName(h.h)),
				fmt.Sprintf("%s uses %s, which the policy does not accept", h.what.EN, hashName(h.h)))
		}
	}
	if s.TSAKey != nil {
		if sun, ok := KeySunset(s.TSAKey); ok {
			consider(sun.Date.Add(-margin),
				fmt.Sprintf("a szolgáltató kulcsa: %s, elavul %s-kor", sun.Name, stamp(sun.Date)),
				fmt.Sprintf("the TSA's key is %s, retired at %s", sun.Name, stamp(sun.Date)))
		} else if p.CheckPublicKey(s.TSAKey) != nil {
			consider(s.GenTime, "a szolgáltató kulcsát a szabályzat nem fogadja el", "the policy does not accept the TSA's key"+keyDesc(s.TSAKey))
		}
	}
	r.Due = !r.At.IsZero() && !now.Before(r.At)
	return r
}

func keyDesc(pub crypto.PublicKey) string {
	if k, ok := pub.(*rsa.PublicKey); ok && k != nil && k.N != nil {
		return fmt.Sprintf(" (RSA %d bits)", k.N.BitLen())
	}
	return ""
}
