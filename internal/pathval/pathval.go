// Package pathval validates certificate paths at a given time T (the signature's timestamp time,
// not "now"): chain building to trust anchors kept separately per purpose, basic constraints and
// path length, key usage per purpose, algorithm and key-size constraints, the qualified status of
// signers, and optionally the revocation status of every certificate of the chain at T (SIG-16,
// SND-22). Chains are built by crypto/x509; this package adds the checks x509 does not make and
// turns every failure into an error carrying its SPEC §7 code.
package pathval

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tagdij/tagdij/internal/qc"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/sigcache"
)

// Purpose is what a certificate is validated for. Each purpose has its own anchors and its own
// key-usage rules.
type Purpose int

const (
	// PurposeSigner: a qualified electronic signature (packages, receipts, exports). keyUsage
	// nonRepudiation or digitalSignature; never a TLS server certificate (SEC-14).
	PurposeSigner Purpose = iota + 1
	// PurposeTSA: an RFC 3161 time-stamping unit. EKU timeStamping, critical and alone (RFC 3161 §2.3).
	PurposeTSA
	// PurposeOCSPResponder: a delegated OCSP responder. EKU OCSPSigning.
	PurposeOCSPResponder
	// PurposeTLSServer: an HTTPS server. EKU serverAuth.
	PurposeTLSServer
)

func (p Purpose) String() string {
	switch p {
	case PurposeSigner:
		return "signer"
	case PurposeTSA:
		return "TSA"
	case PurposeOCSPResponder:
		return "OCSP responder"
	case PurposeTLSServer:
		return "TLS server"
	}
	return fmt.Sprintf("purpose(%d)", int(p))
}

// Anchors is a set of trust anchors bound to one purpose. Validate refuses anchors of another
// purpose, so a pool configured for TLS can never make a signer valid.
type Anchors struct {
	purpose Purpose
	roots   *sigcache.Roots
	certs   []*x509.Certificate
}

// NewAnchors returns the anchors certs for purpose p.
func NewAnchors(p Purpose, certs ...*x509.Certificate) *Anchors {
	a := &Anchors{purpose: p}
	for _, c := range certs {
		if c != nil {
			a.certs = append(a.certs, c)
		}
	}
	a.roots = sigcache.NewRoots(a.certs...)
	return a
}

// Purpose is the purpose the anchors were created for.
func (a *Anchors) Purpose() Purpose { return a.purpose }

// Certificates returns the anchor certificates.
func (a *Anchors) Certificates() []*x509.Certificate { return slices.Clone(a.certs) }

func (a *Anchors) contains(c *x509.Certificate) bool {
	for _, x := range a.certs {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// Algorithms are the algorithm and key-size constraints of the signature policy. Zero fields take
// the defaults of SPEC §2: RSA ≥ 2048 bits, ECDSA on P-256 or P-384, no MD2/MD5/SHA-1 signatures.
type Algorithms struct {
	// MinRSABits is the minimum RSA modulus size (2048 when zero).
	MinRSABits int
	// AllowedCurves are the accepted ECDSA curve names, as crypto/elliptic names them ("P-256",
	// "P-384", "P-521"); P-256 and P-384 when nil.
	AllowedCurves []string
	// ForbiddenSignatureAlgorithms may not sign any certificate of the chain except the anchor's
	// own self-signature (irrelevant to trust). MD2, MD5 and SHA-1 based algorithms when nil.
	ForbiddenSignatureAlgorithms []x509.SignatureAlgorithm
	// AllowEd25519 accepts Ed25519 keys.
	AllowEd25519 bool
}

var defaultForbidden = []x509.SignatureAlgorithm{x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA,
	x509.DSAWithSHA1, x509.ECDSAWithSHA1}

func (a Algorithms) forbidden(alg x509.SignatureAlgorithm) bool {
	list := a.ForbiddenSignatureAlgorithms
	if list == nil {
		list = defaultForbidden
	}
	return slices.Contains(list, alg)
}

// checkKey returns why the key of c is not accepted, or "".
func (a Algorithms) checkKey(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		min := a.MinRSABits
		if min <= 0 {
			min = 2048
		}
		if n := k.N.BitLen(); n < min {
			return fmt.Sprintf("RSA key of %d bits, at least %d required", n, min)
		}
	case *ecdsa.PublicKey:
		curves := a.AllowedCurves
		if curves == nil {
			curves = []string{"P-256", "P-384"}
		}
		if name := k.Curve.Params().Name; !slices.Contains(curves, name) {
			return fmt.Sprintf("ECDSA curve %s not allowed", name)
		}
	case ed25519.PublicKey:
		if !a.AllowEd25519 {
			return "Ed25519 keys not allowed"
		}
	default:
		return fmt.Sprintf("public key algorithm %v not allowed", c.PublicKeyAlgorithm)
	}
	return ""
}

// RevocationChecker answers revocation questions; *revocation.Checker implements it.
type RevocationChecker interface {
	Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (*revocation.Evidence, error)
}

// Options configures Validate.
type Options struct {
	// Purpose the certificate is validated for (required).
	Purpose Purpose
	// Anchors of that purpose (required; anchors of another purpose are refused).
	Anchors *Anchors
	// ExtraIntermediates are configured intermediate CA certificates, used in addition to the ones
	// the caller passes with the certificate (e.g. from the signature's KeyInfo).
	ExtraIntermediates []*x509.Certificate
	// Time is the validation time T (required): every certificate must be valid at T, and
	// revocation is judged at T.
	Time time.Time
	// Algorithms are the algorithm and key-size constraints.
	Algorithms Algorithms
	// AllowNonQualified lifts the requirement that a PurposeSigner certificate be qualified
	// (QcCompliance and QcSSCD). Other purposes never require it.
	AllowNonQualified bool
	// Revocation, when set, checks every certificate of the chain except the anchor at Time.
	Revocation RevocationChecker
	// SigCache, when set, remembers the certificate signatures and paths verified, for later
	// validations of the same certificates (see package sigcache: it never changes a verdict). One
	// cache serves a whole trust environment (trust.Env.SigCache).
	SigCache *sigcache.Cache
}

// Result is a validated path.
type Result struct {
	// Chain is the path from the certificate (first) to the anchor (last).
	Chain []*x509.Certificate
	// Revocation holds the evidence per chain position (nil for the anchor, and for all when no
	// checker was given or the check failed for that certificate).
	Revocation []*revocation.Evidence
	// RevokedAfterT lists the chain positions revoked after T: not an error here; the grace-period
	// logic decides what it means.
	RevokedAfterT []int
	// Qualified reports QcCompliance and QcSSCD on the end certificate; QC is the decoded statements.
	Qualified bool
	QC        qc.Statements
	// Warnings are findings that do not fail validation.
	Warnings []string
}

// Validate validates leaf for opts.Purpose at opts.Time. intermediates are untrusted candidate
// CA certificates (order irrelevant). On success the Result describes the chain chosen. When the
// chain was built but a later check failed (qualified status, revocation), the Result is returned
// with the error, so callers can report the chain and the evidence; otherwise it is nil.
func Validate(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate, opts Options) (*Result, error) {
	switch {
	case leaf == nil:
		return nil, fmt.Errorf("%w: no certificate", ErrConfig)
	case opts.Anchors == nil:
		return nil, fmt.Errorf("%w: no anchors", ErrConfig)
	case opts.Time.IsZero():
		return nil, fmt.Errorf("%w: no validation time", ErrConfig)
	case opts.Purpose < PurposeSigner || opts.Purpose > PurposeTLSServer:
		return nil, fmt.Errorf("%w: purpose %v", ErrConfig, opts.Purpose)
	}
	if opts.Anchors.purpose != opts.Purpose {
		return nil, fmt.Errorf("%w: %s anchors offered to validate a %s certificate", ErrAnchorPurpose, opts.Anchors.purpose, opts.Purpose)
	}
	T := opts.Time
	alg := opts.Algorithms

	// The end certificate first: these checks give the most precise error.
	if err := validAt(leaf, T); err != nil {
		return nil, err
	}
	if why := alg.checkKey(leaf); why != "" {
		return nil, fmt.Errorf("%w: %q: %s", ErrAlgorithm, leaf.Subject, why)
	}
	if !opts.Anchors.contains(leaf) && alg.forbidden(leaf.SignatureAlgorithm) {
		return nil, fmt.Errorf("%w: %q is signed with %v", ErrAlgorithm, leaf.Subject, leaf.SignatureAlgorithm)
	}
	if err := checkUsage(leaf, opts.Purpose); err != nil {
		return nil, err
	}

	candidates := append(slices.Clone(intermediates), opts.ExtraIntermediates...)
	// crypto/x509 builds the chains (through the cache when there is one). Usage is checked below per
	// purpose with precise errors; x509's EKU nesting rules would reject CAs of qualified PKIs that
	// carry no EKU at all only through "any", so ask for any.
	chains, err := opts.SigCache.Verify(leaf, candidates, opts.Anchors.roots, T, []x509.ExtKeyUsage{x509.ExtKeyUsageAny})
	if err != nil {
		return nil, diagnose(leaf, candidates, opts, err)
	}

	var firstErr error
	var chain []*x509.Certificate
	for _, ch := range chains {
		if err := checkChain(ch, opts); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		chain = ch
		break
	}
	if chain == nil {
		return nil, firstErr
	}

	res := &Result{Chain: chain, Revocation: make([]*revocation.Evidence, len(chain))}
	st, present, qerr := qc.FromCertificate(leaf)
	switch {
	case qerr != nil:
		res.Warnings = append(res.Warnings, fmt.Sprintf("malformed qcStatements: %v", qerr))
	case present:
		res.QC = st
		res.Qualified = st.Qualified()
	}
	if opts.Purpose == PurposeSigner && !opts.AllowNonQualified && !res.Qualified {
		detail := "no qcStatements"
		switch {
		case qerr != nil:
			detail = qerr.Error()
		case present:
			detail = fmt.Sprintf("QcCompliance %v, QcSSCD %v", st.Compliance, st.SSCD)
		}
		return res, fmt.Errorf("%w: %q: %s", ErrNotQualified, leaf.Subject, detail)
	}

	if opts.Revocation != nil {
		if err := checkRevocation(ctx, res, opts); err != nil {
			return res, err
		}
	}
	return res, nil
}

func validAt(c *x509.Certificate, T time.Time) error {
	switch {
	case T.Before(c.NotBefore):
		return fmt.Errorf("%w: %q is valid from %s, T is %s", ErrNotValidAtT, c.Subject, c.NotBefore.UTC().Format(time.RFC3339), T.UTC().Format(time.RFC3339))
	case T.After(c.NotAfter):
		return fmt.Errorf("%w: %q expired %s, T is %s", ErrNotValidAtT, c.Subject, c.NotAfter.UTC().Format(time.RFC3339), T.UTC().Format(time.RFC3339))
	}
	return nil
}

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// checkUsage applies the key-usage rules of the purpose to the end certificate.
func checkUsage(c *x509.Certificate, p Purpose) error {
	hasEKU := func(u x509.ExtKeyUsage) bool { return slices.Contains(c.ExtKeyUsage, u) }
	ku := c.KeyUsage
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %q as %s: %s", ErrUsage, c.Subject, p, fmt.Sprintf(format, args...))
	}
	if c.BasicConstraintsValid && c.IsCA {
		return fail("it is a CA certificate")
	}
	signing := ku == 0 || ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) != 0
	switch p {
	case PurposeSigner:
		if ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
			return fail("keyUsage has neither nonRepudiation nor digitalSignature")
		}
		if hasEKU(x509.ExtKeyUsageServerAuth) {
			return fail("a TLS server certificate must not sign (SEC-14)")
		}
	case PurposeTSA:
		critical := false
		for _, e := range c.Extensions {
			if e.Id.Equal(oidExtKeyUsage) {
				critical = e.Critical
			}
		}
		if !critical || len(c.ExtKeyUsage) != 1 || !hasEKU(x509.ExtKeyUsageTimeStamping) || len(c.UnknownExtKeyUsage) != 0 {
			return fail("extKeyUsage must be critical and contain only timeStamping (RFC 3161 §2.3)")
		}
		if !signing {
			return fail("keyUsage does not allow signing")
		}
	case PurposeOCSPResponder:
		if !hasEKU(x509.ExtKeyUsageOCSPSigning) {
			return fail("extKeyUsage lacks OCSPSigning")
		}
		if !signing {
			return fail("keyUsage does not allow signing")
		}
	case PurposeTLSServer:
		if !hasEKU(x509.ExtKeyUsageServerAuth) {
			return fail("extKeyUsage lacks serverAuth")
		}
		if ku != 0 && ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment) == 0 {
			return fail("keyUsage has neither digitalSignature nor keyEncipherment")
		}
	}
	return nil
}

// checkChain applies the algorithm and CA rules to a chain x509 built.
func checkChain(chain []*x509.Certificate, opts Options) error {
	alg := opts.Algorithms
	last := len(chain) - 1
	for i, c := range chain {
		if why := alg.checkKey(c); why != "" {
			return fmt.Errorf("%w: %q: %s", ErrAlgorithm, c.Subject, why)
		}
		if i < last && alg.forbidden(c.SignatureAlgorithm) {
			return fmt.Errorf("%w: %q is signed with %v", ErrAlgorithm, c.Subject, c.SignatureAlgorithm)
		}
		if err := validAt(c, opts.Time); err != nil {
			return err
		}
		if i > 0 {
			if i < last && !(c.BasicConstraintsValid && c.IsCA) {
				return fmt.Errorf("%w: %q has no basicConstraints cA", ErrNotCA, c.Subject)
			}
			if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
				return fmt.Errorf("%w: %q has keyUsage without keyCertSign", ErrNotCA, c.Subject)
			}
			if c.BasicConstraintsValid && c.MaxPathLen >= 0 && i-1 > c.MaxPathLen {
				return fmt.Errorf("%w: %q allows %d intermediates below it, the chain has %d", ErrPathLen, c.Subject, c.MaxPathLen, i-1)
			}
		}
	}
	return nil
}

// diagnose explains why x509 found no chain: it walks the name-chained candidates from the leaf
// upwards and reports the first rule a candidate path breaks, so the caller gets A006 or A013
// instead of a bare A003 when that is the cause.
func diagnose(leaf *x509.Certificate, candidates []*x509.Certificate, opts Options, verr error) error {
	var inv x509.CertificateInvalidError
	if errors.As(verr, &inv) && inv.Reason == x509.Expired {
		return fmt.Errorf("%w: %q: %v", ErrNotValidAtT, inv.Cert.Subject, verr)
	}
	all := append(slices.Clone(candidates), opts.Anchors.certs...)
	var walk func(chain []*x509.Certificate) error
	walk = func(chain []*x509.Certificate) error {
		child := chain[len(chain)-1]
		if len(chain) > 10 {
			return nil
		}
		for _, parent := range all {
			if parent == nil || !bytes.Equal(child.RawIssuer, parent.RawSubject) || slices.ContainsFunc(chain, func(c *x509.Certificate) bool { return bytes.Equal(c.Raw, parent.Raw) }) {
				continue
			}
			if opts.Algorithms.forbidden(child.SignatureAlgorithm) {
				return fmt.Errorf("%w: %q is signed with %v", ErrAlgorithm, child.Subject, child.SignatureAlgorithm)
			}
			if opts.SigCache.CheckSignature(parent, child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) != nil {
				continue
			}
			isAnchor := opts.Anchors.contains(parent)
			next := append(slices.Clone(chain), parent)
			if err := checkChain(next, opts); err != nil {
				return err
			}
			// checkChain treats the last element as the anchor; a parent that is not one must
			// be a CA.
			if !isAnchor && !(parent.BasicConstraintsValid && parent.IsCA) {
				return fmt.Errorf("%w: %q has no basicConstraints cA", ErrNotCA, parent.Subject)
			}
			if isAnchor {
				continue
			}
			if err := walk(next); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk([]*x509.Certificate{leaf}); err != nil {
		return err
	}
	return fmt.Errorf("%w: %q: %v", ErrNoChain, leaf.Subject, verr)
}

// checkRevocation checks every certificate of res.Chain except the anchor at opts.Time. A
// revocation at or before T is ErrRevoked, whatever else failed; then unknown, invalid evidence,
// unavailable evidence, in that order of precedence.
func checkRevocation(ctx context.Context, res *Result, opts Options) error {
	T := opts.Time
	var revoked, unknown, invalid, unavailable error
	for i := 0; i+1 < len(res.Chain); i++ {
		cert, issuer := res.Chain[i], res.Chain[i+1]
		ev, err := opts.Revocation.Check(ctx, cert, issuer, T)
		if err != nil {
			if errors.Is(err, revocation.ErrInvalidEvidence) {
				invalid = cmp(invalid, fmt.Errorf("%w: %q: %w", ErrRevocationInvalid, cert.Subject, err))
			} else {
				unavailable = cmp(unavailable, fmt.Errorf("%w: %q: %w", ErrRevocationUnavailable, cert.Subject, err))
			}
			continue
		}
		res.Revocation[i] = ev
		switch ev.Status {
		case revocation.StatusRevoked:
			if ev.RevokedAtOrBefore(T) {
				revoked = cmp(revoked, fmt.Errorf("%w: %q revoked %s (reason %d, %s evidence), T is %s", ErrRevoked, cert.Subject,
					ev.RevocationTime.UTC().Format(time.RFC3339), ev.RevocationReason, ev.Method, T.UTC().Format(time.RFC3339)))
			} else {
				res.RevokedAfterT = append(res.RevokedAfterT, i)
				res.Warnings = append(res.Warnings, fmt.Sprintf("%q revoked %s, after T %s", cert.Subject,
					ev.RevocationTime.UTC().Format(time.RFC3339), T.UTC().Format(time.RFC3339)))
			}
		case revocation.StatusUnknown:
			unknown = cmp(unknown, fmt.Errorf("%w: %q (%s %s)", ErrRevocationUnknown, cert.Subject, ev.Method, ev.URL))
		}
	}
	for _, err := range []error{revoked, unknown, invalid, unavailable} {
		if err != nil {
			return err
		}
	}
	return nil
}

// cmp keeps the first error of a kind (the one nearest the leaf).
func cmp(have, next error) error {
	if have != nil {
		return have
	}
	return next
}
