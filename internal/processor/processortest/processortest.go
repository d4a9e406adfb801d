// Package processortest is the conformance suite of processor.Queue: every store backend that serves
// the processor must pass Run. The jobs are seeded the way the receiver creates them (intake.Store's
// Record of an accepted package), and time is passed explicitly, so lease expiry is tested without
// waiting.
package processortest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
)

// Backend is a store under test: the processor's queue, the receiver's record (to create jobs) and the
// status read that shows the final outcome.
type Backend interface {
	processor.Queue
	intake.Store
	PackageStatus(ctx context.Context, sum [32]byte) (*intake.Status, error)
}

// Opener opens a fresh, empty backend and returns it with its close function.
type Opener func(t *testing.T) (Backend, func())

// Reopener opens the backend last opened by the Opener again (a restart).
type Reopener func(t *testing.T) (Backend, func())

// t0 is the suite's reference time.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// seed records an accepted package (and so its job, due at due) and returns its hash.
func seed(t *testing.T, b Backend, n int, due time.Time) [32]byte {
	t.Helper()
	sum := sha256.Sum256(fmt.Appendf(nil, "package %d", n))
	sub := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	rec := &intake.Record{SHA256: sum, Size: 1000 + int64(n), FileName: fmt.Sprintf("TBA_12345676_0101_202602_B%03d_20260302T100000Z.es3", n%1000),
		Arrival: due.Add(-time.Minute), BlobStored: true, Accepted: true, SubmissionID: sub, DeclarantType: "adoszam", DeclarantID: "12345676",
		Fund: "0101", Period: "2026-02", Type: "B", State: receipt.Incomplete, EarliestFinal: due, RegistrySheet: "sheet-1",
		Receipt: intake.Stored{ReceiptID: fmt.Sprintf("receipt-%d", n), Name: "TBN.es3", Bytes: []byte("receipt"), Package: sum, Accepted: true}}
	if err := b.Record(context.Background(), rec); err != nil {
		t.Fatalf("seed %d: %v", n, err)
	}
	return sum
}

// seedRejected records a rejected upload: no job.
func seedRejected(t *testing.T, b Backend, n int) [32]byte {
	t.Helper()
	sum := sha256.Sum256(fmt.Appendf(nil, "rejected %d", n))
	rec := &intake.Record{SHA256: sum, Size: 10, FileName: "x.es3", Arrival: t0, BlobStored: true, State: receipt.Invalid,
		Codes: []errcode.Code{errcode.T001}, Receipt: intake.Stored{ReceiptID: fmt.Sprintf("rejected-%d", n), Name: "x", Bytes: []byte("r"), Package: sum}}
	if err := b.Record(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return sum
}

func claim(t *testing.T, b Backend, owner string, now time.Time, lease time.Duration, limit int) []processor.Job {
	t.Helper()
	jobs, err := b.Claim(context.Background(), processor.Claim{Owner: owner, Now: now, Lease: lease, Limit: limit})
	if err != nil {
		t.Fatalf("claim by %s: %v", owner, err)
	}
	return jobs
}

func sums(jobs []processor.Job) [][32]byte {
	out := make([][32]byte, len(jobs))
	for i, j := range jobs {
		out[i] = j.SHA256
	}
	return out
}

func final(now time.Time) processor.Final {
	return processor.Final{Outcome: processor.Processed, State: receipt.Valid, Codes: []errcode.Code{errcode.D007}, ArchiveID: "entry-1",
		HandOff: "handoff-1", Now: now}
}

// Run runs the suite. open must return a fresh, empty backend each call; reopen opens the one last
// opened again.
func Run(t *testing.T, open Opener, reopen Reopener) {
	ctx := context.Background()

	t.Run("due jobs only, oldest first, limited", func(t *testing.T) {
		b, done := open(t)
		defer done()
		a := seed(t, b, 1, t0)
		c := seed(t, b, 3, t0.Add(2*time.Hour))
		bb := seed(t, b, 2, t0.Add(time.Hour))
		seedRejected(t, b, 4)
		if jobs := claim(t, b, "p1", t0.Add(-time.Second), time.Minute, 10); len(jobs) != 0 {
			t.Errorf("claimed %d jobs before any was due", len(jobs))
		}
		jobs := claim(t, b, "p1", t0.Add(90*time.Minute), 24*time.Hour, 10)
		if got := sums(jobs); !slices.Equal(got, [][32]byte{a, bb}) {
			t.Errorf("claimed %x, want the two due ones oldest first", got)
		}
		if len(jobs) > 0 {
			j := jobs[0]
			if j.Owner != "p1" || !j.LeaseUntil.Equal(t0.Add(90*time.Minute+24*time.Hour)) || !j.Due.Equal(t0) || !j.EarliestFinal.Equal(t0) ||
				j.SubmissionID != "00000000-0000-4000-8000-000000000001" || j.DeclarantID != "12345676" || j.DeclarantType != "adoszam" ||
				j.Fund != "0101" || j.Period != "2026-02" || j.Type != "B" || j.RegistrySheet != "sheet-1" || j.ReceiptID != "receipt-1" ||
				j.Size != 1001 || !j.Arrival.Equal(t0.Add(-time.Minute)) || j.FileName == "" || j.Attempts != 0 {
				t.Errorf("job as claimed: %+v", j)
			}
		}
		if jobs, err := b.Claim(ctx, processor.Claim{Owner: "p2", Now: t0.Add(3 * time.Hour), DueBy: t0.Add(time.Hour), Lease: time.Minute, Limit: 5}); err != nil || len(jobs) != 0 {
			t.Errorf("claimed %d jobs due after DueBy, %v", len(jobs), err)
		}
		jobs = claim(t, b, "p2", t0.Add(3*time.Hour), time.Minute, 1)
		if got := sums(jobs); !slices.Equal(got, [][32]byte{c}) {
			t.Errorf("second owner claimed %x, want only the job nobody holds", got)
		}
	})

	t.Run("a lease excludes others until it expires; then the job is taken over", func(t *testing.T) {
		b, done := open(t)
		defer done()
		sum := seed(t, b, 1, t0)
		if jobs := claim(t, b, "p1", t0, time.Minute, 5); len(jobs) != 1 {
			t.Fatalf("claimed %d", len(jobs))
		}
		if jobs := claim(t, b, "p2", t0.Add(59*time.Second), time.Minute, 5); len(jobs) != 0 {
			t.Fatalf("a leased job was handed to another owner")
		}
		if jobs := claim(t, b, "p2", t0.Add(time.Minute), time.Minute, 5); len(jobs) != 1 || jobs[0].SHA256 != sum {
			t.Fatalf("the expired lease was not taken over: %d jobs", len(jobs))
		}
		// The first owner woke up: it holds nothing any more.
		if err := b.Renew(ctx, sum, "p1", t0.Add(time.Hour)); !errors.Is(err, processor.ErrLeaseLost) {
			t.Errorf("renew by the old owner: %v", err)
		}
		if err := b.Retry(ctx, sum, "p1", processor.Retry{Due: t0.Add(time.Hour), Reason: "x", Now: t0}); !errors.Is(err, processor.ErrLeaseLost) {
			t.Errorf("retry by the old owner: %v", err)
		}
		if err := b.Complete(ctx, sum, "p1", final(t0)); !errors.Is(err, processor.ErrLeaseLost) {
			t.Errorf("complete by the old owner: %v", err)
		}
		if err := b.Complete(ctx, sum, "p2", final(t0.Add(2*time.Minute))); err != nil {
			t.Errorf("complete by the new owner: %v", err)
		}
	})

	t.Run("renew keeps the lease", func(t *testing.T) {
		b, done := open(t)
		defer done()
		sum := seed(t, b, 1, t0)
		claim(t, b, "p1", t0, time.Minute, 1)
		if err := b.Renew(ctx, sum, "p1", t0.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if jobs := claim(t, b, "p2", t0.Add(5*time.Minute), time.Minute, 1); len(jobs) != 0 {
			t.Errorf("a renewed lease was taken over")
		}
		if jobs := claim(t, b, "p2", t0.Add(10*time.Minute), time.Minute, 1); len(jobs) != 1 {
			t.Errorf("the renewed lease did not expire")
		}
	})

	t.Run("release hands an owner's jobs back at once", func(t *testing.T) {
		b, done := open(t)
		defer done()
		seed(t, b, 1, t0)
		seed(t, b, 2, t0)
		seed(t, b, 3, t0)
		claim(t, b, "p1", t0, time.Hour, 2)
		held := claim(t, b, "p2", t0, time.Hour, 1)
		if len(held) != 1 {
			t.Fatalf("p2 claimed %d", len(held))
		}
		other := held[0].SHA256
		if n, err := b.Release(ctx, "p1"); err != nil || n != 2 {
			t.Fatalf("release: %d, %v", n, err)
		}
		jobs := claim(t, b, "p1", t0.Add(time.Second), time.Hour, 5)
		if len(jobs) != 2 || slices.Contains(sums(jobs), other) {
			t.Errorf("after release claimed %d jobs (another owner's included: %v)", len(jobs), slices.Contains(sums(jobs), other))
		}
	})

	t.Run("retry reschedules, counts the attempt, shows the reason and the alert", func(t *testing.T) {
		b, done := open(t)
		defer done()
		sum := seed(t, b, 1, t0)
		claim(t, b, "p1", t0, time.Minute, 1)
		due := t0.Add(10 * time.Minute)
		if err := b.Retry(ctx, sum, "p1", processor.Retry{Due: due, Reason: "A012 grace", Alert: "expires soon", Now: t0.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Complete(ctx, sum, "p1", final(t0)); !errors.Is(err, processor.ErrLeaseLost) {
			t.Errorf("complete after retry (the lease ended): %v", err)
		}
		st, err := b.PackageStatus(ctx, sum)
		if err != nil {
			t.Fatal(err)
		}
		p := st.Processing
		if st.Status != "awaiting-final-check" || p == nil || p.Done || p.Attempts != 1 || !p.NextAttempt.Equal(due) || p.LastError != "A012 grace" ||
			p.Alert != "expires soon" {
			t.Errorf("status after retry: %+v %+v", st, p)
		}
		if jobs := claim(t, b, "p2", due.Add(-time.Nanosecond), time.Minute, 1); len(jobs) != 0 {
			t.Errorf("claimed before it was due again")
		}
		jobs := claim(t, b, "p2", due, time.Minute, 1)
		if len(jobs) != 1 || jobs[0].Attempts != 1 {
			t.Fatalf("claimed again: %+v", jobs)
		}
		// A retry without an alert clears it.
		if err := b.Retry(ctx, sum, "p2", processor.Retry{Due: due.Add(time.Minute), Reason: "A011", Now: due}); err != nil {
			t.Fatal(err)
		}
		if st, _ := b.PackageStatus(ctx, sum); st.Processing == nil || st.Processing.Alert != "" || st.Processing.Attempts != 2 {
			t.Errorf("second retry: %+v", st.Processing)
		}
	})

	t.Run("complete records the outcome and the status; the job is never handed out again", func(t *testing.T) {
		for _, o := range []processor.Outcome{processor.Processed, processor.FinalInvalid, processor.ContentRejected} {
			t.Run(string(o), func(t *testing.T) {
				b, done := open(t)
				defer done()
				sum := seed(t, b, 1, t0)
				claim(t, b, "p1", t0, time.Minute, 1)
				f := final(t0.Add(time.Second))
				f.Outcome = o
				f.Codes = []errcode.Code{errcode.A005, errcode.D004}
				if err := b.Complete(ctx, sum, "p1", f); err != nil {
					t.Fatal(err)
				}
				st, err := b.PackageStatus(ctx, sum)
				if err != nil {
					t.Fatal(err)
				}
				p := st.Processing
				if st.Status != string(o) || !st.Accepted || p == nil || !p.Done || p.FinalState != receipt.Valid ||
					!slices.Equal(p.FinalCodes, f.Codes) || !p.Finished.Equal(f.Now) || p.ArchiveID != "entry-1" || !p.NextAttempt.IsZero() {
					t.Errorf("status: %+v %+v", st, p)
				}
				if jobs := claim(t, b, "p2", t0.Add(1000*time.Hour), time.Minute, 10); len(jobs) != 0 {
					t.Errorf("a completed job was handed out")
				}
				if err := b.Complete(ctx, sum, "p1", f); !errors.Is(err, processor.ErrLeaseLost) {
					t.Errorf("second complete: %v", err)
				}
				info, err := b.Submission(ctx, "00000000-0000-4000-8000-000000000001")
				if err != nil || !info.Done || info.Outcome != o || info.SHA256 != sum || info.DeclarantID != "12345676" || info.DeclarantType != "adoszam" {
					t.Errorf("submission: %+v, %v", info, err)
				}
			})
		}
		b, done := open(t)
		defer done()
		sum := seed(t, b, 1, t0)
		claim(t, b, "p1", t0, time.Minute, 1)
		f := final(t0)
		f.Outcome = "maybe"
		if err := b.Complete(ctx, sum, "p1", f); err == nil {
			t.Error("an unknown outcome was recorded")
		}
	})

	t.Run("submission", func(t *testing.T) {
		b, done := open(t)
		defer done()
		sum := seed(t, b, 7, t0)
		info, err := b.Submission(ctx, "00000000-0000-4000-8000-000000000007")
		if err != nil || info.Done || info.SHA256 != sum || !info.Arrival.Equal(t0.Add(-time.Minute)) {
			t.Errorf("pending submission: %+v, %v", info, err)
		}
		if _, err := b.Submission(ctx, "00000000-0000-4000-8000-000000000008"); !errors.Is(err, processor.ErrNotFound) {
			t.Errorf("unknown submission: %v", err)
		}
	})

	t.Run("concurrent claims never share a job", func(t *testing.T) {
		b, done := open(t)
		defer done()
		const n, owners = 60, 6
		for i := range n {
			seed(t, b, i+1, t0)
		}
		var mu sync.Mutex
		seen := map[[32]byte]string{}
		var problems []string
		var wg sync.WaitGroup
		for w := range owners {
			wg.Add(1)
			go func(owner string) {
				defer wg.Done()
				for {
					jobs, err := b.Claim(ctx, processor.Claim{Owner: owner, Now: t0, Lease: time.Hour, Limit: 3})
					if err != nil {
						mu.Lock()
						problems = append(problems, err.Error())
						mu.Unlock()
						return
					}
					if len(jobs) == 0 {
						return
					}
					for _, j := range jobs {
						mu.Lock()
						if prev, ok := seen[j.SHA256]; ok {
							problems = append(problems, fmt.Sprintf("%x claimed by %s and %s", j.SHA256[:4], prev, owner))
						}
						seen[j.SHA256] = owner
						mu.Unlock()
						if err := b.Complete(ctx, j.SHA256, owner, final(t0)); err != nil {
							mu.Lock()
							problems = append(problems, err.Error())
							mu.Unlock()
						}
					}
				}
			}(fmt.Sprintf("p%d", w))
		}
		wg.Wait()
		for _, p := range problems {
			t.Error(p)
		}
		if len(seen) != n {
			t.Errorf("%d of %d jobs claimed", len(seen), n)
		}
	})

	t.Run("jobs, leases and outcomes survive a restart", func(t *testing.T) {
		b, done := open(t)
		a := seed(t, b, 1, t0)
		c := seed(t, b, 2, t0)
		claim(t, b, "p1", t0, time.Hour, 2)
		if err := b.Complete(ctx, a, "p1", final(t0)); err != nil {
			t.Fatal(err)
		}
		done()
		b, done = reopen(t)
		defer done()
		if jobs := claim(t, b, "p2", t0.Add(time.Minute), time.Hour, 5); len(jobs) != 0 {
			t.Errorf("a leased job was handed out after a restart before its lease expired")
		}
		jobs := claim(t, b, "p2", t0.Add(time.Hour), time.Hour, 5)
		if got := sums(jobs); !slices.Equal(got, [][32]byte{c}) {
			t.Errorf("after the restart claimed %x", got)
		}
		if st, err := b.PackageStatus(ctx, a); err != nil || st.Status != string(processor.Processed) {
			t.Errorf("completed status after restart: %+v, %v", st, err)
		}
	})

	t.Run("argument checks", func(t *testing.T) {
		b, done := open(t)
		defer done()
		for _, c := range []processor.Claim{{Now: t0, Lease: time.Minute, Limit: 1}, {Owner: "p", Now: t0, Limit: 1}, {Owner: "p", Now: t0, Lease: time.Minute}} {
			if _, err := b.Claim(ctx, c); err == nil {
				t.Errorf("claim %+v accepted", c)
			}
		}
	})
}
