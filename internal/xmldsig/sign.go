package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/xml"
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
// splices the DigestValues into the template bytes, parses the result again, canonicalizes SignedInfo
// in its document context, signs the canonical bytes with signer (only through crypto.Signer, so a
// PKCS#11 key works) and splices in the SignatureValue. No other byte of doc changes. Only UTF-8
// templates are accepted, and only SHA-256/384/512 digests and RSA PKCS#1 v1.5, RSA-PSS and ECDSA
// (P-256, P-384, P-521) signature methods; the signer's key must fit the SignatureMethod.
func Sign(doc []byte, sigID string, signer crypto.Signer, opts SignOptions) ([]byte, error) {
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

	// Pass 1: digests over the template.
	d, err := libxml.Parser{Limits: opts.Limits}.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: parsing the template: %w", err)
	}
	s, digests, err := digestTemplate(d, sigID, signer.Public(), opts.MinRSABits, lim)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: %w", err)
	}

	// Splice the DigestValues.
	spans, err := locateValues(doc, sigID, len(digests))
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: %w", err)
	}
	texts := make([]string, len(digests))
	for i, dg := range digests {
		texts[i] = base64.StdEncoding.EncodeToString(dg)
	}
	withDigests, shift := splice(doc, spans.digests, texts)
	sv := spans.sigValue
	sv.start += shift
	sv.end += shift

	// Pass 2: SignedInfo in its document context.
	d2, err := libxml.Parser{Limits: opts.Limits}.Parse(withDigests)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: parsing the template with digests: %w", err)
	}
	signedInfo, err := canonicalSignedInfo(d2, sigID, texts, lim)
	d2.Close()
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: %w", err)
	}
	h := s.method.hash.New()
	h.Write(signedInfo)
	value, err := signDigest(signer, s.method, h.Sum(nil), opts.Rand)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: sign: %w", err)
	}
	out, _ := splice(withDigests, []span{sv}, []string{base64.StdEncoding.EncodeToString(value)})
	return out, nil
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

// canonicalSignedInfo re-reads the signature in the document with digests, checks that libxml2 sees
// the DigestValues that were spliced in, and returns the canonical SignedInfo.
func canonicalSignedInfo(d *libxml.Document, sigID string, texts []string, lim limits) ([]byte, error) {
	ids, err := indexIDs(d)
	if err != nil {
		return nil, err
	}
	n, ok := ids[sigID]
	if !ok {
		return nil, fmt.Errorf("%w: signature %q lost after splicing", ErrNotFound, truncate(sigID))
	}
	s, err := parseSignature(n, lim)
	if err != nil {
		return nil, err
	}
	if len(s.refs) != len(texts) {
		return nil, errors.New("xmldsig: reference count changed after splicing")
	}
	for i, r := range s.refs {
		if r.digestValue.Text() != texts[i] {
			return nil, fmt.Errorf("xmldsig: DigestValue %d not where libxml2 sees it after splicing", i)
		}
	}
	var buf bytes.Buffer
	if err := d.CanonicalizeTo(&buf, s.signedInfo, s.c14n); err != nil {
		return nil, fmt.Errorf("canonicalizing SignedInfo: %w", err)
	}
	return buf.Bytes(), nil
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

// span is the byte range of an element's content (start..end), or of a self-closing tag's "/>" when
// selfClosing (then name is the tag's qualified name as written).
type span struct {
	start, end  int
	selfClosing bool
	name        string
}

type valueSpans struct {
	digests  []span
	sigValue span
}

// locateValues finds, with a tokenizer over the raw bytes, the DigestValue elements of the target
// signature's SignedInfo (in order) and its SignatureValue.
func locateValues(doc []byte, sigID string, nrefs int) (valueSpans, error) {
	var vs valueSpans
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	// path within the target signature: 0 = outside.
	var stack []string
	inSig := 0 // depth of the target ds:Signature in stack, 0 if not inside
	var open span
	var openPath string
	for {
		before := int(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return vs, malformed("tokenizing the template: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Space+" "+t.Name.Local)
			if inSig == 0 && t.Name.Space == NSDSig && t.Name.Local == "Signature" && attrValue(t, "Id") == sigID {
				inSig = len(stack)
				continue
			}
			if inSig == 0 {
				continue
			}
			rel := strings.Join(stack[inSig:], "/")
			if rel == NSDSig+" SignedInfo/"+NSDSig+" Reference/"+NSDSig+" DigestValue" || rel == NSDSig+" SignatureValue" {
				after := int(dec.InputOffset())
				open = span{start: after, end: after}
				openPath = rel
				if after >= 2 && string(doc[after-2:after]) == "/>" {
					open = span{start: after - 2, end: after, selfClosing: true, name: rawName(doc[before:after])}
				}
			}
		case xml.EndElement:
			if inSig > 0 && openPath != "" && strings.Join(stack[inSig:], "/") == openPath {
				if !open.selfClosing {
					open.end = before
				}
				if openPath == NSDSig+" SignatureValue" {
					vs.sigValue = open
					stack = stack[:len(stack)-1]
					if len(vs.digests) != nrefs {
						return vs, malformed("found %d DigestValue elements, want %d", len(vs.digests), nrefs)
					}
					return vs, nil
				}
				vs.digests = append(vs.digests, open)
				openPath = ""
			}
			if inSig == len(stack) {
				inSig = 0
			}
			stack = stack[:len(stack)-1]
		}
	}
	return vs, fmt.Errorf("%w: signature %q or its SignatureValue not found by the tokenizer", ErrNotFound, truncate(sigID))
}

func attrValue(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// rawName returns the qualified name of a start tag as written ("<ds:DigestValue/>" → "ds:DigestValue").
func rawName(tag []byte) string {
	tag = bytes.TrimPrefix(tag, []byte("<"))
	end := bytes.IndexAny(tag, " \t\r\n/>")
	if end < 0 {
		return string(tag)
	}
	return string(tag[:end])
}

// splice replaces each span's content with the corresponding text (spans in document order) and
// returns the new bytes and the total length change.
func splice(doc []byte, spans []span, texts []string) ([]byte, int) {
	var out bytes.Buffer
	out.Grow(len(doc) + 1024)
	prev := 0
	for i, sp := range spans {
		out.Write(doc[prev:sp.start])
		if sp.selfClosing {
			out.WriteString(">" + texts[i] + "</" + sp.name + ">")
		} else {
			out.WriteString(texts[i])
		}
		prev = sp.end
	}
	out.Write(doc[prev:])
	return out.Bytes(), out.Len() - len(doc)
}
