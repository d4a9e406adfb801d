// Package intake is the fund receiver's business logic (SPEC §2, §3, §5, §6, §9; RCV-01…RCV-17): it
// takes one upload — a file name and a body — and returns the signed receipt to send back, after the
// package and its row are durably stored. It has no HTTP in it: the HTTP layer (internal/receiver)
// only maps requests to Submit and outcomes to responses, so every rule here is testable without a
// server.
//
// The pipeline, in this order (data flows one way: parse → verify → decide → store):
//
//  1. receive: the body is streamed to a temporary file under the size limit (T003 beyond it) while
//     hashed; the arrival time is when the whole body was there;
//  2. replay: a byte-identical re-upload gets the receipt stored for it, unchanged (idempotent retry);
//  3. name and extension (T001, T002; RCV-15);
//  4. the package: one parse, dossier structure, properties, signatures on the evidence available now
//     with the grace-period rule, time gaps against the arrival (pack.Verify: T005/T006, F-codes,
//     A-codes, F009 metadata, F010 name ≠ metadata); the receiver never decrypts or decompresses;
//  5. the registry (SPEC §6, B001–B005), on the signed metadata and the verified signers;
//  6. a submission id already accepted with other bytes (T004);
//  7. decide: accepted (BEFOGADVA) when no finding rejects and the pre-check is valid or incomplete
//     only for want of time (TRY_LATER: the grace period, revocation data not yet there); rejected
//     (ELUTASITVA) otherwise;
//  8. receipt: built, signed with the receipt key and time-stamped (ReceiptSigner); if that fails
//     nothing is stored and the upload is answered ErrUnavailable (retry later);
//  9. store: the blob is committed (fsync), then the package row, the receipt and, for an accepted
//     package, the processor's job are written in one transaction (Store.Record). Only then is the
//     receipt returned: acknowledged means durable.
package intake

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// ErrNotFound is what a Store returns when it holds nothing for a key.
var ErrNotFound = errors.New("intake: not found")

// ErrConflict is what Store.Record returns when another upload recorded the same package bytes, or
// accepted the same submission id, first (two uploads racing). Submit then answers as for a replay or
// a T004.
var ErrConflict = errors.New("intake: conflicting record")

// ErrUnavailable means the upload was not acknowledged because the fund cannot answer now (receipt
// key or TSA unavailable, store failing): nothing was recorded; the client should retry after
// Outcome.RetryAfter.
var ErrUnavailable = errors.New("intake: temporarily unavailable")

// Stored is a receipt as the store keeps it.
type Stored struct {
	ReceiptID string
	Name      string   // the receipt package's file name
	Bytes     []byte   // the signed receipt package
	Package   [32]byte // SHA-256 of the package it answers
	Accepted  bool
}

// Record is what one answered upload leaves in the store: the package row, its receipt and, for an
// accepted package, the processor's job due at EarliestFinal.
type Record struct {
	SHA256   [32]byte
	Size     int64
	FileName string // as received (already made printable by the receipt layer)
	Arrival  time.Time
	// BlobStored: the package bytes are in the blob store (false only for T003: the body was cut off).
	BlobStored bool
	Accepted   bool
	// The signed metadata, when they were read ("" otherwise).
	SubmissionID, DeclarantType, DeclarantID, Fund, Period, Type string
	// State is the pre-check state (ERVENYES, ERVENYTELEN, BEFEJEZETLEN).
	State receipt.State
	// EarliestFinal is when the final check may first succeed (accepted packages).
	EarliestFinal time.Time
	// Codes are the finding codes of the receipt, in order.
	Codes []errcode.Code
	// RegistrySheet is the id of the registration sheet the signer decision used ("" when none): a
	// later registry change never alters a decision already made.
	RegistrySheet string
	Receipt       Stored
}

// Store is what intake needs from storage. Implementations must make Record atomic and durable
// (committed to disk) before it returns nil, and must refuse with ErrConflict a second record of the
// same SHA256 and FileName, a second accepted record of the same SHA256, or a second accepted record
// of the same SubmissionID.
type Store interface {
	// ReceiptFor returns the receipt stored for an upload of these bytes under this file name, or
	// ErrNotFound. (The same bytes under another name are another upload: a corrected name must not
	// be answered with the old name's rejection.)
	ReceiptFor(ctx context.Context, sum [32]byte, fileName string) (*Stored, error)
	// AcceptedSubmission returns the hash of the accepted package carrying submissionID, or
	// ErrNotFound.
	AcceptedSubmission(ctx context.Context, submissionID string) ([32]byte, error)
	// Record stores rec atomically and durably.
	Record(ctx context.Context, rec *Record) error
}

// ReceiptSigner wraps a receipt into a signed, time-stamped receipt package (receiptpkg.Build with the
// fund's receipt key and TSA). An error means the receipt could not be signed now.
type ReceiptSigner interface {
	Sign(ctx context.Context, r *receipt.Receipt) (pkg []byte, name string, err error)
}

// Signers applies the registry's signer rules (SPEC §6) to a verified package.
type Signers interface {
	Decide(ctx context.Context, q SignerQuery) (*SignerDecision, error)
}

// SignerQuery asks whether a package's signatures satisfy the registry.
type SignerQuery struct {
	// Declarant and period from the signed metadata.
	IDType, ID, Fund, Period string
	// Arrival is when the package arrived: the registry as it stood then is applied.
	Arrival time.Time
	// Signatures are the package's signatures in document order.
	Signatures []report.Signature
}

// SignerDecision is the registry's answer.
type SignerDecision struct {
	// SheetID identifies the registration sheet applied ("" when the declarant is not registered).
	SheetID string
	// Findings are B001–B005 findings (E0); none when the signatures satisfy the registry.
	Findings []errcode.Finding
	// Roles has one role per query signature (receipt.NotRegistered for an unknown signer).
	Roles []receipt.Role
}

// Config is what a Service needs. Every field but Logger and Clock is required.
type Config struct {
	Fund    receipt.Fund
	Env     *trust.Env  // trust anchors, policy and online revocation for the pre-check
	Schemas *schema.Set // cs:Csomag metadata
	Blobs   *blob.Store
	Store   Store
	Signers Signers
	Receipt ReceiptSigner
	// MaxBytes is the largest package accepted (T003 beyond); the policy's package MaxSize caps it.
	MaxBytes int64
	// RetryAfter is what an ErrUnavailable outcome advises; zero: one minute.
	RetryAfter time.Duration
	// Clock is the time source (arrival times, validation); nil: time.Now.
	Clock func() time.Time
	// Logger receives one line per verified signature (RCV-13) and per decision; nil discards.
	Logger *slog.Logger
}

// Service is the intake pipeline. It is safe for concurrent use.
type Service struct {
	cfg Config
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Env == nil || cfg.Env.Policy == nil:
		return nil, errors.New("intake: no trust environment")
	case cfg.Schemas == nil || cfg.Blobs == nil || cfg.Store == nil || cfg.Signers == nil || cfg.Receipt == nil:
		return nil, errors.New("intake: schemas, blob store, store, registry and receipt signer are all required")
	case cfg.MaxBytes <= 0:
		return nil, errors.New("intake: no size limit")
	case len(cfg.Fund.Code) != 4:
		return nil, errors.New("intake: fund code must have 4 digits")
	}
	if rules, ok := cfg.Env.Policy.Document(policy.KindPackage); ok && rules.MaxSize > 0 && rules.MaxSize < cfg.MaxBytes {
		// The signature policy's package size limit is the law; the configuration may only be stricter.
		cfg.MaxBytes = rules.MaxSize
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Minute
	}
	return &Service{cfg: cfg}, nil
}

// Upload is one received request.
type Upload struct {
	// FileName is the name the client gave (Content-Disposition), unchecked.
	FileName string
	// Body is the package bytes.
	Body io.Reader
	// SizeHint is the announced length (Content-Length), or -1.
	SizeHint int64
	// Logger, when set, carries the request's context (request id, remote address).
	Logger *slog.Logger
}

// Kind says how an upload was answered.
type Kind string

// Outcome kinds.
const (
	Accepted Kind = "accepted"  // BEFOGADVA, stored, job queued
	Rejected Kind = "rejected"  // ELUTASITVA, stored
	TooLarge Kind = "too-large" // ELUTASITVA with T003; the body was cut off
	Replayed Kind = "replayed"  // a byte-identical re-upload: the stored receipt
)

// Outcome is the answer to one upload: the signed receipt package to send back.
type Outcome struct {
	Kind        Kind
	Receipt     []byte
	ReceiptName string
	ReceiptID   string
	SHA256      [32]byte
	Size        int64
	Codes       []errcode.Code
	// Truncated: the body was cut off at the size limit and the rest of it was not read (TooLarge, or
	// the replay of a T003 answer); the HTTP layer answers 413 and closes the connection.
	Truncated bool
	// RetryAfter is set with ErrUnavailable.
	RetryAfter time.Duration
	// Unacknowledged is a signed R001 receipt ("not accepted, retry") when one could be made with
	// ErrUnavailable; nil otherwise. It is never stored.
	Unacknowledged []byte
}

// Submit runs the pipeline on one upload. A nil error comes with an Outcome whose receipt is durably
// stored (or, for Replayed, was stored before). With ErrUnavailable the Outcome carries RetryAfter
// and nothing was recorded; any other error is a failure of the fund's side and nothing was recorded
// either.
func (s *Service) Submit(ctx context.Context, up Upload) (*Outcome, error) {
	log := s.cfg.Logger
	if up.Logger != nil {
		log = up.Logger
	}
	in, err := s.cfg.Blobs.Receive(up.Body, s.cfg.MaxBytes, up.SizeHint)
	if in != nil {
		defer in.Abort()
	}
	arrival := s.cfg.Clock()
	if errors.Is(err, blob.ErrTooLarge) {
		out, err := s.tooLarge(ctx, log, up.FileName, in, arrival)
		if out != nil {
			out.Truncated = true
		}
		return out, err
	}
	if err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	if st, err := s.cfg.Store.ReceiptFor(ctx, in.Sum, up.FileName); err == nil {
		return replay(st, in.Size()), nil
	} else if !errors.Is(err, ErrNotFound) {
		return s.unavailable(fmt.Errorf("store: %w", err))
	}
	out, err := s.decide(ctx, log, in, up.FileName, arrival)
	if errors.Is(err, ErrUnavailable) && out != nil {
		out.Unacknowledged = s.temporary(ctx, up.FileName, in, arrival)
	}
	return out, err
}

// tooLarge answers a body cut off at the size limit with a T003 rejection, or, when the same first
// MaxBytes+1 bytes were answered before, with that answer (a re-sent oversize package is a replay too).
func (s *Service) tooLarge(ctx context.Context, log *slog.Logger, fileName string, in *blob.Incoming, arrival time.Time) (*Outcome, error) {
	if st, err := s.cfg.Store.ReceiptFor(ctx, in.Sum, fileName); err == nil {
		return replay(st, in.Size()), nil
	} else if !errors.Is(err, ErrNotFound) {
		return s.unavailable(fmt.Errorf("store: %w", err))
	}
	f := errcode.New(errcode.T003, "", fmt.Sprintf("több mint %d bájt / more than %d bytes", s.cfg.MaxBytes, s.cfg.MaxBytes))
	rec := &Record{SHA256: in.Sum, Size: in.Size(), FileName: fileName, Arrival: arrival, State: receipt.Invalid}
	r := receipt.NewRejection(receipt.ReceivedPackage{FileName: fileName, Size: in.Size(), SHA256: in.Sum}, arrival, s.cfg.Fund, []errcode.Finding{f})
	return s.finish(ctx, log, nil, rec, r, TooLarge)
}

// TemporarySigner is a ReceiptSigner that can also sign the R001 "not accepted, retry later" answer
// without a time-stamp (when the TSA is what failed).
type TemporarySigner interface {
	SignUnstamped(ctx context.Context, r *receipt.Receipt) (pkg []byte, name string, err error)
}

// temporary signs an R001 receipt for an upload that was not acknowledged, if the key still signs:
// time-stamped when the TSA answers, else unstamped. It is never stored; nil when nothing could be
// signed.
func (s *Service) temporary(ctx context.Context, fileName string, in *blob.Incoming, arrival time.Time) []byte {
	f := errcode.New(errcode.R001, "", "a csomag NINCS befogadva, küldje újra később / the package was NOT accepted, send it again later")
	r := receipt.NewRejection(receipt.ReceivedPackage{FileName: fileName, Size: in.Size(), SHA256: in.Sum}, arrival, s.cfg.Fund, []errcode.Finding{f})
	if pkg, _, err := s.cfg.Receipt.Sign(ctx, r); err == nil {
		return pkg
	}
	if ts, ok := s.cfg.Receipt.(TemporarySigner); ok {
		if pkg, _, err := ts.SignUnstamped(ctx, r); err == nil {
			return pkg
		}
	}
	return nil
}

// KeySigner signs receipts with the fund's receipt key and time-stamps them (receiptpkg.Build).
type KeySigner struct {
	// Options carry the receipt key, its chain, the TLS certificates it must differ from (SEC-14),
	// the policy and the TSA client; Now is set per receipt from Clock.
	Options receiptpkg.BuildOptions
	// Clock is the signing time source; nil: time.Now.
	Clock func() time.Time
}

func (k *KeySigner) options() receiptpkg.BuildOptions {
	o := k.Options
	if k.Clock != nil {
		o.Now = k.Clock()
	} else {
		o.Now = time.Now()
	}
	return o
}

// Sign implements ReceiptSigner.
func (k *KeySigner) Sign(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	return receiptpkg.Build(ctx, r, k.options())
}

// SignUnstamped implements TemporarySigner.
func (k *KeySigner) SignUnstamped(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	o := k.options()
	o.Unstamped = true
	return receiptpkg.Build(ctx, r, o)
}

func replay(st *Stored, size int64) *Outcome {
	return &Outcome{Kind: Replayed, Receipt: st.Bytes, ReceiptName: st.Name, ReceiptID: st.ReceiptID, SHA256: st.Package, Size: size}
}

func (s *Service) unavailable(err error) (*Outcome, error) {
	return &Outcome{RetryAfter: s.cfg.RetryAfter}, fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// decide runs steps 3–7 and hands over to finish.
func (s *Service) decide(ctx context.Context, log *slog.Logger, in *blob.Incoming, fileName string, arrival time.Time) (*Outcome, error) {
	received := receipt.ReceivedPackage{FileName: fileName, Size: in.Size(), SHA256: in.Sum}
	rec := &Record{SHA256: in.Sum, Size: in.Size(), FileName: fileName, Arrival: arrival, BlobStored: true, State: receipt.Invalid}
	if _, err := pkgname.Parse(fileName); err != nil {
		var pe *pkgname.Error
		f := errcode.New(errcode.T001, "", err.Error())
		if errors.As(err, &pe) {
			f = pe.Finding()
		}
		return s.finish(ctx, log, in, rec, receipt.NewRejection(received, arrival, s.cfg.Fund, []errcode.Finding{f}), Rejected)
	}
	v, err := pack.Verify(ctx, in.Bytes, pack.VerifyOptions{Env: s.cfg.Env, Schemas: s.cfg.Schemas, Now: arrival, Arrival: arrival,
		FileName: fileName, RequireName: true, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("intake: verify: %w", err)
	}
	rep := v.Report
	findings := rep.AllFindings()
	pre := preCheck(rep, s.cfg.Env)
	rec.State = pre.State
	var declarant *receipt.Declarant
	if m := v.Metadata; m != nil {
		received.SubmissionID = m.ID
		if p, err := declaration.ParsePeriod(m.Period); err == nil {
			received.Period = p
		}
		received.Type = declaration.Type(m.Type)
		declarant = &receipt.Declarant{IDType: declaration.IDType(m.Declarant.IDType), ID: m.Declarant.ID, Name: m.Declarant.Name}
		rec.SubmissionID, rec.DeclarantType, rec.DeclarantID, rec.Fund, rec.Period, rec.Type = m.ID, m.Declarant.IDType, m.Declarant.ID, m.Fund, m.Period, m.Type

		dec, err := s.cfg.Signers.Decide(ctx, SignerQuery{IDType: m.Declarant.IDType, ID: m.Declarant.ID, Fund: m.Fund, Period: m.Period,
			Arrival: arrival, Signatures: rep.Signatures})
		if err != nil {
			return s.unavailable(fmt.Errorf("registry: %w", err))
		}
		rec.RegistrySheet = dec.SheetID
		findings = append(findings, dec.Findings...)
		for i := range pre.Signatures {
			if i < len(dec.Roles) {
				pre.Signatures[i].Role = dec.Roles[i]
			}
		}
		if other, err := s.cfg.Store.AcceptedSubmission(ctx, m.ID); err == nil && other != in.Sum {
			findings = append(findings, duplicateSubmission(m.ID, other))
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return s.unavailable(fmt.Errorf("store: %w", err))
		}
	}
	// An acceptance names the declarant from the signed metadata; without authenticated metadata
	// nothing is accepted, whatever the verdict says (pack.Verify fails such packages today; this keeps
	// a future verdict change from dereferencing nil on input).
	if declarant != nil && acceptable(rep, findings) {
		final := rep.EarliestFinal
		if final.IsZero() || final.Before(arrival) {
			final = arrival
		}
		rec.Accepted, rec.EarliestFinal = true, final
		r, err := receipt.NewAcceptance(received, arrival, s.cfg.Fund, *declarant, pre, final, asWarnings(findings))
		if err != nil {
			return nil, fmt.Errorf("intake: acceptance receipt: %w", err)
		}
		return s.finish(ctx, log, in, rec, r, Accepted)
	}
	r := receipt.NewRejection(received, arrival, s.cfg.Fund, findings)
	r.Declarant = declarant
	r.PreCheck = pre
	if r.PreCheck.State == receipt.Valid {
		// Valid signatures, rejected for another reason (registry, duplicate): the pre-check state
		// stays what the signatures are; the result says rejected.
		r.PreCheck.State = receipt.Valid
	}
	return s.finish(ctx, log, in, rec, r, Rejected)
}

func duplicateSubmission(id string, other [32]byte) errcode.Finding {
	return errcode.New(errcode.T004, "cs:Azonosito",
		fmt.Sprintf("%s: már befogadva más tartalommal (SHA-256 %s…) / already accepted with other content (SHA-256 %s…)",
			id, hex.EncodeToString(other[:6]), hex.EncodeToString(other[:6])))
}

// finish signs the receipt, commits the blob and records everything; only then is the outcome returned.
func (s *Service) finish(ctx context.Context, log *slog.Logger, in *blob.Incoming, rec *Record, r *receipt.Receipt, kind Kind) (*Outcome, error) {
	pkg, name, err := s.cfg.Receipt.Sign(ctx, r)
	if err != nil {
		log.Error("receipt not signed", slog.String("event", "intake.unavailable"), slog.String("error", err.Error()))
		return s.unavailable(fmt.Errorf("receipt: %w", err))
	}
	rec.Receipt = Stored{ReceiptID: r.ID, Name: name, Bytes: pkg, Package: rec.SHA256, Accepted: r.Result == receipt.Accepted}
	for _, f := range r.Errors {
		rec.Codes = append(rec.Codes, f.Code)
	}
	if in != nil && rec.BlobStored {
		if err := in.Commit(); err != nil {
			return s.unavailable(fmt.Errorf("blob: %w", err))
		}
	}
	if err := s.cfg.Store.Record(ctx, rec); err != nil {
		if errors.Is(err, ErrConflict) {
			return s.conflict(ctx, log, in, rec, r)
		}
		return s.unavailable(fmt.Errorf("store: %w", err))
	}
	log.Info("upload answered", slog.String("event", "intake.decided"), slog.String("outcome", string(kind)),
		slog.String("sha256", hex.EncodeToString(rec.SHA256[:])), slog.Int64("size", rec.Size), slog.String("receipt", r.ID),
		slog.String("state", string(rec.State)), slog.Any("codes", rec.Codes))
	return &Outcome{Kind: kind, Receipt: pkg, ReceiptName: name, ReceiptID: r.ID, SHA256: rec.SHA256, Size: rec.Size, Codes: rec.Codes}, nil
}

// conflict resolves a lost race: the same bytes recorded meanwhile (answer with that receipt), or the
// same submission id accepted meanwhile with other bytes (answer T004).
func (s *Service) conflict(ctx context.Context, log *slog.Logger, in *blob.Incoming, rec *Record, r *receipt.Receipt) (*Outcome, error) {
	if st, err := s.cfg.Store.ReceiptFor(ctx, rec.SHA256, rec.FileName); err == nil {
		return replay(st, rec.Size), nil
	}
	if !rec.Accepted || rec.SubmissionID == "" {
		return s.unavailable(errors.New("store: conflicting record"))
	}
	other, err := s.cfg.Store.AcceptedSubmission(ctx, rec.SubmissionID)
	if err != nil {
		return s.unavailable(fmt.Errorf("store: %w", err))
	}
	rej := receipt.NewRejection(r.Package, r.Arrival, r.Fund, []errcode.Finding{duplicateSubmission(rec.SubmissionID, other)})
	rej.Declarant = r.Declarant
	rej.PreCheck = r.PreCheck
	rec.Accepted, rec.EarliestFinal, rec.Codes = false, time.Time{}, nil
	return s.finish(ctx, log, in, rec, rej, Rejected)
}

// acceptable reports whether the upload is accepted: the pre-check is TOTAL-PASSED, or incomplete
// only for want of time (trust.OnlyWaiting: the grace period, revocation data not yet there), and no
// other finding rejects.
func acceptable(rep *report.Document, findings []errcode.Finding) bool {
	if rep.Verdict.Indication == report.TotalPassed {
		for _, f := range findings {
			if f.Severity == errcode.Error && !trust.Waitable(f.Code) {
				return false
			}
		}
		return true
	}
	return trust.OnlyWaiting(rep, findings)
}

// asWarnings keeps every finding of an accepted package, the waitable ones as W0 (they are why the
// pre-check is incomplete, not reasons to reject).
func asWarnings(findings []errcode.Finding) []errcode.Finding {
	out := make([]errcode.Finding, 0, len(findings))
	for _, f := range findings {
		if trust.Waitable(f.Code) {
			f.Severity = errcode.Warning
		}
		out = append(out, f)
	}
	return out
}

// preCheck maps the report onto the receipt's Elovizsgalat.
func preCheck(rep *report.Document, env *trust.Env) receipt.PreCheck {
	pc := receipt.PreCheck{State: receipt.StateOf(rep.Verdict.Indication)}
	if env != nil && env.Policy != nil {
		var sum [32]byte
		copy(sum[:], env.Policy.Digest())
		pc.Policy = &receipt.PolicyRef{ID: env.Policy.ID(), SHA256: sum}
	}
	for i, s := range rep.Signatures {
		if i == receipt.MaxSignatures {
			break
		}
		sr := receipt.SignatureResult{ID: s.ID, SigningTime: s.SigningTime, TimestampTime: s.TimestampTime,
			State: receipt.StateOf(s.Verdict.Indication)}
		sr.Indication = receipt.IndicationOf(sr.State)
		if sub := receipt.SubIndication(s.Verdict.Sub); sub.Valid() {
			sr.SubIndication = sub
		}
		if c := s.Certificate; c != nil {
			sr.Certificate = &receipt.CertificateRef{Subject: c.Subject.String(), Issuer: c.Issuer.String(), Serial: c.SerialNumber}
		}
		pc.Signatures = append(pc.Signatures, sr)
	}
	return pc
}

// Status is what the store knows about one received package (GET /v1/packages/{sha256}/status).
type Status struct {
	SHA256        [32]byte
	Arrival       time.Time
	Accepted      bool
	PreCheck      receipt.State
	Status        string // rejected, awaiting-final-check, then the processor's final states
	EarliestFinal time.Time
	ReceiptID     string
	SubmissionID  string
	Codes         []errcode.Code
	// Processing is the processor's record of an accepted package's final check; nil for a rejected
	// upload.
	Processing *Processing
}

// Processing is what the processor recorded about an accepted package (SPEC §9: awaiting the final
// check, final valid/invalid, processed).
type Processing struct {
	// Done reports that the final outcome is recorded (Status then says which).
	Done bool
	// Attempts counts the final-check attempts that ended without a final outcome.
	Attempts int
	// NextAttempt is when the final check is due (while not Done).
	NextAttempt time.Time
	// LastError is why the last attempt did not end final ("" when none did).
	LastError string
	// Alert is set while the signer certificate nears its notAfter and the package is not final.
	Alert string
	// FinalState is the final check's state; FinalCodes the codes of the final check and the content
	// check; Finished when the outcome was recorded; ArchiveID the archive entry.
	FinalState receipt.State
	FinalCodes []errcode.Code
	Finished   time.Time
	ArchiveID  string
}
