package archive_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/policy"
)

// fixture is an archive as the processor runs it: files in a directory, the index in an SQLite
// database on disk, tree heads signed with the sandbox fund's receipt key and time-stamped by the
// sandbox TSA over loopback HTTP.
type fixture struct {
	sb     *sandboxtest.Env
	dir    string
	dbPath string
	db     *sqlite.DB
	a      *archive.Archive
	opts   archive.Options
	tsaVer tsp.ChainVerifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}, Offline: true}, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	ver := pathval.TSAVerifier{Anchors: env.TSAs, Algorithms: env.Algorithms()}
	key := sb.World.MustEntity(sandbox.FundReceipt)
	f := &fixture{sb: sb, dir: t.TempDir(), dbPath: filepath.Join(t.TempDir(), "store.db"), tsaVer: ver,
		opts: archive.Options{Signer: key.Key, Certificate: key.Cert, Chain: key.Chain, Now: sb.Clock.Now,
			TSA: &tsp.Client{URL: sb.TSAURL, Trust: ver, Now: sb.Clock.Now}}}
	f.open(t)
	return f
}

// open (re)opens the database and the archive, as a restarted process would.
func (f *fixture) open(t *testing.T) {
	t.Helper()
	if f.db != nil {
		f.db.Close()
	}
	f.db = openDB(t, f.dbPath)
	a, err := archive.New(f.dir, f.db.ArchiveIndex(), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
}

func (f *fixture) put(t *testing.T, ns ...int) []*archive.Entry {
	t.Helper()
	var out []*archive.Entry
	for _, n := range ns {
		e, err := f.a.Put(context.Background(), sampleInput(n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func (f *fixture) seal(t *testing.T) *archive.SignedHead {
	t.Helper()
	h, err := f.a.Seal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) verify(t *testing.T) *archive.VerifyResult {
	t.Helper()
	res, err := f.a.Verify(context.Background(), archive.VerifyOptions{TSA: f.tsaVer})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sql runs a statement on the database file directly, as someone with write access to the store
// would, bypassing the archive.
func (f *fixture) sql(t *testing.T, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+f.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s: %d rows affected", query, n)
	}
}
