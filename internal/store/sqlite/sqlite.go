// Package sqlite is the embedded default store (SPEC §9): one SQLite database file
// (modernc.org/sqlite, no cgo) in WAL mode with synchronous=FULL, so a committed transaction is on
// disk when Commit returns. It implements the role interfaces its users define: intake.Store (the
// receiver's durable record of every answered upload), the receiver's status and receipt reads, the
// registry's store, the archive's index (ArchiveIndex), the processor's job queue (processor.Queue)
// and the revocation evidence cache the processors share (revocation.Store). Schema changes are
// versioned migrations applied in order at Open, each in its own transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/tagdij/tagdij/internal/sqlmigrate"
)

// DB is an open store. It is safe for concurrent use by one process; several processes may open the
// same file (SQLite serializes writers), but scale-out belongs to the PostgreSQL backend.
type DB struct {
	db *sql.DB
	// writer admits one write transaction of this process at a time. SQLite allows one writer anyway;
	// without this queue, concurrent BEGIN IMMEDIATEs meet SQLITE_BUSY and SQLite's busy handler
	// sleeps in steps of up to 100 ms, which on deadline day turns a 3 ms commit into a tail of
	// hundreds of milliseconds. A buffered channel rather than a mutex so a waiting writer still
	// honours its context. Other processes sharing the file still meet busy_timeout.
	writer chan struct{}
}

// migrations are applied in order; the index + 1 is the schema version. Never edit one that shipped:
// append another.
var migrations = []string{
	// 1: packages, receipts and the processor's jobs.
	`CREATE TABLE packages (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		sha256         BLOB NOT NULL,
		size           INTEGER NOT NULL,
		file_name      TEXT NOT NULL,
		arrival        INTEGER NOT NULL, -- Unix nanoseconds, UTC
		blob_stored    INTEGER NOT NULL,
		accepted       INTEGER NOT NULL,
		submission_id  TEXT,
		declarant_type TEXT,
		declarant_id   TEXT,
		fund           TEXT,
		period         TEXT,
		type           TEXT,
		state          TEXT NOT NULL,
		earliest_final INTEGER,
		codes          TEXT NOT NULL,
		registry_sheet TEXT,
		status         TEXT NOT NULL,
		receipt_id     TEXT NOT NULL UNIQUE
	);
	-- One answer per (bytes, name): a retry gets it again; the same bytes under another name are a new
	-- upload. At most one acceptance per package and per submission id.
	CREATE UNIQUE INDEX packages_upload ON packages(sha256, file_name);
	CREATE UNIQUE INDEX packages_accepted ON packages(sha256) WHERE accepted = 1;
	CREATE UNIQUE INDEX packages_accepted_submission ON packages(submission_id) WHERE accepted = 1;
	CREATE TABLE receipts (
		id             TEXT PRIMARY KEY,
		package_sha256 BLOB NOT NULL,
		name           TEXT NOT NULL,
		bytes          BLOB NOT NULL,
		accepted       INTEGER NOT NULL
	);
	CREATE TABLE jobs (
		package_sha256 BLOB PRIMARY KEY, -- the accepted package
		due_at         INTEGER NOT NULL,
		state          TEXT NOT NULL,
		attempts       INTEGER NOT NULL DEFAULT 0,
		lease_owner    TEXT,
		lease_until    INTEGER,
		last_error     TEXT,
		updated        INTEGER NOT NULL
	);
	CREATE INDEX jobs_due ON jobs(state, due_at);`,
	// 2: the registry of declarants registered for e-filing (registration sheets, kept with history).
	`CREATE TABLE registry_sheets (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		sheet_id       TEXT NOT NULL UNIQUE,
		id_type        TEXT NOT NULL,
		declarant_id   TEXT NOT NULL,
		fund           TEXT NOT NULL,
		recorded       INTEGER NOT NULL, -- Unix nanoseconds: when this sheet entered the registry
		body           BLOB NOT NULL     -- the sheet, JSON
	);
	CREATE INDEX registry_by_declarant ON registry_sheets(id_type, declarant_id, fund, seq);`,
	// 3: the archive's index: one row per archived entry, each also its Merkle leaf, and the signed
	// tree heads (archive.Index). Rows are only ever inserted.
	`CREATE TABLE archive_entries (
		leaf_index      INTEGER PRIMARY KEY, -- the Merkle leaf index, 0, 1, 2, ...
		id              TEXT NOT NULL UNIQUE,
		archived        INTEGER NOT NULL,    -- Unix nanoseconds, UTC
		renews          TEXT NOT NULL,       -- the renewed entry's id, '' for the first archiving
		package_sha256  BLOB NOT NULL,
		package_name    TEXT NOT NULL,
		receipt_name    TEXT NOT NULL,
		submission_id   TEXT NOT NULL,
		declarant_type  TEXT NOT NULL,
		declarant_id    TEXT NOT NULL,
		fund            TEXT NOT NULL,
		period          TEXT NOT NULL,
		decl_type       TEXT NOT NULL,
		outcome         TEXT NOT NULL,
		codes           TEXT NOT NULL,       -- JSON array of strings
		original_sha256 BLOB NOT NULL,
		original_size   INTEGER NOT NULL,
		extended_sha256 BLOB,                -- NULL: no extended package
		extended_size   INTEGER,
		receipt_sha256  BLOB NOT NULL,
		receipt_size    INTEGER NOT NULL,
		report_sha256   BLOB NOT NULL,
		report_size     INTEGER NOT NULL,
		leaf_hash       BLOB NOT NULL
	);
	-- One entry per (package, predecessor): idempotent archiving, at most one renewal of an entry.
	CREATE UNIQUE INDEX archive_entries_version ON archive_entries(package_sha256, renews);
	CREATE INDEX archive_entries_submission ON archive_entries(declarant_type, declarant_id, submission_id, leaf_index);
	CREATE TABLE archive_tree_heads (
		seq       INTEGER PRIMARY KEY,
		tree_size INTEGER NOT NULL,
		body      BLOB NOT NULL              -- the signed, time-stamped tree head (archive.DecodeSignedHead)
	);`,
	// 4 (the processor): the final outcome of a job and the alert of a job nearing its signer
	// certificate's notAfter.
	`ALTER TABLE jobs ADD COLUMN outcome TEXT;          -- processed, final-invalid, content-rejected
	ALTER TABLE jobs ADD COLUMN final_state TEXT;      -- ERVENYES, ERVENYTELEN, BEFEJEZETLEN
	ALTER TABLE jobs ADD COLUMN final_codes TEXT;
	ALTER TABLE jobs ADD COLUMN finished INTEGER;      -- Unix nanoseconds
	ALTER TABLE jobs ADD COLUMN archive_id TEXT;
	ALTER TABLE jobs ADD COLUMN handoff TEXT;
	ALTER TABLE jobs ADD COLUMN alert TEXT;
	CREATE INDEX jobs_lease ON jobs(lease_owner) WHERE lease_owner IS NOT NULL;`,
	// 5: the revocation evidence cache the processors share
	// (revocation.Store: verified OCSP responses and CRLs under the Cache's keys).
	`CREATE TABLE revocation_cache (
		key     TEXT PRIMARY KEY,
		value   BLOB NOT NULL,
		updated INTEGER NOT NULL -- Unix nanoseconds, UTC: when the value was last written
	) WITHOUT ROWID;
	CREATE INDEX revocation_cache_updated ON revocation_cache(updated);`,
}

// Open opens (creating if needed) the database at path and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(30000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// SQLite has one writer at a time; a few connections serve concurrent reads.
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &DB{db: db, writer: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// Version is the schema version applied.
func (s *DB) Version(ctx context.Context) (int, error) { return sqlmigrate.Version(ctx, s.db) }

// Ping checks that the database answers and is writable (for /readyz).
func (s *DB) Ping(ctx context.Context) error {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS ping (x)`); err != nil {
		return fmt.Errorf("sqlite: not writable: %w", err)
	}
	return nil
}

func (s *DB) migrate(ctx context.Context) error {
	// Each migration takes this process's write turn, as every write does.
	if err := sqlmigrate.Apply(ctx, s.db, migrations, s.tx); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// lockWriter waits for this process's write turn (see DB.writer); release ends it.
func (s *DB) lockWriter(ctx context.Context) (release func(), err error) {
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exec runs one autocommit write statement in this process's write turn (see DB.writer).
func (s *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.db.ExecContext(ctx, query, args...)
}

// tx runs fn in a write transaction and commits it.
func (s *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var se interface{ Code() int }
	if errors.As(err, &se) {
		// SQLITE_CONSTRAINT_UNIQUE 2067, SQLITE_CONSTRAINT_PRIMARYKEY 1555.
		return se.Code() == 2067 || se.Code() == 1555
	}
	return false
}

func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
