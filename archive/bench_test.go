package archive_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/store/sqlite"
)

// BenchmarkPut: one archived package (four parts, a leaf record, the index row) on disk with SQLite,
// as the processor does it per job.
func BenchmarkPut(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "store.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	a, err := archive.New(b.TempDir(), db.ArchiveIndex(), archive.Options{})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := a.Put(context.Background(), sampleInput(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
