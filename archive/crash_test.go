package archive_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/store/sqlite"
)

// failingIndex is a real index whose Append fails as if the process had died between writing the
// blobs and committing the index transaction.
type failingIndex struct {
	archive.Index
	fail bool
}

var errCrash = errors.New("simulated crash before the index commit")

func (f *failingIndex) Append(ctx context.Context, e *archive.Entry) error {
	if f.fail {
		return errCrash
	}
	return f.Index.Append(ctx, e)
}

func openDB(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPutCrashBeforeIndex: blobs written, index step failed → nothing indexed, only content-addressed
// blobs on disk; after a restart the same Put succeeds, reuses those blobs and stores one entry.
func TestPutCrashBeforeIndex(t *testing.T) {
	ctx := context.Background()
	dir, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "store.db")
	db := openDB(t, dbPath)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	fi := &failingIndex{Index: db.ArchiveIndex(), fail: true}
	a, err := archive.New(dir, fi, archive.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	in := sampleInput(1)
	if _, err := a.Put(ctx, in); !errors.Is(err, errCrash) {
		t.Fatalf("Put with a failing index: %v", err)
	}
	if n, _ := db.ArchiveIndex().Size(ctx); n != 0 {
		t.Fatalf("the failed Put indexed %d entries", n)
	}
	parts := countFiles(t, filepath.Join(dir, "parts", "sha256"))
	if parts != 4 {
		t.Fatalf("%d part blobs after the failed Put, want the 4 parts", parts)
	}
	if _, err := a.ByPackage(ctx, in.PackageSHA256); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("ByPackage after the failed Put: %v", err)
	}
	// Restart: a new process, the same directory and database.
	db.Close()
	db2 := openDB(t, dbPath)
	a2, err := archive.New(dir, db2.ArchiveIndex(), archive.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e, err := a2.Put(ctx, in)
	if err != nil || e.Index != 0 {
		t.Fatalf("re-Put after the crash: %+v %v", e, err)
	}
	if n := countFiles(t, filepath.Join(dir, "parts", "sha256")); n != parts {
		t.Errorf("re-Put wrote %d part blobs, want the %d already there reused", n, parts)
	}
	if es, _ := os.ReadDir(filepath.Join(dir, "parts", "incoming")); len(es) != 0 {
		t.Errorf("%d temporary files left", len(es))
	}
	got, err := a2.Read(ctx, e, archive.Original)
	if err != nil || !bytes.Equal(got, in.Original) {
		t.Errorf("Read after recovery: %v", err)
	}
}
