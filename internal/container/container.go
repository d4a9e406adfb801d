package container

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/schema"
)

// Name is the container's file name for the package named pkgName: TBK for TBA (SPEC §4).
func Name(pkgName string) (string, error) {
	n, err := pkgname.Parse(pkgName)
	if err != nil {
		return "", err
	}
	if n.Kind != pkgname.Package {
		return "", fmt.Errorf("container: %s is not a package name", pkgName)
	}
	return pkgname.ContainerName(n).String(), nil
}

// Build writes the container of c: kontener.xml (Marshal) and the dossier around it. It returns the
// container's name and bytes.
func Build(c *Contents, set *schema.Set) (string, []byte, error) {
	name, err := Name(c.Package.Name)
	if err != nil {
		return "", nil, err
	}
	if sha256.Sum256(c.PackageBytes) != c.Package.SHA256 {
		return "", nil, errors.New("container: the package bytes do not match their SHA-256")
	}
	if c.Receipt != nil && sha256.Sum256(c.ReceiptBytes) != c.Receipt.SHA256 {
		return "", nil, errors.New("container: the receipt bytes do not match their SHA-256")
	}
	meta, err := Marshal(c, set)
	if err != nil {
		return "", nil, err
	}
	docs := []es3.DocumentSpec{{Title: c.Package.Name, MIMEType: es3.MIMEES3, SourceSize: int64(len(c.PackageBytes)),
		Transforms: es3.PlainTransforms(), Content: c.PackageBytes}}
	if c.Receipt != nil {
		docs = append(docs, es3.DocumentSpec{Title: c.Receipt.Name, MIMEType: es3.MIMEES3, SourceSize: int64(len(c.ReceiptBytes)),
			Transforms: es3.PlainTransforms(), Content: c.ReceiptBytes})
	}
	docs = append(docs, es3.DocumentSpec{Title: DocumentTitle, MIMEType: es3.MIMEXML, SourceSize: int64(len(meta)),
		Transforms: es3.PlainTransforms(), Content: meta})
	tree, err := es3.Build(es3.DossierSpec{Title: name, Created: c.Created, Documents: docs})
	if err != nil {
		return "", nil, fmt.Errorf("container: %w", err)
	}
	var out bytes.Buffer
	if err := es3.Write(&out, tree); err != nil {
		return "", nil, fmt.Errorf("container: %w", err)
	}
	return name, out.Bytes(), nil
}

// Parsed is a container read back: its parts and what kontener.xml says of them. Nothing in it is
// authenticated by the container itself; Verify checks the parts.
type Parsed struct {
	Title         string
	Created       time.Time
	Package       Ref
	PackageBytes  []byte
	Receipt       *Ref
	ReceiptBytes  []byte
	SendLog       []Attempt
	CheckState    string // NyugtaEllenorzes/Allapot; "" when absent
	Notifications []Notification
	PackageData   *xades.ValidationData
	ReceiptData   *xades.ValidationData
	// Findings are the container's own problems (missing or extra documents, a document whose
	// SHA-256 or name differs from kontener.xml's); empty for a consistent container.
	Findings []errcode.Finding
}

// IsContainer reports whether a strictly parsed dossier has a container's shape: a kontener.xml
// document last.
func IsContainer(d *es3.Dossier) bool {
	n := len(d.Documents)
	return n >= 2 && n <= 3 && d.Documents[n-1].Title == DocumentTitle
}

// Read reads a container from a dossier parsed strictly (es3.Parse in es3.Strict mode): kontener.xml
// must pass kontener.xsd; the documents are compared with what it names. A dossier that is not a
// container at all is an error; inconsistencies are Findings.
func Read(d *es3.Dossier, set *schema.Set) (*Parsed, error) {
	if !IsContainer(d) {
		return nil, fmt.Errorf("container: not a container: %d documents, the last not %s", len(d.Documents), DocumentTitle)
	}
	n := len(d.Documents)
	meta, err := d.Payload(n - 1)
	if err != nil {
		return nil, fmt.Errorf("container: %s: %w", DocumentTitle, err)
	}
	p, err := decodeMeta(meta, set, d.Title)
	if err != nil {
		return nil, err
	}

	// The documents against kontener.xml.
	bad := func(code errcode.Code, loc, detail string) {
		p.Findings = append(p.Findings, errcode.New(code, loc, detail))
	}
	if want, err := Name(p.Package.Name); err != nil || want != d.Title {
		bad(errcode.F010, "es:Title", fmt.Sprintf("%.80q, a csomag szerint / by the package %.80q", d.Title, want))
	}
	wantDocs := 2
	if p.Receipt != nil {
		wantDocs = 3
	}
	if n != wantDocs {
		bad(errcode.F011, "es:Documents", fmt.Sprintf("%d dokumentum, a kontener.xml szerint %d / %d documents, kontener.xml names %d", n, wantDocs, n, wantDocs))
		return p, nil
	}
	part := func(i int, ref *Ref) []byte {
		doc := &d.Documents[i]
		b, err := d.Payload(i)
		switch {
		case err != nil:
			bad(errcode.F011, doc.Title, err.Error())
			return nil
		case doc.Title != ref.Name || doc.MIMEType != es3.MIMEES3:
			bad(errcode.F010, doc.Title, fmt.Sprintf("a kontener.xml szerint / kontener.xml names %.80q (%s)", ref.Name, es3.MIMEES3))
		case sha256.Sum256(b) != ref.SHA256:
			bad(errcode.A002, doc.Title, "SHA-256 ≠ kontener.xml")
			return nil
		}
		return b
	}
	p.PackageBytes = part(0, &p.Package)
	if p.Receipt != nil {
		p.ReceiptBytes = part(1, p.Receipt)
		if pn, err := pkgname.Parse(p.Package.Name); err == nil && pkgname.ReceiptName(pn).String() != p.Receipt.Name {
			bad(errcode.F010, p.Receipt.Name, fmt.Sprintf("a csomag nyugtájának neve / the package's receipt name is %s", pkgname.ReceiptName(pn)))
		}
	}
	// SND-30: an invalid receipt signature is followed by notifications to the fund and the supervisor.
	if p.CheckState == string(receipt.Invalid) {
		to := map[string]bool{}
		for _, nt := range p.Notifications {
			to[nt.Recipient] = true
		}
		if !to["PENZTAR"] || !to["FELUGYELET"] {
			bad(errcode.F011, "Ertesitesek", "érvénytelen nyugta-aláírás értesítés nélkül (SND-30) / invalid receipt signature without notifications to the fund and the supervisor (SND-30)")
		}
	}
	return p, nil
}

// decodeMeta validates kontener.xml against kontener.xsd and decodes it (the documents are compared
// with it by Read). The bytes come from a container someone else built: every value is checked, no
// length is trusted.
func decodeMeta(meta []byte, set *schema.Set, title string) (*Parsed, error) {
	if err := set.ValidateBytes(schema.Container, meta); err != nil {
		return nil, fmt.Errorf("container: %s: %w", DocumentTitle, err)
	}
	var w wire
	if err := xml.NewDecoder(bytes.NewReader(meta)).Decode(&w); err != nil {
		return nil, fmt.Errorf("container: %s: %w", DocumentTitle, err)
	}
	p := &Parsed{Title: title}
	p.Created, _ = time.Parse(time.RFC3339Nano, w.Created)
	p.Package = Ref{Name: w.Package.Name, ID: w.Package.ID}
	if err := decodeSum(&p.Package.SHA256, w.Package.SHA256); err != nil {
		return nil, err
	}
	if w.Receipt != nil {
		r := &Ref{Name: w.Receipt.Name}
		if w.Receipt.ID != nil {
			r.ID = *w.Receipt.ID
		}
		if err := decodeSum(&r.SHA256, w.Receipt.SHA256); err != nil {
			return nil, err
		}
		p.Receipt = r
	}
	for _, a := range w.SendLog.Attempts {
		t, _ := time.Parse(time.RFC3339Nano, a.Time)
		at := Attempt{Time: t, URL: a.URL, Outcome: a.Outcome}
		if a.Status != nil {
			at.HTTPStatus = *a.Status
		}
		if a.Detail != nil {
			at.Detail = *a.Detail
		}
		p.SendLog = append(p.SendLog, at)
	}
	if w.Check != nil {
		p.CheckState = w.Check.State
	}
	if w.Notifications != nil {
		for _, nt := range w.Notifications.Notices {
			t, _ := time.Parse(time.RFC3339Nano, nt.Time)
			p.Notifications = append(p.Notifications, Notification{Time: t, Recipient: nt.Recipient, Address: nt.Address, Text: nt.Text})
		}
	}
	if w.Data != nil {
		var err error
		if p.PackageData, err = dataOf(w.Data.Package); err != nil {
			return nil, err
		}
		if p.ReceiptData, err = dataOf(w.Data.Receipt); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// decodeSum reads a SHA-256 in hex (kontener.xsd allows only 64 hex digits; checked here again, as
// hex.Decode would write past a short destination).
func decodeSum(dst *[32]byte, s string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("container: %s: SHA-256 %.80q", DocumentTitle, s)
	}
	if _, err := hex.Decode(dst[:], []byte(s)); err != nil {
		return fmt.Errorf("container: %s: SHA-256 %.80q: %w", DocumentTitle, s, err)
	}
	return nil
}

func dataOf(w *wireData) (*xades.ValidationData, error) {
	if w == nil {
		return nil, nil
	}
	v := &xades.ValidationData{}
	for _, b := range w.Certificates {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("container: %s: Tanusitvany: %w", DocumentTitle, err)
		}
		v.Certificates = append(v.Certificates, c)
	}
	for _, b := range w.OCSP {
		v.OCSP = append(v.OCSP, b)
	}
	for _, b := range w.CRLs {
		v.CRLs = append(v.CRLs, b)
	}
	for _, b := range w.Timestamps {
		v.Timestamps = append(v.Timestamps, b)
	}
	return v, nil
}

// VerifyOptions control Verify.
type VerifyOptions struct {
	// Env is the trust environment (offline for an auditor: Env.Online nil). Required.
	Env *trust.Env
	// Schemas validate kontener.xml, the package's metadata and the receipt. Required.
	Schemas *schema.Set
	// Now is the validation time; zero: time.Now().
	Now time.Time
	// FileName goes into the report.
	FileName string
}

// Result is the verification of a container: the container's own report (Kind "container", its
// verdict the worst of the parts' and its own findings, its signatures the parts'), and each part's.
type Result struct {
	Report  *report.Document
	Parsed  *Parsed
	Package *report.Document
	Receipt *report.Document
	// ReceiptContent is the decoded receipt when its signature allowed reading it.
	ReceiptContent *receipt.Receipt
}

// Verify verifies a container parsed strictly from data (d, the caller's to close): its consistency
// (Read), the package (pack.VerifyDossier-equivalent pack.Verify) and the receipt (receiptpkg.Verify),
// each with the validation data kontener.xml keeps for it as detached validation data, and that the
// receipt names the package (file name and SHA-256). The error is only for "could not run" or "not a
// container"; every finding is in the result.
func Verify(ctx context.Context, d *es3.Dossier, data []byte, opts VerifyOptions) (*Result, error) {
	if opts.Env == nil || opts.Schemas == nil {
		return nil, errors.New("container: verify: no trust environment or schemas")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p, err := Read(d, opts.Schemas)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	doc := &report.Document{File: opts.FileName, SHA256: hex.EncodeToString(sum[:]), Kind: "container", ValidatedAt: now, Verdict: report.Passed()}
	if opts.Env.Policy != nil {
		doc.Policy = opts.Env.Policy.ID()
	}
	res := &Result{Report: doc, Parsed: p}
	for _, f := range p.Findings {
		doc.Verdict.Fail(report.FormatFailure, f)
	}
	if p.PackageBytes != nil {
		v, err := pack.Verify(ctx, p.PackageBytes, pack.VerifyOptions{Env: opts.Env, Schemas: opts.Schemas, Now: now, FileName: p.Package.Name,
			Detached: p.PackageData})
		if err != nil {
			return nil, err
		}
		res.Package = v.Report
		if v.Metadata != nil && v.Metadata.ID != p.Package.ID {
			doc.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F010, "Csomag/Azonosito",
				fmt.Sprintf("%s ≠ a csomag aláírt azonosítója / the package's signed id %s", p.Package.ID, v.Metadata.ID)))
		}
	}
	if p.ReceiptBytes != nil {
		r, rep, err := receiptpkg.Verify(ctx, p.ReceiptBytes, receiptpkg.VerifyOptions{Env: opts.Env, Now: now, Schemas: opts.Schemas,
			FileName: p.Receipt.Name, Detached: p.ReceiptData})
		if rep == nil {
			return nil, err
		}
		res.Receipt, res.ReceiptContent = rep, r
		if r != nil {
			if r.Package.SHA256 != p.Package.SHA256 || r.Package.FileName != p.Package.Name {
				doc.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F010, p.Receipt.Name,
					"a nyugta más csomagról szól / the receipt is about another package"))
			}
			if p.Receipt.ID != "" && r.ID != p.Receipt.ID {
				doc.Verdict.Fail(report.FormatFailure, errcode.New(errcode.F010, "Nyugta/Azonosito", r.ID+" ≠ "+p.Receipt.ID))
			}
		}
	}
	for _, part := range []*report.Document{res.Package, res.Receipt} {
		if part == nil {
			continue
		}
		doc.Signatures = append(doc.Signatures, part.Signatures...)
		// The part's own document-level findings (outside its signatures) count for the container.
		for _, f := range part.Verdict.Findings {
			switch part.Verdict.Indication {
			case report.TotalFailed:
				doc.Verdict.Fail(part.Verdict.Sub, f)
			case report.Indeterminate:
				doc.Verdict.Incomplete(part.Verdict.Sub, f)
			}
		}
	}
	if p.ReceiptBytes == nil && len(p.Findings) == 0 {
		doc.Verdict.Incomplete(report.TryLater, errcode.New(errcode.F011, "Nyugta", "még nincs nyugta / no receipt yet"))
	}
	doc.Finish()
	return res, nil
}
