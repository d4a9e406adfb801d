package trust_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
)

// TestSharedRevocationStore: two processors, each with its own trust environment over one SQLite
// database (trust.Config.RevocationStore). Evidence the first fetched serves the second's final check
// with the sandbox's OCSP responder and CRLs down; the revocationCache directory is not used.
func TestSharedRevocationStore(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "store.db")
	root := sb.World.MustEntity(sandbox.RootCA).Files.Cert
	processor := func() (*trust.Env, *sqlite.RevocationStore) {
		db, err := sqlite.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st := db.RevocationStore()
		env, err := trust.Load(trust.Config{SignerAnchors: []string{root}, TSAAnchors: []string{root},
			RevocationCache: "must-not-be-created", RevocationStore: st}, sb.Dir, pol)
		if err != nil {
			t.Fatal(err)
		}
		env.Online.Now = sb.Clock.Now
		return env, st
	}
	a, _ := processor()
	b, bStore := processor()

	signers, _ := sb.World.Signers("pelda")
	s := signers[0]
	T := sb.Clock.Now()
	sb.Clock.Advance(3 * time.Second) // past the OCSP grace period
	q := trust.ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: sb.Clock.Now()}
	ra := a.CheckChain(ctx, q)
	if ra.Verdict.Indication != report.TotalPassed {
		t.Fatalf("processor A: %+v", ra.Verdict)
	}
	// The signer's evidence is in the shared table under the Cache's key.
	if _, err := bStore.Get(revocation.OCSPCacheKey(s.Chain[0], s.Cert.SerialNumber)); err != nil {
		t.Fatalf("A's evidence not in the shared store: %v", err)
	}
	sb.Stop(sandboxtest.OCSP)
	sb.Stop(sandboxtest.CRL)
	before := sb.Requests(sandboxtest.OCSP) + sb.Requests(sandboxtest.CRL)
	rb := b.CheckChain(ctx, q)
	if rb.Verdict.Indication != report.TotalPassed {
		t.Fatalf("processor B with the services down: %+v", rb.Verdict)
	}
	for i, ev := range rb.Path.Revocation[:2] {
		if ev == nil || !ev.FromCache || string(ev.Raw) != string(ra.Path.Revocation[i].Raw) {
			t.Fatalf("B's evidence %d is not A's from the store: %+v", i, ev)
		}
	}
	if n := sb.Requests(sandboxtest.OCSP) + sb.Requests(sandboxtest.CRL); n != before {
		t.Fatalf("B asked the services %d times", n-before)
	}
	if st := b.Online.Cache.Stats(); st.Hits != 2 || st.Misses != 0 {
		t.Fatalf("B's cache stats %+v", st)
	}
	if _, err := os.Stat(filepath.Join(sb.Dir, "must-not-be-created")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the revocationCache directory was used besides the store: %v", err)
	}
}
