// Package audit is the auditor's verification logic (SPEC §1 auditor, DEF-11, SIG-00): it recognises
// what a file is — a Tagdíj package or receipt package (strict), any other e-akta dossier (generic
// es3 mode) or any XMLDSig/XAdES document — verifies it with the matching internal/xades entry point,
// and adds what an auditor needs on top of the shared report: the XMLDSig core validity of every
// signature and, for receipt packages, the decoded receipt.
//
// Offline is the default: an auditor checks years later with what the files embed (DEF-11); fetching
// revocation evidence is the caller's explicit choice (Options.Env.Online).
package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"strings"

	"github.com/tagdij/tagdij/internal/container"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/internal/xmldsig"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// Kind is what a file was verified as.
type Kind string

// Kinds.
const (
	Auto    Kind = "auto"    // detect (Detect)
	Package Kind = "package" // Tagdíj package (TBA), strict, ProofOfOrigin, qualified
	Receipt Kind = "receipt" // Tagdíj receipt package (TBN), strict, ProofOfReceipt, advanced
	EAkta   Kind = "e-akta"  // any other e-akta dossier: generic es3 mode, the package rules of the policy
	XMLDSig Kind = "xmldsig" // any other XML document with XMLDSig/XAdES signatures
	// Container is a sender container (TBK, SND-31): unsigned, its package and receipt verified with
	// the validation data its kontener.xml keeps (internal/container).
	Container Kind = "container"
	// Refused: e-akta or Tagdíj elements outside their place (a wrapped or rebound dossier); never
	// verified, always TOTAL-FAILED/FORMAT_FAILURE with T005. Not a --kind value.
	Refused Kind = "refused"
)

// ParseKind reads the --kind flag.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Auto, Package, Receipt, EAkta, XMLDSig, Container:
		return k, nil
	case "":
		return Auto, nil
	}
	return "", fmt.Errorf("ismeretlen fajta / unknown kind %q: auto, package, receipt, container, e-akta or xmldsig", s)
}

// Detect tells what data is by its root element and, for an e-akta dossier, whether it has the strict
// Tagdíj shape and which document it carries (bevallas.xml: package, nyugta.xml: receipt). A document
// that does not parse is XMLDSig: VerifyGeneric then reports the parse refusal. A document with e-akta
// or Tagdíj elements outside their place (a dossier wrapped in a foreign root, a rebound dossier
// namespace) is Refused: it is never verified as generic XMLDSig.
func Detect(data []byte) Kind {
	doc, err := libxml.Parser{Limits: libxml.VerifierLimits()}.Parse(data)
	if err != nil {
		return XMLDSig
	}
	defer doc.Close()
	k, d, _ := detect(doc, len(data))
	d.Close()
	return k
}

// Tagdíj vocabulary that marks a document as a Tagdíj dossier (SPEC §2, §5).
const tagdijNSPrefix = "urn:x-mnyp:"

// dossierLocals are the local names of the e-akta dossier skeleton: found in any namespace outside a
// dossier root, they are a dossier hidden under another root or behind a rebound namespace.
var dossierLocals = map[string]bool{"Dossier": true, "DossierProfile": true, "DocumentProfile": true}

// detect decides the kind of a parsed document. For Package, Receipt and EAkta it returns the dossier
// checked in the mode to verify it in (borrowing doc); for Refused, the finding that says why. A
// dossier that carries Tagdíj marks (cs:Csomag metadata, a bevallas.xml or nyugta.xml document, a
// SPEC §4 title) is verified strictly even when it is not of the strict shape: the strict refusal is
// then its verdict, so breaking the shape can never buy the laxer e-akta mode.
func detect(doc *libxml.Document, size int) (Kind, *es3.Dossier, *errcode.Finding) {
	root := doc.Root()
	if root.IsZero() {
		return XMLDSig, nil, nil
	}
	if !root.Is(es3.NSES, "Dossier") {
		if f := misplaced(doc); f != nil {
			return Refused, nil, f
		}
		return XMLDSig, nil, nil
	}
	if d, err := es3.FromDocument(doc, size, es3.ParseOptions{Mode: es3.Strict}); err == nil {
		if len(d.Documents) == 1 {
			switch d.Documents[0].Title {
			case pack.DocumentTitle:
				return Package, d, nil
			case receiptpkg.DocumentTitle:
				return Receipt, d, nil
			}
		}
		if container.IsContainer(d) {
			return Container, d, nil
		}
		d.Close()
	} else if k := tagdijMarks(doc); k != "" {
		f := findingOf(err)
		return k, nil, &f
	}
	d, err := es3.FromDocument(doc, size, es3.ParseOptions{Mode: es3.Generic})
	if err != nil {
		f := findingOf(err)
		return EAkta, nil, &f
	}
	return EAkta, d, nil
}

// findingOf is the finding of an es3 refusal: the one it carries (errcode.Of), else T005.
func findingOf(err error) errcode.Finding {
	if f, ok := errcode.Of(err); ok {
		return f
	}
	return errcode.New(errcode.T005, "", err.Error())
}

// misplaced finds e-akta or Tagdíj elements in a document whose root is not es:Dossier: any element of
// the e-akta namespace except an es:SignatureProfile inside a signature's ds:Object (where e-Szignó
// signatures of plain XML carry it), any element of a Tagdíj namespace (urn:x-mnyp:…) below the root,
// and the dossier skeleton's names in any namespace (a rebound es prefix).
func misplaced(doc *libxml.Document) *errcode.Finding {
	var found *errcode.Finding
	root := doc.Root()
	doc.Walk(func(n libxml.Node) bool {
		ns, local := n.NamespaceURI(), n.LocalName()
		var why string
		switch {
		case ns == es3.NSES && !(local == "SignatureProfile" && inSignatureObject(n)) && !underSignatureProfile(n):
			why = "es:" + local
		case strings.HasPrefix(ns, tagdijNSPrefix) && n != root:
			why = "{" + ns + "}" + local
		case dossierLocals[local] && ns != es3.NSES:
			why = "{" + ns + "}" + local
		}
		if why == "" {
			return true
		}
		f := errcode.New(errcode.T005, fmt.Sprintf("sor/line %d", n.Line()),
			"e-akta vagy Tagdíj elem a helyén kívül / e-akta or Tagdíj element outside its place: "+why+
				"; a becsomagolt dosszié nem ellenőrizhető általános XMLDSig-ként / a wrapped dossier is never verified as generic XMLDSig")
		found = &f
		return false
	})
	return found
}

// inSignatureObject reports whether n is a child of a ds:Object of a ds:Signature.
func inSignatureObject(n libxml.Node) bool {
	p := n.Parent()
	return p.Is(xmldsig.NSDSig, "Object") && p.Parent().Is(xmldsig.NSDSig, "Signature")
}

// underSignatureProfile reports whether n is inside an es:SignatureProfile that is in its place.
func underSignatureProfile(n libxml.Node) bool {
	for p := n.Parent(); !p.IsZero(); p = p.Parent() {
		if p.Is(es3.NSES, "SignatureProfile") {
			return inSignatureObject(p)
		}
	}
	return false
}

// tagdijMarks tells whether a dossier that failed the strict shape still says it is a Tagdíj package
// or receipt: it then returns the kind to verify it as strictly; "" otherwise.
func tagdijMarks(doc *libxml.Document) Kind {
	var k Kind
	doc.Walk(func(n libxml.Node) bool {
		switch {
		case strings.HasPrefix(n.NamespaceURI(), tagdijNSPrefix):
			k = Package
		case n.Is(es3.NSES, "Title"):
			switch t := strings.TrimSpace(n.Text()); {
			case t == receiptpkg.DocumentTitle || strings.HasPrefix(t, string(pkgname.Receipt)+"_"):
				k = Receipt
			case t == pack.DocumentTitle || strings.HasPrefix(t, string(pkgname.Package)+"_"):
				k = Package
			}
		}
		return k == ""
	})
	return k
}

// Core is the XMLDSig core validity of one signature (report.Core).
type Core = report.Core

// Core validity values (report's).
const (
	CoreValid       = report.CoreValid
	CoreInvalid     = report.CoreInvalid
	CoreUnsupported = report.CoreUnsupported
	CoreNoKey       = report.CoreNoKey
)

// CoreOf is the core validity internal/xades recorded; a signature whose core validation never ran
// (its structure was refused first) counts as invalid.
func CoreOf(s report.Signature) Core {
	if s.Core != "" {
		return s.Core
	}
	return CoreInvalid
}

// Signature is a signature's report with its core validity.
type Signature struct {
	report.Signature
	CoreValidity Core `json:"coreValidity"`
}

// Result is the auditor's report of one file.
type Result struct {
	report.Document
	// VerifiedAs is the kind the file was verified as.
	VerifiedAs Kind `json:"verifiedAs"`
	// Signatures shadows Document.Signatures with the core validity added.
	Signatures []Signature `json:"signatures"`
	// Receipt is the decoded receipt of a receipt package whose signature is not TOTAL-FAILED.
	Receipt *receipt.Receipt `json:"receipt,omitempty"`
	// ReceiptError says why a receipt package's content was not decoded.
	ReceiptError string `json:"receiptError,omitempty"`
	// Parts are a container's package and receipt reports (its Document combines them).
	Parts []report.Document `json:"parts,omitempty"`
}

// Options control Verify.
type Options struct {
	// Env is the trust environment; Env.Online nil verifies offline. Required.
	Env *trust.Env
	// Kind forces the kind; Auto (or "") detects it.
	Kind Kind
	// Now is the validation time; zero: time.Now().
	Now time.Time
	// FileName goes into the report.
	FileName string
	// Schemas decode receipts; nil: receipts are verified but not decoded.
	Schemas *schema.Set
}

// Verify verifies one file. The bytes are parsed once: detection, verification and the reading of
// what was verified share one tree. The error is only for "could not run"; every finding is in the
// result.
func Verify(ctx context.Context, data []byte, opts Options) (*Result, error) {
	if opts.Env == nil {
		return nil, errors.New("audit: no trust environment")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	vo := xades.VerifyOptions{Env: opts.Env, Now: now, FileName: opts.FileName, Kind: policy.KindPackage, Mode: es3.Strict}
	kind := opts.Kind
	if kind == "" {
		kind = Auto
	}
	xdoc, perr := libxml.Parser{Limits: libxml.VerifierLimits()}.Parse(data)
	if perr != nil {
		if kind == Auto {
			kind = XMLDSig
		}
		if kind == Receipt {
			vo.Kind = policy.KindReceipt
		}
		doc, err := xades.VerifyRefused(data, vo, perr)
		if err != nil {
			return nil, err
		}
		if kind == XMLDSig {
			doc.Kind = "xmldsig"
		}
		return result(kind, doc), nil
	}
	defer xdoc.Close()

	var d *es3.Dossier
	var refusal *errcode.Finding
	switch kind {
	case Auto:
		kind, d, refusal = detect(xdoc, len(data))
	case Package, Receipt, Container:
		var err error
		if d, err = es3.FromDocument(xdoc, len(data), es3.ParseOptions{Mode: es3.Strict}); err != nil {
			f := findingOf(err)
			refusal = &f
		}
	case EAkta:
		var err error
		if d, err = es3.FromDocument(xdoc, len(data), es3.ParseOptions{Mode: es3.Generic}); err != nil {
			f := findingOf(err)
			refusal = &f
		}
	case XMLDSig:
		// Forced generic verification of a dossier would skip every Tagdíj rule: refused like a
		// wrapped one.
		if root := xdoc.Root(); root.Is(es3.NSES, "Dossier") {
			f := errcode.New(errcode.T005, "es:Dossier", "e-akta dosszié: ellenőrizze --kind auto-val / an e-akta dossier: verify it with --kind auto")
			refusal = &f
		} else {
			refusal = misplaced(xdoc)
		}
	default:
		return nil, fmt.Errorf("audit: unknown kind %q", kind)
	}
	defer d.Close()
	if kind == Receipt {
		vo.Kind = policy.KindReceipt
	}
	if kind == EAkta {
		vo.Mode = es3.Generic
	}
	if refusal != nil {
		doc, err := xades.VerifyRefused(data, vo, &es3.Error{Finding: *refusal, Err: errors.New(refusal.EN)})
		if err != nil {
			return nil, err
		}
		return result(kind, doc), nil
	}

	res := &Result{VerifiedAs: kind}
	var doc *report.Document
	var err error
	switch kind {
	case Package:
		if opts.Schemas == nil {
			return nil, errors.New("audit: packages need the schemas (their signed metadata are checked)")
		}
		var v *pack.Verified
		v, err = pack.VerifyDossier(ctx, d, data, pack.VerifyOptions{Env: opts.Env, Schemas: opts.Schemas, Now: now, FileName: opts.FileName})
		if v != nil {
			doc = v.Report
		}
	case Receipt:
		if opts.Schemas != nil {
			var r *receipt.Receipt
			r, doc, err = receiptpkg.VerifyDossier(ctx, d, data, receiptpkg.VerifyOptions{Env: opts.Env, Now: now, Schemas: opts.Schemas, FileName: opts.FileName})
			if doc != nil && err != nil {
				res.ReceiptError, err = err.Error(), nil
			}
			res.Receipt = r
		} else {
			doc, err = xades.VerifyDossier(ctx, d, data, vo)
		}
		if doc != nil && err == nil {
			receiptName(doc, opts.FileName, d.Title)
		}
	case Container:
		if opts.Schemas == nil {
			return nil, errors.New("audit: containers need the schemas")
		}
		var cr *container.Result
		if cr, err = container.Verify(ctx, d, data, container.VerifyOptions{Env: opts.Env, Schemas: opts.Schemas, Now: now, FileName: opts.FileName}); err != nil {
			// Not a container after all (or kontener.xml unreadable): a format failure, not a crash.
			doc, err = xades.VerifyRefused(data, vo, &es3.Error{Finding: errcode.New(errcode.F007, "kontener.xml", err.Error()), Err: err})
			break
		}
		doc = cr.Report
		for _, p := range []*report.Document{cr.Package, cr.Receipt} {
			if p != nil {
				res.Parts = append(res.Parts, *p)
			}
		}
		res.Receipt = cr.ReceiptContent
	case EAkta:
		doc, err = xades.VerifyDossier(ctx, d, data, vo)
	case XMLDSig:
		doc, err = xades.VerifyGenericDocument(ctx, xdoc, data, vo)
	}
	if err != nil {
		return nil, err
	}
	r := result(kind, doc)
	r.Receipt, r.ReceiptError, r.Parts = res.Receipt, res.ReceiptError, res.Parts
	return r, nil
}

// receiptName applies SPEC §4 to a receipt package's file name: a name of SPEC §4's shape must be the
// signed title (F010).
func receiptName(doc *report.Document, fileName, title string) {
	n, err := pkgname.Parse(fileName)
	if err != nil || (n.Kind == pkgname.Receipt && fileName == title) {
		return
	}
	doc.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F010, "file name",
		fmt.Sprintf("%.80q, az aláírt es:Title / the signed es:Title %.80q", fileName, title)))
	doc.Finish()
}

func result(kind Kind, doc *report.Document) *Result {
	res := &Result{VerifiedAs: kind, Document: *doc}
	res.Signatures = make([]Signature, 0, len(doc.Signatures))
	for _, s := range doc.Signatures {
		res.Signatures = append(res.Signatures, Signature{Signature: s, CoreValidity: CoreOf(s)})
	}
	return res
}

// LoadTrust reads a trust configuration file for pol. Without online, the environment is offline
// (Online nil) whatever the file says; with it, fetched evidence is judged by now.
func LoadTrust(path string, pol *policy.Policy, online bool, now func() time.Time) (*trust.Env, error) {
	return trust.LoadFile(path, pol, !online, now)
}

// NoTrust is an environment without anchors, for checking core validity and structure only: every
// signature is at best INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND.
func NoTrust(pol *policy.Policy) *trust.Env {
	return &trust.Env{Policy: pol, Signers: pathval.NewAnchors(pathval.PurposeSigner), TSAs: pathval.NewAnchors(pathval.PurposeTSA)}
}
