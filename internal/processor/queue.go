package processor

import (
	"context"
	"errors"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/receipt"
)

// ErrLeaseLost is what a Queue returns when the caller no longer holds the job's lease: another
// processor took the job over after the lease expired, or the job is already finished. The caller
// must stop working on the job and write nothing more for it.
var ErrLeaseLost = errors.New("processor: the job's lease is lost (another processor took it over, or it is finished)")

// Job is one accepted package waiting for its final check, as a Queue hands it out with a lease.
// Everything but the lease is what the receiver recorded when it accepted the package.
type Job struct {
	SHA256   [32]byte
	FileName string
	Size     int64
	Arrival  time.Time
	// EarliestFinal is when the final check may first succeed (the receipt's earliest final-check time).
	EarliestFinal time.Time
	// Due is when the job became (or becomes) due; Attempts counts the earlier attempts that ended in
	// Retry (not final yet, or a failure of the fund's side).
	Due      time.Time
	Attempts int
	// The signed metadata the receiver read.
	SubmissionID, DeclarantType, DeclarantID, Fund, Period, Type string
	// RegistrySheet is the id of the registration sheet the receiver's signer decision used ("" when
	// none): the registry as of the arrival (D009).
	RegistrySheet string
	// ReceiptID names the acceptance receipt (archived beside the package).
	ReceiptID string
	// Owner and LeaseUntil are the lease this claim holds.
	Owner      string
	LeaseUntil time.Time
}

// Claim asks a Queue for due jobs.
type Claim struct {
	// Owner identifies the claiming processor (instance name); it must be unique among the processors
	// sharing a store.
	Owner string
	// Now is the claim time: jobs with Due ≤ Now whose lease is free or expired (LeaseUntil ≤ Now) are
	// handed out, leased until Now + Lease.
	Now time.Time
	// DueBy, when set (not after Now), hands out only jobs with Due ≤ DueBy: a pass that started at
	// DueBy does not take again the jobs it rescheduled.
	DueBy time.Time
	// Lease is how long the claimed jobs stay reserved for Owner unless renewed.
	Lease time.Duration
	// Limit is the most jobs handed out.
	Limit int
}

// Retry reschedules a job that did not become final (TRY_LATER, or a failure of the fund's side).
type Retry struct {
	// Due is when the job is due again.
	Due time.Time
	// Reason is recorded as the job's last error (visible in the status).
	Reason string
	// Alert, when not empty, is recorded and shown in the package's status (the signer certificate
	// nears its notAfter and the package is not final yet); empty clears an earlier alert.
	Alert string
	// Now is when the attempt ended.
	Now time.Time
}

// Outcome is a job's final outcome.
type Outcome string

// The final outcomes; each is also the package's status string (GET /v1/packages/{sha256}/status).
const (
	// Processed: the signatures are finally valid, the content passed, the declaration is archived and
	// handed to the back office.
	Processed Outcome = "processed"
	// FinalInvalid: the final check did not find the signatures valid (TOTAL-FAILED, or INDETERMINATE for
	// a reason that waiting cannot resolve); the package is archived with its report, never decrypted.
	FinalInvalid Outcome = "final-invalid"
	// ContentRejected: the signatures are finally valid but the content is rejected (D-codes).
	ContentRejected Outcome = "content-rejected"
)

// Final is what Complete records.
type Final struct {
	Outcome Outcome
	// State is the final check's state (ERVENYES, ERVENYTELEN, BEFEJEZETLEN).
	State receipt.State
	// Codes are the findings of the final check and of the content check (errors and warnings).
	Codes []errcode.Code
	// ArchiveID names the archive entry; HandOff the back-office hand-off ("" when none).
	ArchiveID, HandOff string
	// Now is when the job finished.
	Now time.Time
}

// Queue is the processor's job queue in the fund's store (the receiver fills it: one job per accepted
// package, due at its earliest final-check time). Implementations must guarantee:
//
//   - Claim hands a job to at most one owner at a time: it selects due jobs and sets their lease in one
//     atomic step, so two processors (or two workers) claiming concurrently never get the same job
//     while its lease runs; a job whose lease expired (its owner crashed) is handed out again.
//   - Renew, Retry and Complete succeed only for the owner holding the job's lease (ErrLeaseLost
//     otherwise) and are atomic and durable when they return nil.
//   - Complete records the final outcome and the package's status in one transaction; a completed job
//     is never handed out again.
//
// processortest.Run is the conformance suite every implementation must pass.
type Queue interface {
	// Claim leases up to c.Limit due jobs to c.Owner, the longest-waiting first.
	Claim(ctx context.Context, c Claim) ([]Job, error)
	// Renew extends the lease of a job c.Owner holds until until.
	Renew(ctx context.Context, sum [32]byte, owner string, until time.Time) error
	// Release ends every lease owner holds (an owner taking back its own unfinished jobs at once
	// instead of waiting for the leases to expire); it returns how many.
	Release(ctx context.Context, owner string) (int, error)
	// Retry reschedules a job owner holds and ends the lease.
	Retry(ctx context.Context, sum [32]byte, owner string, r Retry) error
	// Complete records the final outcome of a job owner holds, and the package's final status.
	Complete(ctx context.Context, sum [32]byte, owner string, f Final) error
	// Submission describes the accepted package carrying a submission id (the predecessor of an O/H
	// declaration, D008); ErrNotFound when none was accepted.
	Submission(ctx context.Context, submissionID string) (*SubmissionInfo, error)
}

// ErrNotFound is what Queue.Submission returns for an unknown submission id.
var ErrNotFound = errors.New("processor: not found")

// SubmissionInfo is what the store knows of an accepted submission.
type SubmissionInfo struct {
	SHA256                     [32]byte
	DeclarantType, DeclarantID string
	// Arrival is when the receiver received the package: a predecessor arrives before the package
	// that names it.
	Arrival time.Time
	// Done reports that its job is finished; Outcome is then its final outcome.
	Done    bool
	Outcome Outcome
}
