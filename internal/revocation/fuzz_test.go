package revocation

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
)

// fuzzPKI is built once per fuzz target: a CA, a delegated responder and a leaf.
func fuzzPKI(f *testing.F) (ca, responder, leaf *revtest.Identity) {
	ca = revtest.NewRoot(f, revtest.Spec{Name: "Fuzz CA"})
	responder = ca.Issue(f, revtest.Spec{Name: "Fuzz Responder", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}})
	leaf = ca.Issue(f, revtest.Spec{Name: "Fuzz Leaf", CRL: []string{"http://127.0.0.1/fuzz.crl"}})
	return
}

// FuzzVerifyOCSP feeds arbitrary bytes, and mutations of valid responses, to the OCSP parser and
// verifier: it must never panic, and anything it accepts must be a complete, consistent Evidence.
func FuzzVerifyOCSP(f *testing.F) {
	ca, responder, leaf := fuzzPKI(f)
	now := time.Now()
	for _, st := range []ocsp.Response{
		{Status: ocsp.Good, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)},
		{Status: ocsp.Revoked, RevokedAt: now.Add(-time.Hour), RevocationReason: ocsp.KeyCompromise, ThisUpdate: now.Add(-time.Minute)},
		{Status: ocsp.Unknown, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)},
	} {
		st.SerialNumber = leaf.Cert.SerialNumber
		for _, signer := range []*revtest.Identity{ca, responder} {
			tmpl := st
			if signer == responder {
				tmpl.Certificate = responder.Cert
			}
			der, err := ocsp.CreateResponse(ca.Cert, signer.Cert, tmpl, signer.Key)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(der)
		}
	}
	f.Add(ocsp.TryLaterErrorResponse)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		ev, err := VerifyOCSP(der, leaf.Cert, ca.Cert, OCSPVerifyOptions{Now: now, Freshness: Freshness{Skew: time.Hour}})
		if err != nil {
			if !errors.Is(err, ErrInvalidEvidence) && !errors.Is(err, ErrUnavailable) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		if ev.OCSP == nil || ev.OCSP.Signer == nil || ev.Status < StatusGood || ev.Status > StatusUnknown {
			t.Fatalf("accepted evidence incomplete: %+v", ev)
		}
		if ev.Status == StatusRevoked && ev.RevocationTime.IsZero() {
			t.Fatal("revoked without time")
		}
	})
}

// FuzzVerifyCRL does the same for CRLs, seeded with complete, delta and scoped CRLs.
func FuzzVerifyCRL(f *testing.F) {
	ca, _, leaf := fuzzPKI(f)
	now := time.Now()
	for _, cfg := range []revtest.CRLConfig{
		{Issuer: ca},
		{Issuer: ca, Revoked: []x509.RevocationListEntry{{SerialNumber: leaf.Cert.SerialNumber, RevocationTime: now.Add(-time.Hour), ReasonCode: 1}}},
		{Issuer: ca, Extensions: []pkix.Extension{revtest.DeltaCRLIndicator(4)}},
		{Issuer: ca, Extensions: []pkix.Extension{revtest.IDP(true, false, false, "http://127.0.0.1/fuzz.crl")}},
	} {
		der, err := revtest.BuildCRL(cfg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		ev, err := VerifyCRL(der, leaf.Cert, ca.Cert, CRLVerifyOptions{Now: now, Freshness: Freshness{Skew: time.Hour}})
		if err != nil {
			if !errors.Is(err, ErrInvalidEvidence) {
				t.Fatalf("CRL verification error of the wrong kind: %v", err)
			}
			return
		}
		if ev.CRL == nil || (ev.Status == StatusRevoked) != ev.CRL.Listed {
			t.Fatalf("accepted evidence inconsistent: %+v", ev)
		}
	})
}

// FuzzParseIDP exercises the hand-written issuingDistributionPoint decoder directly, since inputs
// reaching it through VerifyCRL must first carry a valid signature.
func FuzzParseIDP(f *testing.F) {
	for _, e := range []pkix.Extension{revtest.IDP(true, false, false), revtest.IDP(false, true, true, "http://a/b", "http://c/d"), revtest.IDP(false, false, false)} {
		f.Add(e.Value)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		_, _ = parseIDP(der)
	})
}

// FuzzParseOCSP reaches the structure decoder (status, revokedInfo, responder ID, extensions)
// without the signature gate that stops most mutations in FuzzVerifyOCSP.
func FuzzParseOCSP(f *testing.F) {
	ca, responder, leaf := fuzzPKI(f)
	now := time.Now()
	for _, st := range []int{ocsp.Good, ocsp.Revoked, ocsp.Unknown} {
		der, err := ocsp.CreateResponse(ca.Cert, responder.Cert, ocsp.Response{Status: st, SerialNumber: leaf.Cert.SerialNumber,
			RevokedAt: now, ThisUpdate: now, Certificate: responder.Cert}, responder.Key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		p, err := parseOCSP(der, "")
		if err != nil {
			return
		}
		if len(p.singles) == 0 || p.info == nil {
			t.Fatal("parsed response without single responses")
		}
		for _, s := range p.singles {
			if s.status < StatusGood || s.status > StatusUnknown {
				t.Fatalf("status %d", s.status)
			}
		}
	})
}
