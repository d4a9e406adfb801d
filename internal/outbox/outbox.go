// Package outbox is the sender's outgoing side after signing (SPEC §1 sender; SND-14, SND-15,
// SND-26…SND-32): it sends a package to the fund's receiver, keeps every attempt in the send log,
// verifies and stores the receipt whatever its signature says, writes the SND-30 notifications when
// that signature is invalid, and builds the sender container (internal/container). It has no
// net/http: the HTTPS transport (internal/upload) comes in through the Transport interface, and the
// records go to the workspace (internal/workspace).
//
// # Sending
//
//  1. Refused before anything leaves (the local database knows): a package that already has a
//     receipt (ErrAlreadySent), and another package with the same submission id that was accepted,
//     or whose fate is unknown because an upload of it may have been recorded without its receipt
//     coming back (ErrDuplicateSubmission). A package whose same-id predecessor was rejected may go:
//     that is the corrected package the fund expects; so may one whose predecessor's every upload was
//     answered with a client error (4xx) and no receipt, which the fund has no record of. Where this
//     guess is wrong the fund itself answers T004, never a second acceptance.
//  2. The initial check (pack.Verify, with the receiver's name rule) must say valid (SIG-23, SND-14);
//     otherwise ErrNotValid with the report.
//  3. Attempts, each with the same bytes: the receiver answers a byte-identical upload with its
//     original receipt, so a retry after a lost answer is harmless. Network errors, 408, 429 and 5xx
//     are retried with exponential backoff, or after the Retry-After the receiver names. A 503 with an
//     unstamped R001 receipt ("not accepted, retry": the fund's TSA is down) is not a receipt: it is
//     kept in the send log as the fund's signed word of its outage and the upload is retried. A wait
//     longer than Retry.MaxWait ends the run with ErrTryLater.
//  4. The receipt package is verified (receiptpkg.Verify, SND-29) and stored in every case
//     (SND-27, SND-30). A signature that is invalid, or a receipt that names another package, flags it:
//     two notification records (fund and supervisor) are written (SND-30).
//  5. The container is built (a new version each time what it records changes).
package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/workspace"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/schema"
)

// Answer is the receiver's answer to one upload, as the transport received it.
type Answer struct {
	Status      int // HTTP status
	Body        []byte
	ContentType string
	// RetryAfter is the Retry-After header's delay; zero when absent.
	RetryAfter time.Duration
}

// Transport uploads a package. Upload returns an error only when no HTTP response arrived (a
// connection, TLS or timeout failure); every HTTP response is an Answer.
type Transport interface {
	Upload(ctx context.Context, fileName string, data []byte) (*Answer, error)
	// URL is where uploads go, for the send log.
	URL() string
}

// Retry is the retry policy.
type Retry struct {
	// Attempts is the most uploads one Send makes (zero: 5).
	Attempts int
	// Backoff is the wait after the first failure, doubled after each further one (zero: 2 s).
	Backoff time.Duration
	// MaxWait is the longest single wait; a Retry-After beyond it ends the run (zero: 5 min).
	MaxWait time.Duration
	// FinalWait is how long Send may wait for the receipt's grace period to end so that its
	// signature check is final (zero: no waiting; the check is repeated later by Recheck).
	FinalWait time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 5
	}
	if r.Backoff <= 0 {
		r.Backoff = 2 * time.Second
	}
	if r.MaxWait <= 0 {
		r.MaxWait = 5 * time.Minute
	}
	return r
}

// Parties names who is who in the notifications (SND-30).
type Parties struct {
	Employer          string // the declarant's name
	FundCode          string
	FundName          string
	FundAddress       string // where the fund is notified ("" : not configured)
	SupervisorAddress string // where the supervisory authority is notified ("" : not configured)
}

// Sender sends packages and keeps what comes back.
type Sender struct {
	WS        *workspace.Workspace
	Transport Transport
	// Env is the trust environment (online) for the initial check and the receipt check.
	Env     *trust.Env
	Schemas *schema.Set
	// Logger receives the signature log's lines (SIG-15); nil discards.
	Logger  *slog.Logger
	Clock   func() time.Time
	Sleep   func(ctx context.Context, d time.Duration) error
	Retry   Retry
	Parties Parties
	// Events, when set, hears of each step (attempt results, waits) as it happens.
	Events func(Event)
}

// Event is a step of a send, for a progress display.
type Event struct {
	Attempt *workspace.Attempt // an attempt just logged
	Wait    time.Duration      // a wait about to start
}

func (s *Sender) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock()
}

func (s *Sender) sleep(ctx context.Context, d time.Duration) error {
	if s.Events != nil {
		s.Events(Event{Wait: d})
	}
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrAlreadySent refuses a package that already has a receipt.
type ErrAlreadySent struct {
	Package workspace.Package
	Receipt workspace.Receipt
}

func (e *ErrAlreadySent) Error() string {
	return fmt.Sprintf("a csomagot már elküldte, nyugtája van (%s, %s) / the package was already sent and has a receipt (%s, %s)",
		e.Receipt.Name, e.Receipt.Received.Format(time.RFC3339), e.Receipt.Name, e.Receipt.Received.Format(time.RFC3339))
}

// ErrDuplicateSubmission refuses a package whose submission id another package already used.
type ErrDuplicateSubmission struct {
	SubmissionID string
	Other        workspace.Package
	// Receipt is the other package's receipt; nil when it was sent without a receipt coming back.
	Receipt *workspace.Receipt
}

func (e *ErrDuplicateSubmission) Error() string {
	if e.Receipt == nil {
		return fmt.Sprintf("ugyanezzel a beküldési azonosítóval (%s) már küldött csomagot (%s), és arra nem jött nyugta: küldje el azt újra "+
			"(sender send %s), a pénztár az eredeti nyugtát adja vissza / a package with the same submission id (%s) was already sent (%s) "+
			"without a receipt coming back: send that one again (sender send %s); the fund returns its original receipt",
			e.SubmissionID, e.Other.Name, e.Other.Name, e.SubmissionID, e.Other.Name, e.Other.Name)
	}
	return fmt.Sprintf("ugyanezzel a beküldési azonosítóval (%s) már beküldött csomagot (%s, nyugta %s, %s); ugyanaz a bevallás nem küldhető be kétszer "+
		"(önellenőrzés vagy helyesbítés új azonosítóval, O/H típussal) / a package with the same submission id (%s) was already sent (%s, receipt %s, %s); "+
		"the same declaration cannot be filed twice (a self-revision or correction has its own id and type O/H)",
		e.SubmissionID, e.Other.Name, e.Receipt.Name, resultWords(e.Receipt), e.SubmissionID, e.Other.Name, e.Receipt.Name, resultWords(e.Receipt))
}

func resultWords(r *workspace.Receipt) string {
	switch r.Result {
	case string(receipt.Accepted):
		return "BEFOGADVA / accepted"
	case string(receipt.Rejected):
		return "ELUTASITVA / rejected"
	}
	return "olvashatatlan / unreadable"
}

// ErrNotValid refuses a package whose initial check is not valid (SIG-23, SND-14).
type ErrNotValid struct{ Report *report.Document }

func (e *ErrNotValid) Error() string {
	hu, en := e.Report.Verdict.Indication.Words()
	return fmt.Sprintf("a csomag kezdeti ellenőrzése nem érvényes (%s, %s), nem küldöm el / the package's initial check is not valid (%s, %s): not sent",
		hu, e.Report.Verdict.Sub, en, e.Report.Verdict.Sub)
}

// ErrTryLater ends a send whose attempts all failed for now, or whose next attempt would be later
// than Retry.MaxWait allows. Nothing was acknowledged.
type ErrTryLater struct {
	After time.Time // the earliest sensible retry
	Last  workspace.Attempt
}

func (e *ErrTryLater) Error() string {
	return fmt.Sprintf("a pénztár most nem nyugtázta a csomagot (utolsó kísérlet: %s); próbálja újra %s után / the fund did not acknowledge the "+
		"package now (last attempt: %s); try again after %s", e.Last.Detail, e.After.UTC().Format(time.RFC3339), e.Last.Detail, e.After.UTC().Format(time.RFC3339))
}

// ErrRefused is an HTTP answer that retrying cannot change (a 4xx other than 408 and 429).
type ErrRefused struct{ Last workspace.Attempt }

func (e *ErrRefused) Error() string {
	return fmt.Sprintf("a pénztár fogadója elutasította a kérést (HTTP %d: %s) / the fund's receiver refused the request (HTTP %d: %s)",
		e.Last.HTTPStatus, e.Last.Detail, e.Last.HTTPStatus, e.Last.Detail)
}

// Result is what Send did.
type Result struct {
	Package workspace.Package
	// Check is the initial check that allowed sending.
	Check *report.Document
	// Attempts are this run's send-log entries.
	Attempts []workspace.Attempt
	// Receipt is the stored receipt with its verification; ReceiptReport the report, Content the
	// decoded receipt (nil when its signature did not allow reading it).
	Receipt       *workspace.Receipt
	ReceiptReport *report.Document
	Content       *receipt.Receipt
	Notifications []workspace.Notification
	Container     *workspace.Container
}

// Send sends one package (its bytes and the file name it is sent under). See the package
// documentation for the order of things; every refusal is one of this package's error types.
func (s *Sender) Send(ctx context.Context, data []byte, fileName string) (*Result, error) {
	if s.WS == nil || s.Transport == nil || s.Env == nil || s.Schemas == nil {
		return nil, errors.New("outbox: sender not configured")
	}
	sum := sha256.Sum256(data)
	if r, err := s.WS.ReceiptFor(ctx, sum); err == nil {
		p, _ := s.WS.Package(ctx, sum)
		e := &ErrAlreadySent{Receipt: *r}
		if p != nil {
			e.Package = *p
		}
		return nil, e
	} else if !errors.Is(err, workspace.ErrNotFound) {
		return nil, err
	}

	vd := &xades.ValidationData{}
	v, err := pack.Verify(ctx, data, pack.VerifyOptions{Env: s.Env, Schemas: s.Schemas, Now: s.now(), FileName: fileName,
		RequireName: true, Logger: s.Logger, Collect: vd})
	if err != nil {
		return nil, err
	}
	if v.Report.Verdict.Indication != report.TotalPassed || v.Metadata == nil {
		return nil, &ErrNotValid{Report: v.Report}
	}
	if err := s.checkSubmission(ctx, sum, v.Metadata.ID); err != nil {
		return nil, err
	}

	pkg := workspace.Package{SHA256: sum, Name: fileName, SubmissionID: v.Metadata.ID, Size: int64(len(data)), Added: s.now().UTC()}
	if err := s.WS.AddPackage(ctx, pkg, data); err != nil {
		return nil, err
	}
	if stored, err := s.WS.Package(ctx, sum); err == nil {
		pkg = *stored
	}
	repJSON, _ := json.Marshal(v.Report)
	if err := s.WS.SetPackageCheck(ctx, sum, workspace.PackageCheck{Checked: s.now().UTC(), Report: repJSON, Validation: EncodeValidationData(vd)}); err != nil {
		return nil, err
	}
	res := &Result{Package: pkg, Check: v.Report}

	body, err := s.attempts(ctx, res, data)
	if err != nil {
		return res, err
	}
	if err := s.keepReceipt(ctx, res, body); err != nil {
		return res, err
	}
	if ri := res.ReceiptReport.Verdict; s.Retry.FinalWait > 0 && ri.Indication == report.Indeterminate && ri.Sub == report.TryLater && res.Receipt.Problem == "" {
		if wait := res.ReceiptReport.EarliestFinal.Sub(s.now()); wait > 0 && wait <= s.Retry.FinalWait {
			// A second's margin: the evidence must be issued after the grace period's end.
			if err := s.sleep(ctx, wait+time.Second); err != nil {
				return res, err
			}
		}
		rc, err := s.Recheck(ctx, sum)
		if err != nil {
			return res, err
		}
		res.Receipt, res.ReceiptReport, res.Content, res.Container = rc.Receipt, rc.Report, rc.Content, rc.Container
	}
	return res, nil
}

// checkSubmission refuses a package whose submission id another sent package already used, unless
// that one was rejected by the fund.
func (s *Sender) checkSubmission(ctx context.Context, sum [32]byte, id string) error {
	others, err := s.WS.PackagesBySubmission(ctx, id)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.SHA256 == sum {
			continue
		}
		r, err := s.WS.ReceiptFor(ctx, o.SHA256)
		if errors.Is(err, workspace.ErrNotFound) {
			atts, err := s.WS.Attempts(ctx, o.SHA256)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(atts, mayHaveBeenRecorded) {
				return &ErrDuplicateSubmission{SubmissionID: id, Other: o}
			}
			continue
		}
		if err != nil {
			return err
		}
		if r.Result == string(receipt.Rejected) && !r.Flagged() {
			continue
		}
		return &ErrDuplicateSubmission{SubmissionID: id, Other: o, Receipt: r}
	}
	return nil
}

// mayHaveBeenRecorded reports whether the fund may hold the upload of attempt a although no receipt
// came back: the answer was lost (a network error), or may not be the receiver's own (a response that
// is not a receipt package; any 5xx, even one carrying an R001 "not accepted, retry", whose signature
// nothing here has checked). Only a 4xx without a receipt says the upload was not taken.
func mayHaveBeenRecorded(a workspace.Attempt) bool {
	switch a.Outcome {
	case workspace.OutcomeNetwork, workspace.OutcomeBadResponse:
		return true
	case workspace.OutcomeHTTP:
		return a.HTTPStatus >= 500 || a.HTTPStatus < 400
	}
	return false
}

// attempts uploads until a receipt package comes back, and returns its bytes.
func (s *Sender) attempts(ctx context.Context, res *Result, data []byte) ([]byte, error) {
	rp := s.Retry.withDefaults()
	var last workspace.Attempt
	for i := 1; ; i++ {
		a := workspace.Attempt{Package: res.Package.SHA256, Started: s.now().UTC(), URL: s.Transport.URL()}
		ans, err := s.Transport.Upload(ctx, res.Package.Name, data)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var keep []byte
		retry, final := false, false
		var wait time.Duration
		switch {
		case err != nil:
			a.Outcome, a.Detail, retry = workspace.OutcomeNetwork, clip(err.Error(), 1000), true
		default:
			a.HTTPStatus = ans.Status
			wait = ans.RetryAfter
			isReceipt := looksLikeReceipt(ans.Body)
			switch {
			case (ans.Status == 200 || ans.Status == 413) && isReceipt:
				a.Outcome, a.Detail, final = workspace.OutcomeReceipt, "nyugta / receipt", true
				keep = ans.Body
			case ans.Status == 200 || ans.Status == 413:
				a.Outcome, a.Detail, retry = workspace.OutcomeBadResponse, "nem nyugtacsomag / not a receipt package: "+snippet(ans.Body), true
				keep = ans.Body
			default:
				a.Outcome = workspace.OutcomeHTTP
				if isReceipt {
					// An R001 "not accepted, retry" receipt (503: the fund's TSA is down; 500): kept as the fund's
					// signed word, never taken for a receipt.
					a.Detail = "R001: a pénztár nem nyugtázta, ismételni kell / R001: not acknowledged by the fund, to be retried"
					keep = ans.Body
				} else {
					a.Detail = snippet(ans.Body)
				}
				retry = ans.Status == 408 || ans.Status == 429 || ans.Status >= 500
			}
			if ans.RetryAfter > 0 {
				a.Detail += fmt.Sprintf(" (Retry-After %s)", ans.RetryAfter)
			}
		}
		seq, aerr := s.WS.AddAttempt(ctx, a, keep)
		if aerr != nil {
			return nil, aerr
		}
		a.Seq = seq
		if keep != nil {
			sum := sha256.Sum256(keep)
			a.Answer = &sum
		}
		res.Attempts = append(res.Attempts, a)
		last = a
		if s.Events != nil {
			s.Events(Event{Attempt: &a})
		}
		if final {
			return ans.Body, nil
		}
		if !retry {
			return nil, &ErrRefused{Last: a}
		}
		if wait <= 0 {
			wait = rp.Backoff << min(i-1, 16)
			wait = min(wait, rp.MaxWait)
		}
		if wait > rp.MaxWait || i >= rp.Attempts {
			return nil, &ErrTryLater{After: s.now().Add(wait), Last: last}
		}
		if err := s.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// looksLikeReceipt reports whether b parses strictly as a dossier with one nyugta.xml document: a
// receipt package, whatever its signature says (that is for the receipt check).
func looksLikeReceipt(b []byte) bool {
	if len(b) == 0 || len(b) > receipt.MaxBytes+receipt.MaxBytes/2 {
		return false
	}
	d, err := es3.Parse(b, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		return false
	}
	defer d.Close()
	return len(d.Documents) == 1 && d.Documents[0].Title == receiptpkg.DocumentTitle
}

func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b[:min(len(b), 300)]), "?")
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "(üres válasz / empty answer)"
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// receiptCheck verifies a receipt package for pkg (SND-29) and returns its record (not yet stored),
// the decoded receipt (nil when unreadable) and the report.
func (s *Sender) receiptCheck(ctx context.Context, pkg workspace.Package, data []byte, received time.Time) (*workspace.Receipt, *receipt.Receipt, *report.Document, error) {
	vd := &xades.ValidationData{}
	now := s.now()
	want := ""
	if n, err := pkgname.Parse(pkg.Name); err == nil {
		want = pkgname.ReceiptName(n).String()
	}
	r, rep, err := receiptpkg.Verify(ctx, data, receiptpkg.VerifyOptions{Env: s.Env, Now: now, Schemas: s.Schemas, FileName: want,
		Logger: s.Logger, Collect: vd})
	if rep == nil {
		return nil, nil, nil, err
	}
	rec := &workspace.Receipt{SHA256: sha256.Sum256(data), Package: pkg.SHA256, Name: want, Received: received.UTC(), Checked: now.UTC(),
		State: rep.Verdict.Indication.State(), Indication: string(rep.Verdict.Indication), SubIndication: string(rep.Verdict.Sub),
		Validation: EncodeValidationData(vd)}
	var problems []string
	switch {
	case rep.Verdict.Indication == report.TotalFailed:
		problems = append(problems, "a pénztár aláírása a nyugtán ÉRVÉNYTELEN / the fund's signature on the receipt is INVALID: "+codes(rep))
	case r == nil:
		problems = append(problems, "a nyugta tartalma nem olvasható / the receipt's content cannot be read: "+errText(err))
	}
	if r != nil {
		rec.ReceiptID, rec.Result = r.ID, string(r.Result)
		if n, err := receiptpkg.FileName(r); err == nil {
			rec.Name = n
		}
		if r.Package.SHA256 != pkg.SHA256 || r.Package.FileName != pkg.Name {
			problems = append(problems, fmt.Sprintf("a nyugta más csomagról szól (%s) / the receipt is about another package (%s)", r.Package.FileName, r.Package.FileName))
		}
	}
	if rec.Name == "" {
		rec.Name = fmt.Sprintf("TBN_ismeretlen_%x.es3", rec.SHA256[:8])
	}
	rec.Problem = strings.Join(problems, "; ")
	rec.Report, _ = json.Marshal(rep)
	return rec, r, rep, nil
}

func errText(err error) string {
	if err == nil {
		return "–"
	}
	return err.Error()
}

// codes lists a report's E0 codes with their English texts.
func codes(rep *report.Document) string {
	var out []string
	seen := map[errcode.Code]bool{}
	add := func(fs []errcode.Finding) {
		for _, f := range fs {
			if f.Severity == errcode.Error && !seen[f.Code] {
				seen[f.Code] = true
				out = append(out, string(f.Code))
			}
		}
	}
	add(rep.Verdict.Findings)
	for _, s := range rep.Signatures {
		add(s.Verdict.Findings)
	}
	if len(out) == 0 {
		return string(rep.Verdict.Sub)
	}
	return strings.Join(out, ", ") + " (" + string(rep.Verdict.Sub) + ")"
}

// keepReceipt verifies, stores and (when flagged) notifies about the receipt that came back, then
// builds the container.
func (s *Sender) keepReceipt(ctx context.Context, res *Result, body []byte) error {
	rec, content, rep, err := s.receiptCheck(ctx, res.Package, body, s.now())
	if err != nil {
		return err
	}
	if err := s.WS.PutReceipt(ctx, *rec, body); err != nil {
		return err
	}
	res.Receipt, res.Content, res.ReceiptReport = rec, content, rep
	if rec.Flagged() {
		ns, err := s.notify(ctx, res.Package, rec)
		if err != nil {
			return err
		}
		res.Notifications = ns
	}
	c, err := s.BuildContainer(ctx, res.Package.SHA256)
	if err != nil {
		return err
	}
	res.Container = c
	return nil
}

// Recheck is the result of checking a stored receipt again.
type Recheck struct {
	Receipt   *workspace.Receipt
	Report    *report.Document
	Content   *receipt.Receipt
	Changed   bool // the verdict or the validation data changed: a new container version was built
	Container *workspace.Container
}

// Recheck verifies a package's stored receipt again (after its grace period the verdict can become
// final) and, when anything changed, stores the new result and builds a new container version. A
// receipt flagged before stays flagged (and notified): the fund's answer was defective when it came.
func (s *Sender) Recheck(ctx context.Context, pkgSum [32]byte) (*Recheck, error) {
	pkg, err := s.WS.Package(ctx, pkgSum)
	if err != nil {
		return nil, err
	}
	old, err := s.WS.ReceiptFor(ctx, pkgSum)
	if err != nil {
		return nil, err
	}
	body, err := s.WS.Blob(old.SHA256)
	if err != nil {
		return nil, err
	}
	rec, content, rep, err := s.receiptCheck(ctx, *pkg, body, old.Received)
	if err != nil {
		return nil, err
	}
	if old.Problem != "" && rec.Problem == "" {
		rec.Problem = old.Problem
	}
	out := &Recheck{Receipt: rec, Report: rep, Content: content}
	out.Changed = rec.Indication != old.Indication || rec.SubIndication != old.SubIndication || string(rec.Validation) != string(old.Validation)
	if err := s.WS.PutReceipt(ctx, *rec, body); err != nil {
		return nil, err
	}
	if rec.Flagged() && !old.Flagged() {
		if _, err := s.notify(ctx, *pkg, rec); err != nil {
			return nil, err
		}
		out.Changed = true
	}
	if out.Changed {
		if out.Container, err = s.BuildContainer(ctx, pkgSum); err != nil {
			return nil, err
		}
	} else if c, err := s.WS.LatestContainer(ctx, pkgSum); err == nil {
		out.Container = c
	}
	return out, nil
}
