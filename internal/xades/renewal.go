package xades

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/policy"
)

// RenewalOptions control RenewalDue.
type RenewalOptions struct {
	// Policy decides which algorithms are weakening (its sunset table and algorithm rules). Required.
	Policy *policy.Policy
	// Now is the time the decision is for; zero: time.Now().
	Now time.Time
	// Margin is how long before the end of the last archive time-stamp's protection renewal is due;
	// ≤ 0: policy.DefaultRenewalMargin (180 days).
	Margin time.Duration
	// Limits are the XML parser limits (zero: libxml defaults).
	Limits libxml.Limits
}

// Renewal is RenewalDue's answer: when the dossier's archive time-stamps must be renewed (policy's
// decision for the signature whose protection ends first) and which signature that is.
type Renewal struct {
	policy.Renewal
	// Signature is the Id of the signature whose last archive time-stamp sets At.
	Signature string
}

// ErrNotArchived is returned by RenewalDue for a dossier none of whose signatures has an
// ArchiveTimeStamp: there is nothing to renew (Extend it first).
var ErrNotArchived = errors.New("xades: renewal: no signature has an archive time-stamp (nincs archív időbélyeg)")

// RenewalDue decides when an extended (XAdES-A) dossier needs Renew (ADM-02, issue 9): for each
// signature, its last ArchiveTimeStamp — the one protecting everything before it — is judged by
// opts.Policy.RenewalDue: due opts.Margin before its TSA certificate's notAfter or before the sunset
// of its imprint hash, its TSA certificate's signature hash or its TSA's key size, at once for an
// algorithm the policy no longer accepts. The dossier's answer is the earliest over its signatures;
// Due reports whether opts.Now is at or after it. A scheduler renews when Due, and otherwise plans the
// next look at At. Signatures without an archive time-stamp are not considered (ErrNotArchived when
// none has one); an archive time-stamp whose token cannot be read is an error (renewal cannot repair
// what it cannot read; verification says what is wrong with it).
func RenewalDue(dossier []byte, opts RenewalOptions) (Renewal, error) {
	if opts.Policy == nil {
		return Renewal{}, errors.New("xades: renewal: no policy")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	d, err := es3.Parse(dossier, es3.ParseOptions{Limits: opts.Limits})
	if err != nil {
		return Renewal{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	defer d.Close()
	var best Renewal
	found := false
	for _, s := range d.Signatures {
		p, err := locate(s.Node)
		if err != nil {
			continue
		}
		up, err := parseUnsigned(d.Doc(), p)
		if err != nil {
			return Renewal{}, fmt.Errorf("xades: renewal: %w", err)
		}
		if up == nil {
			continue
		}
		ats := up.Of(props.KindArchiveTimeStamp)
		if len(ats) == 0 || ats[len(ats)-1].TimeStamp == nil {
			continue
		}
		_, extra := embedded(up)
		last := ats[len(ats)-1].TimeStamp
		if len(last.Tokens) == 0 {
			return Renewal{}, fmt.Errorf("xades: renewal: signature %q: the last ArchiveTimeStamp has no token", s.ID)
		}
		for _, der := range last.Tokens {
			tok, err := tsp.ParseToken(der, extra...)
			if err != nil {
				return Renewal{}, fmt.Errorf("xades: renewal: signature %q: the last ArchiveTimeStamp: %w", s.ID, err)
			}
			r := opts.Policy.RenewalDue(policy.ArchiveStamp{GenTime: tok.GenTime, TSANotAfter: tok.TSA.NotAfter,
				Imprint: tok.HashAlgorithm, TSAKey: tok.TSA.PublicKey, TSACertHash: signatureHash(tok.TSA.SignatureAlgorithm)},
				now, opts.Margin)
			if !found || (!r.At.IsZero() && (best.At.IsZero() || r.At.Before(best.At))) {
				best, found = Renewal{Renewal: r, Signature: s.ID}, true
			}
		}
	}
	if !found {
		return Renewal{}, ErrNotArchived
	}
	return best, nil
}

// signatureHash is the hash of a certificate signature algorithm (0 when it has none of its own or is
// unknown: Ed25519, RSA-PSS parameters not visible here).
func signatureHash(a x509.SignatureAlgorithm) crypto.Hash {
	switch a {
	case x509.MD5WithRSA:
		return crypto.MD5
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return crypto.SHA1
	case x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		return crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return crypto.SHA512
	}
	return 0
}
