package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/sigcache"
)

func TestCreateOCSPRequestRoundTrip(t *testing.T) {
	f := newFixture(t)
	nonce := []byte("0123456789abcdef")
	der, err := CreateOCSPRequest(f.leaf.Cert, f.root.Cert, 0, nonce)
	if err != nil {
		t.Fatal(err)
	}
	// x/crypto's parser is an independent reader of the same structure.
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		t.Fatalf("x/crypto cannot parse our request: %v", err)
	}
	if req.SerialNumber.Cmp(f.leaf.Cert.SerialNumber) != 0 || req.HashAlgorithm != crypto.SHA1 {
		t.Fatalf("serial/hash: %v %v", req.SerialNumber, req.HashAlgorithm)
	}
	plain, _ := ocsp.CreateRequest(f.leaf.Cert, f.root.Cert, nil)
	preq, _ := ocsp.ParseRequest(plain)
	if !bytes.Equal(req.IssuerNameHash, preq.IssuerNameHash) || !bytes.Equal(req.IssuerKeyHash, preq.IssuerKeyHash) {
		t.Fatal("CertID hashes differ from x/crypto's")
	}
	wrapped, _ := asn1.Marshal(nonce)
	if !bytes.Contains(der, wrapped) {
		t.Fatal("nonce extension not in the request")
	}
	noNonce, _ := CreateOCSPRequest(f.leaf.Cert, f.root.Cert, 0, nil)
	if !bytes.Equal(noNonce, plain) {
		t.Fatal("request without nonce differs from x/crypto's CreateRequest")
	}
}

func TestOCSPClient(t *testing.T) {
	f := newFixture(t)
	other := revtest.NewRoot(t, revtest.Spec{Name: "Other CA"})
	foreignResponder := other.Issue(t, revtest.Spec{Name: "Foreign Responder", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}})
	noEKUResponder := f.root.Issue(t, revtest.Spec{Name: "Responder without EKU"})
	expiredResponder := f.root.Issue(t, revtest.Spec{Name: "Expired Responder", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	revokedAt := time.Now().Add(-3 * time.Hour).Truncate(time.Second)

	cases := []struct {
		name   string
		cfg    func(*revtest.OCSPConfig)
		client OCSPClient
		reason error // nil: success
		kind   error
		check  func(*testing.T, *Evidence)
	}{
		{name: "good from delegated responder", check: func(t *testing.T, ev *Evidence) {
			if ev.Status != StatusGood || ev.OCSP.CASigned || !ev.OCSP.NoCheck || !ev.OCSP.NonceEchoed {
				t.Fatalf("status %v casigned %v nocheck %v echoed %v", ev.Status, ev.OCSP.CASigned, ev.OCSP.NoCheck, ev.OCSP.NonceEchoed)
			}
			if !bytes.Equal(ev.OCSP.Signer.Raw, f.responder.Cert.Raw) || len(ev.OCSP.Certificates) != 1 {
				t.Fatal("signer is not the delegated responder")
			}
			if ev.ProducedAt().IsZero() || ev.NextUpdate().IsZero() || len(ev.Raw) == 0 {
				t.Fatal("times or raw DER missing")
			}
		}},
		{name: "good signed by the CA itself", cfg: func(c *revtest.OCSPConfig) { c.Signer = f.root },
			check: func(t *testing.T, ev *Evidence) {
				if !ev.OCSP.CASigned || ev.OCSP.NoCheck {
					t.Fatal("want CA-signed")
				}
			}},
		{name: "revoked with time and reason", cfg: func(c *revtest.OCSPConfig) {
			c.Default = revtest.OCSPStatus{Status: ocsp.Revoked, RevokedAt: revokedAt, Reason: ocsp.KeyCompromise}
		}, check: func(t *testing.T, ev *Evidence) {
			if ev.Status != StatusRevoked || !ev.RevocationTime.Equal(revokedAt) || ev.RevocationReason != ocsp.KeyCompromise {
				t.Fatalf("got %v %v %d", ev.Status, ev.RevocationTime, ev.RevocationReason)
			}
			if !ev.RevokedAtOrBefore(revokedAt) || ev.RevokedAtOrBefore(revokedAt.Add(-time.Second)) {
				t.Fatal("RevokedAtOrBefore boundary wrong")
			}
		}},
		{name: "revoked without reason", cfg: func(c *revtest.OCSPConfig) {
			c.Default = revtest.OCSPStatus{Status: ocsp.Revoked, RevokedAt: revokedAt, Reason: ocsp.Unspecified}
		}, check: func(t *testing.T, ev *Evidence) {
			if ev.Status != StatusRevoked || ev.RevocationReason != NoReason {
				t.Fatalf("want revoked without reason, got %v reason %d", ev.Status, ev.RevocationReason)
			}
		}},
		{name: "unknown", cfg: func(c *revtest.OCSPConfig) { c.Default = revtest.OCSPStatus{Status: ocsp.Unknown} },
			check: func(t *testing.T, ev *Evidence) {
				if ev.Status != StatusUnknown {
					t.Fatal("want unknown")
				}
			}},
		{name: "GET for a small request", client: OCSPClient{UseGET: true}, check: func(t *testing.T, ev *Evidence) {
			if f.ocsp.GETs.Load() == 0 {
				t.Fatal("no GET request reached the responder")
			}
		}},
		{name: "SHA-256 CertID", client: OCSPClient{Hash: crypto.SHA256}},
		{name: "delegated responder of another CA", cfg: func(c *revtest.OCSPConfig) { c.Signer = foreignResponder },
			reason: ErrUnauthorizedResponder, kind: ErrInvalidEvidence},
		{name: "responder without OCSPSigning EKU", cfg: func(c *revtest.OCSPConfig) { c.Signer = noEKUResponder },
			reason: ErrUnauthorizedResponder, kind: ErrInvalidEvidence},
		{name: "responder expired at producedAt", cfg: func(c *revtest.OCSPConfig) { c.Signer = expiredResponder },
			reason: ErrUnauthorizedResponder, kind: ErrInvalidEvidence},
		{name: "answer about another issuer", cfg: func(c *revtest.OCSPConfig) { c.Issuer = other; c.Signer = f.root },
			reason: ErrCertIDMismatch, kind: ErrInvalidEvidence},
		{name: "stale: nextUpdate passed", cfg: func(c *revtest.OCSPConfig) {
			c.ThisUpdate, c.NextUpdate = time.Now().Add(-3*time.Hour), time.Now().Add(-2*time.Hour)
		}, reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "stale: older than MaxAge", client: OCSPClient{Freshness: Freshness{MaxAge: time.Hour}}, cfg: func(c *revtest.OCSPConfig) {
			c.ThisUpdate, c.NextUpdate = time.Now().Add(-2*time.Hour), time.Now().Add(24*time.Hour)
		}, reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "no nextUpdate, recent", cfg: func(c *revtest.OCSPConfig) { c.NoNextUpdate = true }},
		{name: "no nextUpdate, older than the default bound", cfg: func(c *revtest.OCSPConfig) {
			c.NoNextUpdate, c.ThisUpdate = true, time.Now().Add(-2*time.Hour)
		}, reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "thisUpdate in the future", cfg: func(c *revtest.OCSPConfig) { c.ThisUpdate = time.Now().Add(time.Hour) },
			reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "producedAt in the future", cfg: func(c *revtest.OCSPConfig) { c.ProducedAt = time.Now().Add(time.Hour) },
			reason: ErrStale, kind: ErrInvalidEvidence},
		{name: "nonce mismatch", cfg: func(c *revtest.OCSPConfig) { c.Nonce = revtest.NonceWrong },
			reason: ErrNonceMismatch, kind: ErrInvalidEvidence},
		{name: "nonce absent, optional", cfg: func(c *revtest.OCSPConfig) { c.Nonce = revtest.NonceOmit },
			check: func(t *testing.T, ev *Evidence) {
				if ev.OCSP.NonceEchoed {
					t.Fatal("NonceEchoed without nonce")
				}
			}},
		{name: "nonce absent, required", client: OCSPClient{Nonce: NonceRequired}, cfg: func(c *revtest.OCSPConfig) { c.Nonce = revtest.NonceOmit },
			reason: ErrNonceMismatch, kind: ErrInvalidEvidence},
		{name: "nonce off", client: OCSPClient{Nonce: NonceOff}, cfg: func(c *revtest.OCSPConfig) { c.Nonce = revtest.NonceWrong },
			check: func(t *testing.T, ev *Evidence) {
				if ev.OCSP.NonceSent != nil {
					t.Fatal("nonce sent with NonceOff")
				}
			}},
		{name: "tampered response", cfg: func(c *revtest.OCSPConfig) {
			kb, _ := publicKeyBits(f.root.Cert)
			keyHash := sha1.Sum(kb)
			c.Mutate = func(b []byte) []byte {
				i := bytes.Index(b, keyHash[:])
				if i < 0 {
					t.Fatal("issuer key hash not found in response")
				}
				b = bytes.Clone(b)
				b[i+3] ^= 0x01
				return b
			}
		}, reason: ErrBadSignature, kind: ErrInvalidEvidence},
		{name: "garbage", cfg: func(c *revtest.OCSPConfig) { c.Raw = []byte("<html>not OCSP</html>") },
			reason: ErrMalformed, kind: ErrInvalidEvidence},
		{name: "trailing data", cfg: func(c *revtest.OCSPConfig) { c.Mutate = func(b []byte) []byte { return append(b, 0) } },
			reason: ErrMalformed, kind: ErrInvalidEvidence},
		{name: "oversize", client: OCSPClient{MaxResponseBytes: 1024}, cfg: func(c *revtest.OCSPConfig) { c.Raw = make([]byte, 4096) },
			reason: ErrTooLarge, kind: ErrUnavailable},
		{name: "HTTP 500", cfg: func(c *revtest.OCSPConfig) { c.HTTPStatus = http.StatusInternalServerError },
			reason: ErrHTTP, kind: ErrUnavailable},
		{name: "tryLater", cfg: func(c *revtest.OCSPConfig) { c.Raw = ocsp.TryLaterErrorResponse },
			reason: ErrResponderStatus, kind: ErrUnavailable},
	}
	// Without a signature cache, then twice with one cache shared by all cases: what one case's
	// success leaves in it (responder certificates, response signatures) changes no other verdict.
	shared := sigcache.New(0)
	for i, sc := range []*sigcache.Cache{nil, shared, shared} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%d/%s", i, tc.name), func(t *testing.T) {
				f.ocsp.Set(func(c *revtest.OCSPConfig) {
					*c = revtest.OCSPConfig{Issuer: f.root, Signer: f.responder, Default: revtest.OCSPStatus{Status: ocsp.Good}}
					if tc.cfg != nil {
						tc.cfg(c)
					}
				})
				client := tc.client
				client.Skew = time.Minute
				client.SigCache = sc
				ev, err := client.Query(context.Background(), f.ocsp.URL, f.leaf.Cert, f.root.Cert, time.Now())
				wantErr(t, err, tc.reason, tc.kind)
				if err == nil {
					if ev.Method != MethodOCSP || ev.URL != f.ocsp.URL || ev.Serial.Cmp(f.leaf.Cert.SerialNumber) != 0 {
						t.Fatalf("evidence header wrong: %+v", ev)
					}
					if tc.check != nil {
						tc.check(t, ev)
					}
				}
			})
		}
	}
	if shared.Stats().Hits == 0 {
		t.Fatal("the shared signature cache was never used")
	}
}

// A response is verified against the validation time given, not the wall clock: the same response
// is fresh inside its window and stale after it.
func TestVerifyOCSPAtValidationTime(t *testing.T) {
	f := newFixture(t)
	this := time.Now().Add(-time.Minute).Truncate(time.Second)
	der, err := ocsp.CreateResponse(f.root.Cert, f.root.Cert, ocsp.Response{Status: ocsp.Good, SerialNumber: f.leaf.Cert.SerialNumber,
		ThisUpdate: this, NextUpdate: this.Add(time.Hour)}, f.root.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now    time.Time
		reason error
	}{
		{this.Add(30 * time.Minute), nil},
		{this.Add(2 * time.Hour), ErrStale},
		{this.Add(-time.Hour), ErrStale},
	} {
		_, err := VerifyOCSP(der, f.leaf.Cert, f.root.Cert, OCSPVerifyOptions{Now: tc.now})
		wantErr(t, err, tc.reason, ErrInvalidEvidence)
	}
	// The wrong certificate (another serial) is not covered by this response.
	other := f.root.Issue(t, revtest.Spec{Name: "other"})
	_, err = VerifyOCSP(der, other.Cert, f.root.Cert, OCSPVerifyOptions{Now: this})
	wantErr(t, err, ErrCertIDMismatch, ErrInvalidEvidence)
}

func TestFreshnessBoundaries(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	none := Freshness{Skew: -1}
	cases := []struct {
		name       string
		f          Freshness
		this, next time.Time
		fresh      bool
	}{
		{"inside the window", none, now.Add(-time.Hour), now.Add(time.Hour), true},
		{"nextUpdate just passed, no skew", none, now.Add(-time.Hour), now.Add(-time.Second), false},
		{"nextUpdate just passed, default skew", Freshness{}, now.Add(-time.Hour), now.Add(-time.Second), true},
		{"nextUpdate passed beyond the default skew", Freshness{}, now.Add(-time.Hour), now.Add(-6 * time.Minute), false},
		{"thisUpdate 3 min ahead, default skew", Freshness{}, now.Add(3 * time.Minute), now.Add(time.Hour), true},
		{"thisUpdate 3 min ahead, no skew", none, now.Add(3 * time.Minute), now.Add(time.Hour), false},
		{"no nextUpdate, 61 min old, default skew", Freshness{}, now.Add(-61 * time.Minute), time.Time{}, true},
		{"no nextUpdate, 61 min old, no skew", none, now.Add(-61 * time.Minute), time.Time{}, false},
		{"MaxAge exceeded before nextUpdate", Freshness{MaxAge: time.Hour, Skew: -1}, now.Add(-2 * time.Hour), now.Add(time.Hour), false},
		{"nextUpdate before thisUpdate", none, now.Add(-time.Minute), now.Add(-2 * time.Minute), false},
	}
	for _, tc := range cases {
		if got := tc.f.check(now, tc.this, tc.next) == ""; got != tc.fresh {
			t.Errorf("%s: fresh = %v, want %v (%s)", tc.name, got, tc.fresh, tc.f.check(now, tc.this, tc.next))
		}
	}
}
