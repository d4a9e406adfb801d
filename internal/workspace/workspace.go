// Package workspace is the sender's local record (SPEC §1 sender, SND-27, SND-31, ADM-01, ADM-04): a
// state directory holding a SQLite database (modernc.org/sqlite, WAL, synchronous=FULL, versioned
// migrations) and a content-addressed blob store (internal/blob) beside the files other commands
// write there (packages/, sequence.json, signatures.log, notifications/).
//
// # Layout of the state directory
//
//	sender.db          the database: pack records (every package built here, with the sign preview),
//	                   sent packages, the send log (every attempt), receipts with their verification,
//	                   SND-30 notifications, containers (every version)
//	blobs/sha256/…     the bytes of every sent package, receipt, fund answer and container
//	packages/          packages written by `sender pack` (not yet sent ones too)
//	notifications/     the SND-30 notification letters (text), one per recipient
//	sequence.json      the package sequence counters (internal/pack)
//	signatures.log     the signature log (internal/siglog, SIG-12, SIG-15)
//
// The database never holds anything the blob store does not: a row naming a blob is written only
// after the blob is committed (fsync of file and directory), so a crash leaves at worst an unnamed
// blob, never a row without its bytes. Acknowledged means durable on the sender's side too.
//
// # Backup
//
// Backup writes the whole state directory into one tar file: a consistent snapshot of the database
// (VACUUM INTO) and every other file, followed by MANIFEST.json with each entry's size and SHA-256.
// Restore refuses a non-empty target, checks every entry against the manifest (and every blob against
// its name) and only then moves the restored directory into place.
package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/sqlmigrate"
)

// File and directory names inside the state directory.
const (
	DBFile           = "sender.db"
	BlobDir          = "blobs"
	PackagesDir      = "packages"
	NotificationsDir = "notifications"
)

// MaxBlobBytes bounds a blob the workspace stores or reads back: a package is never larger than the
// XML parser's limit, which is below this.
const MaxBlobBytes = 512 << 20

// ErrNotFound is returned for a record the workspace does not hold.
var ErrNotFound = errors.New("workspace: not found")

// Workspace is an open state directory. It is safe for concurrent use by one process.
type Workspace struct {
	dir   string
	db    *sql.DB
	blobs *blob.Store
	now   func() time.Time
}

// Init creates the state directory and its subdirectories (owner-only, SEC-05: they hold personal
// data) and the database with its schema. It is idempotent.
func Init(ctx context.Context, dir string) error {
	w, err := Open(ctx, dir)
	if err != nil {
		return err
	}
	return w.Close()
}

// Open opens (creating if needed) the workspace in dir and applies pending migrations.
func Open(ctx context.Context, dir string) (*Workspace, error) {
	for _, d := range []string{dir, filepath.Join(dir, PackagesDir), filepath.Join(dir, NotificationsDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
	}
	blobs, err := blob.Open(filepath.Join(dir, BlobDir))
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	db, err := openDB(ctx, filepath.Join(dir, DBFile))
	if err != nil {
		return nil, err
	}
	return &Workspace{dir: dir, db: db, blobs: blobs, now: time.Now}, nil
}

// Dir is the state directory.
func (w *Workspace) Dir() string { return w.dir }

// Close closes the database.
func (w *Workspace) Close() error { return w.db.Close() }

// migrations are applied in order; index + 1 is the schema version. Never edit one that shipped:
// append another.
var migrations = []string{
	// 1: sent packages, the send log, receipts, notifications, containers.
	`CREATE TABLE packages (
		sha256        BLOB PRIMARY KEY,
		name          TEXT NOT NULL,
		submission_id TEXT NOT NULL,
		size          INTEGER NOT NULL,
		added         INTEGER NOT NULL, -- Unix nanoseconds, UTC
		checked       INTEGER,          -- the last initial check before sending
		report        BLOB,             -- its report.Document JSON
		validation    BLOB              -- the validation data it used, JSON
	);
	CREATE INDEX packages_submission ON packages(submission_id);
	CREATE TABLE attempts (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		package_sha256 BLOB NOT NULL REFERENCES packages(sha256),
		started        INTEGER NOT NULL,
		url            TEXT NOT NULL,
		http_status    INTEGER,          -- NULL: no HTTP response
		outcome        TEXT NOT NULL,    -- kontener.xsd Kimenet
		detail         TEXT NOT NULL,
		answer_sha256  BLOB              -- the answer's body in the blob store (a receipt, an R001 answer)
	);
	CREATE INDEX attempts_package ON attempts(package_sha256, seq);
	CREATE TABLE receipts (
		sha256         BLOB PRIMARY KEY,
		package_sha256 BLOB NOT NULL UNIQUE REFERENCES packages(sha256),
		name           TEXT NOT NULL,
		receipt_id     TEXT,             -- NULL when the receipt could not be read
		result         TEXT,             -- BEFOGADVA / ELUTASITVA; NULL when not read
		received       INTEGER NOT NULL,
		checked        INTEGER NOT NULL,
		state          TEXT NOT NULL,    -- the fund's signature: ERVENYES, ERVENYTELEN, BEFEJEZETLEN
		indication     TEXT NOT NULL,
		sub_indication TEXT NOT NULL,
		problem        TEXT NOT NULL,    -- why the receipt is flagged ("" when it is not)
		report         BLOB NOT NULL,    -- report.Document JSON of the last check
		validation     BLOB NOT NULL     -- validation data JSON of the last check
	);
	CREATE TABLE notifications (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		receipt_sha256 BLOB NOT NULL REFERENCES receipts(sha256),
		created        INTEGER NOT NULL,
		recipient      TEXT NOT NULL,    -- PENZTAR, FELUGYELET
		address        TEXT NOT NULL,
		text           TEXT NOT NULL,
		file           TEXT NOT NULL     -- the letter, relative to the state directory
	);
	CREATE TABLE containers (
		sha256         BLOB PRIMARY KEY,
		package_sha256 BLOB NOT NULL REFERENCES packages(sha256),
		name           TEXT NOT NULL,
		version        INTEGER NOT NULL,
		created        INTEGER NOT NULL,
		UNIQUE (package_sha256, version)
	);`,
	// 2: pack records (`sender pack`): every package built in this workspace, sent or not, with the
	// sign preview; they replace the files under packed/.
	`CREATE TABLE packed (
		seq                INTEGER PRIMARY KEY AUTOINCREMENT,
		payload_sha256     BLOB NOT NULL,   -- the covered payload object: signing and time-stamping keep it
		package_sha256     BLOB NOT NULL,   -- the unsigned package as pack wrote it
		declaration_sha256 BLOB NOT NULL,
		name               TEXT NOT NULL,   -- the SPEC §4 file name; signing keeps it
		submission_id      TEXT NOT NULL,
		path               TEXT NOT NULL,   -- where pack wrote it
		packed             INTEGER NOT NULL, -- Unix nanoseconds, UTC
		encrypted          INTEGER NOT NULL,
		preview            BLOB NOT NULL    -- the sign preview (declaration.Excerpt JSON), written from the plaintext
	);
	CREATE INDEX packed_submission ON packed(submission_id, seq);
	CREATE INDEX packed_payload ON packed(payload_sha256);
	CREATE INDEX packed_name ON packed(name);`,
}

func openDB(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(30000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	db.SetMaxOpenConns(4)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	// The database holds personal data (SEC-05).
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(f); err == nil {
			os.Chmod(f, 0o600)
		}
	}
	return db, nil
}

// Version is the schema version applied.
func (w *Workspace) Version(ctx context.Context) (int, error) { return sqlmigrate.Version(ctx, w.db) }

func migrate(ctx context.Context, db *sql.DB) error {
	if err := sqlmigrate.Apply(ctx, db, migrations, nil); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	return nil
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	return sqlmigrate.InTx(ctx, db, fn)
}
