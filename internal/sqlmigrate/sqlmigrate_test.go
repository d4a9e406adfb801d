package sqlmigrate_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/tagdij/tagdij/internal/sqlmigrate"
)

func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	v1 := []string{`CREATE TABLE a (x INTEGER)`}
	v2 := append(v1, `CREATE TABLE b (y INTEGER)`)
	bad := append(v2, `CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1)`)
	tables := func(db *sql.DB) string {
		rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_migrations' ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		return strings.Join(names, ",")
	}
	cases := []struct {
		name        string
		steps       [][]string // Apply runs with each in turn
		wantVersion int
		wantTables  string
		wantErr     error // of the last step; nil: no error
		anyErr      bool
	}{
		{"fresh database", [][]string{v2}, 2, "a,b", nil, false},
		{"one at a time, then again (nothing to do)", [][]string{v1, v2, v2}, 2, "a,b", nil, false},
		{"newer database refused", [][]string{v2, v1}, 2, "a,b", sqlmigrate.ErrNewer, false},
		{"failing migration rolled back whole", [][]string{v2, bad}, 2, "a,b", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			var err error
			for _, m := range tc.steps {
				err = sqlmigrate.Apply(ctx, db, m, nil)
			}
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			case tc.anyErr && err == nil:
				t.Fatal("no error")
			case tc.wantErr == nil && !tc.anyErr && err != nil:
				t.Fatal(err)
			}
			if errors.Is(err, sqlmigrate.ErrNewer) && (!strings.Contains(err.Error(), " / ") || !strings.Contains(err.Error(), "older program")) {
				t.Errorf("not bilingual: %v", err)
			}
			if v, err := sqlmigrate.Version(ctx, db); err != nil || v != tc.wantVersion {
				t.Errorf("version %d (%v), want %d", v, err, tc.wantVersion)
			}
			if got := tables(db); got != tc.wantTables {
				t.Errorf("tables %q, want %q", got, tc.wantTables)
			}
		})
	}
}
