package pathval

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// TestSandboxPKI validates the sandbox's own certificates against its live OCSP responder and CRL
// distribution points: another implementation of the services than revtest's.
func TestSandboxPKI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a sandbox")
	}
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	root := w.MustEntity(sandbox.RootCA).Cert
	signers := w.ByRole(sandbox.RoleSigner)
	var signer *sandbox.Entity
	for _, s := range signers {
		if s.Qualified && !s.HasTag(sandbox.TagExpired) && !s.HasTag(sandbox.TagNotYetValid) {
			signer = s
			break
		}
	}
	if signer == nil {
		t.Fatal("no valid qualified signer in the sandbox")
	}
	ctx := context.Background()
	checker := &revocation.Checker{Now: env.Clock.Now, OCSP: revocation.OCSPClient{Freshness: revocation.Freshness{Skew: time.Minute}},
		CRL: revocation.CRLClient{Freshness: revocation.Freshness{Skew: time.Minute}}}
	opts := Options{Purpose: PurposeSigner, Anchors: NewAnchors(PurposeSigner, root), Time: env.Clock.Now(), Revocation: checker}

	res, err := Validate(ctx, signer.Cert, signer.Chain, opts)
	if err != nil {
		t.Fatalf("sandbox signer %s: %v", signer.Name, err)
	}
	if !res.Qualified || len(res.Chain) < 3 {
		t.Fatalf("qualified %v, chain %d", res.Qualified, len(res.Chain))
	}
	for i := 0; i < len(res.Chain)-1; i++ {
		if res.Revocation[i] == nil || res.Revocation[i].Status != revocation.StatusGood {
			t.Fatalf("position %d: no good evidence: %+v", i, res.Revocation[i])
		}
	}

	// The sandbox's TSA unit through the adapter the timestamp package uses.
	tsu := w.MustEntity(sandbox.TSAUnit)
	tv := TSAVerifier{Anchors: NewAnchors(PurposeTSA, root), Revocation: checker}
	if err := tv.VerifyTSA(ctx, tsu.Cert, tsu.Chain, env.Clock.Now()); err != nil {
		t.Fatalf("sandbox TSA unit: %v", err)
	}

	// The fund's TLS certificate must never pass as a signer (SEC-14).
	tlsCert := w.MustEntity(sandbox.FundTLS)
	if _, err := Validate(ctx, tlsCert.Cert, tlsCert.Chain, Options{Purpose: PurposeSigner, Anchors: NewAnchors(PurposeSigner, root),
		Time: env.Clock.Now(), AllowNonQualified: true}); !errors.Is(err, ErrUsage) && !errors.Is(err, ErrNoChain) {
		t.Fatalf("TLS certificate as signer: %v", err)
	}

	// Revoked five minutes before T: A005. The same revocation judged at an earlier T is "after T".
	revokedAt := env.Clock.Now().Add(-5 * time.Minute).Truncate(time.Second)
	env.Revoke(t, signer.Name, 1, revokedAt)
	opts.Time = env.Clock.Now()
	if _, err := Validate(ctx, signer.Cert, signer.Chain, opts); !errors.Is(err, ErrRevoked) || Code(err) != "A005" {
		t.Fatalf("revoked signer: %v", err)
	}
	opts.Time = revokedAt.Add(-time.Minute)
	res, err = Validate(ctx, signer.Cert, signer.Chain, opts)
	if err != nil {
		t.Fatalf("revoked after T: %v", err)
	}
	if len(res.RevokedAfterT) != 1 || res.RevokedAfterT[0] != 0 {
		t.Fatalf("RevokedAfterT %v", res.RevokedAfterT)
	}
}
