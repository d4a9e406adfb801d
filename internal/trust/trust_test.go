package trust

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/policy"
)

// world starts a sandbox and an Env on the sandbox policy (grace: OCSP 2 s, CRL 5 s) with its
// anchors, loaded the way programs load them: from the certificate files.
func world(t *testing.T) (*sandboxtest.Env, *Env) {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	env, err := Load(Config{
		SignerAnchors:   []string{root.Files.Cert},
		TSAAnchors:      []string{root.Files.Cert},
		RevocationCache: "cache",
	}, sb.Dir, pol)
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

	// After it, fresh OCSP evidence for the signer and its CA: valid, with the evidence kept.
	sb.Clock.Advance(3 * time.Second)
	q.Now = sb.Clock.Now()
	r = env.CheckChain(ctx, q)
	expect(t, "after grace", r, report.TotalPassed, report.None, "")
	if r.Path == nil || len(r.Path.Chain) != 3 || r.Path.Revocation[0] == nil || r.Path.Revocation[1] == nil {
		t.Fatalf("chain or evidence missing: %+v", r.Path)
	}
	for i, ev := range r.Path.Revocation[:2] {
		if ev.ProducedAt().Before(T.Add(2 * time.Second)) {
			t.Fatalf("evidence %d produced %v, before the grace end", i, ev.ProducedAt())
		}
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
