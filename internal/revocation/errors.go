package revocation

import (
	"errors"
	"fmt"
	"strings"
)

// The two kinds every error of this package belongs to. Callers decide on the kind: unavailable
// evidence means "try again later" (SPEC §7 A011, incomplete); invalid evidence means somebody handed
// us a response or CRL that must not be believed.
var (
	// ErrUnavailable: no evidence could be obtained (network failure, HTTP error, timeout, responder
	// error status such as tryLater, no URL in the certificate, response larger than the limit).
	ErrUnavailable = errors.New("revocation: evidence unavailable")
	// ErrInvalidEvidence: evidence was obtained but fails verification.
	ErrInvalidEvidence = errors.New("revocation: invalid evidence")
)

// Specific reasons, each wrapped in an *Error of one of the two kinds.
var (
	// ErrNoSource: the certificate names no usable OCSP responder or CRL distribution point, and no
	// source is configured for its issuer (unavailable).
	ErrNoSource = errors.New("no usable revocation source in the certificate")
	// ErrHTTP: transport failure or non-200 answer (unavailable).
	ErrHTTP = errors.New("HTTP request failed")
	// ErrTooLarge: the response exceeds the configured size limit (unavailable).
	ErrTooLarge = errors.New("response exceeds the size limit")
	// ErrResponderStatus: the OCSP responder answered with a non-successful status such as tryLater
	// (unavailable).
	ErrResponderStatus = errors.New("OCSP responder returned an error status")

	// ErrMalformed: not DER of the expected syntax (invalid).
	ErrMalformed = errors.New("malformed response")
	// ErrBadSignature: the signature over the response or CRL does not verify (invalid).
	ErrBadSignature = errors.New("signature does not verify")
	// ErrUnauthorizedResponder: the OCSP response is signed neither by the certificate's issuer nor by
	// a responder certificate issued directly by it with EKU OCSPSigning, valid when the response was
	// produced (RFC 6960 §4.2.2.2) (invalid).
	ErrUnauthorizedResponder = errors.New("OCSP response signed by an unauthorized responder")
	// ErrCertIDMismatch: no single response is about the requested issuer name, issuer key and
	// serial (invalid).
	ErrCertIDMismatch = errors.New("OCSP response is not about the requested certificate")
	// ErrNonceMismatch: the response carries a nonce other than the one sent (invalid); with
	// NonceRequired, a missing nonce also gives this error.
	ErrNonceMismatch = errors.New("OCSP nonce mismatch")
	// ErrStale: the evidence is past its nextUpdate, older than the maximum age, or produced in the
	// future, relative to the validation time (invalid).
	ErrStale = errors.New("evidence is not fresh at the validation time")
	// ErrWrongIssuer: the CRL is issued by someone other than the certificate's issuer (invalid).
	ErrWrongIssuer = errors.New("CRL issuer is not the certificate's issuer")
	// ErrScope: the CRL does not cover the certificate (issuingDistributionPoint says user-only,
	// CA-only, attribute certificates, only some reasons, another distribution point) or is an
	// indirect CRL, which Tagdíj does not accept (invalid).
	ErrScope = errors.New("CRL scope does not cover the certificate")
	// ErrDeltaCRL: a delta CRL was offered where a complete CRL is required (invalid).
	ErrDeltaCRL = errors.New("delta CRL is not a complete CRL")
	// ErrUnsupported: an unrecognised critical extension (invalid).
	ErrUnsupported = errors.New("unsupported critical extension")
)

// Error is the error type of this package: what failed (Err), of which kind (ErrUnavailable or
// ErrInvalidEvidence), for which method and URL. errors.Is matches both the kind and the reason.
type Error struct {
	Kind   error // ErrUnavailable or ErrInvalidEvidence
	Method Method
	URL    string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("revocation: ")
	b.WriteString(e.Method.String())
	if e.URL != "" {
		b.WriteString(" ")
		b.WriteString(e.URL)
	}
	if e.Kind == ErrUnavailable {
		b.WriteString(": unavailable: ")
	} else {
		b.WriteString(": invalid evidence: ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the kind and the reason, so errors.Is works for both.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

func invalid(m Method, url string, reason error, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalidEvidence, Method: m, URL: url, Err: wrapf(reason, format, args...)}
}

func unavailable(m Method, url string, reason error, format string, args ...any) *Error {
	return &Error{Kind: ErrUnavailable, Method: m, URL: url, Err: wrapf(reason, format, args...)}
}

func wrapf(reason error, format string, args ...any) error {
	if format == "" {
		return reason
	}
	return fmt.Errorf("%w: %s", reason, fmt.Sprintf(format, args...))
}

// CheckError is what Checker.Check returns when no method produced evidence. It keeps every
// attempt; errors.Is sees only the attempts of the dominant kind: ErrInvalidEvidence when any
// attempt produced invalid evidence (someone served something unbelievable, which must not be
// reported as a mere outage), ErrUnavailable when all attempts were unavailable.
type CheckError struct {
	Attempts []error
}

func (e *CheckError) Error() string {
	msgs := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		msgs[i] = a.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the attempts of the dominant kind.
func (e *CheckError) Unwrap() []error {
	var inv []error
	for _, a := range e.Attempts {
		if errors.Is(a, ErrInvalidEvidence) {
			inv = append(inv, a)
		}
	}
	if len(inv) > 0 {
		return inv
	}
	return e.Attempts
}
