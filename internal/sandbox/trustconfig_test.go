package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
)

// Init writes trust.json; trust.Load reads it as every program would and validates a sandbox signer
// under the sandbox policy, while certificates outside the signer PKI stay invalid.
func TestTrustConfig(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	path := filepath.Join(sb.Dir, sandbox.TrustConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg trust.Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // the mirror struct in the sandbox package must match trust.Config
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("trust.json is not a trust.Config: %v\n%s", err, data)
	}
	for _, p := range append(append(cfg.SignerAnchors, cfg.TSAAnchors...), cfg.RevocationCache) {
		if filepath.IsAbs(p) {
			t.Errorf("path %q is absolute; trust.json must be relative to the sandbox", p)
		}
	}
	if cfg.Offline || cfg.RevocationCache != sandbox.TrustCacheDir {
		t.Errorf("config %+v", cfg)
	}

	// WriteTrustConfig on the loaded world gives the same file.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.WriteTrustConfig(sb.World); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Errorf("WriteTrustConfig differs from Init's trust.json:\n%s\n%s", again, data)
	}

	pol, err := policy.Select("sandbox")
	if err != nil {
		t.Fatal(err)
	}
	env, err := trust.Load(cfg, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	if env.Online == nil {
		t.Fatal("trust.json makes the environment offline")
	}
	env.Online.Now = sb.Clock.Now
	ctx := context.Background()
	T := sb.Clock.Now()
	signer := sb.World.MustEntity("signer-pelda-1")
	tsa := sb.World.MustEntity(sandbox.TSAUnit)
	tls := sb.World.MustEntity(sandbox.FundTLS)

	// A bare leaf: the intermediates of trust.json complete the chain. Inside the grace period: TRY_LATER.
	q := trust.ChainQuery{Purpose: pathval.PurposeSigner, Leaf: signer.Cert, T: T, Now: T}
	if r := env.CheckChain(ctx, q); r.Verdict.Indication != report.Indeterminate || r.Verdict.Sub != report.TryLater {
		t.Fatalf("signer inside the grace period: %+v", r.Verdict)
	}
	sb.Clock.Advance(6 * time.Second)
	q.Now = sb.Clock.Now()
	r := env.CheckChain(ctx, q)
	if r.Verdict.Indication != report.TotalPassed || r.Path == nil || len(r.Path.Chain) != 3 || !r.Path.Qualified {
		t.Fatalf("signer after the grace period: %+v %+v", r.Verdict, r.Path)
	}
	tq := trust.ChainQuery{Purpose: pathval.PurposeTSA, Leaf: tsa.Cert, T: T, Now: q.Now}
	if r := env.CheckChain(ctx, tq); r.Verdict.Indication != report.TotalPassed {
		t.Errorf("TSA unit: %+v", r.Verdict)
	}
	// The cache directory of trust.json is used.
	if ents, err := os.ReadDir(filepath.Join(sb.Dir, sandbox.TrustCacheDir)); err != nil || len(ents) == 0 {
		t.Errorf("revocation cache %s is empty: %v", sandbox.TrustCacheDir, err)
	}

	// The fund's TLS certificate chains to the separate TLS CA, which is no signer anchor.
	lq := trust.ChainQuery{Purpose: pathval.PurposeSigner, Leaf: tls.Cert, Intermediates: tls.Chain, T: T, Now: q.Now}
	r = env.CheckChain(ctx, lq)
	if r.Verdict.Indication == report.TotalPassed || len(r.Verdict.Findings) == 0 || r.Verdict.Findings[0].Code != errcode.A003 {
		t.Errorf("TLS certificate as signer: %+v", r.Verdict)
	}
	// A signer certificate is not a TSA.
	sq := trust.ChainQuery{Purpose: pathval.PurposeTSA, Leaf: signer.Cert, T: T, Now: q.Now}
	if r := env.CheckChain(ctx, sq); r.Verdict.Indication == report.TotalPassed {
		t.Errorf("signer as TSA: %+v", r.Verdict)
	}
}
