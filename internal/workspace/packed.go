package workspace

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Packed is the record `sender pack` keeps of a package it built in this workspace, whether or not it
// was signed or sent since. A package is found again by its payload's SHA-256 (the covered payload
// object: signing and time-stamping add signatures around it and never change it), by its submission
// id (the same declaration packed twice) and by its file name (signing keeps it).
type Packed struct {
	Seq               int64 // assigned by AddPacked; orders the records
	PayloadSHA256     [32]byte
	PackageSHA256     [32]byte // the unsigned package as pack wrote it
	DeclarationSHA256 [32]byte
	Name              string
	SubmissionID      string
	Path              string
	Packed            time.Time
	Encrypted         bool
	// Preview is the sign preview (a declaration.Excerpt as JSON) written from the plaintext pack
	// encrypted into the payload; its trust is the state directory's.
	Preview []byte
}

// MaxPreviewBytes bounds a stored preview: a summary sheet and a hundred rows are far below it.
const MaxPreviewBytes = 4 << 20

// AddPacked records a package pack built and returns its sequence number. Packing the same bytes
// again adds another record: each pack run is one.
func (w *Workspace) AddPacked(ctx context.Context, p Packed) (int64, error) {
	if p.Name == "" || p.SubmissionID == "" || len(p.Preview) == 0 {
		return 0, errors.New("workspace: pack record without name, submission id or preview")
	}
	if len(p.Preview) > MaxPreviewBytes {
		return 0, fmt.Errorf("workspace: pack record preview of %d bytes (at most %d)", len(p.Preview), MaxPreviewBytes)
	}
	enc := 0
	if p.Encrypted {
		enc = 1
	}
	res, err := w.db.ExecContext(ctx, `INSERT INTO packed (payload_sha256, package_sha256, declaration_sha256, name, submission_id, path,
		packed, encrypted, preview) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.PayloadSHA256[:], p.PackageSHA256[:], p.DeclarationSHA256[:],
		p.Name, p.SubmissionID, p.Path, p.Packed.UnixNano(), enc, p.Preview)
	if err != nil {
		return 0, fmt.Errorf("workspace: %w", err)
	}
	return res.LastInsertId()
}

const packedCols = `seq, payload_sha256, package_sha256, declaration_sha256, name, submission_id, path, packed, encrypted, preview`

func scanPacked(row interface{ Scan(...any) error }) (*Packed, error) {
	var p Packed
	var payload, pkg, decl []byte
	var at int64
	var enc int
	if err := row.Scan(&p.Seq, &payload, &pkg, &decl, &p.Name, &p.SubmissionID, &p.Path, &at, &enc, &p.Preview); err != nil {
		return nil, err
	}
	copy(p.PayloadSHA256[:], payload)
	copy(p.PackageSHA256[:], pkg)
	copy(p.DeclarationSHA256[:], decl)
	p.Packed, p.Encrypted = time.Unix(0, at).UTC(), enc != 0
	return &p, nil
}

// PackedByPayload returns the latest pack record of the payload with this SHA-256.
func (w *Workspace) PackedByPayload(ctx context.Context, payload [32]byte) (*Packed, error) {
	p, err := scanPacked(w.db.QueryRowContext(ctx, `SELECT `+packedCols+` FROM packed WHERE payload_sha256 = ? ORDER BY seq DESC LIMIT 1`, payload[:]))
	return p, notFound(err)
}

// PackedByName returns the latest pack record of a package file name.
func (w *Workspace) PackedByName(ctx context.Context, name string) (*Packed, error) {
	p, err := scanPacked(w.db.QueryRowContext(ctx, `SELECT `+packedCols+` FROM packed WHERE name = ? ORDER BY seq DESC LIMIT 1`, name))
	return p, notFound(err)
}

// PackedBySubmission returns the pack records of a submission id, oldest first.
func (w *Workspace) PackedBySubmission(ctx context.Context, id string) ([]Packed, error) {
	return w.packedList(ctx, `SELECT `+packedCols+` FROM packed WHERE submission_id = ? ORDER BY seq`, id)
}

// PackedAll returns every pack record, oldest first.
func (w *Workspace) PackedAll(ctx context.Context) ([]Packed, error) {
	return w.packedList(ctx, `SELECT `+packedCols+` FROM packed ORDER BY seq`)
}

func (w *Workspace) packedList(ctx context.Context, q string, args ...any) ([]Packed, error) {
	rows, err := w.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer rows.Close()
	var out []Packed
	for rows.Next() {
		p, err := scanPacked(rows)
		if err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}
