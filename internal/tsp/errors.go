package tsp

import (
	"errors"
	"fmt"
	"strings"
)

// kind is the type of this package's sentinel errors. Every error returned by
// Stamp, Verify, VerifyData and ParseToken that concerns the TSA, the TSP
// exchange or the token wraps exactly one kind (errors.Is works on them), so
// callers can tell the rules apart and Code can map them to Tagdíj codes.
type kind struct {
	en string // English text, also the Error() string
	hu string // Hungarian text for user-facing reports
}

func (k *kind) Error() string { return "tsp: " + k.en }

// The sentinel errors. Each names one rule; the wrapping error carries the
// detail (which field, which values).
var (
	// ErrMalformed: the response or token is not DER of the RFC 3161 / RFC 5652
	// structures, has trailing data, more than one signer, a wrong content
	// type, an unknown critical TSTInfo extension, or values out of range.
	ErrMalformed error = &kind{"malformed time-stamp response or token", "hibás formátumú időbélyeg-válasz vagy időbélyeg"}
	// ErrBadSignature: the CMS signature of the token does not verify, or its
	// message-digest attribute does not match the TSTInfo.
	ErrBadSignature error = &kind{"time-stamp token signature is invalid", "az időbélyeg aláírása érvénytelen"}
	// ErrCertIDMismatch: the signed SigningCertificate / SigningCertificateV2
	// attribute is missing or does not identify the certificate that signed
	// the token (ESSCertID binding, RFC 2634 / RFC 5035), or the TSTInfo tsa
	// name is not the signer's subject.
	ErrCertIDMismatch error = &kind{"time-stamp token is not bound to its signing certificate", "az időbélyeg nincs az aláíró tanúsítványhoz kötve"}
	// ErrNoCertificate: the certificate that signed the token is neither in
	// the token nor among the extra certificates given.
	ErrNoCertificate error = &kind{"time-stamp signing certificate not found", "az időbélyeg-szolgáltató tanúsítványa nem található"}
	// ErrNoTimestampEKU: the signing certificate is not a time-stamping
	// certificate as RFC 3161 §2.3 requires: the extended key usage extension
	// is missing, not critical, or lists anything besides id-kp-timeStamping;
	// or its key usage forbids digital signatures.
	ErrNoTimestampEKU error = &kind{"TSA certificate is not restricted to time stamping (critical EKU id-kp-timeStamping only)", "az időbélyeg-szolgáltató tanúsítványa nem kizárólag időbélyegzésre szól"}
	// ErrImprintMismatch: the token's message imprint (hash algorithm or
	// value) differs from the expected digest.
	ErrImprintMismatch error = &kind{"time-stamp message imprint does not match the data", "az időbélyeg lenyomata nem egyezik az adatéval"}
	// ErrNonceMismatch: the token's nonce is missing or differs from the
	// request's (replayed or misdirected response).
	ErrNonceMismatch error = &kind{"time-stamp nonce does not match the request", "az időbélyeg egyszeri azonosítója (nonce) nem egyezik a kérésével"}
	// ErrPolicyMismatch: the token was issued under another policy than the
	// one requested.
	ErrPolicyMismatch error = &kind{"time-stamp policy differs from the requested one", "az időbélyeg szabályzata eltér a kérttől"}
	// ErrAccuracy: the token has no accuracy although it is required, or its
	// accuracy is coarser than allowed.
	ErrAccuracy error = &kind{"time-stamp accuracy missing or too coarse", "az időbélyeg pontossága hiányzik vagy nem elegendő"}
	// ErrTimeSkew: genTime is too far from the local clock.
	ErrTimeSkew error = &kind{"time-stamp time too far from the local clock", "az időbélyeg ideje túl messze van a helyi órától"}
	// ErrTSAUntrusted: the ChainVerifier did not accept the TSA certificate
	// chain at genTime (unknown root, expired or not yet valid at genTime,
	// revoked, ...).
	ErrTSAUntrusted error = &kind{"TSA certificate chain not trusted at the time-stamp time", "az időbélyeg-szolgáltató tanúsítványlánca az időbélyeg idején nem megbízható"}
	// ErrWeakAlgorithm: a hash, signature algorithm or key size the policy
	// does not accept (SHA-1 digests, RSA < 2048 bits, unknown algorithms).
	ErrWeakAlgorithm error = &kind{"time-stamp uses an algorithm or key size that is not accepted", "az időbélyeg nem elfogadott algoritmust vagy kulcsméretet használ"}
	// ErrRejected: the TSA answered with a PKIStatus other than granted or
	// grantedWithMods. The error is a *RejectedError with the details.
	ErrRejected error = &kind{"TSA rejected the request", "az időbélyeg-szolgáltató elutasította a kérést"}
	// ErrUnavailable: the TSA could not be reached or answered with a
	// temporary HTTP failure (5xx, 429); retrying later may succeed.
	ErrUnavailable error = &kind{"TSA unavailable", "az időbélyeg-szolgáltató nem érhető el"}
	// ErrHTTPStatus: the TSA answered with a non-200, non-temporary HTTP
	// status.
	ErrHTTPStatus error = &kind{"TSA answered with an unexpected HTTP status", "az időbélyeg-szolgáltató váratlan HTTP-állapottal válaszolt"}
	// ErrContentType: the TSA's answer is not application/timestamp-reply.
	ErrContentType error = &kind{"TSA answer is not application/timestamp-reply", "az időbélyeg-szolgáltató válasza nem application/timestamp-reply"}
	// ErrTooLarge: the TSA's answer exceeds Client.MaxResponseSize, or a
	// token exceeds MaxTokenSize.
	ErrTooLarge error = &kind{"time-stamp response too large", "az időbélyeg-válasz túl nagy"}
)

// Tagdíj error codes (SPEC §7) that Code returns.
const (
	CodeTimestamp   = "A007" // timestamp invalid / untrusted
	CodeAlgorithm   = "A013" // algorithm / key size
	CodeUnavailable = "R001" // temporary failure
)

// Code maps an error from this package to the Tagdíj error code of SPEC §7:
// R001 when the TSA was unavailable (worth a retry), A013 for a refused
// algorithm or key size, A007 for every other time-stamp failure, and ""
// for nil or an error that did not come from this package.
func Code(err error) string {
	var k *kind
	switch {
	case err == nil || !errors.As(err, &k):
		return ""
	case errors.Is(err, ErrUnavailable):
		return CodeUnavailable
	case errors.Is(err, ErrWeakAlgorithm):
		return CodeAlgorithm
	default:
		return CodeTimestamp
	}
}

// Messages returns a Hungarian and an English sentence for err, for receipts
// and reports. For errors not from this package both are err.Error().
func Messages(err error) (hu, en string) {
	var k *kind
	if err == nil {
		return "", ""
	}
	if !errors.As(err, &k) {
		return err.Error(), err.Error()
	}
	return "Időbélyeg: " + k.hu + ".", "Time stamp: " + k.en + "."
}

// failureNames are the PKIFailureInfo bits of RFC 3161 §2.4.2.
var failureNames = map[int]string{
	0: "badAlg", 2: "badRequest", 5: "badDataFormat", 14: "timeNotAvailable",
	15: "unacceptedPolicy", 16: "unacceptedExtension", 17: "addInfoNotAvailable",
	25: "systemFailure",
}

// statusNames are the PKIStatus values of RFC 3161 §2.4.2.
var statusNames = []string{"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"}

// RejectedError is returned when the TSA answered with a PKIStatus that
// carries no usable token. errors.Is(err, ErrRejected) holds for it.
type RejectedError struct {
	Status     int      // PKIStatus (2 rejection, 3 waiting, 4/5 revocation)
	FailInfo   []string // names of the PKIFailureInfo bits set, e.g. "badAlg"
	StatusText []string // the PKIFreeText the TSA sent, if any
}

func (e *RejectedError) Error() string {
	status := fmt.Sprintf("status %d", e.Status)
	if e.Status >= 0 && e.Status < len(statusNames) {
		status = fmt.Sprintf("status %s (%d)", statusNames[e.Status], e.Status)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tsp: TSA rejected the request: %s", status)
	if len(e.FailInfo) > 0 {
		fmt.Fprintf(&b, ", failure info %s", strings.Join(e.FailInfo, ","))
	}
	if len(e.StatusText) > 0 {
		fmt.Fprintf(&b, ", text %q", strings.Join(e.StatusText, "; "))
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrRejected) hold.
func (e *RejectedError) Unwrap() error { return ErrRejected }

// HTTPStatusError is returned when the TSA answers with an HTTP status other
// than 200. It unwraps to ErrUnavailable for 5xx and 429 (temporary) and to
// ErrHTTPStatus otherwise.
type HTTPStatusError struct {
	StatusCode int
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("tsp: TSA answered HTTP %d", e.StatusCode)
}

// Unwrap classifies the status as temporary or not.
func (e *HTTPStatusError) Unwrap() error {
	if e.StatusCode >= 500 || e.StatusCode == 429 {
		return ErrUnavailable
	}
	return ErrHTTPStatus
}

// errorf wraps a sentinel with detail: errorf(ErrMalformed, "x: %v", v).
func errorf(k error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", k, fmt.Sprintf(format, args...))
}
