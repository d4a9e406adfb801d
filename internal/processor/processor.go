package processor

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// Step names a point between two steps of a job, where Config.Hook is called (crash-injection tests
// kill the process there) and where nothing is half-written.
type Step string

// The steps, in order. After StepHandedOff only the store update (Complete) remains.
const (
	StepClaimed   Step = "claimed"    // the job is leased, nothing else done
	StepValidated Step = "validated"  // the final check ran (read-only but for the revocation cache)
	StepExtended  Step = "extended"   // the extended package exists, in memory only
	StepDecrypted Step = "decrypted"  // the declaration exists, in memory only
	StepArchived  Step = "archived"   // the archive entry is durable
	StepHandedOff Step = "handed-off" // the back-office hand-off is durable; the status is not updated yet
)

// Steps lists every Step in order.
var Steps = []Step{StepClaimed, StepValidated, StepExtended, StepDecrypted, StepArchived, StepHandedOff}

// Archive is what the processor needs of the long-term archive (archive.Archive): write-once,
// idempotent Put per package, and the lookups of a package's and of a submission's entry.
type Archive interface {
	Put(ctx context.Context, in archive.Input) (*archive.Entry, error)
	ByPackage(ctx context.Context, sum [32]byte) (*archive.Entry, error)
	FindSubmission(ctx context.Context, declarantType, declarantID, submissionID string) (*archive.Entry, error)
	Read(ctx context.Context, e *archive.Entry, p archive.Part) ([]byte, error)
}

// Receipts reads the receipts the receiver stored (the acceptance receipt is archived beside the
// package).
type Receipts interface {
	ReceiptByID(ctx context.Context, id string) (*intake.Stored, error)
}

// Backoff is the retry schedule of a job that did not end final: Min after the first attempt,
// doubling per attempt up to Max.
type Backoff struct {
	Min, Max time.Duration
}

// Delay is the wait after attempts earlier attempts (0 for the first retry).
func (b Backoff) Delay(attempts int) time.Duration {
	d := b.Min
	for i := 0; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Defaults of Config.
const (
	DefaultLease      = 10 * time.Minute
	DefaultBackoffMin = time.Minute
	DefaultBackoffMax = time.Hour
	DefaultJobTimeout = 10 * time.Minute
)

// Config is what a Processor needs. Queue, Receipts, Registry, Blobs, Archive, Env (online), Schemas,
// TSA, DecryptionCert, Decrypter, HandOffDir and Owner are required.
type Config struct {
	Queue    Queue
	Receipts Receipts
	// Registry is the registry of declarants (D009: the sheet the receiver applied, as of the arrival).
	Registry registry.Store
	// Blobs is the receiver's content-addressed package store.
	Blobs   *blob.Store
	Archive Archive
	// Env is the trust environment with online revocation (OCSP preferred, CRL fallback, cached).
	Env     *trust.Env
	Schemas *schema.Set
	// TSA stamps the extensions (SigAndRefsTimeStamp, ArchiveTimeStamp).
	TSA *tsp.Client
	// DecryptionCert and Decrypter are the fund's decryption certificate (the packages' recipient)
	// and its private key (PKCS#12 or PKCS#11 through internal/keys). Decryption happens only here.
	DecryptionCert *x509.Certificate
	Decrypter      crypto.Decrypter
	// PayloadLimits bound decompression (zero: payload defaults).
	PayloadLimits payload.Limits
	// XMLLimits are the parser limits of the package (zero: libxml defaults).
	XMLLimits libxml.Limits
	// HandOffDir is the back office's directory: one directory per finished package appears there
	// atomically. Plaintext is written nowhere else.
	HandOffDir string
	// Owner is the name this processor leases jobs under, unique among the processes sharing the store
	// (cmd/processor adds a random suffix per process to the instance name).
	Owner string
	// Lease is how long a claimed job stays reserved without renewal (it is renewed while the job
	// runs); DefaultLease when zero.
	Lease time.Duration
	// Workers is the number of jobs processed at once; zero: the number of CPUs.
	Workers int
	// Backoff schedules retries; zero fields take DefaultBackoffMin/Max.
	Backoff Backoff
	// AlertBefore raises the expiry alert when a job is still not final this long before its signer
	// certificate's notAfter (PRC-05: the final check must happen before it; trust.FinalCheckAlert);
	// trust.DefaultFinalCheckMargin when zero.
	AlertBefore time.Duration
	// JobTimeout bounds one job attempt; DefaultJobTimeout when zero. A stopping processor lets the
	// jobs in progress finish within it.
	JobTimeout time.Duration
	// Clock is the time source of everything (validation time, due times, leases); nil: time.Now.
	Clock func() time.Time
	// Logger receives the job log (one line per verified signature, PRC-09, and per outcome); nil
	// discards.
	Logger *slog.Logger
	// Metrics, when set, are updated.
	Metrics *Metrics
	// Hook, when set, is called at every Step of every job, with the job. It exists for tests that
	// kill the process between steps (cmd/processor wires it to TAGDIJ_PROCESSOR_CRASH_AT).
	Hook func(Step, *Job)
}

// Processor runs the final check and everything after it on the queue's due jobs. It is safe for
// concurrent use, but runs one pass at a time.
type Processor struct {
	cfg Config
	run sync.Mutex
}

// New checks cfg and returns a Processor.
func New(cfg Config) (*Processor, error) {
	switch {
	case cfg.Queue == nil || cfg.Receipts == nil || cfg.Registry == nil || cfg.Blobs == nil || cfg.Archive == nil:
		return nil, errors.New("processor: queue, receipts, registry, blob store and archive are required")
	case cfg.Env == nil || cfg.Env.Policy == nil || cfg.Env.Online == nil:
		return nil, errors.New("processor: an online trust environment is required (the final check fetches revocation evidence)")
	case cfg.Schemas == nil || cfg.TSA == nil:
		return nil, errors.New("processor: schemas and a TSA are required")
	case cfg.DecryptionCert == nil || cfg.Decrypter == nil:
		return nil, errors.New("processor: the fund's decryption certificate and key are required")
	case cfg.HandOffDir == "":
		return nil, errors.New("processor: no hand-off directory")
	case cfg.Owner == "":
		return nil, errors.New("processor: no instance name (owner)")
	}
	if st, err := os.Stat(cfg.HandOffDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("processor: hand-off directory %s: not a directory (%v)", cfg.HandOffDir, err)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = DefaultBackoffMin
	}
	if cfg.Backoff.Max < cfg.Backoff.Min {
		cfg.Backoff.Max = max(DefaultBackoffMax, cfg.Backoff.Min)
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Processor{cfg: cfg}, nil
}

// Summary counts what one pass did.
type Summary struct {
	Processed       int `json:"processed"`
	FinalInvalid    int `json:"finalInvalid"`
	ContentRejected int `json:"contentRejected"`
	// TryLater counts jobs not final yet (rescheduled); Errors jobs that failed on the fund's side
	// (rescheduled: TSA, archive, key or store unavailable); LeaseLost jobs abandoned because another
	// processor took them over.
	TryLater  int `json:"tryLater"`
	Errors    int `json:"errors"`
	LeaseLost int `json:"leaseLost"`
	// Alerts counts attempts that raised the signer-certificate expiry alert.
	Alerts int `json:"alerts"`
}

// Jobs is the number of job attempts the pass made.
func (s Summary) Jobs() int {
	return s.Processed + s.FinalInvalid + s.ContentRejected + s.TryLater + s.Errors + s.LeaseLost
}

func (s *Summary) add(r result) {
	switch r.kind {
	case Processed:
		s.Processed++
	case FinalInvalid:
		s.FinalInvalid++
	case ContentRejected:
		s.ContentRejected++
	case resultTryLater:
		s.TryLater++
	case resultError:
		s.Errors++
	case resultLeaseLost:
		s.LeaseLost++
	}
	if r.alert {
		s.Alerts++
	}
}

// RunOnce processes every job that is due, with Config.Workers at once, until none is left (jobs
// rescheduled during the pass are not taken again in it). It first releases the leases this Owner
// still holds (an earlier pass of this Owner that ended without finishing them). Cancelling ctx stops claiming; the
// jobs in progress finish (within JobTimeout). The error is for a queue that cannot be read; the
// outcome of each job is in the Summary.
func (p *Processor) RunOnce(ctx context.Context) (Summary, error) {
	p.run.Lock()
	defer p.run.Unlock()
	log := p.cfg.Logger
	start := p.cfg.Clock()
	if n, err := p.cfg.Queue.Release(ctx, p.cfg.Owner); err != nil {
		return Summary{}, fmt.Errorf("processor: %w", err)
	} else if n > 0 {
		log.Warn("leases of an earlier run taken back", slog.String("event", "processor.released"), slog.Int("jobs", n))
	}
	var mu sync.Mutex
	var sum Summary
	var firstErr error
	var wg sync.WaitGroup
	for range p.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				// Jobs that became due after the pass started wait for the next pass, so a job retried
				// in this pass is not taken again in it.
				jobs, err := p.cfg.Queue.Claim(ctx, Claim{Owner: p.cfg.Owner, Now: p.cfg.Clock(), DueBy: start, Lease: p.cfg.Lease, Limit: 1})
				if err != nil {
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if len(jobs) == 0 {
					return
				}
				r := p.runJob(ctx, &jobs[0])
				mu.Lock()
				sum.add(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if removed, err := removeStaleHandOffs(p.cfg.HandOffDir, time.Now().Add(-2*p.cfg.JobTimeout)); err == nil && removed > 0 {
		log.Info("stale temporary hand-offs removed", slog.String("event", "processor.cleanup"), slog.Int("removed", removed))
	}
	end := p.cfg.Clock()
	p.cfg.Metrics.run(&sum, firstErr, float64(end.UnixNano())/1e9)
	log.Info("run finished", slog.String("event", "processor.run"), slog.Int("processed", sum.Processed), slog.Int("finalInvalid", sum.FinalInvalid),
		slog.Int("contentRejected", sum.ContentRejected), slog.Int("tryLater", sum.TryLater), slog.Int("errors", sum.Errors),
		slog.Int("leaseLost", sum.LeaseLost), slog.Int("alerts", sum.Alerts), slog.Duration("duration", end.Sub(start)))
	if firstErr != nil {
		return sum, fmt.Errorf("processor: %w", firstErr)
	}
	return sum, nil
}

// result kinds besides the final outcomes.
const (
	resultTryLater  Outcome = "try-later"
	resultError     Outcome = "error"
	resultLeaseLost Outcome = "lease-lost"
)

type result struct {
	kind  Outcome
	alert bool
}

// runJob runs one claimed job to its end: a final outcome recorded, a retry scheduled, or (when the
// lease is lost) nothing more written.
func (p *Processor) runJob(ctx context.Context, j *Job) result {
	start := time.Now()
	p.cfg.Metrics.flight(1)
	defer p.cfg.Metrics.flight(-1)
	// A stopping processor finishes what it started: the job runs on its own deadline.
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.JobTimeout)
	defer cancel()
	jctx, lost := p.keepLease(jctx, j)
	log := p.cfg.Logger.With(slog.String("sha256", hex.EncodeToString(j.SHA256[:])), slog.String("package", j.FileName),
		slog.String("submission", j.SubmissionID))
	r := p.process(jctx, j, log)
	cancel()
	if lost() {
		r = result{kind: resultLeaseLost}
		log.Warn("lease lost: another processor took the job over; nothing more written", slog.String("event", "processor.lease-lost"))
	}
	p.cfg.Metrics.job(string(r.kind), time.Since(start).Seconds())
	return r
}

// keepLease renews j's lease while ctx lives; when the lease is lost it cancels the returned context,
// and lost reports it.
func (p *Processor) keepLease(ctx context.Context, j *Job) (context.Context, func() bool) {
	ctx, cancel := context.WithCancelCause(ctx)
	var flag struct {
		sync.Mutex
		lost bool
	}
	go func() {
		every := max(p.cfg.Lease/3, 10*time.Millisecond)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := p.cfg.Queue.Renew(ctx, j.SHA256, j.Owner, p.cfg.Clock().Add(p.cfg.Lease))
				if errors.Is(err, ErrLeaseLost) {
					flag.Lock()
					flag.lost = true
					flag.Unlock()
					cancel(ErrLeaseLost)
					return
				}
			}
		}
	}()
	return ctx, func() bool {
		flag.Lock()
		defer flag.Unlock()
		return flag.lost
	}
}

func (p *Processor) hook(s Step, j *Job) {
	if p.cfg.Hook != nil {
		p.cfg.Hook(s, j)
	}
}

// outcome is what the pipeline decided for a job, before it is archived, handed off and recorded.
type outcome struct {
	kind     Outcome
	state    receipt.State
	findings []errcode.Finding // final check, then decryption and content; errors and warnings
	report   *report.Document
	extended []byte
	decl     []byte // the declaration (Processed only), in memory
	summary  *declSummary
}

func (p *Processor) process(ctx context.Context, j *Job, log *slog.Logger) result {
	p.hook(StepClaimed, j)
	// A job archived by an earlier attempt (which then crashed) resumes after the archive: the
	// archived outcome stands (the archive is write-once).
	if e, err := p.cfg.Archive.ByPackage(ctx, j.SHA256); err == nil {
		return p.resume(ctx, j, e, log)
	} else if !errors.Is(err, archive.ErrNotFound) {
		return p.retry(ctx, j, log, fmt.Errorf("archive: %w", err), time.Time{}, "")
	}
	data, err := p.cfg.Blobs.Read(j.SHA256)
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("package blob: %w", err), time.Time{}, "")
	}
	now := p.cfg.Clock()
	d, perr := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict, Limits: p.cfg.XMLLimits})
	var v *pack.Verified
	vopts := pack.VerifyOptions{Env: p.cfg.Env, Schemas: p.cfg.Schemas, Now: now, Arrival: j.Arrival, FileName: j.FileName,
		RequireName: true, Logger: log, Limits: p.cfg.XMLLimits}
	if perr != nil {
		// The receiver accepted these bytes, so this cannot happen with the same code; Verify reports why.
		v, err = pack.Verify(ctx, data, vopts)
	} else {
		defer d.Close()
		v, err = pack.VerifyDossier(ctx, d, data, vopts)
	}
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("final check: %w", err), time.Time{}, "")
	}
	p.hook(StepValidated, j)
	rep := v.Report
	var o *outcome
	switch {
	case rep.Verdict.Indication == report.TotalPassed && d != nil:
		ext, xrep, err := xades.Extend(ctx, data, xades.ExtendOptions{TSA: p.cfg.TSA, Logger: log,
			Verify: xades.VerifyOptions{Env: p.cfg.Env, Kind: policy.KindPackage, Now: now, Arrival: j.Arrival, FileName: j.FileName,
				Mode: es3.Strict, Limits: p.cfg.XMLLimits}})
		if errors.Is(err, xades.ErrNotFinal) && xrep != nil {
			// Revocation evidence changed between the two checks: the second one decides.
			rep = xrep
			break
		}
		if err != nil {
			// Valid now, but without its validation data embedded the check cannot be repeated once the
			// signer certificate has expired: near that deadline the failure raises the alert too.
			alert := ""
			if d := trust.FinalDeadline(rep); !d.IsZero() && !now.Before(d.Add(-p.alertBefore())) {
				alert = alertText(d)
			}
			return p.retry(ctx, j, log, fmt.Errorf("extension: %w", err), time.Time{}, alert)
		}
		p.hook(StepExtended, j)
		o = &outcome{kind: Processed, state: receipt.Valid, findings: rep.AllFindings(), report: rep, extended: ext}
		decl, findings, err := p.decrypt(d)
		if err != nil {
			return p.retry(ctx, j, log, fmt.Errorf("decryption: %w", err), time.Time{}, "")
		}
		p.hook(StepDecrypted, j)
		o.findings = append(o.findings, findings...)
		if len(findings) == 0 {
			cf, sum, err := p.content(ctx, j, decl)
			if errors.Is(err, errPredecessorPending) {
				clear(decl)
				return p.retry(ctx, j, log, err, time.Time{}, "")
			}
			if err != nil {
				clear(decl)
				return p.retry(ctx, j, log, fmt.Errorf("content check: %w", err), time.Time{}, "")
			}
			o.findings = append(o.findings, cf...)
			o.summary = sum
		}
		if hasErrors(o.findings) {
			o.kind = ContentRejected
			clear(decl)
		} else {
			o.decl = decl
		}
	}
	if o == nil {
		findings := rep.AllFindings()
		alert, deadline := trust.FinalCheckAlert(rep, now, p.cfg.AlertBefore)
		// Not final for want of time, and still before the signer certificate's notAfter (PRC-05: after
		// it the check can never become final).
		if trust.OnlyWaiting(rep, findings) && (deadline.IsZero() || now.Before(deadline)) {
			due := now.Add(p.cfg.Backoff.Delay(j.Attempts))
			if rep.EarliestFinal.After(due) {
				due = rep.EarliestFinal
			}
			if !deadline.IsZero() && due.After(deadline) {
				due = now.Add(deadline.Sub(now) / 2) // a retry after the deadline would be too late
			}
			text := ""
			if alert {
				text = alertText(deadline)
			}
			return p.retry(ctx, j, log, errors.New(codesText(findings)), due, text)
		}
		o = &outcome{kind: FinalInvalid, state: receipt.StateOf(rep.Verdict.Indication), findings: findings, report: rep}
	}
	return p.finish(ctx, j, o, log)
}

// finish archives the outcome, hands it off and records it.
func (p *Processor) finish(ctx context.Context, j *Job, o *outcome, log *slog.Logger) result {
	defer clear(o.decl)
	original, err := p.cfg.Blobs.Read(j.SHA256)
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("package blob: %w", err), time.Time{}, "")
	}
	rcpt, err := p.cfg.Receipts.ReceiptByID(ctx, j.ReceiptID)
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("receipt %s: %w", j.ReceiptID, err), time.Time{}, "")
	}
	repJSON, err := json.Marshal(o.report)
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("report: %w", err), time.Time{}, "")
	}
	in := archive.Input{PackageSHA256: j.SHA256, PackageName: j.FileName, Original: original, Extended: o.extended,
		ReceiptName: rcpt.Name, Receipt: rcpt.Bytes, Report: repJSON, SubmissionID: j.SubmissionID, DeclarantType: j.DeclarantType,
		DeclarantID: j.DeclarantID, Fund: j.Fund, Period: j.Period, DeclType: j.Type, Outcome: string(o.kind), Codes: codeStrings(o.findings)}
	if ctx.Err() != nil {
		return p.retry(ctx, j, log, ctx.Err(), time.Time{}, "")
	}
	e, err := p.cfg.Archive.Put(ctx, in)
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("archive: %w", err), time.Time{}, "")
	}
	p.hook(StepArchived, j)
	return p.handOffAndComplete(ctx, j, e, o, log)
}

// resume finishes a job whose outcome an earlier attempt archived: hand-off (unless it is there) and
// the store update. The archived outcome stands (the archive is write-once); the findings with their
// locations and texts, which the archive's leaf keeps only as codes, are recovered from the archived
// report and by checking the content again (recover).
func (p *Processor) resume(ctx context.Context, j *Job, e *archive.Entry, log *slog.Logger) result {
	log.Info("resuming an archived job", slog.String("event", "processor.resume"), slog.String("archive", e.ID), slog.String("outcome", e.Outcome))
	o := &outcome{kind: Outcome(e.Outcome), state: receipt.Valid}
	for _, c := range e.Codes {
		o.findings = append(o.findings, errcode.New(errcode.Code(c), "", ""))
	}
	switch o.kind {
	case Processed, ContentRejected, FinalInvalid:
	default:
		return p.retry(ctx, j, log, fmt.Errorf("archive entry %s: unknown outcome %q", e.ID, e.Outcome), time.Time{}, "")
	}
	if o.kind != FinalInvalid && p.handedOff(j) {
		// Published before the crash, with its findings: only the store update is left (a final-invalid
		// outcome's state still comes from its report, below).
		p.hook(StepArchived, j)
		return p.handOffAndComplete(ctx, j, e, o, log)
	}
	raw, err := p.cfg.Archive.Read(ctx, e, archive.Report)
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("archive: %w", err), time.Time{}, "")
	}
	var rep report.Document
	if err := json.Unmarshal(raw, &rep); err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("archived report: %w", err), time.Time{}, "")
	}
	if o.kind == FinalInvalid {
		o.state = receipt.StateOf(rep.Verdict.Indication)
		o.findings = rep.AllFindings()
	} else {
		data, err := p.cfg.Blobs.Read(j.SHA256)
		if err != nil {
			return p.retry(ctx, j, log, fmt.Errorf("package blob: %w", err), time.Time{}, "")
		}
		decl, findings, err := p.decryptBytes(data)
		if err != nil || o.kind == Processed && len(findings) > 0 {
			return p.retry(ctx, j, log, fmt.Errorf("decryption of an archived package failed: %v %v", err, findings), time.Time{}, "")
		}
		defer clear(decl)
		p.hook(StepDecrypted, j)
		again, sum, err := p.recheck(ctx, j, &rep, findings, decl)
		switch {
		case err != nil:
			// Only the predecessor lookup can make a second check fail: the codes stand alone.
			log.Warn("content not checked again on resume; the hand-off names the archived codes only",
				slog.String("event", "processor.resume.content"), slog.String("error", err.Error()))
		case !slices.Equal(distinctCodes(again), codesOf(e.Codes)):
			log.Warn("the findings checked again differ from the archived codes; the hand-off names the archived codes only",
				slog.String("event", "processor.resume.findings"), slog.Any("archived", e.Codes), slog.Any("again", codeStrings(again)))
		default:
			o.findings, o.summary = again, sum
		}
		if o.kind == Processed {
			o.decl = decl
		}
	}
	p.hook(StepArchived, j)
	return p.handOffAndComplete(ctx, j, e, o, log)
}

// recheck repeats, for a resumed job, what process found beyond the archived report: the findings of
// the report, of decryption (decFindings) and, when decryption succeeded, of the content check, and
// the declaration's summary.
func (p *Processor) recheck(ctx context.Context, j *Job, rep *report.Document, decFindings []errcode.Finding, decl []byte) ([]errcode.Finding, *declSummary, error) {
	all := append(rep.AllFindings(), decFindings...)
	if len(decFindings) > 0 {
		return all, nil, nil
	}
	cf, sum, err := p.content(ctx, j, decl)
	if err != nil {
		return nil, nil, err
	}
	return append(all, cf...), sum, nil
}

// codesOf converts an archive leaf's codes.
func codesOf(cs []string) []errcode.Code {
	out := make([]errcode.Code, len(cs))
	for i, c := range cs {
		out[i] = errcode.Code(c)
	}
	return out
}

func (p *Processor) handOffAndComplete(ctx context.Context, j *Job, e *archive.Entry, o *outcome, log *slog.Logger) result {
	if ctx.Err() != nil {
		return p.retry(ctx, j, log, ctx.Err(), time.Time{}, "")
	}
	name, err := p.handOff(j, e, o)
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("hand-off: %w", err), time.Time{}, "")
	}
	p.hook(StepHandedOff, j)
	codes := distinctCodes(o.findings)
	err = p.cfg.Queue.Complete(ctx, j.SHA256, j.Owner, Final{Outcome: o.kind, State: o.state, Codes: codes, ArchiveID: e.ID, HandOff: name, Now: p.cfg.Clock()})
	if errors.Is(err, ErrLeaseLost) {
		return result{kind: resultLeaseLost}
	}
	if err != nil {
		return p.retry(ctx, j, log, fmt.Errorf("store: %w", err), time.Time{}, "")
	}
	lvl := slog.LevelInfo
	if o.kind != Processed {
		lvl = slog.LevelWarn
	}
	log.Log(ctx, lvl, "job finished", slog.String("event", "processor.finished"), slog.String("outcome", string(o.kind)),
		slog.String("state", string(o.state)), slog.Any("codes", codes), slog.String("archive", e.ID), slog.String("handoff", name))
	return result{kind: o.kind}
}

// retry reschedules j: at due when given (not final yet), else after the backoff (a failure of the
// fund's side). alert is recorded and raised when not empty.
func (p *Processor) retry(ctx context.Context, j *Job, log *slog.Logger, cause error, due time.Time, alert string) result {
	now := p.cfg.Clock()
	kind := resultTryLater
	if due.IsZero() {
		kind = resultError
		due = now.Add(p.cfg.Backoff.Delay(j.Attempts))
	}
	if errors.Is(cause, errPredecessorPending) {
		kind = resultTryLater
	}
	reason := cause.Error()
	// Writing the retry must not depend on the job's context: it may be what failed.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrLeaseLost) {
		return result{kind: resultLeaseLost}
	}
	err := p.cfg.Queue.Retry(wctx, j.SHA256, j.Owner, Retry{Due: due, Reason: truncate(reason, 1000), Alert: alert, Now: now})
	if errors.Is(err, ErrLeaseLost) {
		return result{kind: resultLeaseLost}
	}
	attrs := []any{slog.String("event", "processor.retry"), slog.String("result", string(kind)), slog.String("reason", truncate(reason, 400)),
		slog.Time("due", due), slog.Int("attempts", j.Attempts+1)}
	if err != nil {
		attrs = append(attrs, slog.String("storeError", err.Error()))
	}
	if kind == resultError {
		log.Error("job failed on the fund's side; retried later", attrs...)
	} else {
		log.Info("not final yet; retried later", attrs...)
	}
	if alert != "" {
		p.cfg.Metrics.alert()
		log.Warn(alert, slog.String("event", "processor.expiry-alert"), slog.Time("due", due))
	}
	return result{kind: kind, alert: alert != ""}
}

// alertBefore is Config.AlertBefore or trust's default margin.
func (p *Processor) alertBefore() time.Duration {
	if p.cfg.AlertBefore > 0 {
		return p.cfg.AlertBefore
	}
	return trust.DefaultFinalCheckMargin
}

// alertText is the expiry alert (PRC-05) for a package not final yet whose signer certificate expires
// at deadline.
func alertText(deadline time.Time) string {
	ts := deadline.UTC().Format(time.RFC3339)
	return fmt.Sprintf("az aláíró tanúsítványa %s-kor lejár, és a csomag még nem végleges (PRC-05) / the signer certificate expires at %s and the package is not final yet (PRC-05)",
		ts, ts)
}

func hasErrors(fs []errcode.Finding) bool {
	for _, f := range fs {
		if f.Severity == errcode.Error {
			return true
		}
	}
	return false
}

func codeStrings(fs []errcode.Finding) []string {
	codes := distinctCodes(fs)
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = string(c)
	}
	return out
}

// distinctCodes lists each finding code once, in the order of first appearance. The archive's leaf and
// the job's record keep the codes, not one per item: a 100,000-member declaration can carry a finding
// per item, and the archive (rightly) bounds a leaf's codes. Every finding with its location stays in
// the archived report and the hand-off summary.
func distinctCodes(fs []errcode.Finding) []errcode.Code {
	var out []errcode.Code
	seen := map[errcode.Code]bool{}
	for _, f := range fs {
		if !seen[f.Code] {
			seen[f.Code] = true
			out = append(out, f.Code)
		}
	}
	return out
}

// codesText is a short account of findings for the job's last error: "A012 signer: …; A011 …".
func codesText(fs []errcode.Finding) string {
	s := ""
	for _, f := range fs {
		if f.Severity != errcode.Error {
			continue
		}
		if s != "" {
			s += "; "
		}
		s += string(f.Code) + " " + f.EN
	}
	if s == "" {
		s = "nem végleges / not final yet"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
