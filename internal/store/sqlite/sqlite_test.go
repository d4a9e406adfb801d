package sqlite

import (
	"context"
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
