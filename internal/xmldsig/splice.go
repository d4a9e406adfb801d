package xmldsig

import (
	"fmt"

	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/xmlsplice"
)

// This file holds the byte-level half of Sign: where the values go in the template, and writing them
// there. Offsets come from xmlsplice, a linear scanner that skips text with a byte search and copies
// none of it, so a 50 MB payload costs neither a token nor a buffer. Every offset is cross-checked
// against the tree libxml2 built from the same bytes before it is used.

// span is the byte range of an element's content (start..end), or of a self-closing tag's "/>" when
// selfClosing (then name is the tag's qualified name as written).
type span struct {
	start, end  int
	selfClosing bool
	name        string
}

// contentSpan is the range splice replaces to give e the text content.
func contentSpan(e *xmlsplice.Element) span {
	if e.SelfClosing {
		return span{start: e.StartEnd - 2, end: e.StartEnd, selfClosing: true, name: e.Name}
	}
	return span{start: e.StartEnd, end: e.End}
}

// locateValues finds in raw the DigestValue elements of the signature s (parsed by libxml2 from the
// same bytes) in reference order, then its SignatureValue, and returns their content spans in that
// order. The element carrying sigID and the shape of its SignedInfo and SignatureValue must be the same
// for xmlsplice as for libxml2; any disagreement is an error rather than a splice into the wrong place.
func locateValues(raw []byte, sigID string, s *signature) ([]span, error) {
	idx, err := xmlsplice.Index(raw)
	if err != nil {
		return nil, malformed("locating the values in the template: %v", err)
	}
	// The same identifier attributes as indexIDs; libxml2 has already proved the value unique.
	var found []*xmlsplice.Element
	idx.Walk(func(e *xmlsplice.Element) bool {
		for _, a := range e.Attrs {
			if a.Value == sigID && (a.Name == "Id" || a.Name == "ID" || a.Name == "id" || a.Name == "xml:id") {
				found = append(found, e)
				break
			}
		}
		return len(found) < 2
	})
	if len(found) != 1 || !found[0].Is(NSDSig, "Signature") {
		return nil, malformed("the scanner does not find the signature %q where libxml2 does", truncate(sigID))
	}
	kids := found[0].Children
	if len(kids) < 2 || !sameShape(s.signedInfo, kids[0]) || !sameShape(s.sigValue, kids[1]) {
		return nil, malformed("the scanner and libxml2 disagree on the structure of signature %q", truncate(sigID))
	}
	refs := kids[0].Children[2:]
	spans := make([]span, 0, len(refs)+1)
	for _, r := range refs {
		spans = append(spans, contentSpan(r.Children[len(r.Children)-1]))
	}
	return append(spans, contentSpan(kids[1])), nil
}

// sameShape reports whether the libxml2 element n and the scanned element e have the same expanded
// names and the same element children, recursively. It is used on SignedInfo and SignatureValue only,
// which are small.
func sameShape(n libxml.Node, e *xmlsplice.Element) bool {
	if !n.Is(e.Space, e.Local) {
		return false
	}
	kids := n.Children()
	if len(kids) != len(e.Children) {
		return false
	}
	for i, k := range kids {
		if !sameShape(k, e.Children[i]) {
			return false
		}
	}
	return true
}

// fillSignedInfo puts texts into the DigestValue elements of the canonical SignedInfo c14n, which was
// produced with every DigestValue empty. Canonical XML writes an element's start tag, its content and
// its end tag, and the start tag does not depend on the content; base64 text needs no escaping. So the
// canonical form of SignedInfo with the values filled in is c14n with each DigestValue's content
// replaced, which is what Verify will compute from the signed document, without parsing the whole
// document a second time. The result is parsed (it is small) to prove that the values are where
// libxml2 sees them.
func fillSignedInfo(c14n []byte, texts []string) ([]byte, error) {
	idx, err := xmlsplice.Index(c14n)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: scanning the canonical SignedInfo: %w", err)
	}
	si := idx.Root
	if !si.Is(NSDSig, "SignedInfo") || len(si.Children) != len(texts)+2 {
		return nil, fmt.Errorf("xmldsig: the canonical SignedInfo does not have %d references", len(texts))
	}
	spans := make([]span, len(texts))
	for i, r := range si.Children[2:] {
		if !r.Is(NSDSig, "Reference") || len(r.Children) == 0 || !r.Children[len(r.Children)-1].Is(NSDSig, "DigestValue") {
			return nil, fmt.Errorf("xmldsig: unexpected reference %d in the canonical SignedInfo", i)
		}
		spans[i] = contentSpan(r.Children[len(r.Children)-1])
	}
	out := splice(c14n, spans, texts)

	d, err := libxml.Parse(out)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: parsing the canonical SignedInfo with digests: %w", err)
	}
	defer d.Close()
	refs := d.Root().Children()
	if len(refs) != len(texts)+2 {
		return nil, fmt.Errorf("xmldsig: reference count changed after splicing")
	}
	for i, r := range refs[2:] {
		kids := r.Children()
		if len(kids) == 0 || kids[len(kids)-1].Text() != texts[i] {
			return nil, fmt.Errorf("xmldsig: DigestValue %d not where libxml2 sees it after splicing", i)
		}
	}
	return out, nil
}

// fillSignatureValue puts the base64 text into the canonical form of an empty SignatureValue, as
// splice puts it into the document: the canonical form of the filled element is its start tag, the
// text (base64 needs no escaping) and its end tag. The small result is parsed to prove that the text
// is the element's whole content.
func fillSignatureValue(c14n []byte, text string) ([]byte, error) {
	idx, err := xmlsplice.Index(c14n)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: scanning the canonical SignatureValue: %w", err)
	}
	if !idx.Root.Is(NSDSig, "SignatureValue") || len(idx.Root.Children) != 0 {
		return nil, fmt.Errorf("xmldsig: the canonical SignatureValue is not an element without children")
	}
	out := splice(c14n, []span{contentSpan(idx.Root)}, []string{text})
	d, err := libxml.Parse(out)
	if err != nil {
		return nil, fmt.Errorf("xmldsig: parsing the canonical SignatureValue: %w", err)
	}
	defer d.Close()
	if r := d.Root(); !r.Is(NSDSig, "SignatureValue") || r.Text() != text {
		return nil, fmt.Errorf("xmldsig: the SignatureValue is not where libxml2 sees it after splicing")
	}
	return out, nil
}

// splice replaces each span's content with the corresponding text (spans in document order, not
// overlapping) and returns the new bytes, allocated once at their final size.
func splice(doc []byte, spans []span, texts []string) []byte {
	size := len(doc)
	for i, sp := range spans {
		size += len(texts[i]) - (sp.end - sp.start)
		if sp.selfClosing {
			size += len(">") + len("</") + len(sp.name) + len(">")
		}
	}
	out := make([]byte, 0, size)
	prev := 0
	for i, sp := range spans {
		out = append(out, doc[prev:sp.start]...)
		if sp.selfClosing {
			out = append(out, '>')
			out = append(out, texts[i]...)
			out = append(out, "</"...)
			out = append(out, sp.name...)
			out = append(out, '>')
		} else {
			out = append(out, texts[i]...)
		}
		prev = sp.end
	}
	return append(out, doc[prev:]...)
}
