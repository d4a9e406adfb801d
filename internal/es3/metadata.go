package es3

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/schema"
)

// Metadata is the package metadata, cs:Csomag (SPEC §2): the signed comments of SND-20, carried in
// clear in es:DossierProfile/es:Metadata. Field comments give the XML names.
type Metadata struct {
	ID            string    // cs:Azonosito: submission UUID, lower case
	Fund          string    // cs:Penztar: 4-digit fund code
	Declarant     Declarant // cs:Bevallo
	Period        string    // cs:Idoszak: YYYY-MM
	Type          string    // cs:Tipus: B normal, O self-revision, H correction
	PredecessorID string    // cs:ElozmenyAzonosito: present exactly for O and H
	Contact       Contact   // cs:Kapcsolattarto
}

// Declarant is cs:Bevallo.
type Declarant struct {
	// IDType is @azonositoTipus: the value of a declaration.IDType (adoszam, adoazonosito or taj),
	// compared and switched on as one (declaration.IDType(d.IDType)). It stays a string because
	// callers outside this package still store it as one.
	IDType string
	ID     string // @azonosito
	Name   string // @nev
}

// Contact is cs:Kapcsolattarto.
type Contact struct {
	Name    string // cs:Nev
	Phone   string // cs:Telefon
	Address string // cs:Cim
}

// Element returns a new cs:Csomag element (declaring the cs prefix) for es:Metadata. It does not
// validate; Build does.
func (m *Metadata) Element() *etree.Element {
	cs := etree.NewElement(PrefixCsomag + ":Csomag")
	cs.CreateAttr("xmlns:"+PrefixCsomag, NSCsomag)
	child := func(parent *etree.Element, name, text string) *etree.Element {
		e := parent.CreateElement(PrefixCsomag + ":" + name)
		e.SetText(text)
		return e
	}
	child(cs, "Azonosito", m.ID)
	child(cs, "Penztar", m.Fund)
	b := cs.CreateElement(PrefixCsomag + ":Bevallo")
	// Canonical attribute order: azonosito sorts before azonositoTipus.
	b.CreateAttr("azonosito", m.Declarant.ID)
	b.CreateAttr("azonositoTipus", m.Declarant.IDType)
	b.CreateAttr("nev", m.Declarant.Name)
	child(cs, "Idoszak", m.Period)
	child(cs, "Tipus", m.Type)
	if m.PredecessorID != "" {
		child(cs, "ElozmenyAzonosito", m.PredecessorID)
	}
	k := cs.CreateElement(PrefixCsomag + ":Kapcsolattarto")
	child(k, "Nev", m.Contact.Name)
	child(k, "Telefon", m.Contact.Phone)
	child(k, "Cim", m.Contact.Address)
	return cs
}

// Marshal writes m as a standalone UTF-8 cs:Csomag document.
func (m *Metadata) Marshal() ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(m.Element())
	return doc.WriteToBytes()
}

// NameFields returns the fields a package name must agree with, for pkgname.Matches.
func (m *Metadata) NameFields() pkgname.Metadata {
	return pkgname.Metadata{IDType: declaration.IDType(m.Declarant.IDType), Declarant: m.Declarant.ID, Fund: m.Fund, Period: m.Period, Type: m.Type}
}

// Check validates m against the cs:Csomag schema (when set is not nil) and the rules the schema cannot
// express: ElozmenyAzonosito is present exactly for types O and H and differs from Azonosito; the
// identifier's length fits its type and its check digit is right. Every problem is an F009 finding.
func (m *Metadata) Check(set *schema.Set) []errcode.Finding {
	var out []errcode.Finding
	if set != nil {
		data, err := m.Marshal()
		if err != nil {
			return []errcode.Finding{bilingual(errcode.F009, "cs:Csomag", "nem írható ki", "cannot be serialized: "+err.Error())}
		}
		out = append(out, validateCsomag(set, data)...)
	}
	return append(out, m.rules()...)
}

// rules checks what XSD 1.0 cannot (csomag.xsd's documentation lists them).
func (m *Metadata) rules() []errcode.Finding {
	var out []errcode.Finding
	bad := func(loc, hu, en string) { out = append(out, bilingual(errcode.F009, loc, hu, en)) }
	switch m.Type {
	case "O", "H":
		if m.PredecessorID == "" {
			bad("cs:ElozmenyAzonosito", "önellenőrzésnél és helyesbítésnél kötelező", "required for types O and H")
		} else if m.PredecessorID == m.ID {
			bad("cs:ElozmenyAzonosito", "nem lehet azonos a beküldés azonosítójával", "must differ from the submission id")
		}
	case "B":
		if m.PredecessorID != "" {
			bad("cs:ElozmenyAzonosito", "alap bevallásnál (B) nem megengedett", "not allowed for type B")
		}
	default:
		bad("cs:Tipus", fmt.Sprintf("ismeretlen típus: %q", m.Type), fmt.Sprintf("unknown type %q", m.Type))
	}
	id := m.Declarant.ID
	switch declaration.IDType(m.Declarant.IDType) {
	case declaration.IDAdoszam:
		if (len(id) != 8 && len(id) != 11) || !hunid.ValidAdoszam(id) {
			bad("cs:Bevallo/@azonosito", "érvénytelen adószám", "invalid tax number")
		}
	case declaration.IDAdoazonosito:
		if !hunid.ValidAdoazonosito(id) {
			bad("cs:Bevallo/@azonosito", "érvénytelen adóazonosító jel", "invalid personal tax id")
		}
	case declaration.IDTAJ:
		if !hunid.ValidTAJ(id) {
			bad("cs:Bevallo/@azonosito", "érvénytelen TAJ szám", "invalid TAJ number")
		}
	default:
		bad("cs:Bevallo/@azonositoTipus", fmt.Sprintf("ismeretlen azonosítótípus: %q", m.Declarant.IDType),
			fmt.Sprintf("unknown identifier type %q", m.Declarant.IDType))
	}
	return out
}

// validateCsomag parses data (a standalone cs:Csomag) and validates it against the package schema.
func validateCsomag(set *schema.Set, data []byte) []errcode.Finding {
	err := set.ValidateBytes(schema.Package, data)
	if err == nil {
		return nil
	}
	var ve *libxml.ValidationError
	if errors.As(err, &ve) {
		out := make([]errcode.Finding, 0, len(ve.Problems))
		for _, p := range ve.Problems {
			msg := strings.TrimSpace(p.Msg)
			out = append(out, bilingual(errcode.F009, "cs:Csomag", "séma: "+msg, "schema: "+msg))
		}
		if len(out) == 0 {
			out = append(out, bilingual(errcode.F009, "cs:Csomag", "séma", ve.Error()))
		}
		return out
	}
	return []errcode.Finding{bilingual(errcode.F009, "cs:Csomag", "nem olvasható", "unreadable: "+err.Error())}
}

// DecodeMetadata reads a standalone cs:Csomag document: hardened parse, schema validation, then the
// rules of Check. It returns the metadata only when there are no findings.
func DecodeMetadata(data []byte, set *schema.Set) (*Metadata, []errcode.Finding) {
	if set == nil {
		return nil, []errcode.Finding{bilingual(errcode.F009, "cs:Csomag", "nincs séma", "no schema set given")}
	}
	if f := validateCsomag(set, data); len(f) > 0 {
		return nil, f
	}
	doc, err := libxml.Parse(data)
	if err != nil { // validated above, so only an internal failure gets here
		return nil, []errcode.Finding{bilingual(errcode.F009, "cs:Csomag", "nem olvasható", "unreadable: "+err.Error())}
	}
	defer doc.Close()
	m := decodeCsomag(doc.Root())
	if f := m.rules(); len(f) > 0 {
		return nil, f
	}
	return m, nil
}

// decodeCsomag reads a schema-valid cs:Csomag. Element text is whitespace-trimmed where the schema
// collapses it (names), taken verbatim otherwise (patterns leave no room for whitespace).
func decodeCsomag(root libxml.Node) *Metadata {
	m := &Metadata{}
	for _, c := range root.Children() {
		switch c.LocalName() {
		case "Azonosito":
			m.ID = c.Text()
		case "Penztar":
			m.Fund = c.Text()
		case "Bevallo":
			m.Declarant.IDType, _ = c.Attr("azonositoTipus")
			m.Declarant.ID, _ = c.Attr("azonosito")
			n, _ := c.Attr("nev")
			m.Declarant.Name = collapse(n)
		case "Idoszak":
			m.Period = c.Text()
		case "Tipus":
			m.Type = c.Text()
		case "ElozmenyAzonosito":
			m.PredecessorID = c.Text()
		case "Kapcsolattarto":
			for _, k := range c.Children() {
				switch k.LocalName() {
				case "Nev":
					m.Contact.Name = collapse(k.Text())
				case "Telefon":
					m.Contact.Phone = k.Text()
				case "Cim":
					m.Contact.Address = collapse(k.Text())
				}
			}
		}
	}
	return m
}

// collapse applies XSD whiteSpace="collapse": runs of space, tab, CR and LF become one space, and leading
// and trailing ones go (other Unicode spaces, such as no-break space, are kept as XSD keeps them).
func collapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}), " ")
}

// canonicalSubtree returns the exclusive canonical form of n, a standalone document body.
func canonicalSubtree(doc *libxml.Document, n libxml.Node) ([]byte, error) {
	var buf bytes.Buffer
	if err := doc.CanonicalizeTo(&buf, n, libxml.C14N{Method: libxml.ExcC14N10}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
