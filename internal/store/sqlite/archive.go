package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tagdij/tagdij/archive"
)

// The archive role (archive.Index): archive_entries (one row per entry, the row's leaf_index its
// Merkle leaf index) and archive_tree_heads. Rows are only inserted: nothing here updates or
// deletes.

// ArchiveIndex returns the archive's index over this database.
func (s *DB) ArchiveIndex() *ArchiveIndex { return &ArchiveIndex{db: s} }

// ArchiveIndex implements archive.Index on the SQLite database.
type ArchiveIndex struct {
	db *DB
}

var _ archive.Index = (*ArchiveIndex)(nil)

const archiveColumns = `leaf_index, id, archived, renews, package_sha256, package_name, receipt_name, submission_id,
	declarant_type, declarant_id, fund, period, decl_type, outcome, codes, original_sha256, original_size,
	extended_sha256, extended_size, receipt_sha256, receipt_size, report_sha256, report_size, leaf_hash`

// Append implements archive.Index: the leaf index is assigned inside the write transaction (SQLite
// serializes writers, also across processes), so two processors never get the same one.
func (x *ArchiveIndex) Append(ctx context.Context, e *archive.Entry) error {
	codes, err := json.Marshal(nonNil(e.Codes))
	if err != nil {
		return fmt.Errorf("sqlite: archive: %w", err)
	}
	part := func(p *archive.PartRef) (any, any) {
		if p == nil {
			return nil, nil
		}
		return p.SHA256[:], p.Size
	}
	var idx int64
	err = x.db.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM archive_entries`).Scan(&idx); err != nil {
			return err
		}
		args := []any{idx, e.ID, e.Archived.UnixNano(), e.Renews, e.PackageSHA256[:], e.PackageName, e.ReceiptName, e.SubmissionID,
			e.DeclarantType, e.DeclarantID, e.Fund, e.Period, e.DeclType, e.Outcome, string(codes)}
		for _, p := range []*archive.PartRef{e.Original, e.Extended, e.Receipt, e.Report} {
			h, n := part(p)
			args = append(args, h, n)
		}
		args = append(args, e.LeafHash[:])
		_, err := tx.ExecContext(ctx, `INSERT INTO archive_entries (`+archiveColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		return err
	})
	if isUnique(err) {
		return fmt.Errorf("sqlite: archive: %s: %w: %w", e.ID, archive.ErrConflict, err)
	}
	if err != nil {
		return fmt.Errorf("sqlite: archive: append: %w", err)
	}
	e.Index = uint64(idx)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type rowScanner interface{ Scan(dest ...any) error }

// scanEntry reads one row. It is lenient with the content (a hash of the wrong length, codes that
// are not JSON): what the row holds is returned as well as it can be, so that Verify finds the
// recomputed leaf hash differing and names the entry instead of stopping. Only values SQLite cannot
// convert at all are ErrCorrupt.
func scanEntry(r rowScanner) (*archive.Entry, error) {
	var e archive.Entry
	var idx, archived int64
	var pkg, leaf, codes []byte
	var hashes [4][]byte
	var sizes [4]sql.NullInt64
	err := r.Scan(&idx, &e.ID, &archived, &e.Renews, &pkg, &e.PackageName, &e.ReceiptName, &e.SubmissionID,
		&e.DeclarantType, &e.DeclarantID, &e.Fund, &e.Period, &e.DeclType, &e.Outcome, &codes,
		&hashes[0], &sizes[0], &hashes[1], &sizes[1], &hashes[2], &sizes[2], &hashes[3], &sizes[3], &leaf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: archive: %w: %w", archive.ErrCorrupt, err)
	}
	e.Index = uint64(idx)
	e.Archived = fromNanos(sql.NullInt64{Int64: archived, Valid: true})
	copy(e.PackageSHA256[:], pkg)
	copy(e.LeafHash[:], leaf)
	if json.Unmarshal(codes, &e.Codes) != nil {
		// Not JSON: keep the raw text as one code, so the leaf no longer matches.
		e.Codes = []string{string(codes)}
	}
	if len(e.Codes) == 0 {
		e.Codes = nil
	}
	refs := [4]**archive.PartRef{&e.Original, &e.Extended, &e.Receipt, &e.Report}
	for i := range refs {
		if hashes[i] == nil && !sizes[i].Valid {
			continue
		}
		p := &archive.PartRef{Size: sizes[i].Int64}
		copy(p.SHA256[:], hashes[i])
		*refs[i] = p
	}
	return &e, nil
}

func (x *ArchiveIndex) one(ctx context.Context, where string, args ...any) (*archive.Entry, error) {
	e, err := scanEntry(x.db.db.QueryRowContext(ctx, `SELECT `+archiveColumns+` FROM archive_entries WHERE `+where+` ORDER BY leaf_index DESC LIMIT 1`, args...))
	if err != nil && !errors.Is(err, archive.ErrNotFound) {
		return nil, err
	}
	return e, err
}

// Get implements archive.Index.
func (x *ArchiveIndex) Get(ctx context.Context, id string) (*archive.Entry, error) {
	return x.one(ctx, `id = ?`, id)
}

// Version implements archive.Index.
func (x *ArchiveIndex) Version(ctx context.Context, sum [32]byte, renews string) (*archive.Entry, error) {
	return x.one(ctx, `package_sha256 = ? AND renews = ?`, sum[:], renews)
}

// LatestByPackage implements archive.Index.
func (x *ArchiveIndex) LatestByPackage(ctx context.Context, sum [32]byte) (*archive.Entry, error) {
	return x.one(ctx, `package_sha256 = ?`, sum[:])
}

// LatestBySubmission implements archive.Index.
func (x *ArchiveIndex) LatestBySubmission(ctx context.Context, declarantType, declarantID, submissionID string) (*archive.Entry, error) {
	return x.one(ctx, `declarant_type = ? AND declarant_id = ? AND submission_id = ?`, declarantType, declarantID, submissionID)
}

// Size implements archive.Index.
func (x *ArchiveIndex) Size(ctx context.Context) (uint64, error) {
	var n int64
	if err := x.db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM archive_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: archive: %w", err)
	}
	return uint64(n), nil
}

// Scan implements archive.Index.
func (x *ArchiveIndex) Scan(ctx context.Context, from uint64, limit int) ([]*archive.Entry, error) {
	if from > 1<<62 {
		return nil, nil
	}
	rows, err := x.db.db.QueryContext(ctx, `SELECT `+archiveColumns+` FROM archive_entries WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?`, int64(from), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: archive: %w", err)
	}
	defer rows.Close()
	var out []*archive.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: archive: %w", err)
	}
	return out, nil
}

// Leaves implements archive.Index.
func (x *ArchiveIndex) Leaves(ctx context.Context, from uint64, limit int) ([]archive.Leaf, error) {
	if from > 1<<62 {
		return nil, nil
	}
	rows, err := x.db.db.QueryContext(ctx, `SELECT leaf_index, leaf_hash FROM archive_entries WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?`, int64(from), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: archive: %w", err)
	}
	defer rows.Close()
	var out []archive.Leaf
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, fmt.Errorf("sqlite: archive: %w: %w", archive.ErrCorrupt, err)
		}
		l := archive.Leaf{Index: uint64(idx)}
		copy(l.Hash[:], h)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: archive: %w", err)
	}
	return out, nil
}

// AppendTreeHead implements archive.Index.
func (x *ArchiveIndex) AppendTreeHead(ctx context.Context, h archive.StoredHead) error {
	err := x.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO archive_tree_heads (seq, tree_size, body) VALUES (?, ?, ?)`, int64(h.Seq), int64(h.Size), h.Body)
		return err
	})
	if isUnique(err) {
		return fmt.Errorf("sqlite: archive: tree head %d: %w: %w", h.Seq, archive.ErrConflict, err)
	}
	if err != nil {
		return fmt.Errorf("sqlite: archive: tree head: %w", err)
	}
	return nil
}

func (x *ArchiveIndex) heads(ctx context.Context, query string) ([]archive.StoredHead, error) {
	rows, err := x.db.db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlite: archive: %w", err)
	}
	defer rows.Close()
	var out []archive.StoredHead
	for rows.Next() {
		var seq, size int64
		var body []byte
		if err := rows.Scan(&seq, &size, &body); err != nil {
			return nil, fmt.Errorf("sqlite: archive: %w: %w", archive.ErrCorrupt, err)
		}
		out = append(out, archive.StoredHead{Seq: uint64(seq), Size: uint64(size), Body: body})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: archive: %w", err)
	}
	return out, nil
}

// TreeHeads implements archive.Index.
func (x *ArchiveIndex) TreeHeads(ctx context.Context) ([]archive.StoredHead, error) {
	return x.heads(ctx, `SELECT seq, tree_size, body FROM archive_tree_heads ORDER BY seq`)
}

// LatestTreeHead implements archive.Index.
func (x *ArchiveIndex) LatestTreeHead(ctx context.Context) (archive.StoredHead, error) {
	hs, err := x.heads(ctx, `SELECT seq, tree_size, body FROM archive_tree_heads ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return archive.StoredHead{}, err
	}
	if len(hs) == 0 {
		return archive.StoredHead{}, archive.ErrNotFound
	}
	return hs[0], nil
}
