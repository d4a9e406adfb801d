package xmldsig

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tagdij/tagdij/internal/libxml"
)

// signature is a parsed ds:Signature.
type signature struct {
	node       libxml.Node
	id         string
	signedInfo libxml.Node
	c14nURI    string
	c14n       libxml.C14N
	methodURI  string
	method     sigAlg
	methodErr  error // unsupported signature method: references are still checked
	refs       []*reference
	sigValue   libxml.Node
	keyInfo    libxml.Node // zero if absent
	manifests  int
}

// limits bound the work one signature may ask for.
type limits struct {
	refs, transforms int
}

// parseSignature checks the structure of a ds:Signature (XMLDSig §4, strict child order) and reads
// its algorithms. It fails on the first structural problem, on an unsupported canonicalization or
// transform or digest, and on a limit; an unsupported signature method is recorded in methodErr so
// that the references can still be reported.
func parseSignature(n libxml.Node, lim limits) (*signature, error) {
	if !n.Is(NSDSig, "Signature") {
		return nil, malformed("element is not ds:Signature")
	}
	s := &signature{node: n}
	s.id, _ = n.Attr("Id")
	kids := n.Children()
	if len(kids) < 2 || !kids[0].Is(NSDSig, "SignedInfo") || !kids[1].Is(NSDSig, "SignatureValue") {
		return nil, malformed("ds:Signature must start with ds:SignedInfo and ds:SignatureValue")
	}
	s.signedInfo, s.sigValue = kids[0], kids[1]
	if len(s.sigValue.Children()) > 0 {
		return nil, malformed("ds:SignatureValue has child elements")
	}
	rest := kids[2:]
	if len(rest) > 0 && rest[0].Is(NSDSig, "KeyInfo") {
		s.keyInfo = rest[0]
		rest = rest[1:]
	}
	for _, o := range rest {
		if !o.Is(NSDSig, "Object") {
			return nil, malformed("unexpected element {%s}%s in ds:Signature", o.NamespaceURI(), o.LocalName())
		}
		for _, c := range o.Children() {
			if c.Is(NSDSig, "Manifest") {
				s.manifests++
			}
		}
	}

	si := s.signedInfo.Children()
	if len(si) < 3 || !si[0].Is(NSDSig, "CanonicalizationMethod") || !si[1].Is(NSDSig, "SignatureMethod") {
		return nil, malformed("ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and at least one Reference")
	}
	var err error
	if s.c14nURI, s.c14n, err = readC14N(si[0], "canonicalization"); err != nil {
		return nil, err
	}
	s.methodURI, _ = si[1].Attr("Algorithm")
	if alg, ok := sigAlgs[s.methodURI]; ok {
		s.method = alg
		if len(si[1].Children()) > 0 {
			s.methodErr = fmt.Errorf("%w: parameters in ds:SignatureMethod %s", ErrUnsupported, s.methodURI)
		}
	} else {
		s.methodErr = &UnsupportedAlgorithmError{URI: s.methodURI, Role: "signature"}
	}
	refs := si[2:]
	if len(refs) > lim.refs {
		return nil, fmt.Errorf("%w: %d references in one signature (at most %d)", ErrLimit, len(refs), lim.refs)
	}
	for _, rn := range refs {
		if !rn.Is(NSDSig, "Reference") {
			return nil, malformed("unexpected element {%s}%s in ds:SignedInfo", rn.NamespaceURI(), rn.LocalName())
		}
		r, err := parseReference(rn, lim)
		if err != nil {
			return nil, err
		}
		s.refs = append(s.refs, r)
	}
	return s, nil
}

// readC14N reads a CanonicalizationMethod or canonicalization Transform with its optional
// InclusiveNamespaces PrefixList (exclusive canonicalization only).
func readC14N(n libxml.Node, role string) (string, libxml.C14N, error) {
	uri, _ := n.Attr("Algorithm")
	c, ok := c14nAlg(uri)
	if !ok {
		return uri, c, &UnsupportedAlgorithmError{URI: uri, Role: role}
	}
	for _, k := range n.Children() {
		if c.Method != libxml.ExcC14N10 || !k.Is(NSExcC14, "InclusiveNamespaces") {
			return uri, c, malformed("unexpected parameter {%s}%s of %s", k.NamespaceURI(), k.LocalName(), uri)
		}
		pl, _ := k.Attr("PrefixList")
		c.InclusivePrefixes = append(c.InclusivePrefixes, strings.Fields(pl)...)
	}
	return uri, c, nil
}

func parseReference(n libxml.Node, lim limits) (*reference, error) {
	r := &reference{node: n}
	r.uri, r.hasURI = n.Attr("URI")
	r.id, _ = n.Attr("Id")
	r.typ, _ = n.Attr("Type")
	kids := n.Children()
	if len(kids) > 0 && kids[0].Is(NSDSig, "Transforms") {
		ts := kids[0].Children()
		if len(ts) == 0 {
			return nil, malformed("empty ds:Transforms")
		}
		if len(ts) > lim.transforms {
			return nil, fmt.Errorf("%w: %d transforms in one reference (at most %d)", ErrLimit, len(ts), lim.transforms)
		}
		for _, tn := range ts {
			if !tn.Is(NSDSig, "Transform") {
				return nil, malformed("unexpected element {%s}%s in ds:Transforms", tn.NamespaceURI(), tn.LocalName())
			}
			t, err := parseTransform(tn)
			if err != nil {
				if !isUnsupported(err) {
					return nil, err
				}
				// Reported on this reference; the others are still checked.
				if r.err == nil {
					r.err = err
				}
			}
			r.transforms = append(r.transforms, t)
		}
		kids = kids[1:]
	}
	if len(kids) != 2 || !kids[0].Is(NSDSig, "DigestMethod") || !kids[1].Is(NSDSig, "DigestValue") {
		return nil, malformed("ds:Reference must hold [Transforms], DigestMethod and DigestValue")
	}
	r.digestURI, _ = kids[0].Attr("Algorithm")
	if len(kids[0].Children()) > 0 || len(kids[1].Children()) > 0 {
		return nil, malformed("unexpected child elements of ds:DigestMethod or ds:DigestValue")
	}
	alg, ok := digestAlgs[r.digestURI]
	if !ok && r.err == nil {
		r.err = &UnsupportedAlgorithmError{URI: r.digestURI, Role: "digest"}
	}
	r.digest = alg
	r.digestValue = kids[1]
	return r, nil
}

func parseTransform(n libxml.Node) (transform, error) {
	uri, _ := n.Attr("Algorithm")
	switch uri {
	case TransformEnveloped:
		if len(n.Children()) > 0 {
			return transform{}, malformed("parameters in the enveloped-signature transform")
		}
		return transform{uri: uri, kind: tEnveloped}, nil
	case TransformBase64:
		if len(n.Children()) > 0 {
			return transform{}, malformed("parameters in the base64 transform")
		}
		return transform{uri: uri, kind: tBase64}, nil
	}
	_, c, err := readC14N(n, "transform")
	if err != nil {
		return transform{}, err
	}
	return transform{uri: uri, kind: tC14N, c14n: c}, nil
}

func isUnsupported(err error) bool { return errors.Is(err, ErrUnsupported) }
