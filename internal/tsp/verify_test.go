package tsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/sigcache"
)

// recordingVerifier is a ChainVerifier that remembers what it was asked and
// delegates to a PoolVerifier.
type recordingVerifier struct {
	PoolVerifier
	leaf          *x509.Certificate
	intermediates []*x509.Certificate
	at            time.Time
}

func (r *recordingVerifier) VerifyTSA(ctx context.Context, leaf *x509.Certificate, im []*x509.Certificate, at time.Time) error {
	r.leaf, r.intermediates, r.at = leaf, im, at
	return r.PoolVerifier.VerifyTSA(ctx, leaf, im, at)
}

func TestVerify(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	now := time.Now()
	tsa, tsaKey := p.issue(t, certSpec{})
	tsa2, _ := p.issue(t, certSpec{cn: "Another TSA"})
	old, oldKey := p.issue(t, certSpec{notBefore: now.Add(-3 * 365 * 24 * time.Hour), notAfter: now.Add(-365 * 24 * time.Hour)})
	rsaTSA, rsaTSAKey := p.issue(t, certSpec{key: rsaKey(t)})
	data := []byte("canonical SignatureValue")
	digest := sha256.Sum256(data)
	base := tokenSpec{cert: tsa, key: tsaKey, chain: []*x509.Certificate{p.root}, imprint: digest[:]}
	with := func(f func(*tokenSpec)) tokenSpec { s := base; f(&s); return s }

	tests := []struct {
		name   string
		spec   tokenSpec
		extra  []*x509.Certificate
		roots  *testPKI
		digest []byte
		h      crypto.Hash
		mangle func([]byte) []byte
		want   error // nil: accepted
	}{
		{name: "good, ESSCertIDv2", spec: base},
		{name: "good, ESSCertID v1", spec: with(func(s *tokenSpec) { s.essV1 = true })},
		{name: "good, RSA TSA", spec: with(func(s *tokenSpec) { s.cert, s.key = rsaTSA, rsaTSAKey })},
		{name: "good, tsa name is the signer", spec: with(func(s *tokenSpec) { s.tsaName = tsa })},
		{name: "good, SHA-512 CMS digest", spec: with(func(s *tokenSpec) { s.digest = oidSHA512 })},
		{name: "TSA expired now but valid at genTime", spec: with(func(s *tokenSpec) {
			s.cert, s.key, s.genTime = old, oldKey, now.Add(-2*365*24*time.Hour)
		})},
		{name: "TSA expired at genTime", spec: with(func(s *tokenSpec) { s.cert, s.key = old, oldKey }), want: ErrTSAUntrusted},
		{name: "untrusted root", spec: base, roots: other, want: ErrTSAUntrusted},
		{name: "certificate only outside the token", spec: with(func(s *tokenSpec) { s.skipCerts = true }), extra: []*x509.Certificate{tsa}},
		{name: "certificate nowhere", spec: with(func(s *tokenSpec) { s.skipCerts = true }), want: ErrNoCertificate},
		{name: "ESSCertIDv2 names another certificate", spec: with(func(s *tokenSpec) { s.essFor = tsa2 }), want: ErrCertIDMismatch},
		{name: "ESSCertID v1 names another certificate", spec: with(func(s *tokenSpec) { s.essFor, s.essV1 = tsa2, true }), want: ErrCertIDMismatch},
		{name: "ESSCertIDv2 wrong serial", spec: with(func(s *tokenSpec) { s.essSerial = big.NewInt(999999) }), want: ErrCertIDMismatch},
		{name: "no signing-certificate attribute", spec: with(func(s *tokenSpec) { s.noESS = true }), want: ErrCertIDMismatch},
		{name: "tsa name of another TSA", spec: with(func(s *tokenSpec) { s.tsaName = tsa2 }), want: ErrCertIDMismatch},
		{name: "eContentType id-data", spec: with(func(s *tokenSpec) { s.contentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1} }), want: ErrMalformed},
		{name: "TSTInfo version 2", spec: with(func(s *tokenSpec) { s.version = 2 }), want: ErrMalformed},
		{name: "critical TSTInfo extension", spec: with(func(s *tokenSpec) { s.critExt = true }), want: ErrMalformed},
		{name: "SHA-1 CMS digest", spec: with(func(s *tokenSpec) { s.digest = oidSHA1 }), want: ErrWeakAlgorithm},
		{name: "imprint of other data", spec: base, digest: bytes.Repeat([]byte{7}, 32), want: ErrImprintMismatch},
		{name: "imprint algorithm differs", spec: base, digest: bytes.Repeat([]byte{7}, 48), h: crypto.SHA384, want: ErrImprintMismatch},
		{name: "trailing byte", spec: base, mangle: func(b []byte) []byte { return append(b, 0) }, want: ErrMalformed},
		{name: "signature flipped", spec: base, mangle: func(b []byte) []byte { b[len(b)-2] ^= 0x40; return b }, want: ErrBadSignature},
		{name: "truncated", spec: base, mangle: func(b []byte) []byte { return b[:len(b)/2] }, want: ErrMalformed},
	}
	// Every case runs with the plain parser and with a certificate cache shared by all cases: the
	// verdicts are the same.
	cache := sigcache.New(0)
	for _, parser := range []struct {
		name  string
		parse CertificateParser
	}{{"", nil}, {", cached certificates", cache.ParseCertificates}} {
		for _, tc := range tests {
			t.Run(tc.name+parser.name, func(t *testing.T) {
				der := buildToken(t, tc.spec)
				if tc.mangle != nil {
					der = tc.mangle(der)
				}
				roots := p
				if tc.roots != nil {
					roots = tc.roots
				}
				h, d := tc.h, tc.digest
				if h == 0 {
					h = crypto.SHA256
				}
				if d == nil {
					d = digest[:]
				}
				rv := &recordingVerifier{PoolVerifier: PoolVerifier{Roots: roots.roots}}
				v := Verifier{Chain: rv, ExtraCerts: tc.extra, ParseCertificates: parser.parse}
				tok, err := v.Verify(context.Background(), der, d, h)
				if tc.want != nil {
					if !errors.Is(err, tc.want) {
						t.Fatalf("error %v, want %v", err, tc.want)
					}
					if Code(err) == "" {
						t.Errorf("Code(%v) is empty", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !rv.at.Equal(tok.GenTime) || !rv.leaf.Equal(tc.spec.cert) {
					t.Errorf("chain checked for %q at %v, want %q at genTime %v", rv.leaf.Subject.CommonName, rv.at, tc.spec.cert.Subject.CommonName, tok.GenTime)
				}
				if tc.spec.genTime.IsZero() && tok.GenTime.Sub(now).Abs() > time.Minute {
					t.Errorf("genTime %v", tok.GenTime)
				}
				if tok.Accuracy != time.Second || tok.SerialNumber.Int64() != 42 || !tok.Policy.Equal(testPolicy) {
					t.Errorf("fields: accuracy %v serial %v policy %v", tok.Accuracy, tok.SerialNumber, tok.Policy)
				}
				// VerifyData hashes with the token's algorithm and agrees.
				if _, err := v.VerifyData(context.Background(), der, data); err != nil {
					t.Errorf("VerifyData: %v", err)
				}
				if _, err := v.VerifyData(context.Background(), der, append(data, '!')); !errors.Is(err, ErrImprintMismatch) {
					t.Errorf("VerifyData over other data: %v, want ErrImprintMismatch", err)
				}
			})
		}
	}
	if cache.Stats().Hits == 0 {
		t.Fatal("the certificate cache was never used")
	}
	// The parser is the one the Verifier names: a refusing parser refuses the token.
	refusing := Verifier{Chain: &recordingVerifier{PoolVerifier: PoolVerifier{Roots: p.roots}},
		ParseCertificates: func([]byte) ([]*x509.Certificate, error) { return nil, errors.New("refused") }}
	if _, err := refusing.Verify(context.Background(), buildToken(t, base), digest[:], crypto.SHA256); !errors.Is(err, ErrMalformed) {
		t.Fatalf("refusing parser: %v, want ErrMalformed", err)
	}
}

func TestVerifyNeedsChain(t *testing.T) {
	if _, err := Verify([]byte{0x30, 0}, make([]byte, 32), crypto.SHA256, nil); err == nil || Code(err) != "" {
		t.Errorf("nil ChainVerifier: %v, want a configuration error", err)
	}
	if err := (PoolVerifier{}).VerifyTSA(context.Background(), &x509.Certificate{}, nil, time.Now()); err == nil {
		t.Errorf("PoolVerifier without roots accepted")
	}
}

func TestCodeAndMessages(t *testing.T) {
	tests := []struct {
		err  error
		code string
	}{
		{nil, ""},
		{errors.New("unrelated"), ""},
		{ErrMalformed, "A007"},
		{errorf(ErrNonceMismatch, "x"), "A007"},
		{&RejectedError{Status: 2}, "A007"},
		{&HTTPStatusError{StatusCode: 503}, "R001"},
		{&HTTPStatusError{StatusCode: 404}, "A007"},
		{errorf(ErrWeakAlgorithm, "x"), "A013"},
	}
	for _, tc := range tests {
		if got := Code(tc.err); got != tc.code {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.code)
		}
	}
	hu, en := Messages(errorf(ErrTSAUntrusted, "detail"))
	if !strings.Contains(hu, "megbízható") || !strings.Contains(en, "not trusted") {
		t.Errorf("Messages = %q, %q", hu, en)
	}
}
