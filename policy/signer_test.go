package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/qc"
	"github.com/tagdij/tagdij/internal/report"
)

// TestCheckSigner: the signer role of the document kind, and the validity period at the signing
// time; Refusal finds the first E0 finding, Record puts a finding into a verdict as a Tagdíj
// signature reads it.
func TestCheckSigner(t *testing.T) {
	p := mustProduction(t)
	issuer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	qual := &qc.Statements{Compliance: true, SSCD: true, Types: []asn1.ObjectIdentifier{qc.OIDTypeESign}}
	signer := issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment, qc: qual})
	receiptKey := issue(t, issuer, certOpts{ku: x509.KeyUsageDigitalSignature})
	now := time.Now()
	type want struct {
		code Code
		sub  report.SubIndication
	}
	cases := []struct {
		name string
		kind DocKind
		cert *x509.Certificate
		at   time.Time
		want []want
	}{
		{"qualified signer now", KindPackage, signer, now, nil},
		{"qualified signer, no time", KindPackage, signer, time.Time{}, nil},
		{"before NotBefore", KindPackage, signer, now.Add(-2 * time.Hour), []want{{A006, report.NotYetValid}}},
		{"after NotAfter", KindPackage, signer, now.Add(2 * time.Hour), []want{{A006, report.OutOfBoundsNoPOE}}},
		{"expiry ignored without a time", KindPackage, signer, time.Time{}, nil},
		{"receipt key as package signer", KindPackage, receiptKey, now, []want{{A004, SubChainConstraint}, {A004, SubChainConstraint}, {A010, SubChainConstraint}}},
		{"receipt key as receipt signer", KindReceipt, receiptKey, now, nil},
		{"unknown kind", DocKind("x"), signer, now, []want{{A010, SubPolicy}}},
		{"no certificate", KindPackage, nil, now, []want{{A003, SubNoChain}}},
	}
	for _, c := range cases {
		fs := p.CheckSigner(c.kind, c.cert, c.at)
		var got []want
		for _, f := range fs {
			got = append(got, want{f.Code, f.Sub})
			if f.HU == "" || f.EN == "" || f.HU == f.EN {
				t.Errorf("%s: finding without both texts: %+v", c.name, f)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		r, refused := Refusal(fs)
		if refused != (len(c.want) > 0) || (refused && r.Code != c.want[0].code) {
			t.Errorf("%s: Refusal = %+v, %v", c.name, r, refused)
		}
	}

	// Record: E0 fails the verdict with the sub-indication, W0 only warns; both at the location.
	f := p.CheckSigner(KindPackage, signer, now.Add(2*time.Hour))[0]
	v := report.Passed()
	w := f
	w.Severity = errcode.Warning
	w.Record(&v, "sig signer")
	if v.Indication != report.TotalPassed || len(v.Findings) != 1 || v.Findings[0].Location != "sig signer" {
		t.Errorf("warning recorded as %+v", v)
	}
	f.Record(&v, "sig signer")
	if v.Indication != report.TotalFailed || v.Sub != report.OutOfBoundsNoPOE || len(v.Findings) != 2 || v.Findings[1].Code != A006 {
		t.Errorf("error recorded as %+v", v)
	}
	if _, refused := Refusal([]Finding{w}); refused {
		t.Error("a warning refuses")
	}
}
