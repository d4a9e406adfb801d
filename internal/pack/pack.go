// Package pack turns a contribution declaration (bevallas.xml) into an unsigned Tagdíj package (SPEC
// §2): it validates the declaration, compresses it (ZIP, one entry bevallas.xml), encrypts it (CMS
// EnvelopedData, AES-256, for two recipients: the fund and the sender itself; SND-06), and builds the
// e-akta dossier with the signed comments of SND-20 (cs:Csomag) and the package name of SPEC §4
// (SND-11). Signing, timestamping and sending are later steps that work on Result.Bytes; what is
// signed is the ciphertext (SND-07).
//
// Open is the reverse (decrypt, then decompress; PRC-07): the sender uses it to re-read its own sent
// packages with its own key, the processor with the fund's key.
//
// # Plain packages (SEC-01)
//
// Options.Plain builds a package whose document is the declaration itself, base64 only, no compression
// or encryption. SEC-01 allows that only where the fund guarantees that uploads arrive over TLS directly
// in its internal secure environment; the caller must have that from configuration (the sender's
// fund.directToSecureEnvironment), never from a user's whim. Plain packages carry personal data in
// clear: SEC-05 applies to every copy kept on disk.
//
// # Memory
//
// Pack holds the declaration bytes (the caller's), the validation's record and the parsed model while
// validating (dropped before the dossier is built), the ZIP (made on another goroutine while the
// declaration is validated, thrown away if it is refused), the ciphertext, and the base64 text in the
// dossier tree, then the written dossier. Validation streams (declaration.Parse builds no libxml2
// tree), so for a 100,000-member declaration of 38 MB BenchmarkPack100k measured a peak RSS of about
// 170 MB for the whole test process (511 MB when the declaration was validated as a tree), and
// `sender pack` peaks at about 96 MiB (scripts/bench-sender.sh).
package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/schema"
)

// DocumentTitle is the title (file name) of the declaration document inside a package.
const DocumentTitle = payload.EntryName

// Options configure Pack.
type Options struct {
	// Schemas validates the declaration and the package metadata. Required.
	Schemas *schema.Set
	// Contact is the contact person written into the signed metadata (SND-20). Required.
	Contact es3.Contact
	// FundCert and OwnCert are the fund's and the sender's own encryption certificates (RSA). Both are
	// required unless Plain.
	FundCert *x509.Certificate
	OwnCert  *x509.Certificate
	// Declarant and FundCode, when set, are the employer and fund the sender is configured for: a
	// declaration of another declarant or for another fund is refused (ErrMismatch), so a clerk cannot
	// encrypt one employer's data to the wrong fund or file it under the wrong name.
	Declarant *Declarant
	FundCode  string
	// Now is the packing time (package name, es:CreationDate, "period not in the future"); zero means
	// time.Now(). It is used in UTC and whole seconds.
	Now time.Time
	// Sequence allocates the package's sequence number. Required.
	Sequence Allocator
	// Plain builds a package without compression and encryption (SEC-01; see the package
	// documentation). Only when the configuration says uploads land in the fund's secure environment.
	Plain bool
	// Rand is the source of the content key, IVs, RSA padding and dossier Ids; nil means crypto/rand.
	// Tests pass a seeded stream.
	Rand io.Reader
	// ExcerptRows, when positive, keeps Result.Excerpt with that many items: the sender's record of
	// what it packed, from which the signer's preview is shown (sender sign).
	ExcerptRows int
}

// Declarant identifies an employer: identifier type (adoszam, adoazonosito, taj) and value.
type Declarant struct {
	IDType declaration.IDType
	ID     string
}

// Result is a built, unsigned package.
type Result struct {
	Name     pkgname.Name
	Bytes    []byte // the written dossier: what the signers sign and the sender sends
	SHA256   [32]byte
	Metadata es3.Metadata
	Summary  Summary
	Plain    bool  // built without compression and encryption (SEC-01)
	Source   int64 // bytes of the declaration (es:SourceSize)
	Zipped   int64 // bytes of the ZIP (0 for a plain package)
	Cipher   int64 // bytes of the CMS EnvelopedData (0 for a plain package)
	// PayloadSHA256 is the SHA-256 of the document's payload object as the signatures cover it: the CMS
	// EnvelopedData, or the declaration itself for a plain package (es3.Dossier.Payload decodes it).
	PayloadSHA256 [32]byte
	// DeclarationSHA256 is the SHA-256 of the declaration bytes.
	DeclarationSHA256 [32]byte
	// Excerpt is the validated declaration with its first Options.ExcerptRows items (nil without).
	Excerpt *declaration.Excerpt
}

// Summary is what a clerk needs to recognise the declaration that was packed.
type Summary struct {
	ID            string              `json:"id"`
	Type          string              `json:"type"`
	PredecessorID string              `json:"predecessorId,omitempty"`
	Period        string              `json:"period"`
	Created       time.Time           `json:"created"`
	DeclarantName string              `json:"declarantName"`
	DeclarantType declaration.IDType  `json:"declarantIdType"`
	DeclarantID   string              `json:"declarantId"`
	FundCode      string              `json:"fundCode"`
	FundName      string              `json:"fundName"`
	Items         int                 `json:"items"`
	Totals        declaration.Summary `json:"totals"`
	// Warnings are the W0 findings of the content check: they do not stop packing.
	Warnings []errcode.Finding `json:"warnings,omitempty"`
}

// InvalidError refuses a declaration that does not pass validation: a clerk must not pack an invalid
// declaration. Findings holds every finding (errors and warnings) in document order.
type InvalidError struct {
	Findings []errcode.Finding
}

func (e *InvalidError) Error() string {
	n, _ := declaration.Count(e.Findings)
	codes := make([]string, 0, n)
	for _, f := range e.Findings {
		if f.Severity == errcode.Error && len(codes) < 10 {
			codes = append(codes, string(f.Code))
		}
	}
	more := ""
	if n > len(codes) {
		more = ", …"
	}
	return fmt.Sprintf("pack: a bevallás érvénytelen, nem csomagolható / the declaration is invalid and cannot be packed: %d hiba / errors (%s%s)",
		n, strings.Join(codes, ", "), more)
}

// Sentinel errors.
var (
	// ErrTAJDeclarant: the declarant is identified by TAJ number, which the package name (SPEC §4) has no
	// field for; such a package could never pass the receiver's name check (F010).
	ErrTAJDeclarant = errors.New("pack: TAJ számmal azonosított bevalló nem nevezhető meg a csomag nevében (SPEC §4: adószám vagy adóazonosító jel kell) / " +
		"a declarant identified by TAJ number cannot be named in a package name (SPEC §4 needs a tax number or personal tax id)")
	// ErrMismatch: the declaration's declarant or fund is not the one configured.
	ErrMismatch = errors.New("pack: a bevallás nem a beállított bevallóé vagy pénztáré / the declaration is not for the configured declarant or fund")
)

// Pack validates declXML and builds the unsigned package. It refuses an invalid declaration with an
// *InvalidError carrying the findings, a TAJ-identified declarant with ErrTAJDeclarant, and a
// declaration for another declarant or fund than opts names with ErrMismatch. A sequence number is
// allocated only once the declaration and metadata have passed every check, so refusals do not use up
// numbers (a failure after allocation, such as a broken certificate, leaves a gap, which is harmless:
// numbers need to be unique, not dense).
func Pack(ctx context.Context, declXML []byte, opts Options) (*Result, error) {
	if opts.Schemas == nil {
		return nil, errors.New("pack: Options.Schemas is required")
	}
	if opts.Sequence == nil {
		return nil, errors.New("pack: Options.Sequence is required")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	if !opts.Plain {
		if err := checkRecipients(opts.FundCert, opts.OwnCert, now); err != nil {
			return nil, err
		}
	}

	// Compression does not depend on the verdict: it runs beside the validation (libxml2 works on one
	// core, flate on the other) and is thrown away if the declaration is refused.
	var zipped <-chan zipResult
	if !opts.Plain {
		zctx, cancel := context.WithCancel(ctx)
		defer cancel()
		zipped = zipAsync(zctx, declXML)
		defer func() {
			cancel()
			<-zipped // the goroutine reads declXML, which is the caller's
		}()
	}

	d, findings, err := declaration.Validate(declXML, opts.Schemas, declaration.CheckContext{Now: now})
	if err != nil {
		return nil, fmt.Errorf("pack: validating the declaration: %w", err)
	}
	if d == nil || declaration.Rejects(findings) {
		return nil, &InvalidError{Findings: findings}
	}
	sum := summarize(d, findings)
	var excerpt *declaration.Excerpt
	if opts.ExcerptRows > 0 {
		excerpt = d.Excerpt(opts.ExcerptRows)
	}
	meta := es3.Metadata{
		ID:   d.Header.ID,
		Fund: d.Fund.Code,
		Declarant: es3.Declarant{
			IDType: string(d.Declarant.ID.Type),
			ID:     d.Declarant.ID.Value,
			Name:   d.Declarant.Name,
		},
		Period:        d.Header.Period.String(),
		Type:          string(d.Header.Type),
		PredecessorID: d.Header.PredecessorID,
		Contact:       opts.Contact,
	}
	period := d.Header.Period.Compact()
	d = nil // the model of a large declaration is big; nothing below needs it

	if err := checkExpected(meta, opts); err != nil {
		return nil, err
	}
	nameDeclarant, err := nameField(meta.Declarant)
	if err != nil {
		return nil, err
	}
	if f := meta.Check(opts.Schemas); len(f) > 0 {
		return nil, &es3.Error{Finding: f[0], Err: fmt.Errorf("pack: package metadata: %d finding(s): %v", len(f), f)}
	}

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := SeqKey{Declarant: nameDeclarant, Fund: meta.Fund, Period: period}
	seq, err := opts.Sequence.Next(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("pack: sequence number: %w", err)
	}
	name := pkgname.Name{Kind: pkgname.Package, Declarant: nameDeclarant, Fund: meta.Fund, Period: period,
		Type: meta.Type[0], Seq: seq, Time: now}
	if err := name.Check(); err != nil {
		return nil, fmt.Errorf("pack: package name: %w", err)
	}
	if f := pkgname.Matches(name, meta.NameFields()); len(f) > 0 { // cannot happen: both come from meta
		return nil, fmt.Errorf("pack: package name %s disagrees with its metadata: %v", name, f[0])
	}

	res := &Result{Name: name, Metadata: meta, Summary: sum, Plain: opts.Plain, Source: int64(len(declXML)), Excerpt: excerpt,
		DeclarationSHA256: sha256.Sum256(declXML)}
	doc := es3.DocumentSpec{
		Title:      DocumentTitle,
		MIMEType:   es3.MIMEXML,
		SourceSize: int64(len(declXML)),
	}
	if opts.Plain {
		doc.Transforms = es3.PlainTransforms()
		doc.Content = declXML
		res.PayloadSHA256 = res.DeclarationSHA256
	} else {
		z := <-zipped
		zipped = closedZip
		if z.err != nil {
			return nil, fmt.Errorf("pack: %w", z.err)
		}
		zbuf := z.buf
		res.Zipped = int64(zbuf.Len())
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		der, err := cmsenc.Encrypt(zbuf.Bytes(), []*x509.Certificate{opts.FundCert, opts.OwnCert}, &cmsenc.Options{Rand: opts.Rand})
		if err != nil {
			return nil, fmt.Errorf("pack: encrypting: %w", err)
		}
		zbuf, z = nil, zipResult{} // let the ZIP go before the dossier tree is built
		res.Cipher = int64(len(der))
		res.PayloadSHA256 = sha256.Sum256(der)
		doc.Transforms = es3.EncryptedTransforms()
		doc.Content = der
	}

	tree, err := es3.Build(es3.DossierSpec{
		Title:     name.String(),
		Created:   now,
		Metadata:  &meta,
		Documents: []es3.DocumentSpec{doc},
		Rand:      opts.Rand,
		Schemas:   opts.Schemas,
	})
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	doc.Content = nil
	var out bytes.Buffer
	n := len(declXML)
	if !opts.Plain {
		n = int(res.Cipher)
	}
	out.Grow(n/3*4 + n/57 + 8192)
	if err := es3.Write(&out, tree); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	res.Bytes = out.Bytes()
	res.SHA256 = sha256.Sum256(res.Bytes)
	return res, nil
}

// zipResult is the ZIP of the declaration, or why it could not be made.
type zipResult struct {
	buf *bytes.Buffer
	err error
}

// closedZip stands for a result already taken, so the deferred wait in Pack does not block.
var closedZip = func() <-chan zipResult {
	c := make(chan zipResult)
	close(c)
	return c
}()

// zipAsync compresses declXML on its own goroutine; cancelling ctx stops it at the next read. The
// channel delivers one result and is then closed.
func zipAsync(ctx context.Context, declXML []byte) <-chan zipResult {
	out := make(chan zipResult, 1)
	go func() {
		defer close(out)
		var zbuf bytes.Buffer
		zbuf.Grow(len(declXML)/8 + 4096) // declaration XML deflates about 8:1; Buffer grows if not
		err := payload.Zip(&zbuf, payload.EntryName, &ctxReader{ctx: ctx, r: bytes.NewReader(declXML)})
		out <- zipResult{buf: &zbuf, err: err}
	}()
	return out
}

// ctxReader ends reading with the context's error once it is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// checkRecipients insists on two distinct certificates valid at now. cmsenc checks the key type, size
// and key usage.
func checkRecipients(fund, own *x509.Certificate, now time.Time) error {
	if fund == nil {
		return errors.New("pack: a pénztár titkosító tanúsítványa hiányzik / the fund's encryption certificate is missing")
	}
	if own == nil {
		return errors.New("pack: a saját titkosító tanúsítvány hiányzik (SND-06) / the sender's own encryption certificate is missing (SND-06)")
	}
	if fund.Equal(own) {
		return errors.New("pack: a pénztár és a saját titkosító tanúsítvány azonos / the fund's and the sender's encryption certificates are the same")
	}
	for _, c := range []struct {
		who  string
		cert *x509.Certificate
	}{{"a pénztár / the fund's", fund}, {"a saját / the sender's own", own}} {
		if now.Before(c.cert.NotBefore) || now.After(c.cert.NotAfter) {
			return fmt.Errorf("pack: %s titkosító tanúsítványa nem érvényes / encryption certificate is not valid at %s (%s – %s): %s",
				c.who, now.Format(time.RFC3339), c.cert.NotBefore.UTC().Format(time.RFC3339), c.cert.NotAfter.UTC().Format(time.RFC3339), c.cert.Subject)
		}
	}
	return nil
}

// checkExpected compares the declaration's declarant and fund with the configured ones.
func checkExpected(meta es3.Metadata, opts Options) error {
	if opts.FundCode != "" && meta.Fund != opts.FundCode {
		return fmt.Errorf("%w: pénztár / fund %s ≠ %s", ErrMismatch, meta.Fund, opts.FundCode)
	}
	if want := opts.Declarant; want != nil {
		got := meta.Declarant
		gotType := declaration.IDType(got.IDType)
		same := gotType == want.IDType && got.ID == want.ID
		if gotType == declaration.IDAdoszam && want.IDType == declaration.IDAdoszam && len(got.ID) >= 8 && len(want.ID) >= 8 {
			same = got.ID[:8] == want.ID[:8] // the 8-digit core identifies the taxpayer
		}
		if !same {
			return fmt.Errorf("%w: bevalló / declarant %s:%s ≠ %s:%s", ErrMismatch, got.IDType, got.ID, want.IDType, want.ID)
		}
	}
	return nil
}

// nameField is the declarant field of the package name (SPEC §4): the 8-digit core of a tax number or
// the 10-digit personal tax id.
func nameField(d es3.Declarant) (string, error) {
	switch declaration.IDType(d.IDType) {
	case declaration.IDAdoszam:
		if len(d.ID) == 8 || len(d.ID) == 11 {
			return d.ID[:8], nil
		}
	case declaration.IDAdoazonosito:
		if len(d.ID) == 10 {
			return d.ID, nil
		}
	case declaration.IDTAJ:
		return "", ErrTAJDeclarant
	}
	return "", fmt.Errorf("pack: declarant identifier %s:%q cannot be named in a package name", d.IDType, d.ID)
}

func summarize(d *declaration.Declaration, findings []errcode.Finding) Summary {
	s := Summary{
		ID:            d.Header.ID,
		Type:          string(d.Header.Type),
		PredecessorID: d.Header.PredecessorID,
		Period:        d.Header.Period.String(),
		Created:       d.Header.Created,
		DeclarantName: d.Declarant.Name,
		DeclarantType: d.Declarant.ID.Type,
		DeclarantID:   d.Declarant.ID.Value,
		FundCode:      d.Fund.Code,
		FundName:      d.Fund.Name,
		Items:         len(d.Items),
		Totals:        d.Summary,
	}
	for _, f := range findings {
		if f.Severity != errcode.Error {
			s.Warnings = append(s.Warnings, f)
		}
	}
	return s
}
