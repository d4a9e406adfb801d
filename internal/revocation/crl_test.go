package revocation

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/sigcache"
)

func TestCRLClient(t *testing.T) {
	f := newFixture(t)
	other := revtest.NewRoot(t, revtest.Spec{Name: "Other CA"})
	// Same subject name as the root, different key: a CRL by it must not pass as the root's.
	impostor := revtest.NewRoot(t, revtest.Spec{Name: "Test Root CA"})
	subCA := f.root.Issue(t, revtest.Spec{Name: "Sub CA", CA: true, CRL: []string{f.crlURL}})
	revokedAt := time.Now().Add(-2 * time.Hour).Truncate(time.Second)

	cases := []struct {
		name   string
		cert   *x509.Certificate
		url    string
		cfg    func(*revtest.CRLConfig)
		client CRLClient
		reason error
		kind   error
		check  func(*testing.T, *Evidence)
	}{
		{name: "not listed", check: func(t *testing.T, ev *Evidence) {
			if ev.Status != StatusGood || ev.CRL.Listed || ev.CRL.Number.Int64() != 7 || ev.CRL.Delta {
				t.Fatalf("status %v listed %v number %v", ev.Status, ev.CRL.Listed, ev.CRL.Number)
			}
			if ev.ProducedAt() != ev.CRL.ThisUpdate || ev.CRL.Issuer.CommonName != "Test Root CA" {
				t.Fatal("CRL info wrong")
			}
		}},
		{name: "listed", cfg: func(c *revtest.CRLConfig) {
			c.Revoked = []x509.RevocationListEntry{
				{SerialNumber: subCA.Cert.SerialNumber, RevocationTime: revokedAt.Add(-time.Hour)},
				{SerialNumber: f.leaf.Cert.SerialNumber, RevocationTime: revokedAt, ReasonCode: 1},
			}
		}, check: func(t *testing.T, ev *Evidence) {
			if ev.Status != StatusRevoked || !ev.CRL.Listed || !ev.RevocationTime.Equal(revokedAt) || ev.RevocationReason != 1 || ev.CRL.Entries != 2 {
				t.Fatalf("got %v %v %v reason %d", ev.Status, ev.CRL.Listed, ev.RevocationTime, ev.RevocationReason)
			}
		}},
		{name: "listed without reason code", cfg: func(c *revtest.CRLConfig) {
			c.Revoked = []x509.RevocationListEntry{{SerialNumber: f.leaf.Cert.SerialNumber, RevocationTime: revokedAt}}
		}, check: func(t *testing.T, ev *Evidence) {
			if ev.Status != StatusRevoked || ev.RevocationReason != NoReason {
				t.Fatalf("got %v reason %d", ev.Status, ev.RevocationReason)
			}
		}},
		{name: "revoked CA certificate", cert: subCA.Cert, cfg: func(c *revtest.CRLConfig) {
			c.Revoked = []x509.RevocationListEntry{{SerialNumber: subCA.Cert.SerialNumber, RevocationTime: revokedAt, ReasonCode: 2}}
		}, check: func(t *testing.T, ev *Evidence) {
			if ev.Status != StatusRevoked || ev.RevocationReason != 2 {
				t.Fatal("CA revocation not seen")
			}
		}},
		{name: "CRL of another CA", cfg: func(c *revtest.CRLConfig) { c.Issuer = other },
			reason: ErrWrongIssuer, kind: ErrInvalidEvidence},
		{name: "CRL by an impostor with the issuer's name", cfg: func(c *revtest.CRLConfig) { c.Issuer = impostor },
			reason: ErrWrongIssuer, kind: ErrInvalidEvidence},
		{name: "stale: nextUpdate passed", cfg: func(c *revtest.CRLConfig) {
			c.ThisUpdate, c.NextUpdate = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
		}, reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "stale: older than MaxAge", client: CRLClient{Freshness: Freshness{MaxAge: 12 * time.Hour}}, cfg: func(c *revtest.CRLConfig) {
			c.ThisUpdate, c.NextUpdate = time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour)
		}, reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "issued in the future", cfg: func(c *revtest.CRLConfig) { c.ThisUpdate = time.Now().Add(time.Hour) },
			reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "delta CRL", cfg: func(c *revtest.CRLConfig) { c.Extensions = []pkix.Extension{revtest.DeltaCRLIndicator(3)} },
			reason: ErrDeltaCRL, kind: ErrInvalidEvidence},
		{name: "IDP user certs only, leaf", cfg: func(c *revtest.CRLConfig) { c.Extensions = []pkix.Extension{revtest.IDP(true, false, false)} }},
		{name: "IDP user certs only, CA certificate", cert: subCA.Cert, cfg: func(c *revtest.CRLConfig) {
			c.Extensions = []pkix.Extension{revtest.IDP(true, false, false)}
		}, reason: ErrScope, kind: ErrInvalidEvidence},
		{name: "IDP CA certs only, leaf", cfg: func(c *revtest.CRLConfig) { c.Extensions = []pkix.Extension{revtest.IDP(false, true, false)} },
			reason: ErrScope, kind: ErrInvalidEvidence},
		{name: "IDP CA certs only, CA certificate", cert: subCA.Cert, cfg: func(c *revtest.CRLConfig) {
			c.Extensions = []pkix.Extension{revtest.IDP(false, true, false)}
		}},
		{name: "indirect CRL", cfg: func(c *revtest.CRLConfig) { c.Extensions = []pkix.Extension{revtest.IDP(false, false, true)} },
			reason: ErrScope, kind: ErrInvalidEvidence},
		{name: "IDP naming the certificate's distribution point", cfg: func(c *revtest.CRLConfig) {
			c.Extensions = []pkix.Extension{revtest.IDP(false, false, false, f.crlURL)}
		}},
		{name: "IDP naming another distribution point", cfg: func(c *revtest.CRLConfig) {
			c.Extensions = []pkix.Extension{revtest.IDP(false, false, false, "http://127.0.0.1:1/partition2.crl")}
		}, reason: ErrScope, kind: ErrInvalidEvidence},
		{name: "unknown critical extension", cfg: func(c *revtest.CRLConfig) {
			c.Extensions = []pkix.Extension{{Id: []int{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
		}, reason: ErrUnsupported, kind: ErrInvalidEvidence},
		{name: "tampered", cfg: func(c *revtest.CRLConfig) {
			c.Mutate = func(b []byte) []byte { b[len(b)-3] ^= 1; return b }
		}, reason: ErrBadSignature, kind: ErrInvalidEvidence},
		{name: "garbage", cfg: func(c *revtest.CRLConfig) { c.Raw = []byte("not a CRL") }, reason: ErrMalformed, kind: ErrInvalidEvidence},
		{name: "oversize", client: CRLClient{MaxBytes: 100}, reason: ErrTooLarge, kind: ErrUnavailable},
		{name: "HTTP 500", cfg: func(c *revtest.CRLConfig) { c.HTTPStatus = http.StatusInternalServerError },
			reason: ErrHTTP, kind: ErrUnavailable},
		{name: "not found", url: f.crl.URL + "/missing.crl", cfg: func(c *revtest.CRLConfig) { c.HTTPStatus = http.StatusNotFound },
			reason: ErrHTTP, kind: ErrUnavailable},
		{name: "ldap URL", url: "ldap://127.0.0.1/cn=crl", reason: ErrNoSource, kind: ErrUnavailable},
		{name: "https URL", url: "https://127.0.0.1/root.crl", reason: ErrNoSource, kind: ErrUnavailable},
	}
	// Without a signature cache, then twice with one shared cache: no verdict changes.
	shared := sigcache.New(0)
	for i, sc := range []*sigcache.Cache{nil, shared, shared} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%d/%s", i, tc.name), func(t *testing.T) {
				f.crl.Set(func(c *revtest.CRLConfig) {
					*c = revtest.CRLConfig{Issuer: f.root, Number: 7}
					if tc.cfg != nil {
						tc.cfg(c)
					}
				})
				cert, url := tc.cert, tc.url
				if cert == nil {
					cert = f.leaf.Cert
				}
				if url == "" {
					url = f.crlURL
				}
				client := tc.client
				client.SigCache = sc
				ev, err := client.Query(context.Background(), url, cert, f.root.Cert, time.Now())
				wantErr(t, err, tc.reason, tc.kind)
				if err == nil {
					if ev.Method != MethodCRL || ev.URL != url || len(ev.Raw) == 0 {
						t.Fatalf("evidence header wrong: %+v", ev)
					}
					if tc.check != nil {
						tc.check(t, ev)
					}
				}
			})
		}
	}
}

func TestVerifyCRLAllowDelta(t *testing.T) {
	f := newFixture(t)
	der, err := revtest.BuildCRL(revtest.CRLConfig{Issuer: f.root, Number: 9, Extensions: []pkix.Extension{revtest.DeltaCRLIndicator(8)}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := VerifyCRL(der, f.leaf.Cert, f.root.Cert, CRLVerifyOptions{Now: time.Now(), AllowDelta: true})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.CRL.Delta || ev.CRL.BaseCRLNumber.Int64() != 8 {
		t.Fatalf("delta not flagged: %+v", ev.CRL)
	}
	_, err = VerifyCRL(der, f.leaf.Cert, f.root.Cert, CRLVerifyOptions{Now: time.Now()})
	wantErr(t, err, ErrDeltaCRL, ErrInvalidEvidence)
}
