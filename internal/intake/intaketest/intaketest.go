// Package intaketest is the conformance suite every intake.Store backend must pass: the SQLite store
// runs it today, the PostgreSQL store will.
package intaketest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/receipt"
)

// Backend is a store under test: the intake role and the status reads.
type Backend interface {
	intake.Store
	ReceiptByID(ctx context.Context, id string) (*intake.Stored, error)
	PackageStatus(ctx context.Context, sum [32]byte) (*intake.Status, error)
}

// Reopener opens the same store again (after Close) so durability across a restart can be checked.
type Reopener func(t *testing.T) (Backend, func())

func record(n int, accepted bool, submission string) *intake.Record {
	sum := sha256.Sum256(fmt.Appendf(nil, "package %d", n))
	arrival := time.Date(2026, 12, 3, 10, 0, n%60, 0, time.UTC)
	rec := &intake.Record{SHA256: sum, Size: int64(1000 + n), FileName: fmt.Sprintf("TBA_%08d.es3", n), Arrival: arrival, BlobStored: true,
		Accepted: accepted, State: receipt.Invalid, Codes: []errcode.Code{errcode.T005},
		Receipt: intake.Stored{ReceiptID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Name: fmt.Sprintf("TBN_%d.es3", n),
			Bytes: fmt.Appendf(nil, "<receipt %d/>", n), Package: sum, Accepted: accepted}}
	if accepted {
		rec.State, rec.Codes = receipt.Incomplete, nil
		rec.SubmissionID, rec.DeclarantType, rec.DeclarantID, rec.Fund, rec.Period, rec.Type = submission, "adoszam", "12345676", "0101", "2026-11", "B"
		rec.EarliestFinal = arrival.Add(4 * time.Hour)
		rec.RegistrySheet = "sheet-1"
	}
	return rec
}

// Run runs the suite. open returns a fresh, empty store and a function that closes it; reopen, when
// not nil, opens the store that open created last (the same files) again.
func Run(t *testing.T, open Reopener, reopen Reopener) {
	ctx := context.Background()
	t.Run("RecordAndRead", func(t *testing.T) {
		s, done := open(t)
		defer done()
		acc, rej := record(1, true, "11111111-1111-4111-8111-111111111111"), record(2, false, "")
		for _, r := range []*intake.Record{acc, rej} {
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range []*intake.Record{acc, rej} {
			got, err := s.ReceiptFor(ctx, r.SHA256, r.FileName)
			if err != nil || got.ReceiptID != r.Receipt.ReceiptID || string(got.Bytes) != string(r.Receipt.Bytes) ||
				got.Package != r.SHA256 || got.Accepted != r.Accepted || got.Name != r.Receipt.Name {
				t.Errorf("ReceiptFor %d: %+v, %v", r.Size, got, err)
			}
			byID, err := s.ReceiptByID(ctx, r.Receipt.ReceiptID)
			if err != nil || string(byID.Bytes) != string(r.Receipt.Bytes) {
				t.Errorf("ReceiptByID: %v", err)
			}
			st, err := s.PackageStatus(ctx, r.SHA256)
			if err != nil || st.Accepted != r.Accepted || st.PreCheck != r.State || !st.Arrival.Equal(r.Arrival) ||
				!st.EarliestFinal.Equal(r.EarliestFinal) || st.ReceiptID != r.Receipt.ReceiptID || len(st.Codes) != len(r.Codes) {
				t.Errorf("PackageStatus: %+v, %v", st, err)
			}
			if r.Accepted && (st.Status != "awaiting-final-check" || st.SubmissionID != r.SubmissionID) {
				t.Errorf("accepted status %q", st.Status)
			}
			if !r.Accepted && st.Status != "rejected" {
				t.Errorf("rejected status %q", st.Status)
			}
		}
		got, err := s.AcceptedSubmission(ctx, acc.SubmissionID)
		if err != nil || got != acc.SHA256 {
			t.Errorf("AcceptedSubmission: %v", err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s, done := open(t)
		defer done()
		if _, err := s.ReceiptFor(ctx, [32]byte{9}, "x.es3"); !errors.Is(err, intake.ErrNotFound) {
			t.Errorf("ReceiptFor: %v", err)
		}
		if _, err := s.ReceiptByID(ctx, "nope"); !errors.Is(err, intake.ErrNotFound) {
			t.Errorf("ReceiptByID: %v", err)
		}
		if _, err := s.PackageStatus(ctx, [32]byte{9}); !errors.Is(err, intake.ErrNotFound) {
			t.Errorf("PackageStatus: %v", err)
		}
		if _, err := s.AcceptedSubmission(ctx, "22222222-2222-4222-8222-222222222222"); !errors.Is(err, intake.ErrNotFound) {
			t.Errorf("AcceptedSubmission: %v", err)
		}
	})
	t.Run("Conflicts", func(t *testing.T) {
		s, done := open(t)
		defer done()
		sub := "33333333-3333-4333-8333-333333333333"
		if err := s.Record(ctx, record(3, true, sub)); err != nil {
			t.Fatal(err)
		}
		// The same bytes again (a racing identical upload): conflict, nothing changed.
		again := record(3, false, "")
		again.Receipt.ReceiptID = "00000000-0000-4000-8000-999999999999"
		if err := s.Record(ctx, again); !errors.Is(err, intake.ErrConflict) {
			t.Errorf("same bytes: %v", err)
		}
		if _, err := s.ReceiptByID(ctx, again.Receipt.ReceiptID); !errors.Is(err, intake.ErrNotFound) {
			t.Error("a refused record left its receipt behind (not atomic)")
		}
		// The same bytes under another name are another upload (rejected: fine, answered apart); the
		// bytes accepted twice are a conflict.
		other := record(3, false, "")
		other.FileName = "renamed.es3"
		other.Receipt.ReceiptID = "00000000-0000-4000-8000-999999999998"
		if err := s.Record(ctx, other); err != nil {
			t.Errorf("same bytes, another name, rejected: %v", err)
		}
		if got, err := s.ReceiptFor(ctx, other.SHA256, "renamed.es3"); err != nil || got.ReceiptID != other.Receipt.ReceiptID {
			t.Errorf("ReceiptFor(another name): %+v %v", got, err)
		}
		if got, err := s.ReceiptFor(ctx, other.SHA256, record(3, true, sub).FileName); err != nil || !got.Accepted {
			t.Errorf("ReceiptFor(the accepted name): %+v %v", got, err)
		}
		if st, err := s.PackageStatus(ctx, other.SHA256); err != nil || !st.Accepted {
			t.Errorf("status of bytes both accepted and rejected must be the acceptance: %+v %v", st, err)
		}
		twice := record(3, true, "66666666-6666-4666-8666-666666666666")
		twice.FileName = "third.es3"
		twice.Receipt.ReceiptID = "00000000-0000-4000-8000-999999999997"
		if err := s.Record(ctx, twice); !errors.Is(err, intake.ErrConflict) {
			t.Errorf("the same bytes accepted twice: %v", err)
		}
		// The same submission id accepted with other bytes: conflict; rejected with it: fine.
		other = record(4, true, sub)
		if err := s.Record(ctx, other); !errors.Is(err, intake.ErrConflict) {
			t.Errorf("same submission accepted twice: %v", err)
		}
		if _, err := s.PackageStatus(ctx, other.SHA256); !errors.Is(err, intake.ErrNotFound) {
			t.Error("a refused record left its package row behind (not atomic)")
		}
		rej := record(5, false, "")
		rej.SubmissionID = sub
		if err := s.Record(ctx, rej); err != nil {
			t.Errorf("a rejection with an accepted submission id: %v", err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s, done := open(t)
		defer done()
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				// Pairs of identical records race: exactly one of each pair wins.
				r := record(100+i/2, i%4 < 2, fmt.Sprintf("44444444-4444-4444-8444-%012d", i/2))
				if i%2 == 1 {
					r.Receipt.ReceiptID = fmt.Sprintf("00000000-0000-4000-9000-%012d", i)
				}
				errs <- s.Record(ctx, r)
			}(i)
		}
		wg.Wait()
		close(errs)
		ok, conflicts := 0, 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, intake.ErrConflict):
				conflicts++
			default:
				t.Errorf("concurrent record: %v", err)
			}
		}
		if ok != 32 || conflicts != 32 {
			t.Errorf("%d recorded, %d conflicts; want 32 and 32", ok, conflicts)
		}
	})
	if reopen != nil {
		t.Run("SurvivesReopen", func(t *testing.T) {
			s, done := open(t)
			r := record(7, true, "55555555-5555-4555-8555-555555555555")
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
			done()
			s2, done2 := reopen(t)
			defer done2()
			if got, err := s2.ReceiptFor(ctx, r.SHA256, r.FileName); err != nil || got.ReceiptID != r.Receipt.ReceiptID {
				t.Errorf("after reopen: %v", err)
			}
		})
	}
}
