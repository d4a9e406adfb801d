package revocation

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
)

// Configured per-issuer sources: used when the certificate names no location or its own cannot be
// reached, verified like any other evidence, never consulted when the certificate's own answer.
func TestCheckerConfiguredSources(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2031, 6, 2, 12, 0, 0, 0, time.UTC) // the checker's clock; nothing here reads the wall clock
	f := newFixture(t)
	other := revtest.NewRoot(t, revtest.Spec{Name: "Other Root"})
	noSource := f.root.Issue(t, revtest.Spec{Name: "names no location", CA: true})
	dir := t.TempDir()
	crlAt := func(id *revtest.Identity, this, next time.Time, revoked ...*revtest.Identity) []byte {
		cfg := revtest.CRLConfig{Issuer: id, ThisUpdate: this, NextUpdate: next}
		for _, r := range revoked {
			cfg.Revoked = append(cfg.Revoked, revtestEntry(r, this.Add(-time.Hour)))
		}
		der, err := revtest.BuildCRL(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	current := crlAt(f.root, now.Add(-30*24*time.Hour), now.Add(150*24*time.Hour))
	pemFile := write("root.arl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: current}))
	staleFile := write("stale.arl", crlAt(f.root, now.Add(-60*24*time.Hour), now.Add(-24*time.Hour)))
	// A directory as a fund keeps it: an older and a newer CRL of the issuer (the newer lists the
	// certificate), another issuer's CRL, a note, a link.
	write("crls/1-older.crl", current)
	newer := write("crls/2-newer.crl", crlAt(f.root, now.Add(-time.Hour), now.Add(24*time.Hour), noSource))
	write("crls/3-other.crl", crlAt(other, now.Add(-time.Hour), now.Add(24*time.Hour)))
	write("crls/README", []byte("refreshed nightly"))
	if err := os.Symlink(newer, filepath.Join(dir, "crls", "abcd1234.r0")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	mirror := revtest.NewCRLServer(t)
	mirror.Set(func(c *revtest.CRLConfig) {
		*c = revtest.CRLConfig{Issuer: f.root, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(7 * 24 * time.Hour)}
	})
	responder := revtest.NewOCSPServer(t)
	responder.Set(func(c *revtest.OCSPConfig) {
		*c = revtest.OCSPConfig{Issuer: f.root, Signer: f.root, Default: revtest.OCSPStatus{Status: ocsp.Good},
			ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), ProducedAt: now.Add(-time.Minute)}
	})
	// The fixture's own responder and distribution point: down unless a case says otherwise. Responses
	// are signed by the CA itself: the fixture's delegated responder certificate is valid only around
	// the wall clock's now.
	ownDown := func() {
		f.ocsp.Set(func(c *revtest.OCSPConfig) { c.HTTPStatus = http.StatusServiceUnavailable })
		f.crl.Set(func(c *revtest.CRLConfig) { c.HTTPStatus = http.StatusBadGateway })
	}
	ownUp := func() {
		f.ocsp.Set(func(c *revtest.OCSPConfig) {
			*c = revtest.OCSPConfig{Issuer: f.root, Signer: f.root, Default: revtest.OCSPStatus{Status: ocsp.Good},
				ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), ProducedAt: now.Add(-time.Minute)}
		})
		f.crl.Set(func(c *revtest.CRLConfig) {
			*c = revtest.CRLConfig{Issuer: f.root, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}
		})
	}

	cases := []struct {
		name       string
		cert       *revtest.Identity
		own        func()
		sources    []IssuerSource
		wantURL    string // prefix of the evidence URL
		wantStatus Status
		reason     error
		kind       error
	}{
		{name: "no location, CRL file (PEM)", cert: noSource, sources: []IssuerSource{{Issuer: f.root.Cert, CRLFiles: []string{pemFile}}},
			wantURL: FileURL(pemFile), wantStatus: StatusGood},
		{name: "no location, CRL URL", cert: noSource, sources: []IssuerSource{{Issuer: f.root.Cert, CRL: []string{mirror.URL + "/root.arl"}}},
			wantURL: mirror.URL, wantStatus: StatusGood},
		{name: "no location, OCSP responder", cert: noSource, sources: []IssuerSource{{Issuer: f.root.Cert, OCSP: []string{responder.URL}}},
			wantURL: responder.URL, wantStatus: StatusGood},
		{name: "no location, directory: the newest CRL of the issuer", cert: noSource,
			sources: []IssuerSource{{Issuer: f.root.Cert, CRLDirs: []string{filepath.Join(dir, "crls")}}}, wantURL: "file:", wantStatus: StatusRevoked},
		{name: "own sources down, configured file", cert: f.leaf, own: ownDown,
			sources: []IssuerSource{{Issuer: f.root.Cert, CRLFiles: []string{pemFile}}}, wantURL: FileURL(pemFile), wantStatus: StatusGood},
		{name: "own source answers, configured one not consulted", cert: f.leaf, own: ownUp,
			sources: []IssuerSource{{Issuer: f.root.Cert, OCSP: []string{responder.URL}}}, wantURL: f.ocsp.URL, wantStatus: StatusGood},
		{name: "no location, source of another issuer only", cert: noSource,
			sources: []IssuerSource{{Issuer: other.Cert, CRLFiles: []string{pemFile}}}, reason: ErrNoSource, kind: ErrUnavailable},
		{name: "no location, stale file", cert: noSource, sources: []IssuerSource{{Issuer: f.root.Cert, CRLFiles: []string{staleFile}}},
			reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "no location, file gone", cert: noSource, sources: []IssuerSource{{Issuer: f.root.Cert, CRLFiles: []string{filepath.Join(dir, "gone")}}},
			reason: ErrLocalCRL, kind: ErrUnavailable},
		{name: "no location, directory without the issuer's CRL", cert: noSource,
			sources: []IssuerSource{{Issuer: f.root.Cert, CRLDirs: []string{filepath.Join(dir, "empty")}}}, reason: ErrLocalCRL, kind: ErrUnavailable},
		{name: "no location, another issuer's CRL named as this one's", cert: noSource,
			sources: []IssuerSource{{Issuer: f.root.Cert, CRLFiles: []string{filepath.Join(dir, "crls/3-other.crl")}}}, reason: ErrWrongIssuer, kind: ErrInvalidEvidence},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ownDown()
			if tc.own != nil {
				tc.own()
			}
			before := responder.Requests.Load()
			ch := &Checker{Sources: tc.sources, Now: func() time.Time { return now }}
			ev, err := ch.Check(ctx, tc.cert.Cert, f.root.Cert, now.Add(-24*time.Hour))
			wantErr(t, err, tc.reason, tc.kind)
			if err != nil {
				if errors.Is(err, ErrNoSource) && !strings.Contains(err.Error(), "none is configured for its issuer") {
					t.Errorf("no-source error does not say nothing is configured: %v", err)
				}
				return
			}
			if !strings.HasPrefix(ev.URL, tc.wantURL) || ev.Status != tc.wantStatus {
				t.Fatalf("evidence from %s, %v; want %s…, %v", ev.URL, ev.Status, tc.wantURL, tc.wantStatus)
			}
			if tc.own != nil && ev.URL == f.ocsp.URL && responder.Requests.Load() != before {
				t.Fatal("the configured responder was asked although the certificate's own answered")
			}
		})
	}
	if !(&Checker{Sources: []IssuerSource{{Issuer: f.root.Cert}}}).HasSourceFor(f.root.Cert) || (&Checker{}).HasSourceFor(f.root.Cert) {
		t.Error("HasSourceFor")
	}
}

func revtestEntry(id *revtest.Identity, at time.Time) x509.RevocationListEntry {
	return x509.RevocationListEntry{SerialNumber: id.Cert.SerialNumber, RevocationTime: at}
}
