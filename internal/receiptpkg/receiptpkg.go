// Package receiptpkg wraps a receipt (nyugta.xml, internal/receipt) into a receipt package and reads
// it back (SPEC §5, DEF-07, RCV-02, RCV-17, SND-28, SND-29, SEC-14): an e-akta (.es3) dossier with
// exactly one plain document nyugta.xml (text/xml, base64 transform only), signed by the fund's
// receipt key with an advanced signature whose commitment is ProofOfReceipt, and time-stamped.
//
// # Names
//
// The receipt package's file name, which is also its es:Title, is the received package's name with
// TBN for TBA (pkgname.ReceiptName, SPEC §4). Every upload that reaches the application gets a receipt,
// including uploads whose name is unusable (T001, T002, no name at all). Those get the fallback name
//
//	TBN_<fund>_<arrival yyyyMMddTHHmmssZ>_<receipt id>.es3
//
// which deliberately does not match the SPEC §4 pattern (no declarant, period or sequence field can
// be trusted from such an upload), is unique through the receipt's UUID, and still sorts by fund and
// arrival. FileName derives the name from the receipt alone, so a verifier can check that a receipt
// package's title belongs to the receipt inside it.
//
// # Trust
//
// Verify decodes nyugta.xml only after the signature check, and only from the payload object the
// signature covers; a receipt whose signature is TOTAL-FAILED is not decoded at all (its content is
// unauthenticated). SND-30 asks the sender to keep such a receipt anyway: it keeps the bytes and the
// report, which is what Verify returns.
package receiptpkg

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// DocumentTitle is the title of the one document of a receipt package.
const DocumentTitle = "nyugta.xml"

// BuildOptions control Build.
type BuildOptions struct {
	// Signer is the fund's receipt key (a PKCS#11 key works); never the TLS server key (SEC-14).
	// Required.
	Signer crypto.Signer
	// Certificate is the receipt key's certificate and Chain the CA certificates above it, issuer
	// first. Certificate is required.
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	// TLSCertificates are the receiver's TLS server certificates: the receipt key must be none of
	// their keys. A certificate with the serverAuth extended key usage is refused in any case.
	TLSCertificates []*x509.Certificate
	// Policy is the signature policy the receipt is signed under. Required.
	Policy *policy.Policy
	// TSA time-stamps the signature (DEF-07 with p.16: an advanced signature and a time-stamp).
	// Required.
	TSA *tsp.Client
	// Now is the signing time and the dossier's creation date; zero: time.Now().
	Now time.Time
	// Unstamped skips the time-stamp. Only for the R001 "not accepted, retry later" answer to an
	// upload the receiver could not acknowledge because its TSA is down: such a receipt is never
	// stored and acknowledges nothing; Build refuses it for any other receipt.
	Unstamped bool
	// Rand is the randomness for the dossier's and the signature's Ids (nil: crypto/rand).
	Rand io.Reader
	// Generator goes to es:Generator; empty: "Tagdíj receiver".
	Generator string
	// Logger receives the signature and time-stamp log lines (SIG-12); nil discards.
	Logger *slog.Logger
}

// ErrRefused wraps every refusal of Build's input or options (as opposed to a failure of the signer,
// the TSA or the system).
var ErrRefused = errors.New("receiptpkg: refused")

// FileName is the receipt package's file name for r: pkgname.ReceiptName of the received package's
// name when that is a valid package (TBA) name, the fallback name of the package documentation
// otherwise. It fails only for a receipt without the fields the fallback needs (fund code, arrival, id).
func FileName(r *receipt.Receipt) (string, error) {
	if n, err := pkgname.Parse(r.Package.FileName); err == nil && n.Kind == pkgname.Package {
		return pkgname.ReceiptName(n).String(), nil
	}
	if r.Fund.Code == "" || r.Arrival.IsZero() || r.ID == "" {
		return "", fmt.Errorf("%w: receipt without fund code, arrival or id: no name", ErrRefused)
	}
	return fmt.Sprintf("%s_%s_%s_%s%s", pkgname.Receipt, r.Fund.Code, r.Arrival.UTC().Format("20060102T150405Z"), r.ID, pkgname.Extension), nil
}

// Build writes r as nyugta.xml (receipt.Marshal, which checks it first), wraps it into a receipt
// package named FileName(r), signs it with the receipt key (Kind receipt: ProofOfReceipt, the
// policy's receipt signer role) and time-stamps the signature. It returns the bytes and the name.
//
// A receipt key whose certificate is a TLS server certificate, or whose key is one of
// opts.TLSCertificates', is refused (policy.CheckReceiptKey, SEC-14) before anything is signed.
func Build(ctx context.Context, r *receipt.Receipt, opts BuildOptions) ([]byte, string, error) {
	switch {
	case r == nil:
		return nil, "", fmt.Errorf("%w: no receipt", ErrRefused)
	case opts.Signer == nil || opts.Certificate == nil:
		return nil, "", fmt.Errorf("%w: no receipt key or certificate", ErrRefused)
	case opts.Policy == nil:
		return nil, "", fmt.Errorf("%w: no policy", ErrRefused)
	case opts.Unstamped && !temporaryFailure(r):
		return nil, "", fmt.Errorf("%w: only an R001 rejection may go without a time-stamp", ErrRefused)
	case opts.TSA == nil && !opts.Unstamped:
		return nil, "", fmt.Errorf("%w: no TSA: a receipt package carries a time-stamp (DEF-07)", ErrRefused)
	}
	if err := opts.Policy.CheckReceiptKey(opts.Certificate, opts.TLSCertificates...); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	name, err := FileName(r)
	if err != nil {
		return nil, "", err
	}
	body, err := r.Marshal()
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	doc, err := es3.Build(es3.DossierSpec{
		Title:   name,
		Created: now,
		Documents: []es3.DocumentSpec{{Title: DocumentTitle, MIMEType: es3.MIMEXML, SourceSize: int64(len(body)),
			Transforms: es3.PlainTransforms(), Content: body}},
		Rand: opts.Rand,
	})
	if err != nil {
		return nil, "", fmt.Errorf("receiptpkg: %w", err)
	}
	var buf bytes.Buffer
	if err := es3.Write(&buf, doc); err != nil {
		return nil, "", fmt.Errorf("receiptpkg: %w", err)
	}
	gen := opts.Generator
	if gen == "" {
		gen = "Tagdíj receiver"
	}
	so := xades.SignOptions{
		Signer: opts.Signer, Certificate: opts.Certificate, Chain: opts.Chain, Policy: opts.Policy,
		Kind: policy.KindReceipt, SigningTime: now, Generator: gen, Rand: opts.Rand, Logger: opts.Logger,
	}
	if !opts.Unstamped {
		// The receipt key is the only signer: sign and time-stamp in one pass over the bytes.
		so.Timestamp = &xades.TimestampOptions{TSA: opts.TSA, Logger: opts.Logger}
	}
	out, _, err := xades.Sign(ctx, buf.Bytes(), so)
	if err != nil {
		return nil, "", fmt.Errorf("receiptpkg: %w", err)
	}
	return out, name, nil
}

// VerifyOptions control Verify.
type VerifyOptions struct {
	// Env is the trust environment (anchors, policy; Online nil for offline). Required.
	Env *trust.Env
	// Now is the validation time; zero: time.Now().
	Now time.Time
	// Schemas validate nyugta.xml. Required.
	Schemas *schema.Set
	// FileName goes into the report.
	FileName string
	// Logger receives one line per verified signature (SIG-15); nil discards.
	Logger *slog.Logger
	// Detached is validation data kept beside the receipt (a sender container's, SND-32), used like
	// the signature's embedded data (xades.VerifyOptions.Detached).
	Detached *xades.ValidationData
	// Collect, when set, receives the validation data the check used (xades.VerifyOptions.Collect).
	Collect *xades.ValidationData
}

// ErrNotDecoded is returned (with the report) when the receipt is not decoded because its signature
// is TOTAL-FAILED: nothing in it is authenticated.
var ErrNotDecoded = errors.New("receiptpkg: the receipt's signature is invalid; its content is not read (az aláírás érvénytelen, a nyugta tartalma nem olvasható)")

// Verify checks a receipt package (SND-29): xades.Verify as a receipt (advanced signature allowed,
// ProofOfReceipt, time-stamp), then, unless the verdict is TOTAL-FAILED, decodes nyugta.xml from the
// payload object the signature covers (receipt.Parse: schema, then consistency) and checks that the
// dossier's title is FileName of the decoded receipt (F010 otherwise, which fails the report).
//
// The report is returned whenever verification ran, with ErrNotDecoded when the receipt was not read
// and with a *receipt.ParseError when nyugta.xml is unreadable (the report then carries F007, wrong content format).
// A TOTAL-PASSED or INDETERMINATE report with a nil error comes with the receipt.
func Verify(ctx context.Context, data []byte, opts VerifyOptions) (*receipt.Receipt, *report.Document, error) {
	if opts.Schemas == nil {
		return nil, nil, errors.New("receiptpkg: verify: no schemas")
	}
	d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		rep, verr := xades.VerifyRefused(data, opts.xadesOptions(), err)
		if verr != nil {
			return nil, nil, verr
		}
		return nil, rep, ErrNotDecoded
	}
	defer d.Close()
	return VerifyDossier(ctx, d, data, opts)
}

func (opts VerifyOptions) xadesOptions() xades.VerifyOptions {
	return xades.VerifyOptions{Env: opts.Env, Kind: policy.KindReceipt, Now: opts.Now,
		FileName: opts.FileName, Mode: es3.Strict, Logger: opts.Logger, Detached: opts.Detached, Collect: opts.Collect}
}

// VerifyDossier is Verify for a receipt package the caller already parsed strictly from data (the
// auditor parses once to tell what a file is). d stays the caller's to close.
func VerifyDossier(ctx context.Context, d *es3.Dossier, data []byte, opts VerifyOptions) (*receipt.Receipt, *report.Document, error) {
	if opts.Schemas == nil {
		return nil, nil, errors.New("receiptpkg: verify: no schemas")
	}
	rep, err := xades.VerifyDossier(ctx, d, data, opts.xadesOptions())
	if err != nil {
		return nil, nil, err
	}
	if rep.Verdict.Indication == report.TotalFailed {
		return nil, rep, ErrNotDecoded
	}
	for _, s := range rep.Signatures {
		// An INDETERMINATE signature whose core validation did not run (an unsupported algorithm)
		// authenticates nothing either.
		if s.Core != report.CoreValid {
			return nil, rep, ErrNotDecoded
		}
	}
	body, title, err := coveredReceipt(d)
	if err != nil {
		rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F011, DocumentTitle, err.Error()))
		rep.Finish()
		return nil, rep, fmt.Errorf("receiptpkg: %w", err)
	}
	r, err := receipt.Parse(body, opts.Schemas)
	if err != nil {
		rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F007, DocumentTitle, err.Error()))
		rep.Finish()
		return nil, rep, err
	}
	if want, err := FileName(r); err != nil || want != title {
		rep.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F010, "es:Title",
			fmt.Sprintf("%q, a nyugta szerint / by the receipt %q", title, want)))
		rep.Finish()
	}
	return r, rep, nil
}

// temporaryFailure reports whether r is a rejection whose only reasons are R001 (a fund-side failure).
func temporaryFailure(r *receipt.Receipt) bool {
	if r.Result != receipt.Rejected || len(r.Errors) == 0 {
		return false
	}
	for _, f := range r.Errors {
		if f.Code != errcode.R001 {
			return false
		}
	}
	return true
}

// coveredReceipt returns nyugta.xml and the dossier title. It is called only after xades.VerifyDossier
// found every signature covering the dossier's profile, documents and every payload object of this
// same parsed tree.
func coveredReceipt(d *es3.Dossier) ([]byte, string, error) {
	if len(d.Documents) != 1 {
		return nil, "", fmt.Errorf("%d documents; a receipt package has exactly one %s", len(d.Documents), DocumentTitle)
	}
	doc := &d.Documents[0]
	if doc.Title != DocumentTitle || doc.MIMEType != es3.MIMEXML || doc.Encrypted() {
		return nil, "", fmt.Errorf("document %q (%s) is not a plain %s", doc.Title, doc.MIMEType, DocumentTitle)
	}
	body, err := d.Payload(0)
	if err != nil {
		return nil, "", err
	}
	if int64(len(body)) != doc.SourceSize {
		return nil, "", fmt.Errorf("%s: %d bytes, es:SourceSize %d", DocumentTitle, len(body), doc.SourceSize)
	}
	return body, d.Title, nil
}
