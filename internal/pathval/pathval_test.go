package pathval

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/sigcache"
)

// pki is a small qualified PKI with separate roots per purpose.
type pki struct {
	signerRoot, tsaRoot, tlsRoot, ocspRoot *revtest.Identity
	qualifiedCA                            *revtest.Identity
	signer, tsa, tls, responder            *revtest.Identity
}

func signerSpec(name string) revtest.Spec {
	return revtest.Spec{Name: name, Qualified: true, KeyUsage: x509.KeyUsageContentCommitment | x509.KeyUsageDigitalSignature}
}

func tsaSpec(name string) revtest.Spec {
	return revtest.Spec{Name: name, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		Modify:   func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping} },
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
}

func newPKI(t *testing.T) *pki {
	p := &pki{
		signerRoot: revtest.NewRoot(t, revtest.Spec{Name: "Qualified Root"}),
		tsaRoot:    revtest.NewRoot(t, revtest.Spec{Name: "TSA Root"}),
		tlsRoot:    revtest.NewRoot(t, revtest.Spec{Name: "TLS Root"}),
		ocspRoot:   revtest.NewRoot(t, revtest.Spec{Name: "OCSP Root"}),
	}
	p.qualifiedCA = p.signerRoot.Issue(t, revtest.Spec{Name: "Qualified CA", CA: true, PathLenZero: true})
	p.signer = p.qualifiedCA.Issue(t, signerSpec("Teszt Elek"))
	p.tsa = p.tsaRoot.Issue(t, criticalEKU(tsaSpec("TSU 1")))
	p.tls = p.tlsRoot.Issue(t, revtest.Spec{Name: "mnyp.example", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	p.responder = p.ocspRoot.Issue(t, revtest.Spec{Name: "Responder", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}})
	return p
}

// criticalEKU makes x509.CreateCertificate mark the EKU extension critical: it does so only when
// the template has no other way, so the extension is supplied raw.
func criticalEKU(s revtest.Spec) revtest.Spec {
	prev := s.Modify
	s.Modify = func(c *x509.Certificate) {
		if prev != nil {
			prev(c)
		}
		c.ExtKeyUsage = nil
		// SEQUENCE { id-kp-timeStamping }
		c.ExtraExtensions = append(c.ExtraExtensions, pkixExt(oidExtKeyUsage, true,
			[]byte{0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08}))
	}
	return s
}

func rsaKey(t *testing.T, bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestValidate(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	ctx := context.Background()
	inter := []*x509.Certificate{p.qualifiedCA.Cert}
	signerAnchors := NewAnchors(PurposeSigner, p.signerRoot.Cert)

	// A PKI that has existed for a month, for validation at earlier times.
	long := func(s revtest.Spec) revtest.Spec {
		s.NotBefore, s.NotAfter = now.Add(-30*24*time.Hour), now.Add(30*24*time.Hour)
		return s
	}
	oldRoot := revtest.NewRoot(t, long(revtest.Spec{Name: "Old Root"}))
	oldCA := oldRoot.Issue(t, long(revtest.Spec{Name: "Old CA", CA: true}))
	oldAnchors := NewAnchors(PurposeSigner, oldRoot.Cert)
	expired := oldCA.Issue(t, func() revtest.Spec {
		s := signerSpec("expired signer")
		s.NotBefore, s.NotAfter = now.Add(-72*time.Hour), now.Add(-24*time.Hour)
		return s
	}())
	notQualified := p.qualifiedCA.Issue(t, revtest.Spec{Name: "plain", KeyUsage: x509.KeyUsageContentCommitment})
	complianceOnly := p.qualifiedCA.Issue(t, revtest.Spec{Name: "compliance only", KeyUsage: x509.KeyUsageContentCommitment,
		Modify: func(c *x509.Certificate) {
			c.ExtraExtensions = append(c.ExtraExtensions, qcExt(t, true, false))
		}})
	rsa1024 := p.qualifiedCA.Issue(t, func() revtest.Spec { s := signerSpec("rsa1024"); s.Key = rsaKey(t, 1024); return s }())
	rsa2048 := p.qualifiedCA.Issue(t, func() revtest.Spec { s := signerSpec("rsa2048"); s.Key = rsaKey(t, 2048); return s }())
	p521key, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	p521 := p.qualifiedCA.Issue(t, func() revtest.Spec { s := signerSpec("p521"); s.Key = p521key; return s }())
	// SHA-1 signatures need an RSA issuer.
	rsaCA := p.signerRoot.Issue(t, revtest.Spec{Name: "RSA CA", CA: true, Key: rsaKey(t, 2048)})
	sha1Leaf := rsaCA.Issue(t, func() revtest.Spec { s := signerSpec("sha1 leaf"); s.SigAlg = x509.SHA1WithRSA; return s }())
	rsaRoot := revtest.NewRoot(t, revtest.Spec{Name: "RSA Root", Key: rsaKey(t, 2048)})
	sha1CA := rsaRoot.Issue(t, revtest.Spec{Name: "SHA-1 CA", CA: true, SigAlg: x509.SHA1WithRSA})
	underSHA1CA := sha1CA.Issue(t, signerSpec("under sha1 CA"))
	tlsAsSigner := p.qualifiedCA.Issue(t, func() revtest.Spec {
		s := signerSpec("tls as signer")
		s.EKU = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		return s
	}())
	encOnly := p.qualifiedCA.Issue(t, revtest.Spec{Name: "encryption only", Qualified: true, KeyUsage: x509.KeyUsageKeyEncipherment})
	// A CA certificate without the CA flag, once without basicConstraints at all, once with cA false.
	noBasic := p.signerRoot.Issue(t, revtest.Spec{Name: "no basicConstraints", NoBasic: true, KeyUsage: x509.KeyUsageCertSign})
	underNoBasic := noBasic.Issue(t, signerSpec("under no basic"))
	notCA := p.signerRoot.Issue(t, revtest.Spec{Name: "cA false", KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	underNotCA := notCA.Issue(t, signerSpec("under cA false"))
	noCertSign := p.signerRoot.Issue(t, revtest.Spec{Name: "no keyCertSign", CA: true, KeyUsage: x509.KeyUsageCRLSign})
	underNoCertSign := noCertSign.Issue(t, signerSpec("under no certSign"))
	// pathLen: Qualified CA has pathLen 0, so a CA below it may not issue.
	subCA := p.qualifiedCA.Issue(t, revtest.Spec{Name: "Sub CA", CA: true})
	underSub := subCA.Issue(t, signerSpec("too deep"))
	expiredCA := p.signerRoot.Issue(t, revtest.Spec{Name: "Expired CA", CA: true, NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-time.Hour)})
	underExpiredCA := expiredCA.Issue(t, func() revtest.Spec {
		s := signerSpec("under expired CA")
		s.NotBefore, s.NotAfter = now.Add(-48*time.Hour), now.Add(24*time.Hour)
		return s
	}())
	tsaNonCritical := p.tsaRoot.Issue(t, tsaSpec("TSU non-critical EKU"))
	tsaTwoEKU := p.tsaRoot.Issue(t, revtest.Spec{Name: "TSU two EKUs", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping, x509.ExtKeyUsageServerAuth}})
	respNoEKU := p.ocspRoot.Issue(t, revtest.Spec{Name: "responder without EKU"})
	tlsNoEKU := p.tlsRoot.Issue(t, revtest.Spec{Name: "tls without EKU"})

	cases := []struct {
		name    string
		leaf    *revtest.Identity
		inter   []*x509.Certificate
		opts    Options
		want    error
		code    string
		wantLen int
	}{
		{name: "qualified signer valid at T", leaf: p.signer, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, wantLen: 3},
		{name: "intermediate from configuration", leaf: p.signer, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors,
			ExtraIntermediates: inter}, wantLen: 3},
		{name: "intermediate missing", leaf: p.signer, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrNoChain, code: "A003"},
		{name: "signer against TLS anchors", leaf: p.signer, inter: inter, opts: Options{Purpose: PurposeSigner,
			Anchors: NewAnchors(PurposeTLSServer, p.signerRoot.Cert)}, want: ErrAnchorPurpose, code: "A003"},
		{name: "signer pool with the wrong root", leaf: p.signer, inter: inter, opts: Options{Purpose: PurposeSigner,
			Anchors: NewAnchors(PurposeSigner, p.tlsRoot.Cert, p.tsaRoot.Cert)}, want: ErrNoChain, code: "A003"},
		{name: "TSA with TSA anchors", leaf: p.tsa, opts: Options{Purpose: PurposeTSA, Anchors: NewAnchors(PurposeTSA, p.tsaRoot.Cert)}, wantLen: 2},
		{name: "TSA with signer anchors", leaf: p.tsa, opts: Options{Purpose: PurposeTSA, Anchors: signerAnchors}, want: ErrAnchorPurpose},
		{name: "TSA certificate from the signer root", leaf: p.tsa, opts: Options{Purpose: PurposeTSA, Anchors: NewAnchors(PurposeTSA, p.signerRoot.Cert)},
			want: ErrNoChain},
		{name: "TSA EKU not critical", leaf: tsaNonCritical, opts: Options{Purpose: PurposeTSA, Anchors: NewAnchors(PurposeTSA, p.tsaRoot.Cert)},
			want: ErrUsage, code: "A003"},
		{name: "TSA EKU not alone", leaf: tsaTwoEKU, opts: Options{Purpose: PurposeTSA, Anchors: NewAnchors(PurposeTSA, p.tsaRoot.Cert)}, want: ErrUsage},
		{name: "TLS server", leaf: p.tls, opts: Options{Purpose: PurposeTLSServer, Anchors: NewAnchors(PurposeTLSServer, p.tlsRoot.Cert)}, wantLen: 2},
		{name: "TLS without serverAuth", leaf: tlsNoEKU, opts: Options{Purpose: PurposeTLSServer, Anchors: NewAnchors(PurposeTLSServer, p.tlsRoot.Cert)}, want: ErrUsage},
		{name: "TLS certificate as signer", leaf: tlsAsSigner, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrUsage},
		{name: "TLS certificate against the signer pool", leaf: p.tls, opts: Options{Purpose: PurposeTLSServer, Anchors: NewAnchors(PurposeTLSServer, p.signerRoot.Cert)},
			want: ErrNoChain},
		{name: "OCSP responder", leaf: p.responder, opts: Options{Purpose: PurposeOCSPResponder, Anchors: NewAnchors(PurposeOCSPResponder, p.ocspRoot.Cert)}, wantLen: 2},
		{name: "OCSP responder without OCSPSigning", leaf: respNoEKU, opts: Options{Purpose: PurposeOCSPResponder, Anchors: NewAnchors(PurposeOCSPResponder, p.ocspRoot.Cert)},
			want: ErrUsage},
		{name: "signer keyUsage encipherment only", leaf: encOnly, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrUsage},
		{name: "expired at T=now", leaf: expired, inter: []*x509.Certificate{oldCA.Cert}, opts: Options{Purpose: PurposeSigner, Anchors: oldAnchors}, want: ErrNotValidAtT, code: "A006"},
		{name: "same certificate valid at an earlier T", leaf: expired, inter: []*x509.Certificate{oldCA.Cert}, opts: Options{Purpose: PurposeSigner, Anchors: oldAnchors,
			Time: now.Add(-48 * time.Hour)}, wantLen: 3},
		{name: "not yet valid at T", leaf: p.signer, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors,
			Time: now.Add(-2 * time.Hour)}, want: ErrNotValidAtT, code: "A006"},
		{name: "intermediate expired at T", leaf: underExpiredCA, inter: []*x509.Certificate{expiredCA.Cert},
			opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrNotValidAtT, code: "A006"},
		{name: "no QC statements", leaf: notQualified, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrNotQualified, code: "A004"},
		{name: "QcCompliance without QcSSCD", leaf: complianceOnly, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrNotQualified, code: "A004"},
		{name: "non-qualified allowed by option", leaf: notQualified, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors,
			AllowNonQualified: true}, wantLen: 3},
		{name: "RSA-1024 leaf", leaf: rsa1024, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrAlgorithm, code: "A013"},
		{name: "RSA-2048 leaf", leaf: rsa2048, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, wantLen: 3},
		{name: "RSA-2048 below a 3072 minimum", leaf: rsa2048, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors,
			Algorithms: Algorithms{MinRSABits: 3072}}, want: ErrAlgorithm, code: "A013"},
		{name: "P-521 not allowed by default", leaf: p521, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrAlgorithm},
		{name: "P-521 allowed by policy", leaf: p521, inter: inter, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors,
			Algorithms: Algorithms{AllowedCurves: []string{"P-256", "P-521"}}}, wantLen: 3},
		{name: "SHA-1 signed leaf", leaf: sha1Leaf, inter: []*x509.Certificate{rsaCA.Cert}, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors},
			want: ErrAlgorithm, code: "A013"},
		{name: "SHA-1 signed intermediate", leaf: underSHA1CA, inter: []*x509.Certificate{sha1CA.Cert},
			opts: Options{Purpose: PurposeSigner, Anchors: NewAnchors(PurposeSigner, rsaRoot.Cert)}, want: ErrAlgorithm, code: "A013"},
		{name: "CA without basicConstraints in the middle", leaf: underNoBasic, inter: []*x509.Certificate{noBasic.Cert},
			opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrNotCA, code: "A003"},
		{name: "CA with cA false in the middle", leaf: underNotCA, inter: []*x509.Certificate{notCA.Cert},
			opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrNotCA},
		{name: "CA without keyCertSign", leaf: underNoCertSign, inter: []*x509.Certificate{noCertSign.Cert},
			opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrNotCA},
		{name: "pathLen violation", leaf: underSub, inter: []*x509.Certificate{subCA.Cert, p.qualifiedCA.Cert},
			opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrPathLen, code: "A003"},
		{name: "a CA certificate as signer", leaf: p.qualifiedCA, opts: Options{Purpose: PurposeSigner, Anchors: signerAnchors}, want: ErrUsage},
	}
	// Every case without a cache, then twice through one shared signature cache: the cache must give
	// each case exactly the uncached answer (the same error text, the same chain), whatever the
	// cases before it left in the cache.
	cache := sigcache.New(0)
	uncached := map[string]string{}
	for _, mode := range []struct {
		name  string
		cache *sigcache.Cache
	}{{"uncached", nil}, {"cache cold", cache}, {"cache warm", cache}} {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				opts := tc.opts
				if opts.Time.IsZero() {
					opts.Time = now
				}
				opts.SigCache = mode.cache
				res, err := Validate(ctx, tc.leaf.Cert, tc.inter, opts)
				answer := fmt.Sprint(err)
				if res != nil {
					for _, c := range res.Chain {
						answer += " " + c.Subject.String()
					}
				}
				if mode.cache == nil {
					uncached[tc.name] = answer
				} else if answer != uncached[tc.name] {
					t.Fatalf("with the cache: %s\nwithout: %s", answer, uncached[tc.name])
				}
				checkCase(t, tc.want, tc.code, tc.wantLen, tc.leaf.Cert, opts, res, err)
			})
		}
	}
	if s := cache.Stats(); s.Hits == 0 {
		t.Fatalf("the warm pass was not served from the cache: %+v", s)
	}
}

// checkCase checks one TestValidate outcome against the expected error and code (want nil: a
// chain of wantLen certificates starting at leaf).
func checkCase(t *testing.T, want error, code string, wantLen int, leaf *x509.Certificate, opts Options, res *Result, err error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if len(res.Chain) != wantLen || res.Chain[0] != leaf {
			t.Fatalf("chain length %d, want %d", len(res.Chain), wantLen)
		}
		if opts.Purpose == PurposeSigner && !opts.AllowNonQualified && !res.Qualified {
			t.Fatal("qualified flag not set")
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	t.Log(err)
	if code != "" && Code(err) != code {
		t.Fatalf("code %q, want %q (%v)", Code(err), code, err)
	}
}

func TestValidateConfig(t *testing.T) {
	p := newPKI(t)
	a := NewAnchors(PurposeSigner, p.signerRoot.Cert)
	for _, o := range []Options{
		{Purpose: PurposeSigner, Anchors: a},                 // no time
		{Purpose: PurposeSigner, Time: time.Now()},           // no anchors
		{Purpose: Purpose(99), Anchors: a, Time: time.Now()}, // bad purpose
	} {
		if _, err := Validate(context.Background(), p.signer.Cert, nil, o); !errors.Is(err, ErrConfig) || Code(err) != "" {
			t.Errorf("options %+v: %v", o, err)
		}
	}
	if Code(errors.New("other")) != "" || Code(nil) != "" {
		t.Error("Code of a foreign error")
	}
}

func TestTSAVerifier(t *testing.T) {
	p := newPKI(t)
	// The interface of internal/tsp, restated so this test fails if the method set drifts.
	var v interface {
		VerifyTSA(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate, at time.Time) error
	} = TSAVerifier{Anchors: NewAnchors(PurposeTSA, p.tsaRoot.Cert)}
	ctx := context.Background()
	if err := v.VerifyTSA(ctx, p.tsa.Cert, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyTSA(ctx, p.tsa.Cert, nil, time.Now().Add(48*time.Hour)); !errors.Is(err, ErrNotValidAtT) {
		t.Fatalf("TSA after expiry: %v", err)
	}
	if err := v.VerifyTSA(ctx, p.signer.Cert, []*x509.Certificate{p.qualifiedCA.Cert}, time.Now()); err == nil {
		t.Fatal("a signer certificate passed as TSA")
	}
	wrong := TSAVerifier{Anchors: NewAnchors(PurposeSigner, p.tsaRoot.Cert)}
	if err := wrong.VerifyTSA(ctx, p.tsa.Cert, nil, time.Now()); !errors.Is(err, ErrAnchorPurpose) {
		t.Fatalf("signer anchors in a TSA verifier: %v", err)
	}
}
