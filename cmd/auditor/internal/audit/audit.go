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

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades"
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
)

// ParseKind reads the --kind flag.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Auto, Package, Receipt, EAkta, XMLDSig:
		return k, nil
	case "":
		return Auto, nil
	}
	return "", fmt.Errorf("ismeretlen fajta / unknown kind %q: auto, package, receipt, e-akta or xmldsig", s)
}

// Detect tells what data is by its root element and, for an e-akta dossier, whether it has the strict
// Tagdíj shape and which document it carries (bevallas.xml: package, nyugta.xml: receipt). A document
// that does not parse is XMLDSig: VerifyGeneric then reports the parse refusal.
func Detect(data []byte) Kind {
	doc, err := libxml.Parse(data)
	if err != nil {
		return XMLDSig
	}
	root := doc.Root()
	isDossier := !root.IsZero() && root.Is(es3.NSES, "Dossier")
	doc.Close()
	if !isDossier {
		return XMLDSig
	}
	d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		return EAkta
	}
	defer d.Close()
	if len(d.Documents) == 1 {
		switch d.Documents[0].Title {
		case pack.DocumentTitle:
			return Package
		case receiptpkg.DocumentTitle:
			return Receipt
		}
	}
	return EAkta
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
	// Receipt is the decoded receipt of a receipt package whose signature is not TOTAL_FAILED.
	Receipt *receipt.Receipt `json:"receipt,omitempty"`
	// ReceiptError says why a receipt package's content was not decoded.
	ReceiptError string `json:"receiptError,omitempty"`
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

// Verify verifies one file. The error is only for "could not run"; every finding is in the result.
func Verify(ctx context.Context, data []byte, opts Options) (*Result, error) {
	if opts.Env == nil {
		return nil, errors.New("audit: no trust environment")
	}
	kind := opts.Kind
	if kind == "" || kind == Auto {
		kind = Detect(data)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	vo := xades.VerifyOptions{Env: opts.Env, Now: now, FileName: opts.FileName, Kind: policy.KindPackage, Mode: es3.Strict}
	res := &Result{VerifiedAs: kind}
	var doc *report.Document
	var err error
	switch kind {
	case Package:
		doc, err = xades.Verify(ctx, data, vo)
	case Receipt:
		if opts.Schemas != nil {
			var r *receipt.Receipt
			r, doc, err = receiptpkg.Verify(ctx, data, receiptpkg.VerifyOptions{Env: opts.Env, Now: now, Schemas: opts.Schemas, FileName: opts.FileName})
			if doc != nil && err != nil {
				res.ReceiptError, err = err.Error(), nil
			}
			res.Receipt = r
		} else {
			vo.Kind = policy.KindReceipt
			doc, err = xades.Verify(ctx, data, vo)
		}
	case EAkta:
		vo.Mode = es3.Generic
		doc, err = xades.Verify(ctx, data, vo)
	case XMLDSig:
		doc, err = xades.VerifyGeneric(ctx, data, vo)
	default:
		return nil, fmt.Errorf("audit: unknown kind %q", kind)
	}
	if err != nil {
		return nil, err
	}
	res.Document = *doc
	res.Signatures = make([]Signature, 0, len(doc.Signatures))
	for _, s := range doc.Signatures {
		res.Signatures = append(res.Signatures, Signature{Signature: s, CoreValidity: CoreOf(s)})
	}
	return res, nil
}

// Worst is the exit status of a set of results (SPEC §9): 1 if any is invalid, else 2 if any is
// incomplete, else 0.
func Worst(results []*Result) int {
	code := 0
	for _, r := range results {
		switch r.Verdict.Indication {
		case report.TotalFailed:
			return 1
		case report.Indeterminate:
			code = 2
		}
	}
	return code
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
