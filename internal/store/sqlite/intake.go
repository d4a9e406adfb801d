package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/receipt"
)

// JobPending is the state of a job waiting for its final check (queue.go has the others).
const JobPending = "pending"

// Package statuses of GET /v1/packages/{sha256}/status (SPEC §9).
const (
	StatusRejected      = "rejected"             // answered ELUTASITVA
	StatusAwaitingFinal = "awaiting-final-check" // BEFOGADVA, the final check is due at earliestFinalCheck
)

// ReceiptFor implements intake.Store.
func (s *DB) ReceiptFor(ctx context.Context, sum [32]byte, fileName string) (*intake.Stored, error) {
	return s.receipt(ctx, `SELECT r.id, r.name, r.bytes, r.package_sha256, r.accepted FROM receipts r JOIN packages p ON p.receipt_id = r.id
		WHERE p.sha256 = ? AND p.file_name = ?`, sum[:], fileName)
}

// ReceiptByID returns a stored receipt by its id (GET /v1/receipts/{id}), or intake.ErrNotFound.
func (s *DB) ReceiptByID(ctx context.Context, id string) (*intake.Stored, error) {
	return s.receipt(ctx, `SELECT id, name, bytes, package_sha256, accepted FROM receipts WHERE id = ?`, id)
}

func (s *DB) receipt(ctx context.Context, query string, args ...any) (*intake.Stored, error) {
	var st intake.Stored
	var pkg []byte
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&st.ReceiptID, &st.Name, &st.Bytes, &pkg, &st.Accepted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, intake.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	copy(st.Package[:], pkg)
	return &st, nil
}

// AcceptedSubmission implements intake.Store.
func (s *DB) AcceptedSubmission(ctx context.Context, submissionID string) ([32]byte, error) {
	var sum [32]byte
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT sha256 FROM packages WHERE submission_id = ? AND accepted = 1`, submissionID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return sum, intake.ErrNotFound
	}
	if err != nil {
		return sum, fmt.Errorf("sqlite: %w", err)
	}
	copy(sum[:], b)
	return sum, nil
}

// Record implements intake.Store: the package row, its receipt and (accepted) the processor's job in
// one transaction, committed with synchronous=FULL before it returns.
func (s *DB) Record(ctx context.Context, rec *intake.Record) error {
	codes := make([]string, len(rec.Codes))
	for i, c := range rec.Codes {
		codes[i] = string(c)
	}
	status := StatusRejected
	if rec.Accepted {
		status = StatusAwaitingFinal
	}
	null := func(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO packages (sha256, size, file_name, arrival, blob_stored, accepted, submission_id,
			declarant_type, declarant_id, fund, period, type, state, earliest_final, codes, registry_sheet, status, receipt_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.SHA256[:], rec.Size, rec.FileName, rec.Arrival.UnixNano(), rec.BlobStored, rec.Accepted, null(rec.SubmissionID),
			null(rec.DeclarantType), null(rec.DeclarantID), null(rec.Fund), null(rec.Period), null(rec.Type), string(rec.State),
			nanos(rec.EarliestFinal), strings.Join(codes, ","), null(rec.RegistrySheet), status, rec.Receipt.ReceiptID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipts (id, package_sha256, name, bytes, accepted) VALUES (?, ?, ?, ?, ?)`,
			rec.Receipt.ReceiptID, rec.SHA256[:], rec.Receipt.Name, rec.Receipt.Bytes, rec.Accepted); err != nil {
			return err
		}
		if rec.Accepted {
			if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (package_sha256, due_at, state, updated) VALUES (?, ?, ?, ?)`,
				rec.SHA256[:], rec.EarliestFinal.UnixNano(), JobPending, rec.Arrival.UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if isUnique(err) {
		return fmt.Errorf("%w: %w", intake.ErrConflict, err)
	}
	if err != nil {
		return fmt.Errorf("sqlite: record: %w", err)
	}
	return nil
}

// PackageStatus returns what the store knows of a package (GET /v1/packages/{sha256}/status), or
// intake.ErrNotFound.
func (s *DB) PackageStatus(ctx context.Context, sum [32]byte) (*intake.Status, error) {
	var st intake.Status
	var arrival, final sql.NullInt64
	var state, codes string
	var sub sql.NullString
	// The acceptance if there is one, else the latest answer for these bytes.
	err := s.db.QueryRowContext(ctx, `SELECT arrival, accepted, state, status, earliest_final, receipt_id, codes, submission_id FROM packages
		WHERE sha256 = ? ORDER BY accepted DESC, seq DESC LIMIT 1`, sum[:]).
		Scan(&arrival, &st.Accepted, &state, &st.Status, &final, &st.ReceiptID, &codes, &sub)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, intake.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	st.SHA256 = sum
	st.Arrival, st.EarliestFinal = fromNanos(arrival), fromNanos(final)
	st.PreCheck = receipt.State(state)
	st.SubmissionID = sub.String
	if codes != "" {
		for _, c := range strings.Split(codes, ",") {
			st.Codes = append(st.Codes, errcode.Code(c))
		}
	}
	if st.Accepted {
		if st.Processing, err = s.processing(ctx, sum); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	return &st, nil
}

// PendingJobs counts the processor's jobs not yet done (for metrics and tests).
func (s *DB) PendingJobs(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE state = ?`, JobPending).Scan(&n)
	return n, err
}
