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

// fixture is a root CA with a delegated OCSP responder, an intermediate CA and a leaf, with a
// loopback OCSP responder and CRL distribution point for the root's and the intermediate's
// certificates.
type fixture struct {
	root, responder, leaf *revtest.Identity
	ocsp                  *revtest.OCSPServer
	crl                   *revtest.CRLServer
	crlURL                string
}

var oidNoCheck = []pkix.Extension{{Id: oidOCSPNoCheck, Value: []byte{0x05, 0x00}}}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{ocsp: revtest.NewOCSPServer(t), crl: revtest.NewCRLServer(t)}
	f.crlURL = f.crl.URL + "/root.crl"
	f.root = revtest.NewRoot(t, revtest.Spec{Name: "Test Root CA"})
	f.responder = f.root.Issue(t, revtest.Spec{Name: "Test OCSP Responder", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, Extra: oidNoCheck})
	f.leaf = f.root.Issue(t, revtest.Spec{Name: "Teszt Elek", OCSP: []string{f.ocsp.URL}, CRL: []string{f.crlURL}})
	f.ocsp.Set(func(c *revtest.OCSPConfig) {
		c.Issuer, c.Signer = f.root, f.responder
		c.Default = revtest.OCSPStatus{Status: ocsp.Good}
	})
	f.crl.Set(func(c *revtest.CRLConfig) { c.Issuer = f.root })
	return f
}

// wantErr checks err against the expected reason and kind (both nil for success).
func wantErr(t *testing.T, err, reason, kind error) {
	t.Helper()
	if reason == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v", reason)
	}
	if !errors.Is(err, reason) {
		t.Fatalf("error %q, want reason %q", err, reason)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Fatalf("error %q, want kind %q", err, kind)
	}
	other := ErrInvalidEvidence
	if kind == ErrInvalidEvidence {
		other = ErrUnavailable
	}
	if kind != nil && errors.Is(err, other) {
		t.Fatalf("error %q is of both kinds", err)
	}
}

func minuteAgo() time.Time { return time.Now().Add(-time.Minute) }
