package trust

import (
	"context"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// TestReportChainAndEvidence: a validated path is listed end certificate first with its fingerprint
// and qualification, its evidence per certificate with the revocation time only when revoked; no
// path, no lists.
func TestReportChainAndEvidence(t *testing.T) {
	sb, env := world(t)
	ctx := context.Background()
	s, revoked := signer(t, sb, 0), signer(t, sb, 1)
	T := sb.Clock.Now()
	sb.Revoke(t, revoked.Name, sandbox.ReasonKeyCompromise, T.Add(time.Second))
	sb.Clock.Advance(3 * time.Second)
	now := sb.Clock.Now()

	r := env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: now})
	chain, ev := r.ReportChain(), r.ReportEvidence()
	if len(chain) != 3 || chain[0].Subject != s.Cert.Subject.String() || chain[0].SHA256 != s.SHA256 || !chain[0].Qualified ||
		chain[1].Qualified || chain[0].Serial != s.Cert.SerialNumber.String() || chain[0].NotAfter.Location().String() != "UTC" {
		t.Fatalf("chain %+v", chain)
	}
	if len(ev) != 2 || ev[0].About != chain[0].Subject || ev[1].About != chain[1].Subject || ev[0].Status != "good" ||
		!ev[0].RevokedAt.IsZero() || ev[0].Source == "" || ev[0].ProducedAt.IsZero() {
		t.Fatalf("evidence %+v", ev)
	}

	// Revoked after T: still valid, and the evidence says when.
	r = env.CheckChain(ctx, ChainQuery{Purpose: pathval.PurposeSigner, Leaf: revoked.Cert, Intermediates: revoked.Chain, T: T, Now: now})
	if ev := r.ReportEvidence(); len(ev) == 0 || ev[0].Status != "revoked" || !ev[0].RevokedAt.Equal(T.Add(time.Second).Truncate(time.Second)) {
		t.Fatalf("revoked evidence %+v", ev)
	}

	if (ChainResult{}).ReportChain() != nil || (ChainResult{}).ReportEvidence() != nil {
		t.Error("no path, yet a chain or evidence")
	}
}
