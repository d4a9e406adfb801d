package trust

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/policy"
)

// world starts a sandbox and an Env on the sandbox policy (grace: OCSP 2 s, CRL 5 s) with its
// anchors, loaded the way programs load them: from the certificate files.
func world(t *testing.T) (*sandboxtest.Env, *Env) { return worldWith(t, nil) }

// worldWith is world with the policy and the configuration changed by mod (nil: unchanged) before
// loading.
func worldWith(t *testing.T, mod func(*policy.Policy, *Config)) (*sandboxtest.Env, *Env) {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	cfg := Config{
		SignerAnchors:   []string{root.Files.Cert},
		TSAAnchors:      []string{root.Files.Cert},
		RevocationCache: "cache",
	}
	if mod != nil {
		mod(pol, &cfg)
	}
	env, err := Load(cfg, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	env.Online.Now = sb.Clock.Now
	return sb, env
}

func signer(t *testing.T, sb *sandboxtest.Env, i int) *sandbox.Entity {
	t.Helper()
	s, err := sb.World.Signers("pelda")
	if err != nil || len(s) <= i {
		t.Fatalf("signers: %v", err)
	}
	return s[i]
}

func codes(v report.Verdict) []errcode.Code {
	var out []errcode.Code
	for _, f := range v.Findings {
		out = append(out, f.Code)
	}
	return out
}

func expect(t *testing.T, name string, r ChainResult, ind report.Indication, sub report.SubIndication, code errcode.Code) {
	t.Helper()
	if r.Verdict.Indication != ind || r.Verdict.Sub != sub {
		t.Fatalf("%s: %s/%s %v, want %s/%s %s", name, r.Verdict.Indication, r.Verdict.Sub, r.Verdict.Findings, ind, sub, code)
	}
	if code != "" {
		got := codes(r.Verdict)
		if len(got) == 0 || got[0] != code {
			t.Fatalf("%s: codes %v, want %s", name, got, code)
		}
	}
}

func TestGracePeriod(t *testing.T) {
	sb, env := world(t)
	ctx := context.Background()
	s := signer(t, sb, 0)
	T := sb.Clock.Now()
	q := ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: T}

	// Inside the grace period the freshest evidence is from before T + 2 s: incomplete, try later.
	r := env.CheckChain(ctx, q)
	expect(t, "before grace", r, report.Indeterminate, report.TryLater, errcode.A012)
	if !r.EarliestFinal.Equal(T.Add(2 * time.Second)) {
		t.Fatalf("earliest final check %v, want T+2s", r.EarliestFinal)
	}

	// After it, fresh OCSP evidence for the signer and current evidence for its CA (SPEC §3 revised:
	// the CA's need not postdate the grace end): valid, with the evidence kept.
	sb.Clock.Advance(3 * time.Second)
	q.Now = sb.Clock.Now()
	r = env.CheckChain(ctx, q)
	expect(t, "after grace", r, report.TotalPassed, report.None, "")
	if r.Path == nil || len(r.Path.Chain) != 3 || r.Path.Revocation[0] == nil || r.Path.Revocation[1] == nil {
		t.Fatalf("chain or evidence missing: %+v", r.Path)
	}
	if ev := r.Path.Revocation[0]; ev.ProducedAt().Before(T.Add(2 * time.Second)) {
		t.Fatalf("signer evidence produced %v, before the grace end", ev.ProducedAt())
	}

	// The same evidence, embedded, carries the verdict offline.
	var emb Embedded
	for _, ev := range r.Path.Revocation[:2] {
		emb.OCSP = append(emb.OCSP, ev.Raw)
	}
	offline := *env
	offline.Online = nil
	q.Embedded = emb
	q.Now = T.Add(365 * 24 * time.Hour) // a year later, the certificate long expired or not
	r = offline.CheckChain(ctx, q)
	expect(t, "offline with embedded evidence", r, report.TotalPassed, report.None, "")

	// Offline without evidence: nothing to decide on.
	q.Embedded = Embedded{}
	r = offline.CheckChain(ctx, q)
	if r.Verdict.Indication != report.Indeterminate {
		t.Fatalf("offline without evidence: %+v", r.Verdict)
	}
}

func TestRevocationBeforeAndAfterT(t *testing.T) {
	sb, env := world(t)
	ctx := context.Background()
	before, after := signer(t, sb, 0), signer(t, sb, 1)
	T := sb.Clock.Now()
	sb.Revoke(t, before.Name, sandbox.ReasonKeyCompromise, T.Add(-time.Minute))
	sb.Revoke(t, after.Name, sandbox.ReasonKeyCompromise, T.Add(time.Second))

	// A revocation at or before T is final at once, grace period or not.
	r := env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: before.Cert, Intermediates: before.Chain, T: T, Now: T})
	expect(t, "revoked before T, inside grace", r, report.TotalFailed, report.RevokedNoPOE, errcode.A005)

	sb.Clock.Advance(3 * time.Second)
	now := sb.Clock.Now()
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: after.Cert, Intermediates: after.Chain, T: T, Now: now})
	expect(t, "revoked after T", r, report.TotalPassed, report.None, "")
	if len(r.Path.RevokedAfterT) != 1 || r.Path.RevokedAfterT[0] != 0 {
		t.Fatalf("revocation after T not recorded: %+v", r.Path.RevokedAfterT)
	}
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: before.Cert, Intermediates: before.Chain, T: T, Now: now})
	expect(t, "revoked before T, after grace", r, report.TotalFailed, report.RevokedNoPOE, errcode.A005)
}

func TestChainFailures(t *testing.T) {
	sb, env := world(t)
	ctx := context.Background()
	now := sb.Clock.Now()
	w := sb.World
	expired := w.MustEntity(sandbox.ExpiredSigner)
	receipt := w.MustEntity(sandbox.FundReceipt)
	tsa := w.MustEntity(sandbox.TSAUnit)
	tls := w.MustEntity(sandbox.FundTLS)

	// The certificate's own status at T; what it means for a signature (INDETERMINATE without a proof
	// of existence before the expiry) is decided by internal/xades, which knows whether T is proven.
	r := env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: expired.Cert, Intermediates: expired.Chain, T: now, Now: now})
	expect(t, "expired at T", r, report.TotalFailed, report.OutOfBoundsNoPOE, errcode.A006)
	notYet := w.MustEntity(sandbox.NotYetValidSign)
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: notYet.Cert, Intermediates: notYet.Chain, T: now, Now: now})
	expect(t, "not yet valid at T", r, report.TotalFailed, report.NotYetValid, errcode.A006)
	// No validation time: a caller error, which proves nothing about the certificate.
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: expired.Cert, Intermediates: expired.Chain, Now: now})
	expect(t, "no validation time", r, report.Indeterminate, report.CertificateChainGeneralFailure, errcode.A010)

	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: receipt.Cert, Intermediates: receipt.Chain, T: now, Now: now})
	expect(t, "advanced certificate as qualified signer", r, report.TotalFailed, report.ChainConstraintsFailure, errcode.A004)

	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: tls.Cert, Intermediates: tls.Chain, T: now, Now: now, AllowNonQualified: true})
	if r.Verdict.Indication == report.TotalPassed {
		t.Fatal("the TLS certificate validated as a signer (SEC-14)")
	}

	// The receipt key is an advanced signature (DEF-07): accepted when the caller allows it, after grace.
	sb.Clock.Advance(3 * time.Second)
	later := sb.Clock.Now()
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: receipt.Cert, Intermediates: receipt.Chain, T: now, Now: later, AllowNonQualified: true})
	expect(t, "receipt signer", r, report.TotalPassed, report.None, "")

	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeTSA, Leaf: tsa.Cert, Intermediates: tsa.Chain, T: now, Now: later})
	expect(t, "TSA chain", r, report.TotalPassed, report.None, "")

	// A signer certificate checked as a TSA, and a chain to nowhere.
	s := signer(t, sb, 0)
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeTSA, Leaf: s.Cert, Intermediates: s.Chain, T: now, Now: later})
	if r.Verdict.Indication == report.TotalPassed {
		t.Fatal("a signer certificate validated as a TSA")
	}
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, T: now, Now: later})
	expect(t, "missing intermediate", r, report.Indeterminate, report.NoCertificateChainFound, errcode.A003)
}

func TestFinalCheckAfterExpiryNeedsEmbeddedEvidence(t *testing.T) {
	sb, env := world(t)
	s := signer(t, sb, 0)
	T := sb.Clock.Now()
	// The final check runs after the signer certificate expired (PRC-05): fetched evidence cannot prove
	// anything any more.
	sb.Clock.Advance(3 * time.Second)
	q := ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: s.Cert.NotAfter.Add(time.Hour)}
	r := env.CheckChain(context.Background(), q)
	expect(t, "final check after expiry", r, report.Indeterminate, report.OutOfBoundsNoPOE, errcode.A011)
}

func TestLoadErrors(t *testing.T) {
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	for name, cfg := range map[string]Config{
		"no anchors":      {},
		"missing file":    {SignerAnchors: []string{"nope.pem"}, TSAAnchors: []string{"nope.pem"}},
		"not certificate": {SignerAnchors: []string{junk}, TSAAnchors: []string{junk}},
	} {
		if _, err := Load(cfg, dir, pol); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := Load(Config{}, dir, nil); err == nil {
		t.Error("no policy: loaded")
	}
}

func TestLoadFile(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(sb.Dir, "trust.json")
	env, err := LoadFile(good, pol, false, sb.Clock.Now)
	if err != nil || env.Online == nil {
		t.Fatalf("sandbox trust.json: %v, online %v", err, env != nil && env.Online != nil)
	}
	if env, err := LoadFile(good, pol, true, nil); err != nil || env.Online != nil {
		t.Fatalf("forced offline: %v", err)
	}
	data, _ := os.ReadFile(good)
	for name, body := range map[string][]byte{
		"unknown field": []byte(`{"signerAnchors":["certs/root-ca.pem"],"tsaAnchors":["certs/root-ca.pem"],"extra":1}`),
		"trailing data": append(append([]byte(nil), data...), []byte(` {}`)...),
		"oversize":      make([]byte, MaxConfigFile+1),
	} {
		p := filepath.Join(sb.Dir, "bad.json")
		os.WriteFile(p, body, 0o600)
		if _, err := LoadFile(p, pol, false, nil); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// TestLoadRevocationSources: the per-issuer sources are checked when the configuration loads, with
// errors that name the entry and say what is wrong in both languages.
func TestLoadRevocationSources(t *testing.T) {
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := revtest.NewRoot(t, revtest.Spec{Name: "Foreign Root"})
	other := revtest.NewRoot(t, revtest.Spec{Name: "Other Root"})
	impostor := revtest.NewRoot(t, revtest.Spec{Name: "Foreign Root"}) // same name, another key
	root.WritePEM(t, dir, "root.pem", "")
	other.WritePEM(t, dir, "other.pem", "")
	both := append(pemCert(root.Cert), pemCert(other.Cert)...)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("both.pem", both)
	crl := func(id *revtest.Identity) []byte {
		der, err := revtest.BuildCRL(revtest.CRLConfig{Issuer: id, ThisUpdate: time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC),
			NextUpdate: time.Date(2031, 11, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	write("root.crl", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl(root)}))
	write("root.der.crl", crl(root))
	write("other.crl", crl(other))
	write("impostor.crl", crl(impostor))
	write("junk.crl", []byte("not a CRL"))
	if err := os.Mkdir(filepath.Join(dir, "crls"), 0o700); err != nil {
		t.Fatal(err)
	}
	base := Config{SignerAnchors: []string{"root.pem"}, TSAAnchors: []string{"root.pem"}}
	with := func(s ...RevocationSource) Config {
		c := base
		c.RevocationSources = s
		return c
	}
	good := []RevocationSource{
		{Issuer: "root.pem", CRLFile: "root.crl"},
		{Issuer: "root.pem", CRLFile: "root.der.crl", CRLDir: "crls"},
		{Issuer: "root.pem", OCSPURL: "https://ocsp.example.hu/", CRLURL: "http://crl.example.hu/root.arl"},
		{Issuer: "root.pem", OCSPURL: "http://127.0.0.1:8080/ocsp"},
	}
	env, err := Load(with(good...), dir, pol)
	if err != nil {
		t.Fatalf("good sources: %v", err)
	}
	if len(env.Online.Sources) != len(good) || !env.Online.HasSourceFor(root.Cert) || env.Online.HasSourceFor(other.Cert) ||
		env.Online.HasSourceFor(impostor.Cert) {
		t.Fatalf("sources not loaded as configured: %+v", env.Online.Sources)
	}
	if s := env.Online.Sources[1]; s.CRLFiles[0] != filepath.Join(dir, "root.der.crl") || s.CRLDirs[0] != filepath.Join(dir, "crls") {
		t.Fatalf("paths not resolved against the configuration's directory: %+v", s)
	}
	off := with(good...)
	off.Offline = true
	if env, err := Load(off, dir, pol); err != nil || env.Online != nil {
		t.Fatalf("offline with sources: %v", err)
	}

	for _, tc := range []struct {
		name string
		src  RevocationSource
		want string // in the error, besides the entry index and both languages
	}{
		{"no issuer", RevocationSource{CRLURL: "http://crl.example.hu/x.crl"}, "issuer"},
		{"issuer file missing", RevocationSource{Issuer: "nope.pem", CRLURL: "http://crl.example.hu/x.crl"}, "nope.pem"},
		{"issuer file with two certificates", RevocationSource{Issuer: "both.pem", CRLURL: "http://crl.example.hu/x.crl"}, "exactly one"},
		{"no source at all", RevocationSource{Issuer: "root.pem"}, "at least one"},
		{"OCSP over ftp", RevocationSource{Issuer: "root.pem", OCSPURL: "ftp://ocsp.example.hu/"}, "http or https"},
		{"CRL over https", RevocationSource{Issuer: "root.pem", CRLURL: "https://crl.example.hu/x.crl"}, "must be http"},
		{"CRL URL without host", RevocationSource{Issuer: "root.pem", CRLURL: "http:///x.crl"}, "host missing"},
		{"URL with a password", RevocationSource{Issuer: "root.pem", OCSPURL: "http://u:p@ocsp.example.hu/"}, "no user info"},
		{"CRL file missing", RevocationSource{Issuer: "root.pem", CRLFile: "nope.crl"}, "nope.crl"},
		{"CRL file not a CRL", RevocationSource{Issuer: "root.pem", CRLFile: "junk.crl"}, "not a CRL"},
		{"CRL file of another issuer", RevocationSource{Issuer: "root.pem", CRLFile: "other.crl"}, "not by the issuer"},
		{"CRL file signed by another key", RevocationSource{Issuer: "root.pem", CRLFile: "impostor.crl"}, "not signed by the issuer"},
		{"CRL directory missing", RevocationSource{Issuer: "root.pem", CRLDir: "nope"}, "crlDir"},
		{"CRL directory is a file", RevocationSource{Issuer: "root.pem", CRLDir: "root.crl"}, "not a directory"},
	} {
		_, err := Load(with(good[0], tc.src), dir, pol)
		switch {
		case err == nil:
			t.Errorf("%s: loaded", tc.name)
		case !errors.Is(err, ErrSource) || !strings.Contains(err.Error(), "revocationSources[1]") || !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: error %q, want revocationSources[1] and %q", tc.name, err, tc.want)
		case !strings.Contains(err.Error(), "visszavonási forrás / bad revocation source"):
			t.Errorf("%s: error not bilingual: %q", tc.name, err)
		}
	}

	// The JSON form, as operators write it; an unknown field in an entry is refused.
	js := `{"signerAnchors":["root.pem"],"tsaAnchors":["root.pem"],
	  "revocationSources":[{"issuer":"root.pem","crlFile":"root.crl"},{"issuer":"root.pem","crlURL":"http://crl.example.hu/root.arl"}]}`
	write("trust.json", []byte(js))
	if env, err := LoadFile(filepath.Join(dir, "trust.json"), pol, false, nil); err != nil || len(env.Online.Sources) != 2 {
		t.Fatalf("trust.json with sources: %v", err)
	}
	write("bad.json", []byte(`{"signerAnchors":["root.pem"],"tsaAnchors":["root.pem"],"revocationSources":[{"issuer":"root.pem","crl":"x"}]}`))
	if _, err := LoadFile(filepath.Join(dir, "bad.json"), pol, false, nil); err == nil {
		t.Fatal("unknown field in a revocation source: loaded")
	}
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
