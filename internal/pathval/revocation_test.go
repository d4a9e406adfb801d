package pathval

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/revocation/revtest"
)

// TestValidateRevocation runs the chain root → Qualified CA → signer against real loopback
// services: the root publishes a CRL covering the CA, the CA answers OCSP for the signer.
func TestValidateRevocation(t *testing.T) {
	ocspSrv := revtest.NewOCSPServer(t)
	crlSrv := revtest.NewCRLServer(t)
	root := revtest.NewRoot(t, revtest.Spec{Name: "Qualified Root"})
	ca := root.Issue(t, revtest.Spec{Name: "Qualified CA", CA: true, CRL: []string{crlSrv.URL + "/root.crl"}})
	s := signerSpec("Teszt Elek")
	s.OCSP = []string{ocspSrv.URL}
	signer := ca.Issue(t, s)
	anchors := NewAnchors(PurposeSigner, root.Cert)

	T := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	before, after := T.Add(-10*time.Minute), T.Add(10*time.Minute)

	cases := []struct {
		name     string
		ocsp     func(*revtest.OCSPConfig)
		crl      func(*revtest.CRLConfig)
		want     error
		code     string
		afterT   []int
		evidence bool // evidence expected for both non-anchor positions
	}{
		{name: "all good", evidence: true},
		{name: "signer revoked before T", ocsp: func(c *revtest.OCSPConfig) {
			c.Default = revtest.OCSPStatus{Status: ocsp.Revoked, RevokedAt: before, Reason: ocsp.KeyCompromise}
		}, want: ErrRevoked, code: "A005"},
		{name: "signer revoked exactly at T", ocsp: func(c *revtest.OCSPConfig) {
			c.Default = revtest.OCSPStatus{Status: ocsp.Revoked, RevokedAt: T}
		}, want: ErrRevoked, code: "A005"},
		{name: "signer revoked after T", ocsp: func(c *revtest.OCSPConfig) {
			c.Default = revtest.OCSPStatus{Status: ocsp.Revoked, RevokedAt: after}
		}, afterT: []int{0}, evidence: true},
		{name: "CA revoked before T", crl: func(c *revtest.CRLConfig) {
			c.Revoked = []x509.RevocationListEntry{{SerialNumber: ca.Cert.SerialNumber, RevocationTime: before, ReasonCode: 2}}
		}, want: ErrRevoked, code: "A005"},
		{name: "CA revoked after T", crl: func(c *revtest.CRLConfig) {
			c.Revoked = []x509.RevocationListEntry{{SerialNumber: ca.Cert.SerialNumber, RevocationTime: after}}
		}, afterT: []int{1}, evidence: true},
		{name: "signer unknown", ocsp: func(c *revtest.OCSPConfig) { c.Default = revtest.OCSPStatus{Status: ocsp.Unknown} },
			want: ErrRevocationUnknown, code: "A011"},
		{name: "signer's responder down", ocsp: func(c *revtest.OCSPConfig) { c.HTTPStatus = http.StatusInternalServerError },
			want: ErrRevocationUnavailable, code: "A011"},
		{name: "CA's CRL stale", crl: func(c *revtest.CRLConfig) {
			c.ThisUpdate, c.NextUpdate = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
		}, want: ErrRevocationInvalid, code: "A011"},
		{name: "signer's responder unauthorized", ocsp: func(c *revtest.OCSPConfig) { c.Signer = root },
			want: ErrRevocationInvalid, code: "A011"},
		{name: "revoked CA wins over an unavailable responder", ocsp: func(c *revtest.OCSPConfig) { c.HTTPStatus = 503 },
			crl: func(c *revtest.CRLConfig) {
				c.Revoked = []x509.RevocationListEntry{{SerialNumber: ca.Cert.SerialNumber, RevocationTime: before}}
			}, want: ErrRevoked, code: "A005"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ocspSrv.Set(func(c *revtest.OCSPConfig) {
				*c = revtest.OCSPConfig{Issuer: ca, Signer: ca, Default: revtest.OCSPStatus{Status: ocsp.Good}}
				if tc.ocsp != nil {
					tc.ocsp(c)
				}
			})
			crlSrv.Set(func(c *revtest.CRLConfig) {
				*c = revtest.CRLConfig{Issuer: root}
				if tc.crl != nil {
					tc.crl(c)
				}
			})
			checker := &revocation.Checker{}
			res, err := Validate(context.Background(), signer.Cert, []*x509.Certificate{ca.Cert},
				Options{Purpose: PurposeSigner, Anchors: anchors, Time: T, Revocation: checker})
			if tc.want != nil {
				if !errors.Is(err, tc.want) || Code(err) != tc.code {
					t.Fatalf("error %v (code %q), want %v (%s)", err, Code(err), tc.want, tc.code)
				}
				if res == nil || len(res.Chain) != 3 {
					t.Fatal("the chain is not reported with a revocation error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Revocation) != 3 || res.Revocation[2] != nil {
				t.Fatal("evidence positions wrong: the anchor has none")
			}
			if tc.evidence && (res.Revocation[0] == nil || res.Revocation[0].Method != revocation.MethodOCSP ||
				res.Revocation[1] == nil || res.Revocation[1].Method != revocation.MethodCRL) {
				t.Fatalf("evidence: %+v", res.Revocation)
			}
			if len(res.RevokedAfterT) != len(tc.afterT) || (len(tc.afterT) > 0 && res.RevokedAfterT[0] != tc.afterT[0]) {
				t.Fatalf("RevokedAfterT %v, want %v", res.RevokedAfterT, tc.afterT)
			}
			if len(tc.afterT) > 0 && len(res.Warnings) == 0 {
				t.Fatal("revocation after T not recorded as a warning")
			}
		})
	}
}
