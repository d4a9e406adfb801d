package processor

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/registry"
)

// errPredecessorPending: the predecessor of an O/H declaration is accepted but its own final check
// has not ended; the job waits for it (its outcome decides D008).
var errPredecessorPending = errors.New("az előzmény (ElozmenyAzonosito) még feldolgozás alatt / the predecessor is still being processed")

// decrypt returns the declaration of a strictly parsed package (pack.OpenDossier: decrypt with the
// fund's key, then decompress under the bomb limits, PRC-07) or the finding that rejects it (D001,
// D002, F011). A package not encrypted to the fund's certificate is D001 at once; one that is, but
// does not decrypt, is D001 only after the key proves usable with the transport every package uses
// (RSA-OAEP-SHA-256): a PKCS#11 token that stopped answering, or cannot do OAEP-SHA-256, must not
// reject packages — that is an error of the fund's side, retried, not the sender's.
func (p *Processor) decrypt(d *es3.Dossier) ([]byte, []errcode.Finding, error) {
	decl, err := pack.OpenDossier(d, p.cfg.DecryptionCert, p.cfg.Decrypter, p.cfg.PayloadLimits)
	if err == nil {
		return decl, nil, nil
	}
	f, ok := errcode.Of(err)
	if !ok {
		return nil, nil, err
	}
	if f.Code == errcode.D001 && p.isRecipient(d) {
		// Encrypted to the fund, yet not decrypted: the package is broken only if the key works.
		if kerr := p.keyWorks(); kerr != nil {
			return nil, nil, fmt.Errorf("the fund's decryption key does not work: %w (package: %v)", kerr, err)
		}
	}
	return nil, []errcode.Finding{f}, nil
}

// isRecipient reports whether the package's EnvelopedData names the fund's decryption certificate
// among its recipients (true when that cannot be read: then the key decides).
func (p *Processor) isRecipient(d *es3.Dossier) bool {
	raw, err := d.Payload(0)
	if err != nil {
		return true
	}
	ids, err := cmsenc.Recipients(raw)
	if err != nil {
		return true
	}
	for _, id := range ids {
		if id.Matches(p.cfg.DecryptionCert) {
			return true
		}
	}
	return false
}

// decryptBytes is decrypt for package bytes.
func (p *Processor) decryptBytes(data []byte) ([]byte, []errcode.Finding, error) {
	d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict, Limits: p.cfg.XMLLimits})
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	return p.decrypt(d)
}

// keyWorks decrypts a fresh RSA-OAEP ciphertext made for the decryption certificate.
func (p *Processor) keyWorks() error {
	pub, ok := p.cfg.DecryptionCert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("not an RSA key")
	}
	probe := make([]byte, 32)
	rand.Read(probe)
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, probe, nil)
	if err != nil {
		return err
	}
	got, err := p.cfg.Decrypter.Decrypt(rand.Reader, ct, &rsa.OAEPOptions{Hash: crypto.SHA256})
	if err != nil {
		return err
	}
	if !bytes.Equal(got, probe) {
		return errors.New("the key does not belong to the decryption certificate")
	}
	return nil
}

// declSummary is what the hand-off summary tells of a declaration.
type declSummary struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	PredecessorID string `json:"predecessorId,omitempty"`
	Period        string `json:"period"`
	Declarant     struct {
		Name   string `json:"name"`
		IDType string `json:"idType"`
		ID     string `json:"id"`
	} `json:"declarant"`
	Fund       string `json:"fund"`
	HeadCount  int64  `json:"headCount"`
	Base       int64  `json:"contributionBase"`
	Member     int64  `json:"memberContribution"`
	Supplement int64  `json:"employerSupplement"`
	Payable    int64  `json:"payable"`
	Items      int    `json:"items"`
}

// content checks a decrypted declaration (PRC-10, SPEC §5): the hardened parse and the XSD (D003),
// the content rules (D004–D008; D008's predecessor from the archive, else the store), the
// declaration against the signed metadata the receiver accepted it on (F009) and the declarant
// against the registry as of the arrival (D009). It returns every finding (errors and warnings) and
// the declaration's summary when it parsed; errPredecessorPending when an O/H waits for its
// predecessor's outcome; another error when the check could not run (store, registry).
func (p *Processor) content(ctx context.Context, j *Job, decl []byte) ([]errcode.Finding, *declSummary, error) {
	var lookupErr error
	pending := false
	exists := func(id string) (bool, error) {
		ok, wait, err := p.predecessor(ctx, j, id)
		if err != nil {
			lookupErr = err
		}
		pending = pending || wait
		return ok, err
	}
	// The period rule (not in the future) is judged at the arrival, so every attempt decides alike.
	d, findings, err := declaration.Validate(decl, p.cfg.Schemas, declaration.CheckContext{Now: j.Arrival, PredecessorExists: exists})
	if err != nil {
		return nil, nil, err
	}
	if lookupErr != nil {
		return nil, nil, fmt.Errorf("predecessor: %w", lookupErr)
	}
	if pending {
		return nil, nil, errPredecessorPending
	}
	if d == nil {
		return findings, nil, nil
	}
	findings = append(findings, checkMetadata(d, j)...)
	reg, err := p.registryFindings(ctx, j, d)
	if err != nil {
		return nil, nil, err
	}
	findings = append(findings, reg...)
	return findings, summarize(d), nil
}

// predecessor says whether the predecessor id of j's O/H declaration exists as a processed
// declaration of the same declarant: first the archive (finished packages), then the store (an
// accepted package whose final check is still pending makes the job wait).
func (p *Processor) predecessor(ctx context.Context, j *Job, id string) (ok, wait bool, err error) {
	e, err := p.cfg.Archive.FindSubmission(ctx, j.DeclarantType, j.DeclarantID, id)
	switch {
	case err == nil:
		return e.Outcome == string(Processed), false, nil
	case !errors.Is(err, archive.ErrNotFound):
		return false, false, err
	}
	info, err := p.cfg.Queue.Submission(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, false, nil
	case err != nil:
		return false, false, err
	case info.DeclarantType != j.DeclarantType || info.DeclarantID != j.DeclarantID:
		return false, false, nil // another declarant's submission is no predecessor
	case !info.Arrival.Before(j.Arrival):
		// A predecessor arrives before the package that names it. Without this, two revisions naming
		// each other (the receiver cannot see predecessors: they are inside the encrypted payload)
		// would wait for each other for ever.
		return false, false, nil
	case !info.Done:
		return false, true, nil
	}
	return info.Outcome == Processed, false, nil
}

// checkMetadata compares the declaration with the signed metadata (cs:Csomag) the receiver accepted
// the package on: a package must not say one thing outside and another inside.
func checkMetadata(d *declaration.Declaration, j *Job) []errcode.Finding {
	var out []errcode.Finding
	differ := func(code errcode.Code, loc, what, inside, outside string) {
		if inside != outside {
			out = append(out, errcode.New(code, loc, fmt.Sprintf("%s: %q ≠ %q (cs:Csomag)", what, inside, outside)))
		}
	}
	h := &d.Header
	differ(errcode.F009, declaration.LocHeader, "Azonosito", h.ID, j.SubmissionID)
	differ(errcode.F009, declaration.LocHeader, "Tipus", string(h.Type), j.Type)
	differ(errcode.F009, declaration.LocHeader, "Idoszak", h.Period.String(), j.Period)
	differ(errcode.F009, "pénztár / fund", "Penztar/Kod", d.Fund.Code, j.Fund)
	// A tax number is compared by its core (registry.NewKey): 12345676-2-41 and 12345676 name one taxpayer.
	if registry.NewKey(d.Declarant.ID.Type, d.Declarant.ID.Value, "") != registry.NewKey(declaration.IDType(j.DeclarantType), j.DeclarantID, "") {
		out = append(out, errcode.New(errcode.D009, declaration.LocDeclarant, fmt.Sprintf("Azonosito: %s %s ≠ %s %s (cs:Csomag)",
			d.Declarant.ID.Type, d.Declarant.ID.Value, j.DeclarantType, j.DeclarantID)))
	}
	return out
}

// registryFindings compares the declarant with the registration sheet in force at the arrival (the
// one the receiver's signer decision recorded; for an older record, the registry as of the arrival):
// the identifier must be the registered one (D009, an error); a different name or seat is reported as
// a warning (D009, W0) for the back office, because a company's name changes (Kft. → Zrt.) without
// its tax number changing.
func (p *Processor) registryFindings(ctx context.Context, j *Job, d *declaration.Declaration) ([]errcode.Finding, error) {
	var sheet *registry.Sheet
	var err error
	if j.RegistrySheet != "" {
		sheet, err = p.cfg.Registry.Get(ctx, j.RegistrySheet)
	} else {
		sheet, err = p.cfg.Registry.AsOf(ctx, registry.NewKey(declaration.IDType(j.DeclarantType), j.DeclarantID, j.Fund), j.Arrival)
	}
	if errors.Is(err, registry.ErrNotFound) {
		return []errcode.Finding{errcode.New(errcode.D009, declaration.LocDeclarant, "nincs bejelentkezés / not registered")}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	var out []errcode.Finding
	reg := sheet.Declarant
	if registry.NewKey(reg.IDType, reg.ID, "") != registry.NewKey(d.Declarant.ID.Type, d.Declarant.ID.Value, "") {
		out = append(out, errcode.New(errcode.D009, declaration.LocDeclarant, fmt.Sprintf("%s %s ≠ %s %s (%s)",
			d.Declarant.ID.Type, d.Declarant.ID.Value, reg.IDType, reg.ID, sheet.ID)))
	}
	warn := func(what, inside, registered string) {
		if !sameText(inside, registered) {
			f := errcode.New(errcode.D009, declaration.LocDeclarant, fmt.Sprintf("%s: %q ≠ %q (%s)", what, inside, registered, sheet.ID))
			f.Severity = errcode.Warning
			out = append(out, f)
		}
	}
	warn("Nev", d.Declarant.Name, reg.Name)
	warn("Cim", d.Declarant.Address.PostalCode+" "+d.Declarant.Address.City, reg.Address.PostalCode+" "+reg.Address.City)
	return out, nil
}

// sameText compares names as people read them: white space collapsed, case folded.
func sameText(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

func summarize(d *declaration.Declaration) *declSummary {
	s := &declSummary{ID: d.Header.ID, Type: string(d.Header.Type), PredecessorID: d.Header.PredecessorID, Period: d.Header.Period.String(),
		Fund: d.Fund.Code, HeadCount: d.Summary.HeadCount, Base: d.Summary.BaseTotal, Member: d.Summary.MemberTotal,
		Supplement: d.Summary.SupplementTotal, Payable: d.Summary.PayableTotal, Items: len(d.Items)}
	s.Declarant.Name, s.Declarant.IDType, s.Declarant.ID = d.Declarant.Name, string(d.Declarant.ID.Type), d.Declarant.ID.Value
	return s
}
