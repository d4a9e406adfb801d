package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

// ErrTooLarge is Decode's refusal of more than MaxBytes, inside an *Error.
var ErrTooLarge = errors.New("registry: larger than MaxBytes")

// Decode reads a registration sheet from untrusted bytes. In order: more than MaxBytes is refused
// unread; the bytes must pass the hardened libxml2 parser (no DOCTYPE, no entities, libxml's default
// limits but MaxBytes) and, from that same tree, bejelentkezes.xsd (set); only then is the tree decoded,
// and the result must pass Check. Every refusal is an *Error whose problems say where (element path, or
// line for parser and schema problems) and why, in Hungarian and English. UTF-8 and ISO-8859-2 are read.
// Names are returned with their white space collapsed, as the schema reads them.
func Decode(data []byte, set *schema.Set) (*Sheet, error) {
	if set == nil {
		return nil, errors.New("registry: Decode needs a schema set")
	}
	if len(data) > MaxBytes {
		return nil, &Error{Err: fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLarge, len(data), MaxBytes),
			Problems: []Problem{{HU: fmt.Sprintf("az adatlap nagyobb %d bájtnál", MaxBytes), EN: fmt.Sprintf("the sheet is larger than %d bytes", MaxBytes)}}}
	}
	doc, err := libxml.Parser{Limits: libxml.Limits{MaxBytes: MaxBytes}}.Parse(data)
	if err != nil {
		p := Problem{HU: "nem jól formált XML, tiltott szerkezet vagy túllépett korlát: " + err.Error(),
			EN: "not well-formed XML, a forbidden construct or an exceeded limit: " + err.Error()}
		var xe *libxml.Error
		if errors.As(err, &xe) {
			p.Line = xe.Line
		}
		return nil, &Error{Problems: []Problem{p}, Err: err}
	}
	defer doc.Close()
	root := doc.Root()
	if !root.Is(Namespace, "Bejelentkezes") {
		return nil, &Error{Problems: []Problem{{Line: root.Line(),
			HU: fmt.Sprintf("a gyökérelem {%s}%s, nem {%s}Bejelentkezes", root.NamespaceURI(), root.LocalName(), Namespace),
			EN: fmt.Sprintf("the document element is {%s}%s, not {%s}Bejelentkezes", root.NamespaceURI(), root.LocalName(), Namespace)}}}
	}
	if err := set.Validate(schema.Registration, doc); err != nil {
		return nil, schemaError(err)
	}
	dec := decoder{}
	s := dec.sheet(root)
	if dec.problems != nil {
		return nil, &Error{Problems: dec.problems}
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

// schemaError turns a validation failure into an *Error with one problem per schema problem.
func schemaError(err error) *Error {
	var ve *libxml.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Err: err, Problems: []Problem{{HU: "séma: " + err.Error(), EN: "schema: " + err.Error()}}}
	}
	out := &Error{Err: err}
	for _, p := range ve.Problems {
		msg := strings.TrimSpace(p.Msg)
		out.Problems = append(out.Problems, Problem{Line: p.Line, HU: "séma: " + msg, EN: "schema: " + msg})
	}
	if ve.Dropped > 0 {
		out.Problems = append(out.Problems, Problem{HU: fmt.Sprintf("séma: további %d hiba", ve.Dropped),
			EN: fmt.Sprintf("schema: %d more problem(s)", ve.Dropped)})
	}
	if len(out.Problems) == 0 {
		out.Problems = append(out.Problems, Problem{HU: "séma: " + ve.Error(), EN: "schema: " + ve.Error()})
	}
	return out
}

// decoder reads a schema-valid tree. The schema fixes the element order; the decoder still checks
// every step and reports a mismatch as a problem with the element's path and line, so a document the
// schema let through by mistake cannot panic it or be half-read silently.
type decoder struct {
	problems []Problem
}

func (d *decoder) fail(n libxml.Node, path, hu, en string) {
	d.problems = append(d.problems, Problem{Path: path, Line: n.Line(), HU: hu, EN: en})
}

// kids walks the child elements of one element in order.
type kids struct {
	d    *decoder
	path string
	at   libxml.Node // the parent
	next libxml.Node
}

func (d *decoder) kids(n libxml.Node, path string) *kids {
	return &kids{d: d, path: path, at: n, next: n.FirstChildElement()}
}

// take returns the next child, which must be {Namespace}local; otherwise it records a problem and
// returns the zero Node (every read of which yields "").
func (k *kids) take(local string) libxml.Node {
	n := k.next
	if n.IsZero() || !n.Is(Namespace, local) {
		k.d.fail(k.at, k.path+"/"+local, "hiányzó elem", "missing element")
		return libxml.Node{}
	}
	k.next = n.NextSiblingElement()
	return n
}

// optional returns the next child if it is {Namespace}local, and the zero Node otherwise.
func (k *kids) optional(local string) libxml.Node {
	if k.next.IsZero() || !k.next.Is(Namespace, local) {
		return libxml.Node{}
	}
	return k.take(local)
}

// end records a problem if a child is left.
func (k *kids) end() {
	if !k.next.IsZero() {
		k.d.fail(k.next, k.path+"/"+k.next.LocalName(), "váratlan elem", "unexpected element")
	}
}

func (d *decoder) date(n libxml.Node, path string) declaration.Date {
	if n.IsZero() {
		return declaration.Date{}
	}
	v, err := declaration.ParseDate(collapse(n.Text()))
	if err != nil {
		d.fail(n, path, "érvénytelen dátum: "+err.Error(), "invalid date: "+err.Error())
	}
	return v
}

func (d *decoder) sheet(root libxml.Node) *Sheet {
	s := &Sheet{}
	k := d.kids(root, pathRoot)
	s.ID = k.take("Azonosito").Text()
	if b := k.take("Bevallo"); !b.IsZero() {
		t, _ := b.Attr("azonositoTipus")
		s.Declarant.IDType = declaration.IDType(t)
		s.Declarant.ID, _ = b.Attr("azonosito")
		n, _ := b.Attr("nev")
		s.Declarant.Name = collapse(n)
		bk := d.kids(b, pathDeclarant)
		if c := bk.take("Cim"); !c.IsZero() {
			ck := d.kids(c, pathDeclarant+"/Cim")
			s.Declarant.Address.PostalCode = ck.take("Iranyitoszam").Text()
			s.Declarant.Address.City = collapse(ck.take("Telepules").Text())
			s.Declarant.Address.Street = collapse(ck.take("Kozterulet").Text())
			ck.end()
		}
		bk.end()
	}
	s.Fund = k.take("Penztar").Text()
	if n := k.take("ElsoIdoszak"); !n.IsZero() {
		p, err := declaration.ParsePeriod(n.Text())
		if err != nil {
			d.fail(n, pathRoot+"/ElsoIdoszak", "érvénytelen időszak: "+err.Error(), "invalid period: "+err.Error())
		}
		s.FirstPeriod = p
	}
	s.Filed = d.date(k.take("BenyujtasDatuma"), pathRoot+"/BenyujtasDatuma")
	if c := k.take("Kapcsolattarto"); !c.IsZero() {
		ck := d.kids(c, pathContact)
		s.Contact.Name = collapse(ck.take("Nev").Text())
		s.Contact.Phone = ck.take("Telefon").Text()
		s.Contact.Email = ck.optional("Email").Text()
		s.Contact.Address = collapse(ck.optional("Cim").Text())
		ck.end()
	}
	if n := k.take("TitkositoTanusitvany"); !n.IsZero() {
		der, err := base64.StdEncoding.DecodeString(strings.Map(dropXMLSpace, n.Text()))
		if err != nil {
			d.fail(n, pathRoot+"/TitkositoTanusitvany", "hibás base64: "+err.Error(), "bad base64: "+err.Error())
		}
		s.EncryptionCert = der
	}
	if a := k.take("Alairok"); !a.IsZero() {
		ak := d.kids(a, pathSigners)
		for !ak.next.IsZero() {
			n := ak.take("Alairo")
			if n.IsZero() {
				break
			}
			s.Signers = append(s.Signers, d.signer(n, len(s.Signers)))
		}
	}
	if w := k.optional("Visszavonas"); !w.IsZero() {
		wk := d.kids(w, pathWithdraw)
		s.Withdrawal = &Withdrawal{Date: d.date(wk.take("Datum"), pathWithdraw+"/Datum"), Reason: wk.take("Indoklas").Text()}
		wk.end()
	}
	k.end()
	return s
}

func (d *decoder) signer(n libxml.Node, i int) Signer {
	var s Signer
	s.ID, _ = n.Attr("azonosito")
	path := signerPath(i, s.ID)
	k := d.kids(n, path)
	s.Name = collapse(k.take("Nev").Text())
	if t := k.take("Tanusitvany"); !t.IsZero() {
		tk := d.kids(t, path+"/Tanusitvany")
		if dn := tk.optional("KiadoDN"); !dn.IsZero() {
			s.Cert.IssuerDN = dn.Text()
			s.Cert.Serial = tk.take("Sorozatszam").Text()
		}
		if h := tk.optional("SHA256"); !h.IsZero() {
			v, err := hex.DecodeString(h.Text())
			if err != nil {
				d.fail(h, path+"/Tanusitvany/SHA256", "hibás hexadecimális érték", "bad hexadecimal value")
			}
			s.Cert.SHA256 = v
		}
		tk.end()
	}
	s.Role = Role(k.take("Szerep").Text())
	if m := k.take("Kotelezo"); !m.IsZero() {
		switch v := collapse(m.Text()); v {
		case "true", "1":
			s.Mandatory = true
		case "false", "0":
		default:
			d.fail(m, path+"/Kotelezo", fmt.Sprintf("nem logikai érték: %q", v), fmt.Sprintf("not a boolean: %q", v))
		}
	}
	s.CoSigner = k.optional("Tarsalairo").Text()
	s.Deputy = k.optional("Helyettes").Text()
	s.ValidFrom = d.date(k.take("ErvenyesTol"), path+"/ErvenyesTol")
	if to := k.optional("ErvenyesIg"); !to.IsZero() {
		s.ValidTo = d.date(to, path+"/ErvenyesIg")
	}
	k.end()
	return s
}

func dropXMLSpace(r rune) rune {
	if isXMLSpace(r) {
		return -1
	}
	return r
}

// Encode writes s as a UTF-8 registration sheet that is valid against bejelentkezes.xsd and that
// Decode reads back as a sheet equal to s. It refuses (with Check's *Error) a sheet that does not pass
// Check, so it never writes an invalid sheet.
func Encode(s *Sheet) ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var w writer
	w.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.raw(`<Bejelentkezes xmlns="` + Namespace + `">` + "\n")
	w.elem(1, "Azonosito", s.ID)
	w.indent(1)
	w.raw(`<Bevallo azonositoTipus="`)
	w.esc(string(s.Declarant.IDType))
	w.raw(`" azonosito="`)
	w.esc(s.Declarant.ID)
	w.raw(`" nev="`)
	w.esc(s.Declarant.Name)
	w.raw("\">\n")
	w.open(2, "Cim")
	w.elem(3, "Iranyitoszam", s.Declarant.Address.PostalCode)
	w.elem(3, "Telepules", s.Declarant.Address.City)
	w.elem(3, "Kozterulet", s.Declarant.Address.Street)
	w.close(2, "Cim")
	w.close(1, "Bevallo")
	w.elem(1, "Penztar", s.Fund)
	w.elem(1, "ElsoIdoszak", s.FirstPeriod.String())
	w.elem(1, "BenyujtasDatuma", s.Filed.String())
	w.open(1, "Kapcsolattarto")
	w.elem(2, "Nev", s.Contact.Name)
	w.elem(2, "Telefon", s.Contact.Phone)
	if s.Contact.Email != "" {
		w.elem(2, "Email", s.Contact.Email)
	}
	if s.Contact.Address != "" {
		w.elem(2, "Cim", s.Contact.Address)
	}
	w.close(1, "Kapcsolattarto")
	w.open(1, "TitkositoTanusitvany")
	b64 := base64.StdEncoding.EncodeToString(s.EncryptionCert)
	for len(b64) > 0 {
		n := min(76, len(b64))
		w.indent(2)
		w.raw(b64[:n] + "\n")
		b64 = b64[n:]
	}
	w.close(1, "TitkositoTanusitvany")
	w.open(1, "Alairok")
	for i := range s.Signers {
		g := &s.Signers[i]
		w.indent(2)
		w.raw(`<Alairo azonosito="`)
		w.esc(g.ID)
		w.raw("\">\n")
		w.elem(3, "Nev", g.Name)
		w.open(3, "Tanusitvany")
		if g.Cert.IssuerDN != "" {
			w.elem(4, "KiadoDN", g.Cert.IssuerDN)
			w.elem(4, "Sorozatszam", g.Cert.Serial)
		}
		if len(g.Cert.SHA256) != 0 {
			w.elem(4, "SHA256", hex.EncodeToString(g.Cert.SHA256))
		}
		w.close(3, "Tanusitvany")
		w.elem(3, "Szerep", string(g.Role))
		w.elem(3, "Kotelezo", fmt.Sprint(g.Mandatory))
		if g.CoSigner != "" {
			w.elem(3, "Tarsalairo", g.CoSigner)
		}
		if g.Deputy != "" {
			w.elem(3, "Helyettes", g.Deputy)
		}
		w.elem(3, "ErvenyesTol", g.ValidFrom.String())
		if !g.ValidTo.IsZero() {
			w.elem(3, "ErvenyesIg", g.ValidTo.String())
		}
		w.close(2, "Alairo")
	}
	w.close(1, "Alairok")
	if s.Withdrawal != nil {
		w.open(1, "Visszavonas")
		w.elem(2, "Datum", s.Withdrawal.Date.String())
		w.elem(2, "Indoklas", s.Withdrawal.Reason)
		w.close(1, "Visszavonas")
	}
	w.raw("</Bejelentkezes>\n")
	return w.buf.Bytes(), nil
}

// writer writes the fixed structure of a sheet. Values are escaped with xml.EscapeText, which also
// writes tab, line feed and carriage return as character references, so white space in a value (the
// withdrawal's reason, an issuer DN) survives attribute-value and line-end normalisation unchanged.
type writer struct{ buf bytes.Buffer }

func (w *writer) raw(s string)     { w.buf.WriteString(s) }
func (w *writer) indent(depth int) { w.buf.WriteString(strings.Repeat("  ", depth)) }

// esc writes s escaped. Check has refused characters XML cannot carry, which xml.EscapeText would
// otherwise replace, so nothing is altered.
func (w *writer) esc(s string) { _ = xml.EscapeText(&w.buf, []byte(s)) }

func (w *writer) elem(depth int, name, text string) {
	w.indent(depth)
	w.raw("<" + name + ">")
	w.esc(text)
	w.raw("</" + name + ">\n")
}

func (w *writer) open(depth int, name string) {
	w.indent(depth)
	w.raw("<" + name + ">\n")
}

func (w *writer) close(depth int, name string) {
	w.indent(depth)
	w.raw("</" + name + ">\n")
}
