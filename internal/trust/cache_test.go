package trust

import (
	"context"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/policy"
)

// TestLoadCaches: every loaded environment has its own signature cache; an online one a revocation
// cache, in memory when no directory is configured.
func TestLoadCaches(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA).Files.Cert
	var seen []*Env
	for name, cfg := range map[string]Config{
		"directory": {SignerAnchors: []string{root}, TSAAnchors: []string{root}, RevocationCache: "cache"},
		"memory":    {SignerAnchors: []string{root}, TSAAnchors: []string{root}},
		"offline":   {SignerAnchors: []string{root}, TSAAnchors: []string{root}, Offline: true},
	} {
		env, err := Load(cfg, sb.Dir, pol)
		if err != nil {
			t.Fatal(err)
		}
		if env.SigCache == nil {
			t.Fatalf("%s: no signature cache", name)
		}
		for _, o := range seen {
			if o.SigCache == env.SigCache {
				t.Fatalf("%s: signature cache shared between environments", name)
			}
		}
		seen = append(seen, env)
		switch {
		case cfg.Offline && env.Online != nil:
			t.Fatalf("%s: online", name)
		case !cfg.Offline && (env.Online == nil || env.Online.Cache == nil):
			t.Fatalf("%s: no revocation cache", name)
		case !cfg.Offline && (env.Online.OCSP.SigCache != env.SigCache || env.Online.CRL.SigCache != env.SigCache):
			t.Fatalf("%s: revocation clients without the environment's signature cache", name)
		}
		if v := env.TSAVerifier(); v.SigCache != env.SigCache || v.Anchors != env.TSAs {
			t.Fatalf("%s: TSA verifier %+v", name, v)
		}
	}
}

// TestCachesKeepVerdicts: repeated checks of the same chain are answered from the caches with the
// same verdict, and the grace rule still decides for a later signature: evidence cached for an
// earlier check is not accepted as post-grace evidence for a signature time-stamped after it.
func TestCachesKeepVerdicts(t *testing.T) {
	for _, cacheDir := range []string{"cache", ""} {
		t.Run("revocationCache="+cacheDir, func(t *testing.T) {
			sb, env := world(t)
			if cacheDir == "" {
				pol, _ := policy.Sandbox()
				root := sb.World.MustEntity(sandbox.RootCA).Files.Cert
				var err error
				if env, err = Load(Config{SignerAnchors: []string{root}, TSAAnchors: []string{root}}, sb.Dir, pol); err != nil {
					t.Fatal(err)
				}
				env.Online.Now = sb.Clock.Now
			}
			ctx := context.Background()
			s := signer(t, sb, 0)
			T := sb.Clock.Now()
			sb.Clock.Advance(3 * time.Second)
			q := ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: sb.Clock.Now()}
			first := env.CheckChain(ctx, q)
			expect(t, "first check", first, report.TotalPassed, report.None, "")
			hits := env.SigCache.Stats().Hits
			second := env.CheckChain(ctx, q)
			expect(t, "second check", second, report.TotalPassed, report.None, "")
			for i, ev := range second.Path.Revocation[:2] {
				if ev == nil || !ev.FromCache || string(ev.Raw) != string(first.Path.Revocation[i].Raw) {
					t.Fatalf("evidence %d of the second check not the cached one: %+v", i, ev)
				}
			}
			if env.SigCache.Stats().Hits <= hits {
				t.Fatalf("second check verified every signature again: %+v", env.SigCache.Stats())
			}

			// A signature time-stamped now: the cached signer evidence predates its grace end.
			T2 := sb.Clock.Now()
			q2 := ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T2, Now: T2}
			r := env.CheckChain(ctx, q2)
			expect(t, "later signature inside its grace period", r, report.Indeterminate, report.TryLater, errcode.A012)
			sb.Clock.Advance(3 * time.Second)
			q2.Now = sb.Clock.Now()
			r = env.CheckChain(ctx, q2)
			expect(t, "later signature after its grace period", r, report.TotalPassed, report.None, "")
			if ev := r.Path.Revocation[0]; ev.FromCache || ev.ProducedAt().Before(T2.Add(2*time.Second)) {
				t.Fatalf("signer evidence from the cache or from before the grace end: cached %v, produced %v", ev.FromCache, ev.ProducedAt())
			}
		})
	}
}
