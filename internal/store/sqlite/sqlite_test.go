package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/archive/archivetest"
	"github.com/tagdij/tagdij/internal/intake/intaketest"
	"github.com/tagdij/tagdij/internal/processor/processortest"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/registry/registrytest"
)

func TestIntakeConformance(t *testing.T) {
	var last string
	open := func(t *testing.T) (intaketest.Backend, func()) {
		last = filepath.Join(t.TempDir(), "store.db")
		db, err := Open(context.Background(), last)
		if err != nil {
			t.Fatal(err)
		}
		return db, func() { db.Close() }
	}
	reopen := func(t *testing.T) (intaketest.Backend, func()) {
		db, err := Open(context.Background(), last)
		if err != nil {
			t.Fatal(err)
		}
		return db, func() { db.Close() }
	}
	intaketest.Run(t, open, reopen)
}

// TestMigrations: a new database gets every migration once; reopening applies none again; a database
// from a newer program is refused.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "m.db")
	db, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.Version(ctx); err != nil || v != len(migrations) {
		t.Fatalf("version %d, %v", v, err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, p); err == nil {
		t.Error("a database of a newer schema was opened")
	}
}

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "reg.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Registry()
	})
}

// TestWriterQueue: concurrent writers of one process queue for their turn instead of meeting
// SQLITE_BUSY and the busy handler's sleeps, and a writer waiting for its turn gives up when its
// context ends instead of waiting out busy_timeout.
func TestWriterQueue(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	const writers = 48
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			errs <- db.tx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO jobs (package_sha256, due_at, state, updated) VALUES (?, 0, 'pending', 0)`,
					[]byte{byte(i), byte(i >> 8)})
				return err
			})
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Errorf("concurrent writer: %v", err)
		}
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil || n != writers {
		t.Fatalf("jobs = %d, %v; want %d", n, err, writers)
	}

	// Hold the writer's turn; another writer must fail with its context's error, not hang.
	release, err := db.lockWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- db.tx(cctx, func(*sql.Tx) error { return nil }) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting writer after cancel: %v, want context.Canceled", err)
	}
	release()
	if err := db.tx(ctx, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatalf("writer after release: %v", err)
	}
}

func TestQueueConformance(t *testing.T) {
	var last string
	open := func(t *testing.T) (processortest.Backend, func()) {
		last = filepath.Join(t.TempDir(), "store.db")
		db, err := Open(context.Background(), last)
		if err != nil {
			t.Fatal(err)
		}
		return db, func() { db.Close() }
	}
	reopen := func(t *testing.T) (processortest.Backend, func()) {
		db, err := Open(context.Background(), last)
		if err != nil {
			t.Fatal(err)
		}
		return db, func() { db.Close() }
	}
	processortest.Run(t, open, reopen)
}

func TestArchiveIndexConformance(t *testing.T) {
	var last string
	open := func(t *testing.T) (archive.Index, func()) {
		last = filepath.Join(t.TempDir(), "store.db")
		db, err := Open(context.Background(), last)
		if err != nil {
			t.Fatal(err)
		}
		return db.ArchiveIndex(), func() { db.Close() }
	}
	reopen := func(t *testing.T) (archive.Index, func()) {
		db, err := Open(context.Background(), last)
		if err != nil {
			t.Fatal(err)
		}
		return db.ArchiveIndex(), func() { db.Close() }
	}
	archivetest.Run(t, open, reopen)
}
