package pathval

import (
	"errors"

	"github.com/tagdij/tagdij/internal/errcode"
)

// codedError is the type of this package's sentinels: an error with its SPEC §7 code.
type codedError struct {
	code errcode.Code
	msg  string
}

func (e *codedError) Error() string { return "pathval: " + e.msg }

// Sentinel errors. Validate wraps them with detail (which certificate, what was wrong); test with
// errors.Is and get the SPEC §7 code with Code.
var (
	// ErrNoChain: no chain from the certificate to an anchor of the purpose (A003).
	ErrNoChain error = &codedError{errcode.A003, "no certificate chain to an accepted trust anchor"}
	// ErrAnchorPurpose: the anchors passed are for another purpose (A003). A TLS anchor pool never
	// validates a receipt signer, a signer pool never validates a TSA, and so on.
	ErrAnchorPurpose error = &codedError{errcode.A003, "trust anchors are for another purpose"}
	// ErrNotCA: a certificate in the issuer position is not a CA (basicConstraints cA false or
	// absent, or keyUsage without keyCertSign) (A003).
	ErrNotCA error = &codedError{errcode.A003, "issuer certificate is not a CA"}
	// ErrPathLen: a CA's pathLenConstraint is exceeded (A003).
	ErrPathLen error = &codedError{errcode.A003, "path length constraint exceeded"}
	// ErrUsage: the end certificate's key usage or extended key usage does not allow the purpose (A003).
	ErrUsage error = &codedError{errcode.A003, "certificate not usable for this purpose"}
	// ErrNotQualified: a signer certificate without QcCompliance and QcSSCD (A004).
	ErrNotQualified error = &codedError{errcode.A004, "signer certificate is not qualified"}
	// ErrRevoked: a certificate of the chain was revoked at or before the validation time (A005).
	ErrRevoked error = &codedError{errcode.A005, "certificate revoked at or before the validation time"}
	// ErrNotValidAtT: a certificate of the chain is expired or not yet valid at the validation time (A006).
	ErrNotValidAtT error = &codedError{errcode.A006, "certificate not valid at the validation time"}
	// ErrAlgorithm: a forbidden signature algorithm (MD5, SHA-1) or a key below the minimum size or
	// on a curve not allowed (A013).
	ErrAlgorithm error = &codedError{errcode.A013, "algorithm or key size not accepted"}
	// ErrRevocationUnknown: the OCSP responder does not know a certificate of the chain (A011).
	ErrRevocationUnknown error = &codedError{errcode.A011, "revocation status unknown"}
	// ErrRevocationUnavailable: no revocation evidence could be obtained (A011: incomplete, retry).
	ErrRevocationUnavailable error = &codedError{errcode.A011, "revocation evidence unavailable"}
	// ErrRevocationInvalid: the revocation evidence obtained failed verification (A011: the status
	// cannot be determined; the detail says why).
	ErrRevocationInvalid error = &codedError{errcode.A011, "revocation evidence invalid"}
	// ErrConfig: the caller's options are unusable (no anchors, no validation time). No code: it is
	// a programming or configuration error, not a finding about the certificate.
	ErrConfig = errors.New("pathval: invalid options")
)

// Code returns the SPEC §7 error code of err ("A003" …), or "" when err carries none.
func Code(err error) string {
	var ce *codedError
	if errors.As(err, &ce) {
		return string(ce.code)
	}
	return ""
}
