package xades

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/internal/xmldsig"
	"github.com/tagdij/tagdij/internal/xmlsplice"
)

// Id suffixes of the parts of a signature, appended to the signature's own Id. Deriving them from the
// random signature Id keeps them unique in the dossier and lets a reader see what belongs together.
const (
	suffixSigValue         = "-SigValue"
	suffixKeyInfo          = "-KeyInfo"
	suffixProfileObject    = "-ProfileObject"
	suffixProfile          = "-Profile"
	suffixQPObject         = "-QualifyingPropertiesObject"
	suffixSignedProperties = "-SignedProperties"
	suffixRefDossier       = "-Ref-DossierProfile"
	suffixRefDocuments     = "-Ref-Documents"
	suffixRefObject        = "-Ref-Object-" // + index
	suffixRefProfile       = "-Ref-SignatureProfile"
	suffixRefSignedProps   = "-Ref-SignedProperties"
	suffixSigTS            = "-SignatureTimeStamp"
	suffixCertRefs         = "-CompleteCertificateRefs"
	suffixRevRefs          = "-CompleteRevocationRefs"
	suffixCertValues       = "-CertificateValues"
	suffixRevValues        = "-RevocationValues"
	suffixSigAndRefsTS     = "-SigAndRefsTimeStamp"
	suffixTSValidation     = "-TimeStampValidationData"
	suffixArchiveTS        = "-ArchiveTimeStamp-" // + index
	idPrefixSignature      = "Signature-"
)

// excC14N is the canonicalization Tagdíj writes everywhere: exclusive C14N 1.0 without comments.
var excC14N = libxml.C14N{Method: libxml.ExcC14N10}

// sigParts are the pieces of one ds:Signature in the parsed document.
type sigParts struct {
	sig        libxml.Node
	id         string
	signedInfo libxml.Node
	sigValue   libxml.Node
	keyInfo    libxml.Node
	objects    []libxml.Node // ds:Object children in document order
	// qpIndex is the index in objects of the ds:Object holding the QualifyingProperties whose Target
	// is "#"+id; -1 if none.
	qpIndex       int
	qp            libxml.Node
	signedProps   libxml.Node // zero if absent
	unsignedProps libxml.Node // zero if absent
	usp           libxml.Node // UnsignedSignatureProperties, zero if absent
	// profileObject is the ds:Object holding es:SignatureProfile; zero if none.
	profileObject libxml.Node
	profile       libxml.Node
}

// errStructure marks a signature whose XAdES structure is ambiguous or broken.
var errStructure = errors.New("xades: signature structure")

// locate finds the parts of the signature sig. Two QualifyingProperties for the signature, or two
// signature profiles, are refused: a reader could otherwise be pointed at the one nobody signed.
func locate(sig libxml.Node) (*sigParts, error) {
	p := &sigParts{sig: sig, qpIndex: -1}
	p.id, _ = sig.Attr("Id")
	for _, c := range sig.Children() {
		switch {
		case c.Is(xmldsig.NSDSig, "SignedInfo"):
			p.signedInfo = c
		case c.Is(xmldsig.NSDSig, "SignatureValue"):
			p.sigValue = c
		case c.Is(xmldsig.NSDSig, "KeyInfo"):
			p.keyInfo = c
		case c.Is(xmldsig.NSDSig, "Object"):
			p.objects = append(p.objects, c)
		}
	}
	for i, o := range p.objects {
		for _, c := range o.Children() {
			switch {
			case c.Is(props.NS, "QualifyingProperties"):
				target, _ := c.Attr("Target")
				if target != "#"+p.id || p.id == "" {
					continue // another signature's properties: never this one's
				}
				if !p.qp.IsZero() {
					return p, fmt.Errorf("%w: two QualifyingProperties target signature %q", errStructure, p.id)
				}
				if len(o.Children()) != 1 {
					return p, fmt.Errorf("%w: the ds:Object of the QualifyingProperties holds other elements", errStructure)
				}
				p.qp, p.qpIndex = c, i
			case c.Is(es3.NSES, "SignatureProfile"):
				if !p.profile.IsZero() {
					return p, fmt.Errorf("%w: two es:SignatureProfile elements", errStructure)
				}
				p.profile, p.profileObject = c, o
			}
		}
	}
	if !p.qp.IsZero() {
		var sps, ups []libxml.Node
		for _, c := range p.qp.Children() {
			switch {
			case c.Is(props.NS, "SignedProperties"):
				sps = append(sps, c)
			case c.Is(props.NS, "UnsignedProperties"):
				ups = append(ups, c)
			}
		}
		if len(sps) > 1 || len(ups) > 1 {
			return p, fmt.Errorf("%w: repeated SignedProperties or UnsignedProperties", errStructure)
		}
		if len(sps) == 1 {
			p.signedProps = sps[0]
		}
		if len(ups) == 1 {
			p.unsignedProps = ups[0]
			for _, c := range ups[0].Children() {
				if c.Is(props.NS, "UnsignedSignatureProperties") {
					if !p.usp.IsZero() {
						return p, fmt.Errorf("%w: two UnsignedSignatureProperties", errStructure)
					}
					p.usp = c
				}
			}
		}
	}
	return p, nil
}

// canon returns the canonical form of n under c.
func canon(d *libxml.Document, n libxml.Node, c libxml.C14N) ([]byte, error) {
	var buf bytes.Buffer
	if err := d.CanonicalizeTo(&buf, n, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parseUnsigned reads the signature's UnsignedProperties from their exclusive canonical form, as the
// verifier does; nil (and no error) when the signature has none. A malformed one is ErrRefused.
func parseUnsigned(d *libxml.Document, p *sigParts) (*props.UnsignedProperties, error) {
	if p.unsignedProps.IsZero() {
		return nil, nil
	}
	b, err := canon(d, p.unsignedProps, excC14N)
	if err != nil {
		return nil, err
	}
	up, err := props.ParseUnsignedProperties(b)
	if err != nil {
		return nil, fmt.Errorf("%w: signature %q: %w", ErrRefused, p.id, err)
	}
	return up, nil
}

// c14nOf maps a time-stamp's CanonicalizationMethod ("" is XMLDSig's default, C14N 1.0).
func c14nOf(uri string) (libxml.C14N, bool) {
	if uri == "" {
		return libxml.C14N{Method: libxml.C14N10}, true
	}
	return libxml.ParseC14NURI(uri)
}

// keyInfoCertificates decodes the X509Certificate elements of a KeyInfo in document order, without
// judging them.
func keyInfoCertificates(ki libxml.Node) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	if ki.IsZero() {
		return nil, nil
	}
	for _, xd := range ki.Children() {
		if !xd.Is(xmldsig.NSDSig, "X509Data") {
			continue
		}
		for _, c := range xd.Children() {
			if !c.Is(xmldsig.NSDSig, "X509Certificate") {
				continue
			}
			der, err := base64.StdEncoding.DecodeString(stripSpace(c.Text()))
			if err != nil {
				return nil, fmt.Errorf("xades: KeyInfo certificate: %w", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("xades: KeyInfo certificate: %w", err)
			}
			out = append(out, cert)
		}
	}
	return out, nil
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

// serialize writes el (and its subtree) as bytes the way es3.Write does: canonical end tags and
// escapes, no indentation.
func serialize(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.WriteSettings = etree.WriteSettings{CanonicalEndTags: true, CanonicalText: true, CanonicalAttrVal: true}
	doc.SetRoot(el)
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// declareMissing adds to el the declarations of the prefixes el's subtree uses (among ds, xades,
// xades141) that are not bound to the right namespace at the insertion point at.
func declareMissing(el *etree.Element, at *xmlsplice.Element) {
	want := map[string]string{"ds": props.NSDS, "xades": props.NS}
	used := map[string]bool{}
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		used[e.Space] = true
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(el)
	for prefix, ns := range want {
		if !used[prefix] {
			continue
		}
		if got, ok := at.LookupPrefix(prefix); ok && got == ns {
			continue
		}
		if el.SelectAttr("xmlns:"+prefix) == nil {
			el.CreateAttr("xmlns:"+prefix, ns)
		}
	}
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// isUTF8Doc reports whether the XML declaration (if any) declares UTF-8 (or nothing).
func isUTF8Doc(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return true
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return false
	}
	decl := strings.ToLower(string(data[:end]))
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return true
	}
	rest := decl[i+len("encoding"):]
	rest = strings.TrimLeft(rest, " \t\r\n=")
	rest = strings.Trim(rest, " \t\r\n")
	return strings.HasPrefix(rest, `"utf-8"`) || strings.HasPrefix(rest, `'utf-8'`)
}
