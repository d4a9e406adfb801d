package pack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// VerifyOptions control Verify.
type VerifyOptions struct {
	// Env is the trust environment (anchors, policy, online revocation or nil for offline). Required.
	Env *trust.Env
	// Schemas decode and check the signed metadata (cs:Csomag). Required.
	Schemas *schema.Set
	// Now is the validation time; zero: time.Now().
	Now time.Time
	// Arrival is when the receiver got the bytes; zero skips the time-stamp → arrival rule (A009).
	Arrival time.Time
	// FileName is the package's file name as received or stored (a base name). Whenever it has the
	// shape of a SPEC §4 name it must be the package's signed es:Title, and its fields must equal the
	// signed metadata (F010); a name of another shape is only reported, unless RequireName.
	FileName string
	// RequireName makes a FileName that is not a package name a T001/T002 finding (the receiver's
	// rule, RCV-15); without it (auditor, sender) any local file name is accepted.
	RequireName bool
	// WantPayload returns the covered payload bytes in Verified.Payload (the CMS ciphertext or the
	// plain declaration): the receiver stores them, the processor decrypts them.
	WantPayload bool
	// Logger receives one line per verified signature (SIG-15, RCV-13); nil discards.
	Logger *slog.Logger
	// Limits are the XML parser limits (zero: libxml defaults).
	Limits libxml.Limits
	// Detached is validation data kept beside the package (a sender container's, SND-32), used like
	// the signatures' embedded data (xades.VerifyOptions.Detached).
	Detached *xades.ValidationData
	// Collect, when set, receives the validation data the check used (xades.VerifyOptions.Collect).
	Collect *xades.ValidationData
}

// Verified is the one verified-package result every program shares (receiver, processor, sender,
// auditor): the report and what the report vouches for. Name, Metadata and Payload are set only from
// elements that every signature covers with a core-valid reference (SPEC §2, "what the verifier may
// use"); otherwise they are nil and the report says why.
type Verified struct {
	// Report is the verdict with every finding; F009 (metadata), F010 (name ≠ metadata) and, with
	// RequireName, T001/T002 are in it.
	Report *report.Document
	// Name is FileName parsed, when it is a SPEC §4 name (of any kind); nil otherwise.
	Name *pkgname.Name
	// Title is the signed es:Title (the package name the signers gave it); "" when not authenticated.
	Title string
	// Metadata are the signed comments (cs:Csomag), decoded from their canonical form; nil when not
	// authenticated or not decodable.
	Metadata *es3.Metadata
	// Encrypted reports whether the payload is the zip/encrypt/base64 form (else plain base64, SEC-01).
	Encrypted bool
	// SourceSize is the signed es:SourceSize of the declaration (plaintext bytes).
	SourceSize int64
	// Payload is the covered payload object decoded from base64 (CMS EnvelopedData DER, or the plain
	// declaration), with WantPayload; nil otherwise or when not authenticated.
	Payload []byte
}

// Authenticated reports whether Metadata (and, if asked for, Payload) were read: every signature is
// core-valid and covers the dossier profile, the documents and the payload object, and the verdict is
// not TOTAL-FAILED.
func (v *Verified) Authenticated() bool { return v.Metadata != nil }

// Verify parses data once as a Tagdíj package (strict e-akta dossier with one bevallas.xml document),
// verifies every signature (xades.VerifyDossier, with opts.Arrival for A009), then reads what the
// signatures cover: the signed metadata (F009 when they break the cs:Csomag schema or rules) and the
// name rule of SPEC §4 (F010 when FileName is a SPEC §4 name that is not the signed title or whose
// fields differ from the metadata). The error is only for "could not run"; every finding about the
// package is in the report.
func Verify(ctx context.Context, data []byte, opts VerifyOptions) (*Verified, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict, Limits: opts.Limits})
	if err != nil {
		rep, verr := xades.VerifyRefused(data, opts.xadesOptions(), err)
		if verr != nil {
			return nil, verr
		}
		v := &Verified{Report: rep}
		opts.checkName(v, nil)
		return v, nil
	}
	defer d.Close()
	return VerifyDossier(ctx, d, data, opts)
}

// VerifyDossier is Verify for a dossier the caller already parsed strictly from data (es3.Parse or
// es3.FromDocument): the auditor parses once to tell what a file is and verifies the same tree. d
// stays the caller's to close.
func VerifyDossier(ctx context.Context, d *es3.Dossier, data []byte, opts VerifyOptions) (*Verified, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	rep, err := xades.VerifyDossier(ctx, d, data, opts.xadesOptions())
	if err != nil {
		return nil, err
	}
	v := &Verified{Report: rep}
	if len(d.Documents) != 1 || d.Documents[0].Title != DocumentTitle {
		rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F011, "es:Documents",
			fmt.Sprintf("%d dokumentum, egy %s kell / %d documents; a package has exactly one %s",
				len(d.Documents), DocumentTitle, len(d.Documents), DocumentTitle)))
		rep.Finish()
		opts.checkName(v, nil)
		return v, nil
	}
	doc := &d.Documents[0]
	if covered(rep, d) {
		v.Title = d.Title
		v.Encrypted = doc.Encrypted()
		v.SourceSize = doc.SourceSize
		meta, findings := d.Metadata(opts.Schemas)
		for _, f := range findings {
			rep.Verdict.Fail(report.FormatFailure, f)
		}
		if len(findings) == 0 {
			v.Metadata = meta
		}
		if opts.WantPayload && v.Metadata != nil {
			if v.Payload, err = d.Payload(0); err != nil {
				rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F011, DocumentTitle, err.Error()))
				v.Payload = nil
			}
		}
	}
	opts.checkName(v, v.Metadata)
	rep.Finish()
	if v.Report.Verdict.Indication == report.TotalFailed {
		// Nothing read from a package that failed is handed on, even if a signature covered it.
		v.Payload = nil
	}
	return v, nil
}

func (o VerifyOptions) check() error {
	switch {
	case o.Env == nil || o.Env.Policy == nil:
		return errors.New("pack: verify: no trust environment or policy")
	case o.Schemas == nil:
		return errors.New("pack: verify: no schemas")
	}
	return nil
}

func (o VerifyOptions) xadesOptions() xades.VerifyOptions {
	return xades.VerifyOptions{Env: o.Env, Kind: policy.KindPackage, Now: o.Now, Arrival: o.Arrival, FileName: o.FileName,
		Mode: es3.Strict, Logger: o.Logger, Limits: o.Limits, Detached: o.Detached, Collect: o.Collect}
}

// covered reports whether every signature is core-valid and its verified references cover the
// dossier profile, the documents and every payload object: only then may anything in them be read.
func covered(rep *report.Document, d *es3.Dossier) bool {
	if rep.Verdict.Indication == report.TotalFailed || len(rep.Signatures) == 0 || len(rep.Signatures) != len(d.Signatures) {
		return false
	}
	need := []string{d.ProfileID, d.DocumentsID}
	for _, doc := range d.Documents {
		need = append(need, doc.ObjectID)
	}
	for _, s := range rep.Signatures {
		if s.Core != report.CoreValid {
			return false
		}
		for _, id := range need {
			if id == "" || !slices.Contains(s.Covered, id) {
				return false
			}
		}
	}
	return true
}

// checkName applies SPEC §4 to FileName: a name of SPEC §4's shape must be a TBA name equal to the
// signed title, with fields equal to the signed metadata (F010); with RequireName anything else is
// T001/T002. meta is nil when the metadata were not authenticated: then only the shape is checked.
func (o VerifyOptions) checkName(v *Verified, meta *es3.Metadata) {
	rep := v.Report
	defer rep.Finish()
	n, err := pkgname.Parse(o.FileName)
	if err != nil {
		if f, ok := errcode.Of(err); o.RequireName && ok {
			rep.Verdict.Fail(report.FormatFailure, f)
		}
		return
	}
	v.Name = &n
	if n.Kind != pkgname.Package {
		rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F010, "file name",
			fmt.Sprintf("%.80q: %s név, de a dosszié csomag (%s) / a %s name, but the dossier is a package (%s)",
				o.FileName, n.Kind, pkgname.Package, n.Kind, pkgname.Package)))
		return
	}
	if meta == nil {
		return
	}
	if v.Title != o.FileName {
		rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F010, "file name",
			fmt.Sprintf("%.80q, az aláírt es:Title / the signed es:Title %.80q", o.FileName, v.Title)))
	}
	for _, f := range pkgname.Matches(n, meta.NameFields()) {
		rep.Verdict.Fail(report.FormatFailure, f)
	}
}
