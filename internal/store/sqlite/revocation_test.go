package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/revocation/revocationtest"
)

// TestRevocationStoreConformance: the SQLite revocation store passes the revocation.Store suite,
// including sharing between two handles on one database file (two processors).
func TestRevocationStoreConformance(t *testing.T) {
	var last string
	open := func(t *testing.T, path string) revocation.Store {
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.RevocationStore()
	}
	revocationtest.Run(t, revocationtest.Backend{
		Open: func(t *testing.T) revocation.Store {
			last = filepath.Join(t.TempDir(), "rev.db")
			return open(t, last)
		},
		Share: func(t *testing.T) revocation.Store { return open(t, last) },
	})
}

// TestRevocationStoreLimitsAndPrune: values over the bound are refused on write and on read (a row
// planted behind the store's back), and Prune deletes by write time under an injected clock.
func TestRevocationStoreLimitsAndPrune(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "rev.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	s := db.RevocationStore()
	s.MaxValueBytes = 100
	s.Now = func() time.Time { return now }

	if err := s.Put("big", make([]byte, 101)); err == nil || !strings.Contains(err.Error(), "more than 100") {
		t.Fatalf("oversized Put: %v", err)
	}
	if _, err := s.Get("big"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("oversized Put left a row: %v", err)
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO revocation_cache (key, value, updated) VALUES ('planted', zeroblob(1000), 0)`); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("planted"); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("oversized row read: %d bytes, %v", len(v), err)
	}
	if err := s.Put("empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("empty"); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("empty value: %v %v", v, err)
	}

	for i, k := range []string{"old-1", "old-2", "new-1"} {
		now = t0.Add(time.Duration(i) * 24 * time.Hour)
		if err := s.Put(k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	// Rewriting old-1 late makes it new again.
	now = t0.Add(10 * 24 * time.Hour)
	if err := s.Put("old-1", []byte("again")); err != nil {
		t.Fatal(err)
	}
	// Written before day 1.5: old-2 (day 1), empty (t0) and the planted row (1970).
	if n, err := s.Prune(ctx, t0.Add(36*time.Hour)); err != nil || n != 3 {
		t.Fatalf("Prune: %d, %v; want 3", n, err)
	}
	for k, want := range map[string]bool{"old-1": true, "old-2": false, "new-1": true, "planted": false, "empty": false} {
		_, err := s.Get(k)
		if got := err == nil; got != want {
			t.Errorf("after Prune: %s present %v, want %v (%v)", k, got, want, err)
		}
	}
}
