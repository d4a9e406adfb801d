// Package sqlmigrate applies versioned schema migrations to a database/sql database (the receiver's
// store and the sender's workspace, both SQLite). Migrations are append-only: migration v is
// migrations[v-1], applied once, in its own transaction together with its row in schema_migrations;
// a shipped migration is never edited, a change is a new one.
package sqlmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNewer is returned by Apply for a database migrated by a newer program: an older one must not
// run on a schema it does not know.
var ErrNewer = errors.New("sqlmigrate: the database is newer than this program")

// Version is the highest migration applied to db (0 when none). schema_migrations must exist: Apply
// creates it.
func Version(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// InTx runs fn in a transaction of db, committed when fn returns nil and rolled back otherwise.
func InTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Apply brings db up to len(migrations). Each migration runs through inTx (nil: InTx on db), which
// lets a caller put its own write discipline around it (the receiver's store takes its writer turn).
// A database with more migrations than the program knows is refused with ErrNewer, in Hungarian and
// English.
func Apply(ctx context.Context, db *sql.DB, migrations []string, inTx func(context.Context, func(*sql.Tx) error) error) error {
	if inTx == nil {
		inTx = func(ctx context.Context, fn func(*sql.Tx) error) error { return InTx(ctx, db, fn) }
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	have, err := Version(ctx, db)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("%w: az adatbázis sémaverziója %d, ez a program %d-ig ismeri; régebbi programot nem futtatok rajta / "+
			"the database has schema version %d, this program knows %d: refusing to run an older program on it",
			ErrNewer, have, len(migrations), have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		err := inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}
