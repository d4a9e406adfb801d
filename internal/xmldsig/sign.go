package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/tagdij/tagdij/internal/libxml"
)

// DefaultMinSignRSABits is the smallest RSA key Sign accepts unless SignOptions says otherwise.
const DefaultMinSignRSABits = 2048

// SignOptions control Sign.
type SignOptions struct {
	// Rand is the randomness for RSA-PSS and ECDSA (default crypto/rand.Reader). A PKCS#11 signer
	// may ignore it.
	Rand io.Reader
	// MinRSABits is the smallest RSA key accepted (default 2048).
	MinRSABits int
	// MaxReferences and MaxTransforms bound the template (defaults as for verification).
	MaxReferences, MaxTransforms int
	// Limits are the parser limits (zero: libxml.DefaultLimits).
	Limits libxml.Limits
}

// Sign fills in the signature template with Id sigID in doc and returns the signed document.
//
// The template is a complete ds:Signature whose SignedInfo names the CanonicalizationMethod, the
// SignatureMethod and every Reference (URI, Transforms, DigestMethod) with an empty DigestValue, and
// whose SignatureValue is empty; KeyInfo and ds:Object elements are whatever the caller put there (they
// are signed only if a Reference covers them). Sign digests each reference exactly as Verify does,
// canonicalizes SignedInfo in its document context, puts the DigestValues into that canonical form,
// signs it with signer (only through crypto.Signer, so a PKCS#11 key works) and splices the
// DigestValues and the SignatureValue into the template bytes. No other byte of doc changes. Only UTF-8
// templates are accepted, and only SHA-256/384/512 digests and RSA PKCS#1 v1.5, RSA-PSS and ECDSA
// (P-256, P-384, P-521) signature methods; the signer's key must fit the SignatureMethod.
//
// Memory: doc is parsed by libxml2 once; the byte offsets of the values come from xmlsplice.Index, which
// copies no text. Besides doc itself, the peak is that one parse (about the size of doc in C memory,
// plus libxml2's transient copy of the largest text node while it is canonicalized) or the returned
// document, allocated once at its final size after the parse is freed, whichever is larger.
func Sign(doc []byte, sigID string, signer crypto.Signer, opts SignOptions) ([]byte, error) {
	s, err := sign(doc, sigID, signer, opts, false)
	if err != nil {
		return nil, err
	}
	return s.Doc, nil
}

// Signed is what SignDocument returns.
type Signed struct {
	// Doc is the signed document, byte for byte what Sign returns.
	Doc []byte
	// CanonicalSignatureValue is the filled ds:SignatureValue element of the new signature in
	// exclusive canonical form (exc-c14n 1.0 without comments) in its document context: the input of
	// a XAdES SignatureTimeStamp. It is what canonicalizing that element of a parse of Doc gives.
	CanonicalSignatureValue []byte
}

// SignDocument is Sign that also returns the canonical form of the new SignatureValue, so that a
// caller who time-stamps the signature at once does not parse the signed document again.
//
// The canonical SignatureValue is derived the way the canonical SignedInfo is (fillSignedInfo): the
// template's empty SignatureValue is canonicalized in the parsed template and the base64 value, which
// needs no escaping, is put between its start and end tags; the small result is parsed to prove that
// the value is the element's text.
func SignDocument(doc []byte, sigID string, signer crypto.Signer, opts SignOptions) (*Signed, error) {
	return sign(doc, sigID, signer, opts, true)
}

func sign(doc []byte, sigID string, signer crypto.Signer, opts SignOptions, wantValueC14N bool) (*Signed, error) {
	if signer == nil {
		return nil, errors.New("xmldsig: sign: no signer")
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.MinRSABits <= 0 {
		opts.MinRSABits = DefaultMinSignRSABits
	}
	vo := VerifyOptions{MaxReferences: opts.MaxReferences, MaxTransforms: opts.MaxTransforms}.withDefaults()
	lim := limits{refs: vo.MaxReferences, transforms: vo.MaxTransforms}

	// The only parse of doc: digests over the template and SignedInfo in its document context.
	d, err := libxml.Parser{Limits: opts.Limits}.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: parsing the template: %w", err)
	}
	s, digests, emptySI, spans, err := signTemplate(d, doc, sigID, signer.Public(), opts.MinRSABits, lim)
	var emptySV []byte
	if err == nil && wantValueC14N {
		var buf bytes.Buffer
		if err = d.CanonicalizeTo(&buf, s.sigValue, libxml.C14N{Method: libxml.ExcC14N10}); err != nil {
			err = fmt.Errorf("canonicalizing SignatureValue: %w", err)
		}
		emptySV = buf.Bytes()
	}
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: %w", err)
	}

	texts := make([]string, len(digests), len(digests)+1)
	for i, dg := range digests {
		texts[i] = base64.StdEncoding.EncodeToString(dg)
	}
	signedInfo, err := fillSignedInfo(emptySI, texts)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: %w", err)
	}
	h := s.method.hash.New()
	h.Write(signedInfo)
	value, err := signDigest(signer, s.method, h.Sum(nil), opts.Rand)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: %w", err)
	}
	sv := base64.StdEncoding.EncodeToString(value)
	texts = append(texts, sv)
	out := &Signed{Doc: splice(doc, spans, texts)}
	if wantValueC14N {
		if out.CanonicalSignatureValue, err = fillSignatureValue(emptySV, sv); err != nil {
			return nil, fmt.Errorf("xmldsig: sign: %w", err)
		}
	}
	return out, nil
}

// signTemplate checks the template in the parsed document d (parsed from raw), computes every
// reference digest, locates the values in raw and returns the canonical SignedInfo with the
// DigestValues still empty, and the spans of the DigestValues (in order) followed by the
// SignatureValue's.
func signTemplate(d *libxml.Document, raw []byte, sigID string, pub crypto.PublicKey, minRSA int, lim limits) (*signature, [][]byte, []byte, []span, error) {
	s, digests, err := digestTemplate(d, sigID, pub, minRSA, lim)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	spans, err := locateValues(raw, sigID, s)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var buf bytes.Buffer
	if err := d.CanonicalizeTo(&buf, s.signedInfo, s.c14n); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("canonicalizing SignedInfo: %w", err)
	}
	return s, digests, buf.Bytes(), spans, nil
}

// digestTemplate checks the template and computes every reference digest.
func digestTemplate(d *libxml.Document, sigID string, pub crypto.PublicKey, minRSA int, lim limits) (*signature, [][]byte, error) {
	ids, err := indexIDs(d)
	if err != nil {
		return nil, nil, err
	}
	n, ok := ids[sigID]
	if !ok || !n.Is(NSDSig, "Signature") {
		return nil, nil, fmt.Errorf("%w: no ds:Signature with Id %q", ErrNotFound, truncate(sigID))
	}
	s, err := parseSignature(n, lim)
	if err != nil {
		return nil, nil, err
	}
	if s.methodErr != nil {
		return nil, nil, s.methodErr
	}
	if !s.method.signable {
		return nil, nil, fmt.Errorf("%w: %s is accepted for verification only", ErrUnsupported, s.methodURI)
	}
	if err := checkKey(s.methodURI, s.method, pub, minRSA); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(s.sigValue.Text()) != "" {
		return nil, nil, malformed("the template's SignatureValue is not empty")
	}
	var digests [][]byte
	for _, r := range s.refs {
		if r.err != nil {
			return nil, nil, fmt.Errorf("reference %q: %w", truncate(r.uri), r.err)
		}
		if !r.digest.signable {
			return nil, nil, fmt.Errorf("%w: digest %s is accepted for verification only", ErrUnsupported, r.digestURI)
		}
		if strings.TrimSpace(r.digestValue.Text()) != "" {
			return nil, nil, malformed("the template's DigestValue for %q is not empty", truncate(r.uri))
		}
		dg, ns, err := computeDigest(d, ids, n, r)
		if err != nil {
			return nil, nil, fmt.Errorf("reference %q: %w", truncate(r.uri), err)
		}
		// A reference over the values being written could never verify.
		if ns.covers(s.signedInfo) || ns.covers(s.sigValue) {
			return nil, nil, fmt.Errorf("reference %q: %w: it covers the SignedInfo or SignatureValue being created", truncate(r.uri), ErrReference)
		}
		digests = append(digests, dg)
	}
	return s, digests, nil
}

// signDigest signs through crypto.Signer and returns the XMLDSig encoding of the value.
func signDigest(signer crypto.Signer, alg sigAlg, digest []byte, rnd io.Reader) ([]byte, error) {
	switch alg.key {
	case KeyRSA:
		return signer.Sign(rnd, digest, alg.hash)
	case KeyRSAPSS:
		return signer.Sign(rnd, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.hash})
	case KeyECDSA:
		pub, ok := signer.Public().(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: ECDSA method with a non-ECDSA signer", ErrKey)
		}
		der, err := signer.Sign(rnd, digest, alg.hash)
		if err != nil {
			return nil, err
		}
		return ecdsaDERToRaw(der, (pub.Curve.Params().BitSize+7)/8)
	}
	return nil, fmt.Errorf("%w: signature method", ErrUnsupported)
}

// ecdsaDERToRaw turns the ASN.1 ECDSA-Sig-Value that crypto.Signer returns into r||s, each big-endian
// and left-padded to size bytes (RFC 4050, XMLDSig 1.1 §6.4.3).
func ecdsaDERToRaw(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("xmldsig: signer returned a malformed ECDSA signature")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || len(sig.R.Bytes()) > size || len(sig.S.Bytes()) > size {
		return nil, fmt.Errorf("xmldsig: signer returned an ECDSA signature out of range")
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}
