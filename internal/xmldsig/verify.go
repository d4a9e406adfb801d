package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"

	"github.com/tagdij/tagdij/internal/libxml"
)

// Default limits of VerifyOptions.
const (
	DefaultMaxSignatures = 16
	DefaultMaxReferences = 64
	DefaultMaxTransforms = 8
	DefaultMinRSABits    = 1024
	maxRSABits           = 8192
)

// VerifyOptions control verification. The zero value verifies every signature in the document with the
// default limits and only the keys that KeyInfo carries.
type VerifyOptions struct {
	// SignatureID selects the one ds:Signature with this Id; empty means every ds:Signature.
	SignatureID string
	// KeyResolver is asked for the key when KeyInfo carries neither certificates nor a KeyValue.
	KeyResolver KeyResolver
	// MinRSABits is the smallest RSA modulus accepted (default 1024; the Tagdíj policy layer applies
	// 2048 itself).
	MinRSABits int
	// MaxSignatures, MaxReferences and MaxTransforms bound the work (defaults 16, 64, 8).
	MaxSignatures, MaxReferences, MaxTransforms int
	// Limits are the parser limits Verify uses (zero: libxml.DefaultLimits).
	Limits libxml.Limits
	// ParseCertificate parses the X509Certificate elements of KeyInfo; nil: x509.ParseCertificate.
	// A long-running verifier passes a cache (sigcache.Cache.ParseCertificate): the same chain
	// arrives with every signature. It must return what x509.ParseCertificate returns.
	ParseCertificate func(der []byte) (*x509.Certificate, error)
}

func (o VerifyOptions) withDefaults() VerifyOptions {
	if o.MinRSABits <= 0 {
		o.MinRSABits = DefaultMinRSABits
	}
	if o.MaxSignatures <= 0 {
		o.MaxSignatures = DefaultMaxSignatures
	}
	if o.MaxReferences <= 0 {
		o.MaxReferences = DefaultMaxReferences
	}
	if o.MaxTransforms <= 0 {
		o.MaxTransforms = DefaultMaxTransforms
	}
	return o
}

// ReferenceResult is the outcome of one ds:Reference.
type ReferenceResult struct {
	URI  string
	ID   string // the Reference's own Id attribute
	Type string // the Reference's Type attribute
	// Node is the element the URI resolved to; the zero Node for a whole-document reference ("" or
	// #xpointer(/)) and after Verify returns (its document is closed then).
	Node          libxml.Node
	WholeDocument bool
	// Excluded are the subtrees an enveloped-signature transform removed from the node set.
	Excluded     []libxml.Node
	Transforms   []string
	DigestMethod string
	DigestValue  []byte // as written in the signature
	Computed     []byte // as computed (nil if the reference could not be processed)
	Valid        bool
	Err          error
	set          nodeSet
}

// Result is the outcome of one ds:Signature.
type Result struct {
	ID   string      // the Signature's Id attribute
	Node libxml.Node // the ds:Signature (zero after Verify returns)
	// Valid is XMLDSig core validity: every reference digest matches and the SignatureValue verifies.
	Valid bool
	// Err says why the signature is not valid (nil when Valid).
	Err error

	CanonicalizationMethod string
	SignatureMethod        string
	References             []*ReferenceResult
	// SignedInfo is the canonical form of ds:SignedInfo that the SignatureValue covers.
	SignedInfo []byte

	// PublicKey is the key the signature was checked with; Certificate the certificate it came from
	// (nil for a KeyValue or a resolver without certificate).
	PublicKey   crypto.PublicKey
	Certificate *x509.Certificate
	// KeyInfoCertificates are all X509Certificate elements of KeyInfo in document order (the leaf and
	// chain candidates). None of them is trusted for it being here: path building is the caller's job.
	KeyInfoCertificates []*x509.Certificate

	// Covered are the nodes that verified references cover (empty unless Valid): a whole-document
	// reference covers the document element. Use Covers to test a node, which also honours the
	// subtrees an enveloped-signature transform excluded.
	Covered []libxml.Node
	// Manifests counts ds:Manifest elements in this signature's Objects. Their references are NOT
	// validated (XMLDSig leaves manifest validation to the application); nothing inside a Manifest is
	// covered merely by being listed there.
	Manifests int
}

// Covers reports whether n lies in the node set of one of the verified references of a valid
// signature.
func (r *Result) Covers(n libxml.Node) bool {
	if r == nil || !r.Valid || n.IsZero() {
		return false
	}
	for _, ref := range r.References {
		if ref.Valid && ref.set.covers(n) {
			return true
		}
	}
	return false
}

// Verify parses doc (hardened, under opts.Limits) and verifies every ds:Signature in it, or only the
// one whose Id is opts.SignatureID. It returns one Result per signature and a non-nil error if the
// document cannot be processed (malformed XML, duplicate identifiers, no signature, too many
// signatures) or if any signature is not valid; in the latter case the Results say which and why.
// The libxml.Node fields of the Results are zero, because the parsed document is closed before
// Verify returns; use VerifyDocument to keep them.
func Verify(doc []byte, opts VerifyOptions) ([]*Result, error) {
	opts = opts.withDefaults()
	d, err := libxml.Parser{Limits: opts.Limits}.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: parsing: %w", err)
	}
	defer d.Close()
	ids, err := indexIDs(d)
	if err != nil {
		return nil, err
	}
	var sigs []libxml.Node
	if opts.SignatureID != "" {
		n, ok := ids[opts.SignatureID]
		if !ok || !n.Is(NSDSig, "Signature") {
			return nil, fmt.Errorf("%w: no ds:Signature with Id %q", ErrNotFound, truncate(opts.SignatureID))
		}
		sigs = append(sigs, n)
	} else {
		var tooMany bool
		d.Walk(func(n libxml.Node) bool {
			if n.Is(NSDSig, "Signature") {
				if len(sigs) == opts.MaxSignatures {
					tooMany = true
					return false
				}
				sigs = append(sigs, n)
			}
			return true
		})
		if tooMany {
			return nil, fmt.Errorf("%w: more than %d signatures", ErrLimit, opts.MaxSignatures)
		}
		if len(sigs) == 0 {
			return nil, fmt.Errorf("%w: no ds:Signature element", ErrNotFound)
		}
	}
	var results []*Result
	var first error
	for _, s := range sigs {
		res := verifyOne(d, ids, s, opts)
		detach(res)
		results = append(results, res)
		if res.Err != nil && first == nil {
			first = fmt.Errorf("xmldsig: signature %q: %w", truncate(res.ID), res.Err)
		}
	}
	return results, first
}

// detach clears every Node of a Result whose document is about to be closed.
func detach(r *Result) {
	r.Node = libxml.Node{}
	r.Covered = nil
	for _, ref := range r.References {
		ref.Node = libxml.Node{}
		ref.Excluded = nil
		ref.set = nodeSet{}
	}
}

func indexIDs(d *libxml.Document) (map[string]libxml.Node, error) {
	ids, err := d.IDs("Id", "ID", "id")
	if err != nil {
		var dup *libxml.DuplicateIDError
		if errors.As(err, &dup) {
			return nil, fmt.Errorf("%w: %w", ErrDuplicateID, err)
		}
		return nil, fmt.Errorf("xmldsig: indexing identifiers: %w", err)
	}
	return ids, nil
}

// VerifyDocument verifies the ds:Signature sigNode of an already parsed document, so that a caller
// (the XAdES layer) can verify and then read the same tree. Identifiers are indexed over the whole
// document first; a duplicate is an error. The returned Result is non-nil whenever sigNode is an
// element of d, and the error is its Err.
func VerifyDocument(d *libxml.Document, sigNode libxml.Node, opts VerifyOptions) (*Result, error) {
	opts = opts.withDefaults()
	if d == nil || sigNode.IsZero() {
		return nil, fmt.Errorf("%w: no signature node", ErrNotFound)
	}
	ids, err := indexIDs(d)
	if err != nil {
		return nil, err
	}
	res := verifyOne(d, ids, sigNode, opts)
	return res, res.Err
}

func verifyOne(d *libxml.Document, ids map[string]libxml.Node, n libxml.Node, opts VerifyOptions) *Result {
	res := &Result{Node: n}
	res.ID, _ = n.Attr("Id")
	s, err := parseSignature(n, limits{refs: opts.MaxReferences, transforms: opts.MaxTransforms})
	if err != nil {
		res.Err = err
		return res
	}
	res.CanonicalizationMethod = s.c14nURI
	res.SignatureMethod = s.methodURI
	res.Manifests = s.manifests

	// References first (XMLDSig core validation), each reported even when another fails.
	var refErr error
	for _, r := range s.refs {
		rr := checkReference(d, ids, n, r)
		res.References = append(res.References, rr)
		if rr.Err != nil && refErr == nil {
			refErr = fmt.Errorf("reference %q: %w", truncate(r.uri), rr.Err)
		}
	}
	if s.methodErr != nil {
		res.Err = s.methodErr
		return res
	}

	var buf bytes.Buffer
	if err := d.CanonicalizeTo(&buf, s.signedInfo, s.c14n); err != nil {
		res.Err = fmt.Errorf("xmldsig: canonicalizing SignedInfo: %w", err)
		return res
	}
	res.SignedInfo = buf.Bytes()
	// A reference refused by design (external URI, XPath…) is the verdict whatever the key: it
	// names the real problem.
	if refErr != nil && isUnsupported(refErr) {
		res.Err = refErr
		return res
	}

	// XMLDSig core validation order: a failed reference is the verdict; the signature value is
	// still checked so that the Result carries the key and certificate.
	sigErr := verifySignatureValue(res, s, opts)
	if refErr != nil {
		res.Err = refErr
		return res
	}
	if sigErr != nil {
		res.Err = sigErr
		return res
	}
	res.Valid = true
	for _, rr := range res.References {
		if rr.WholeDocument {
			res.Covered = append(res.Covered, d.Root())
		} else {
			res.Covered = append(res.Covered, rr.Node)
		}
	}
	return res
}

func checkReference(d *libxml.Document, ids map[string]libxml.Node, sig libxml.Node, r *reference) *ReferenceResult {
	rr := &ReferenceResult{URI: r.uri, ID: r.id, Type: r.typ, DigestMethod: r.digestURI}
	for _, t := range r.transforms {
		rr.Transforms = append(rr.Transforms, t.uri)
	}
	want, err := decodeBase64(r.digestValue.Text())
	if err != nil {
		rr.Err = malformed("DigestValue: %v", err)
		return rr
	}
	rr.DigestValue = want
	got, ns, err := computeDigest(d, ids, sig, r)
	rr.Node, rr.WholeDocument, rr.Excluded, rr.set = ns.root, ns.whole, ns.exclude, ns
	if err != nil {
		rr.Err = err
		return rr
	}
	rr.Computed = got
	if subtle.ConstantTimeCompare(got, want) != 1 {
		rr.Err = ErrDigestMismatch
		return rr
	}
	rr.Valid = true
	return rr
}

// chooseKey picks the verification key: the leaf KeyInfo certificate, else the KeyValue, else the
// resolver's answer. A KeyValue beside certificates must be the leaf's key.
func chooseKey(km *keyMaterial, res KeyResolver) (crypto.PublicKey, *x509.Certificate, error) {
	if km.leaf != nil {
		if km.value != nil && !sameKey(km.value, km.leaf.PublicKey) {
			return nil, nil, fmt.Errorf("%w: KeyValue differs from the key of the KeyInfo certificate", ErrKey)
		}
		return km.leaf.PublicKey, km.leaf, nil
	}
	if km.value != nil {
		return km.value, nil, nil
	}
	if res != nil {
		pub, cert, err := res.ResolveKey(&km.info)
		if err != nil {
			return nil, nil, fmt.Errorf("xmldsig: resolving the key: %w", err)
		}
		if pub == nil {
			return nil, nil, fmt.Errorf("%w: the key resolver returned no key", ErrKey)
		}
		return pub, cert, nil
	}
	return nil, nil, fmt.Errorf("%w: KeyInfo carries no key and no key resolver was given", ErrKey)
}

func sameKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// checkKey enforces that the key type fits the signature method and the RSA size policy.
func checkKey(uri string, alg sigAlg, pub crypto.PublicKey, minRSA int) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg.key != KeyRSA && alg.key != KeyRSAPSS {
			return fmt.Errorf("%w: signature method %s does not fit an RSA key", ErrKey, uri)
		}
		if bits := k.N.BitLen(); bits < minRSA || bits > maxRSABits {
			return fmt.Errorf("%w: RSA key of %d bits (accepted %d to %d)", ErrKey, bits, minRSA, maxRSABits)
		}
	case *ecdsa.PublicKey:
		if alg.key != KeyECDSA {
			return fmt.Errorf("%w: signature method %s does not fit an ECDSA key", ErrKey, uri)
		}
		switch k.Curve.Params().BitSize {
		case 256, 384, 521:
		default:
			return fmt.Errorf("%w: ECDSA curve %s", ErrUnsupported, k.Curve.Params().Name)
		}
	default:
		return fmt.Errorf("%w: key type %T for signature method %s", ErrUnsupported, pub, uri)
	}
	return nil
}

func verifyValue(alg sigAlg, pub crypto.PublicKey, digest, sig []byte) error {
	switch alg.key {
	case KeyRSA:
		if err := rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), alg.hash, digest, sig); err != nil {
			return ErrSignatureInvalid
		}
	case KeyRSAPSS:
		if err := rsa.VerifyPSS(pub.(*rsa.PublicKey), alg.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash}); err != nil {
			return ErrSignatureInvalid
		}
	case KeyECDSA:
		k := pub.(*ecdsa.PublicKey)
		size := (k.Curve.Params().BitSize + 7) / 8
		// XMLDSig 1.1 wants exactly 2*size bytes. A shorter even length is accepted as r||s with
		// equal halves, as xmlsec1 does: some Java encoders drop a leading zero byte of both
		// integers. Anything longer (padding, DER) is refused.
		if len(sig) > 2*size || len(sig)%2 != 0 || len(sig) < size {
			return fmt.Errorf("%w: ECDSA value of %d bytes, want %d (r||s, XMLDSig 1.1)", ErrSignatureInvalid, len(sig), 2*size)
		}
		half := len(sig) / 2
		r := new(big.Int).SetBytes(sig[:half])
		s := new(big.Int).SetBytes(sig[half:])
		if !ecdsa.Verify(k, digest, r, s) {
			return ErrSignatureInvalid
		}
	default:
		return ErrSignatureInvalid
	}
	return nil
}

// verifySignatureValue resolves the key, checks it against the method and verifies SignatureValue over
// res.SignedInfo, filling in the key fields of res.
func verifySignatureValue(res *Result, s *signature, opts VerifyOptions) error {
	km, err := readKeyInfo(s.keyInfo, opts.ParseCertificate)
	if err != nil {
		return err
	}
	res.KeyInfoCertificates = km.info.Certificates
	pub, cert, err := chooseKey(km, opts.KeyResolver)
	if err != nil {
		return err
	}
	res.PublicKey, res.Certificate = pub, cert
	if err := checkKey(s.methodURI, s.method, pub, opts.MinRSABits); err != nil {
		return err
	}
	sv, err := decodeBase64(s.sigValue.Text())
	if err != nil {
		return malformed("SignatureValue: %v", err)
	}
	h := s.method.hash.New()
	h.Write(res.SignedInfo)
	return verifyValue(s.method, pub, h.Sum(nil), sv)
}
