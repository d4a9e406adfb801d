package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/tagdij/tagdij/internal/revocation"
)

// The revocation role (revocation.Store): the evidence cache in revocation_cache, shared by every
// processor that opens the database, so an OCSP response or CRL one of them fetched serves the others
// while it is fresh (issue 9, SEC-15). The table holds what the revocation.Cache stores — verified
// evidence, but the Cache re-verifies every entry it reads, so a row changed behind its back is a miss,
// never an answer.

// DefaultRevocationMaxValue bounds one value of the revocation cache: the largest CRL the revocation
// clients accept, plus the entry's header.
const DefaultRevocationMaxValue = revocation.DefaultMaxCRLBytes + 1<<10

// RevocationStore returns the revocation evidence store over this database. Give it to trust.Load
// (trust.Config.RevocationStore), which puts a memory layer in front of it.
func (s *DB) RevocationStore() *RevocationStore { return &RevocationStore{db: s} }

// RevocationStore implements revocation.Store on the SQLite database. Every Put is one committed
// transaction (durable when it returns, atomic for readers: SQLite readers see the old or the new
// row). Its methods have no context, as revocation.Store has none: each is bounded by the database's
// busy timeout. The zero value of the exported fields is usable.
type RevocationStore struct {
	db *DB
	// MaxValueBytes bounds a value in Put and Get (DefaultRevocationMaxValue when ≤ 0): a larger one
	// is refused, so neither a runaway CRL nor a planted row can exhaust memory.
	MaxValueBytes int64
	// Now is the clock of the rows' write time, which Prune compares; time.Now when nil.
	Now func() time.Time
}

var _ revocation.Store = (*RevocationStore)(nil)

func (r *RevocationStore) limit() int64 {
	if r.MaxValueBytes > 0 {
		return r.MaxValueBytes
	}
	return DefaultRevocationMaxValue
}

func (r *RevocationStore) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func checkRevocationKey(key string) error {
	if !revocation.ValidKey(key) {
		return fmt.Errorf("sqlite: invalid revocation cache key %q", key)
	}
	return nil
}

// Get implements revocation.Store: the value under key, or an error wrapping fs.ErrNotExist.
func (r *RevocationStore) Get(key string) ([]byte, error) {
	if err := checkRevocationKey(key); err != nil {
		return nil, err
	}
	var v []byte
	var n int64
	// The length is read first, so an oversized row is refused without reading it.
	err := r.db.db.QueryRowContext(context.Background(),
		`SELECT length(value), CASE WHEN length(value) <= ? THEN value END FROM revocation_cache WHERE key = ?`, r.limit(), key).Scan(&n, &v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("sqlite: revocation cache %s: %w", key, fs.ErrNotExist)
	case err != nil:
		return nil, fmt.Errorf("sqlite: revocation cache %s: %w", key, err)
	case n > r.limit():
		return nil, fmt.Errorf("sqlite: revocation cache %s: %d bytes, more than %d", key, n, r.limit())
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Put implements revocation.Store: the value replaces any under key, committed when Put returns.
func (r *RevocationStore) Put(key string, value []byte) error {
	if err := checkRevocationKey(key); err != nil {
		return err
	}
	if int64(len(value)) > r.limit() {
		return fmt.Errorf("sqlite: revocation cache %s: %d bytes, more than %d", key, len(value), r.limit())
	}
	if value == nil {
		value = []byte{} // NOT NULL: an empty value is still a value
	}
	_, err := r.db.exec(context.Background(),
		`INSERT INTO revocation_cache (key, value, updated) VALUES (?, ?, ?)
		 ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated`, key, value, r.now().UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: revocation cache %s: %w", key, err)
	}
	return nil
}

// Delete implements revocation.Store; a missing key is not an error.
func (r *RevocationStore) Delete(key string) error {
	if err := checkRevocationKey(key); err != nil {
		return err
	}
	if _, err := r.db.exec(context.Background(), `DELETE FROM revocation_cache WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: revocation cache %s: %w", key, err)
	}
	return nil
}

// Prune deletes the entries last written before `before` and returns how many it deleted. Evidence is
// useful for hours (OCSP) to months (an ARL), and every OCSP response is a row of its own (one per
// certificate checked), so a processor prunes on its schedule — e.g. entries older than a year —
// to keep the table bounded. An entry pruned while still current is simply fetched again.
func (r *RevocationStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := r.db.exec(ctx, `DELETE FROM revocation_cache WHERE updated < ?`, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: revocation cache prune: %w", err)
	}
	return res.RowsAffected()
}
