package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
)

// JobDone is the state of a job whose final outcome is recorded.
const JobDone = "done"

// Claim implements processor.Queue: due jobs whose lease is free or expired are selected and leased
// in one write transaction (BEGIN IMMEDIATE: SQLite admits one writer at a time, across processes
// too), so no two claims ever get the same job while its lease runs.
func (s *DB) Claim(ctx context.Context, c processor.Claim) ([]processor.Job, error) {
	if c.Owner == "" || c.Limit <= 0 || c.Lease <= 0 {
		return nil, errors.New("sqlite: claim: owner, limit and lease are required")
	}
	now := c.Now.UnixNano()
	until := c.Now.Add(c.Lease)
	dueBy := now
	if !c.DueBy.IsZero() && c.DueBy.Before(c.Now) {
		dueBy = c.DueBy.UnixNano()
	}
	var jobs []processor.Job
	err := s.tx(ctx, func(tx *sql.Tx) error {
		jobs = jobs[:0]
		rows, err := tx.QueryContext(ctx, `SELECT j.package_sha256, j.due_at, j.attempts, p.file_name, p.size, p.arrival, p.earliest_final,
				p.submission_id, p.declarant_type, p.declarant_id, p.fund, p.period, p.type, p.registry_sheet, p.receipt_id
			FROM jobs j JOIN packages p ON p.sha256 = j.package_sha256 AND p.accepted = 1
			WHERE j.state = ? AND j.due_at <= ? AND (j.lease_until IS NULL OR j.lease_until <= ?)
			ORDER BY j.due_at, p.seq LIMIT ?`, JobPending, dueBy, now, c.Limit) // equally due: first come, first served
		if err != nil {
			return err
		}
		for rows.Next() {
			var j processor.Job
			var sum []byte
			var due, arrival int64
			var final sql.NullInt64
			var sub, dt, did, fund, period, typ, sheet sql.NullString
			if err := rows.Scan(&sum, &due, &j.Attempts, &j.FileName, &j.Size, &arrival, &final, &sub, &dt, &did, &fund, &period, &typ,
				&sheet, &j.ReceiptID); err != nil {
				rows.Close()
				return err
			}
			copy(j.SHA256[:], sum)
			j.Due, j.Arrival, j.EarliestFinal = time.Unix(0, due).UTC(), time.Unix(0, arrival).UTC(), fromNanos(final)
			j.SubmissionID, j.DeclarantType, j.DeclarantID, j.Fund, j.Period, j.Type, j.RegistrySheet =
				sub.String, dt.String, did.String, fund.String, period.String, typ.String, sheet.String
			j.Owner, j.LeaseUntil = c.Owner, until.UTC()
			jobs = append(jobs, j)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, j := range jobs {
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET lease_owner = ?, lease_until = ?, updated = ? WHERE package_sha256 = ?`,
				c.Owner, until.UnixNano(), now, j.SHA256[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	return jobs, nil
}

// held runs one UPDATE of a job owner holds and maps "no row changed" to processor.ErrLeaseLost.
func held(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return processor.ErrLeaseLost
	}
	return nil
}

// Renew implements processor.Queue.
func (s *DB) Renew(ctx context.Context, sum [32]byte, owner string, until time.Time) error {
	err := held(s.exec(ctx, `UPDATE jobs SET lease_until = ? WHERE package_sha256 = ? AND state = ? AND lease_owner = ?`,
		until.UnixNano(), sum[:], JobPending, owner))
	if err != nil && !errors.Is(err, processor.ErrLeaseLost) {
		return fmt.Errorf("sqlite: renew: %w", err)
	}
	return err
}

// Release implements processor.Queue.
func (s *DB) Release(ctx context.Context, owner string) (int, error) {
	res, err := s.exec(ctx, `UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ? AND state = ?`, owner, JobPending)
	if err != nil {
		return 0, fmt.Errorf("sqlite: release: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Retry implements processor.Queue.
func (s *DB) Retry(ctx context.Context, sum [32]byte, owner string, r processor.Retry) error {
	alert := sql.NullString{String: r.Alert, Valid: r.Alert != ""}
	err := held(s.exec(ctx, `UPDATE jobs SET due_at = ?, attempts = attempts + 1, last_error = ?, alert = ?,
			lease_owner = NULL, lease_until = NULL, updated = ?
		WHERE package_sha256 = ? AND state = ? AND lease_owner = ?`,
		r.Due.UnixNano(), r.Reason, alert, r.Now.UnixNano(), sum[:], JobPending, owner))
	if err != nil && !errors.Is(err, processor.ErrLeaseLost) {
		return fmt.Errorf("sqlite: retry: %w", err)
	}
	return err
}

// Complete implements processor.Queue: the job's outcome and the package's status in one transaction.
func (s *DB) Complete(ctx context.Context, sum [32]byte, owner string, f processor.Final) error {
	switch f.Outcome {
	case processor.Processed, processor.FinalInvalid, processor.ContentRejected:
	default:
		return fmt.Errorf("sqlite: complete: unknown outcome %q", f.Outcome)
	}
	codes := make([]string, len(f.Codes))
	for i, c := range f.Codes {
		codes[i] = string(c)
	}
	null := func(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := held(tx.ExecContext(ctx, `UPDATE jobs SET state = ?, outcome = ?, final_state = ?, final_codes = ?, finished = ?, archive_id = ?,
				handoff = ?, alert = NULL, lease_owner = NULL, lease_until = NULL, updated = ?
			WHERE package_sha256 = ? AND state = ? AND lease_owner = ?`,
			JobDone, string(f.Outcome), string(f.State), strings.Join(codes, ","), f.Now.UnixNano(), null(f.ArchiveID), null(f.HandOff),
			f.Now.UnixNano(), sum[:], JobPending, owner))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE packages SET status = ? WHERE sha256 = ? AND accepted = 1`, string(f.Outcome), sum[:])
		return err
	})
	if err != nil && !errors.Is(err, processor.ErrLeaseLost) {
		return fmt.Errorf("sqlite: complete: %w", err)
	}
	return err
}

// Submission implements processor.Queue.
func (s *DB) Submission(ctx context.Context, submissionID string) (*processor.SubmissionInfo, error) {
	var info processor.SubmissionInfo
	var sum []byte
	var dt, did, state, outcome sql.NullString
	var arrival int64
	err := s.db.QueryRowContext(ctx, `SELECT p.sha256, p.declarant_type, p.declarant_id, p.arrival, j.state, j.outcome
		FROM packages p LEFT JOIN jobs j ON j.package_sha256 = p.sha256
		WHERE p.submission_id = ? AND p.accepted = 1`, submissionID).Scan(&sum, &dt, &did, &arrival, &state, &outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, processor.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	copy(info.SHA256[:], sum)
	info.DeclarantType, info.DeclarantID = dt.String, did.String
	info.Arrival = time.Unix(0, arrival).UTC()
	info.Done, info.Outcome = state.String == JobDone, processor.Outcome(outcome.String)
	return &info, nil
}

// processing reads the job of an accepted package for its status; nil when there is none.
func (s *DB) processing(ctx context.Context, sum [32]byte) (*intake.Processing, error) {
	var p intake.Processing
	var state string
	var due int64
	var lastErr, alert, finalState, finalCodes, archiveID sql.NullString
	var finished sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT state, due_at, attempts, last_error, alert, final_state, final_codes, finished, archive_id
		FROM jobs WHERE package_sha256 = ?`, sum[:]).Scan(&state, &due, &p.Attempts, &lastErr, &alert, &finalState, &finalCodes, &finished, &archiveID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.Done = state == JobDone
	if !p.Done {
		p.NextAttempt = time.Unix(0, due).UTC()
	}
	p.LastError, p.Alert, p.ArchiveID = lastErr.String, alert.String, archiveID.String
	p.FinalState, p.Finished = receipt.State(finalState.String), fromNanos(finished)
	if finalCodes.String != "" {
		for _, c := range strings.Split(finalCodes.String, ",") {
			p.FinalCodes = append(p.FinalCodes, errcode.Code(c))
		}
	}
	return &p, nil
}
