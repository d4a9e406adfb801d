package revocation_test

import (
	"testing"

	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/revocation/revocationtest"
)

// TestStoreConformance runs the Store conformance suite on the stores of this package. The SQLite
// store runs it in internal/store/sqlite.
func TestStoreConformance(t *testing.T) {
	dirBackend := func(layered bool) revocationtest.Backend {
		var dir string
		open := func(t *testing.T, fresh bool) revocation.Store {
			if fresh {
				dir = t.TempDir()
			}
			s, err := revocation.NewDirStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			if layered {
				return revocation.NewLayeredStore(revocation.NewMemoryStore(0, 0), s)
			}
			return s
		}
		return revocationtest.Backend{
			Open:  func(t *testing.T) revocation.Store { return open(t, true) },
			Share: func(t *testing.T) revocation.Store { return open(t, false) },
		}
	}
	t.Run("DirStore", func(t *testing.T) { revocationtest.Run(t, dirBackend(false)) })
	t.Run("MemoryStore", func(t *testing.T) {
		revocationtest.Run(t, revocationtest.Backend{Open: func(*testing.T) revocation.Store { return revocation.NewMemoryStore(0, 0) }})
	})
	t.Run("LayeredStore", func(t *testing.T) {
		// Layered stores sharing a directory do not share their memory fronts: a value another
		// process overwrote is served stale from the front until this one writes or deletes it. The
		// Cache tolerates that (it re-verifies whatever it reads); the suite's sharing checks do not.
		b := dirBackend(true)
		b.Share = nil
		revocationtest.Run(t, b)
	})
}
