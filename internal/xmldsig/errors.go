package xmldsig

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error this package returns for a rule it enforces matches one of them with
// errors.Is.
var (
	// ErrUnsupported: a construct this implementation refuses by design (an external or XPointer
	// reference, an XPath/XSLT transform, RetrievalMethod, an unsupported algorithm).
	ErrUnsupported = errors.New("xmldsig: unsupported")
	// ErrUnsupportedAlgorithm: an algorithm URI this implementation does not implement. It also
	// matches ErrUnsupported.
	ErrUnsupportedAlgorithm = errors.New("xmldsig: unsupported algorithm")
	// ErrMalformed: the signature does not have the structure XMLDSig requires.
	ErrMalformed = errors.New("xmldsig: malformed signature")
	// ErrDuplicateID: an identifier is carried by more than one element (signature wrapping).
	ErrDuplicateID = errors.New("xmldsig: duplicate identifier")
	// ErrReference: a reference does not resolve to exactly one element.
	ErrReference = errors.New("xmldsig: unresolvable reference")
	// ErrDigestMismatch: a reference's digest differs from its DigestValue.
	ErrDigestMismatch = errors.New("xmldsig: digest mismatch")
	// ErrSignatureInvalid: the SignatureValue does not verify under the key.
	ErrSignatureInvalid = errors.New("xmldsig: signature value invalid")
	// ErrKey: no usable key, or a key that does not fit the algorithm or the size policy.
	ErrKey = errors.New("xmldsig: unusable key")
	// ErrLimit: more signatures, references or transforms than VerifyOptions allow.
	ErrLimit = errors.New("xmldsig: limit exceeded")
	// ErrNotFound: no signature (or none with the requested Id).
	ErrNotFound = errors.New("xmldsig: signature not found")
)

// UnsupportedAlgorithmError names an algorithm URI that is not implemented (or refused by design, as
// XPath and XSLT transforms are). It matches both ErrUnsupportedAlgorithm and ErrUnsupported.
type UnsupportedAlgorithmError struct {
	URI  string
	Role string // "signature", "digest", "transform", "canonicalization"
}

func (e *UnsupportedAlgorithmError) Error() string {
	return fmt.Sprintf("xmldsig: unsupported algorithm %s (%s)", e.URI, e.Role)
}

// Is matches ErrUnsupportedAlgorithm and ErrUnsupported.
func (e *UnsupportedAlgorithmError) Is(target error) bool {
	return target == ErrUnsupportedAlgorithm || target == ErrUnsupported
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
