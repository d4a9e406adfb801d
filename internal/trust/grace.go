package trust

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/policy"
)

// MissingReason says why a certificate has no usable revocation evidence.
type MissingReason string

const (
	// ReasonNoLocation: the certificate names no usable OCSP or CRL location and the trust
	// configuration names no source for its issuer.
	ReasonNoLocation MissingReason = "no-location"
	// ReasonUnreachable: the sources tried (the certificate's own, the configured ones) did not
	// answer.
	ReasonUnreachable MissingReason = "unreachable"
	// ReasonNotCurrent: evidence was obtained but is not current: past its nextUpdate (or too old)
	// at the validation time or, embedded in the signature, expired before T.
	ReasonNotCurrent MissingReason = "not-current"
	// ReasonInvalid: evidence was obtained but failed verification (signature, responder, scope).
	ReasonInvalid MissingReason = "invalid"
	// ReasonGraceNotOver: the signer certificate's freshest evidence was issued before the grace
	// period ended (SPEC §3); it becomes final only on later evidence.
	ReasonGraceNotOver MissingReason = "grace-not-over"
	// ReasonOffline: the check is offline and the signature carries no evidence for the certificate.
	ReasonOffline MissingReason = "offline"
	// ReasonExpired: the certificate expired before the check and the signature carries no evidence
	// for it; CAs need not keep status information for expired certificates (PRC-05).
	ReasonExpired MissingReason = "expired"
)

// Text is the reason in Hungarian and English, for findings and advice.
func (r MissingReason) Text() (hu, en string) {
	switch r {
	case ReasonNoLocation:
		return "a tanúsítvány nem nevez meg visszavonási helyet (OCSP/CRL), és a bizalmi beállítás sem ad meg forrást a kibocsátójához",
			"the certificate names no revocation location (OCSP/CRL) and the trust configuration names no source for its issuer"
	case ReasonUnreachable:
		return "a visszavonási adat forrása nem érhető el", "its revocation source could not be reached"
	case ReasonNotCurrent:
		return "a kapott visszavonási adat nem aktuális", "the revocation evidence obtained is not current"
	case ReasonInvalid:
		return "a kapott visszavonási adat ellenőrzése nem sikerült", "the revocation evidence obtained failed verification"
	case ReasonGraceNotOver:
		return "a legfrissebb visszavonási adat a kivárási idő vége előtt keletkezett",
			"the freshest revocation evidence was issued before the grace period ended"
	case ReasonOffline:
		return "kapcsolat nélküli ellenőrzés, és az aláírás nem tartalmaz rá visszavonási adatot",
			"the check is offline and the signature carries no revocation evidence for it"
	case ReasonExpired:
		return "a tanúsítvány az ellenőrzés előtt lejárt, és az aláírás nem tartalmaz rá visszavonási adatot",
			"the certificate expired before the check and the signature carries no revocation evidence for it"
	}
	return "ismeretlen ok", "unknown reason"
}

// allReasons lists every reason, for ReasonOf.
func allReasons() []MissingReason {
	return []MissingReason{ReasonNoLocation, ReasonUnreachable, ReasonNotCurrent, ReasonInvalid, ReasonGraceNotOver,
		ReasonOffline, ReasonExpired}
}

// ReasonOf returns the reason of a finding CheckChain made for a certificate without usable
// evidence (an A011 or A012 whose text carries the reason, as MissingEvidence.Text words it), for
// callers that have only a report's findings; ok is false for any other finding.
func ReasonOf(f errcode.Finding) (r MissingReason, ok bool) {
	if f.Code != errcode.A011 && f.Code != errcode.A012 {
		return "", false
	}
	for _, r := range allReasons() {
		if _, en := r.Text(); strings.Contains(f.EN, en) {
			return r, true
		}
	}
	return "", false
}

// MissingEvidence names a certificate of a chain for which no usable revocation evidence was found,
// and why.
type MissingEvidence struct {
	// Subject and Issuer are the certificate's subject and issuer distinguished names.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// CA is true for a CA certificate of the chain, false for its end certificate (the signer's or
	// the time-stamping unit's).
	CA bool `json:"ca"`
	// Purpose is what the chain was validated for.
	Purpose pathval.Purpose `json:"-"`
	Reason  MissingReason   `json:"reason"`
	// Locations are the revocation locations the certificate names (OCSP, then CRL).
	Locations []string `json:"locations,omitempty"`
	// Configured reports that the trust configuration names a source for the certificate's issuer.
	Configured bool `json:"configured,omitempty"`
	// Detail is the technical account of what was tried.
	Detail string `json:"detail,omitempty"`

	index int // call order of the checker: position in the chain checked
}

// Location is the finding location of the certificate: the purpose for the end certificate
// ("signer", "TSA"), "<purpose> CA <subject>" for a CA certificate.
func (m MissingEvidence) Location() string {
	if !m.CA {
		return m.Purpose.String()
	}
	return m.Purpose.String() + " CA " + m.Subject
}

// Text describes the missing evidence in Hungarian and English, naming the certificate and the
// reason.
func (m MissingEvidence) Text() (hu, en string) {
	rh, re := m.Reason.Text()
	if m.CA {
		return fmt.Sprintf("a(z) „%s” CA-tanúsítványhoz nincs használható visszavonási adat: %s", m.Subject, rh),
			fmt.Sprintf("no usable revocation evidence for the CA certificate %q: %s", m.Subject, re)
	}
	return fmt.Sprintf("a(z) „%s” tanúsítványhoz nincs használható visszavonási adat: %s", m.Subject, rh),
		fmt.Sprintf("no usable revocation evidence for the certificate %q: %s", m.Subject, re)
}

// missingError carries a MissingEvidence through path validation to CheckChain; it unwraps to the
// error it describes, so pathval still tells invalid evidence from unavailable evidence.
type missingError struct {
	m   MissingEvidence
	err error
}

func (e *missingError) Error() string { return e.err.Error() }
func (e *missingError) Unwrap() error { return e.err }

// missingFinding is the verdict entry of m: A012 (TRY_LATER) when the signer certificate's evidence
// is only waiting for the grace period to end, or may still come before it ends; A011 otherwise
// (OUT_OF_BOUNDS_NO_POE for an expired certificate, TRY_LATER else).
func missingFinding(m MissingEvidence, q ChainQuery, earliest time.Time) (report.SubIndication, errcode.Finding) {
	hu, en := m.Text()
	detail := hu + " / " + en
	if m.Detail != "" && m.Reason != ReasonNoLocation { // for no location, what was tried adds nothing
		detail += "; " + m.Detail
	}
	code, sub := errcode.A011, report.TryLater
	switch {
	case m.Reason == ReasonExpired:
		sub = report.OutOfBoundsNoPOE
	case !m.CA && q.Purpose == pathval.PurposeSigner &&
		(m.Reason == ReasonGraceNotOver || q.Now.Before(earliest) && (m.Reason == ReasonUnreachable || m.Reason == ReasonOffline)):
		code = errcode.A012
	}
	return sub, errcode.New(code, m.Location(), detail)
}

// graceEnds returns T + the OCSP and CRL grace periods of the policy (zero for a method the policy
// does not use) and the earliest of them.
func (e *Env) graceEnds(T time.Time) (ocspAfter, crlAfter, earliest time.Time) {
	for _, r := range e.Policy.Revocation.Methods {
		end := T.Add(r.Grace)
		switch r.Method {
		case policy.OCSP:
			ocspAfter = end
		case policy.CRL:
			crlAfter = end
		default:
			continue
		}
		if earliest.IsZero() || end.Before(earliest) {
			earliest = end
		}
	}
	return ocspAfter, crlAfter, earliest
}

// graceChecker is the revocation source path validation uses for one CheckChain call: embedded
// evidence first, then the network (the certificate's own locations, then the configured sources).
// The signer certificate's evidence is accepted only if issued after its method's grace end; any
// other certificate's only if current (see the package documentation); evidence of a revocation at
// or before T always. It records every certificate it found no evidence for. One graceChecker
// serves one sequential validation; it is not shared.
type graceChecker struct {
	env                 *Env
	q                   ChainQuery
	ocspAfter, crlAfter time.Time
	calls               int
	missing             []MissingEvidence
}

// forever disables freshness checks on stored evidence: evidence kept in a signature is judged by when
// it was issued, not by whether it is still current. The two add up to 200 years, inside
// time.Duration's range of about 292.
const century = 100 * 365 * 24 * time.Hour

var forever = revocation.Freshness{MaxAge: century, Skew: century}

// Sentinels of graceChecker, classified into a MissingReason.
var (
	// errGraceNotOver marks signer evidence that exists but was issued before T + grace: usable only
	// to show a revocation at or before T, never to show the certificate was good.
	errGraceNotOver = errors.New("trust: revocation evidence issued before the grace period ended")
	// errAfterExpiry marks network evidence fetched after the certificate expired: CAs need not keep
	// status information for expired certificates, so such evidence cannot prove it was good (PRC-05).
	errAfterExpiry = errors.New("trust: certificate expired before the final check and the signature carries no evidence")
	// errEmbeddedExpired marks embedded CA or TSA evidence whose validity ended before T.
	errEmbeddedExpired = errors.New("trust: embedded revocation evidence expired before the time-stamp time")
	// errMethodRefused marks evidence of a method the policy does not accept.
	errMethodRefused = errors.New("trust: the policy does not accept this revocation method")
	// errOffline marks an offline check without embedded evidence for the certificate.
	errOffline = errors.New("trust: offline and the signature carries no revocation evidence")
)

// postGrace reports whether cert falls under the post-grace rule: it is the signer certificate.
func (g *graceChecker) postGrace(cert *x509.Certificate) bool {
	return g.q.Purpose == pathval.PurposeSigner && g.isLeaf(cert)
}

func (g *graceChecker) isLeaf(cert *x509.Certificate) bool {
	return g.q.Leaf != nil && bytes.Equal(cert.Raw, g.q.Leaf.Raw)
}

// usable judges evidence for cert. Evidence of a revocation at or before T is always usable. The
// signer certificate's evidence must be issued after its method's grace end. Other certificates'
// evidence, when embedded, must have been current at some moment at or after T; fetched, it was
// checked to be current by the revocation checker.
func (g *graceChecker) usable(cert *x509.Certificate, ev *revocation.Evidence, embedded bool) error {
	T := g.q.T
	if ev.RevokedAtOrBefore(T) {
		return nil
	}
	after := g.ocspAfter
	if ev.Method == revocation.MethodCRL {
		after = g.crlAfter
	}
	if !g.postGrace(cert) {
		if after.IsZero() {
			return fmt.Errorf("%w: %s", errMethodRefused, ev.Method)
		}
		if !embedded {
			return nil
		}
		until := ev.NextUpdate()
		if until.IsZero() {
			until = ev.ProducedAt()
		}
		if until.Before(T) {
			return fmt.Errorf("%w: %s issued %s, current until %s, T is %s", errEmbeddedExpired, ev.Method,
				ev.ProducedAt().UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339), T.UTC().Format(time.RFC3339))
		}
		return nil
	}
	if after.IsZero() {
		return fmt.Errorf("%w: the policy does not accept %s", errGraceNotOver, ev.Method)
	}
	if ev.ProducedAt().Before(after) {
		return fmt.Errorf("%w: %s issued %s, usable from %s", errGraceNotOver, ev.Method,
			ev.ProducedAt().UTC().Format(time.RFC3339), after.UTC().Format(time.RFC3339))
	}
	return nil
}

// Check implements pathval.RevocationChecker. Its errors are *missingError.
func (g *graceChecker) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (*revocation.Evidence, error) {
	index := g.calls
	g.calls++
	ev, err := g.check(ctx, cert, issuer, at)
	if err == nil {
		return ev, nil
	}
	m := MissingEvidence{Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), CA: !g.isLeaf(cert),
		Purpose: g.q.Purpose, Reason: classify(err), Detail: err.Error(), index: index,
		Locations: append(slices.Clone(cert.OCSPServer), cert.CRLDistributionPoints...)}
	if g.env.Online != nil {
		m.Configured = g.env.Online.HasSourceFor(issuer)
	}
	g.missing = append(g.missing, m)
	return nil, &missingError{m: m, err: err}
}

// EmbeddedURL is the Evidence.URL of evidence CheckChain took from ChainQuery.Embedded (the
// signature's own validation data) rather than from a network source or the cache: a caller adding
// validation data to a signature leaves such evidence out, it is there already.
const EmbeddedURL = "embedded"

// embedded returns the signature's evidence about cert: a revocation at or before T if any piece
// shows one (no other evidence can undo it), else the first usable piece; with the first reason a
// verifying piece was not usable.
func (g *graceChecker) embedded(cert, issuer *x509.Certificate, at time.Time) (*revocation.Evidence, error) {
	var found []*revocation.Evidence
	for _, der := range g.q.Embedded.OCSP {
		if ev, err := revocation.VerifyOCSP(der, cert, issuer, revocation.OCSPVerifyOptions{Now: at, Freshness: forever, URL: EmbeddedURL, SigCache: g.env.SigCache}); err == nil {
			found = append(found, ev)
		}
	}
	for _, der := range g.q.Embedded.CRL {
		if ev, err := revocation.VerifyCRL(der, cert, issuer, revocation.CRLVerifyOptions{Now: at, Freshness: forever, URL: EmbeddedURL, SigCache: g.env.SigCache}); err == nil {
			found = append(found, ev)
		}
	}
	// Evidence about another certificate of the chain, or not verifiable, was skipped above.
	for _, ev := range found {
		if ev.RevokedAtOrBefore(g.q.T) {
			return ev, nil
		}
	}
	var firstErr error
	for _, ev := range found {
		err := g.usable(cert, ev, true)
		if err == nil {
			return ev, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func (g *graceChecker) check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (*revocation.Evidence, error) {
	ev, embErr := g.embedded(cert, issuer, at)
	if ev != nil {
		return ev, nil
	}
	if g.env.Online == nil {
		if embErr != nil {
			return nil, embErr
		}
		return nil, fmt.Errorf("%w: %q", errOffline, cert.Subject)
	}
	query := revocation.Query{Cert: cert, Issuer: issuer, At: at}
	if g.postGrace(cert) {
		query.OCSPProducedAfter, query.CRLIssuedAfter = g.ocspAfter, g.crlAfter
	}
	ev, err := g.env.Online.CheckQuery(ctx, query)
	if err != nil {
		return nil, err
	}
	if uerr := g.usable(cert, ev, false); uerr != nil {
		return nil, uerr
	}
	if g.q.Now.After(cert.NotAfter) && !ev.RevokedAtOrBefore(g.q.T) {
		return nil, fmt.Errorf("%w: %q expired %s", errAfterExpiry, cert.Subject, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return ev, nil
}

// classify maps a graceChecker error to its reason.
func classify(err error) MissingReason {
	switch {
	case errors.Is(err, errGraceNotOver):
		return ReasonGraceNotOver
	case errors.Is(err, errAfterExpiry):
		return ReasonExpired
	case errors.Is(err, errEmbeddedExpired):
		return ReasonNotCurrent
	case errors.Is(err, errOffline):
		return ReasonOffline
	case errors.Is(err, errMethodRefused):
		return ReasonInvalid
	}
	attempts := []error{err}
	var ce *revocation.CheckError
	if errors.As(err, &ce) && len(ce.Attempts) > 0 {
		attempts = ce.Attempts
	}
	noSource, stale, invalid := true, false, false
	for _, a := range attempts {
		if !errors.Is(a, revocation.ErrNoSource) {
			noSource = false
		}
		switch {
		case errors.Is(a, revocation.ErrStale):
			stale = true
		case errors.Is(a, revocation.ErrInvalidEvidence):
			invalid = true
		}
	}
	switch {
	case noSource:
		return ReasonNoLocation
	case stale:
		return ReasonNotCurrent
	case invalid:
		return ReasonInvalid
	}
	return ReasonUnreachable
}

// Waitable reports whether a finding code is one that time resolves: revocation evidence not there
// yet (A011) or the grace period not over (A012).
func Waitable(c errcode.Code) bool { return c == errcode.A011 || c == errcode.A012 }

// OnlyWaiting reports whether rep is incomplete only for want of time: INDETERMINATE/TRY_LATER, every
// INDETERMINATE signature TRY_LATER, and every error among findings (the report's, plus whatever the
// caller adds) Waitable. The receiver accepts such a package for processing (RCV-05, DEF-10); the
// processor tries its final check again later.
func OnlyWaiting(rep *report.Document, findings []errcode.Finding) bool {
	if rep == nil || rep.Verdict.Indication != report.Indeterminate || rep.Verdict.Sub != report.TryLater {
		return false
	}
	for _, s := range rep.Signatures {
		if s.Verdict.Indication == report.Indeterminate && s.Verdict.Sub != report.TryLater {
			return false
		}
	}
	for _, f := range findings {
		if f.Severity == errcode.Error && !Waitable(f.Code) {
			return false
		}
	}
	return true
}
