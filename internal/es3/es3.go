// Package es3 builds, writes and strictly parses the e-akta (.es3) dossiers Tagdíj exchanges (SPEC §2,
// §5): packages (TBA), receipts (TBN), sender containers (TBK) and tax-authority exports (TBX). It knows
// the dossier structure and the package metadata (cs:Csomag); it does not sign or verify. The signature
// layer adds ds:Signature elements to a built *etree.Document and verifies the ones Parse collects.
//
// # Shape
//
//	es:Dossier xmlns:es
//	  es:DossierProfile Id OBJREF=<Documents Id>
//	    es:Title es:CreationDate [es:Metadata/cs:Csomag xmlns:cs | one other element]
//	  es:Documents Id
//	    es:Document                              one or more
//	      es:DocumentProfile Id OBJREF=<Object Id>
//	        es:Title es:CreationDate es:Format/es:MIME-Type[@extension @subtype @type]
//	        es:SourceSize[@sizeUnit="B" @sizeValue] es:BaseTransform/es:Transform[@Algorithm]…
//	      ds:Object xmlns:ds Id                  base64 of the transformed document, 76-column lines
//	  ds:Signature xmlns:ds Id …                 added by the signature layer
//
// The attribute forms (MIME-Type, SourceSize, Transform) follow the conformance sample
// (shared/conformance/es3-sample.es3), as does the CreationDate inside each DocumentProfile. Each
// namespace is declared on the outermost element that uses it, so the written bytes are already in
// canonical form (see Build).
//
// # Modes
//
// Parse has a Strict mode for Tagdíj's own dossiers and a Generic mode for auditors reading any e-akta
// dossier of the same vocabulary (the conformance sample signs at document level, inside es:Document).
// Both refuse every signature-wrapping shape; see Mode.
//
// # Bytes and pointers
//
// Build returns an etree document; Write serializes it once, and those bytes are what is signed and
// sent. Parse reads bytes with the hardened libxml2 parser and keeps the *libxml.Document open inside the
// Dossier so the signature layer canonicalizes exactly what was parsed. Nothing crosses between etree and
// libxml2 but bytes.
//
// # Trust
//
// Parse checks structure only. A Dossier's fields are unauthenticated until the signature layer has
// verified that the signatures cover DossierProfile, Documents and every payload object; the metadata
// in particular must be decoded (Dossier.Metadata) only after that.
package es3

import (
	"fmt"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
)

// Namespaces and the media type of SPEC §2.
const (
	NSES       = "https://www.microsec.hu/ds/e-szigno30#" // e-akta, prefix es
	NSDS       = "http://www.w3.org/2000/09/xmldsig#"     // XMLDSig, prefix ds
	NSXAdES    = "http://uri.etsi.org/01903/v1.3.2#"      // XAdES 1.3.2, prefix xades
	NSXAdES141 = "http://uri.etsi.org/01903/v1.4.1#"      // XAdES 1.4.1 archive elements, prefix xades141
	NSCsomag   = "urn:x-mnyp:csomag:1"                    // package metadata, prefix cs
	MediaType  = "application/vnd.eszigno3+xml"           // the .es3 media type
)

// The prefixes Build writes.
const (
	PrefixES     = "es"
	PrefixDS     = "ds"
	PrefixCsomag = "cs"
)

// BaseTransform algorithms, in the order they are applied to the source document. The object always
// holds base64 text, so base64 is always last.
const (
	TransformZip     = "zip"     // ZIP with one entry (internal/payload)
	TransformEncrypt = "encrypt" // CMS EnvelopedData
	TransformBase64  = "base64"
)

// MIME types of the documents Tagdíj dossiers carry.
const (
	MIMEXML = "text/xml" // bevallas.xml, nyugta.xml, kontener.xml, export.xml
	MIMEES3 = MediaType  // a package or receipt kept inside a container or export
)

// Error is a refusal of a dossier: one SPEC §7 finding, and the underlying cause when there is one
// (a *libxml.Error for parse refusals).
type Error struct {
	Finding errcode.Finding
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("es3: %s: %v", e.Finding.Error(), e.Err)
	}
	return "es3: " + e.Finding.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Code is the finding's code.
func (e *Error) Code() errcode.Code { return e.Finding.Code }

// ErrFinding returns the refusal's finding (errcode.Carrier, for errcode.Of).
func (e *Error) ErrFinding() errcode.Finding { return e.Finding }

// bilingual builds a finding whose Hungarian and English texts each get their own detail.
func bilingual(c errcode.Code, loc, hu, en string) errcode.Finding {
	f := errcode.New(c, loc, "")
	if hu != "" {
		f.HU += " (" + hu + ")"
	}
	if en != "" {
		f.EN += " (" + en + ")"
	}
	return f
}

func refuse(c errcode.Code, loc, hu, en string) *Error {
	return &Error{Finding: bilingual(c, loc, hu, en)}
}

// where locates a node for a finding: its line and a short element path.
func where(n libxml.Node) string {
	if n.IsZero() {
		return ""
	}
	path := qname(n)
	if p := n.Parent(); !p.IsZero() {
		path = qname(p) + "/" + path
	}
	return fmt.Sprintf("sor/line %d: %s", n.Line(), path)
}

// qname names an element by a conventional prefix for its namespace.
func qname(n libxml.Node) string {
	switch n.NamespaceURI() {
	case NSES:
		return "es:" + n.LocalName()
	case NSDS:
		return "ds:" + n.LocalName()
	case NSCsomag:
		return "cs:" + n.LocalName()
	case "":
		return n.LocalName()
	}
	return "{" + n.NamespaceURI() + "}" + n.LocalName()
}
