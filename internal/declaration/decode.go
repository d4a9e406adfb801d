package declaration

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/libxml"
)

// decodeEvents reads the model from the record libxml2 wrote while it parsed the bytes and
// tagdijbevallas.xsd validated them (libxml.Parser.ValidateStream), so the bytes are read once, by
// libxml2, and never again by a Go XML decoder, and no tree is built. The schema fixes the element
// order and every value's lexical form; the decoder still checks each step and reports a mismatch as
// an error naming the line, so a record the schema let through by mistake cannot panic it or be
// half-read silently.
//
// The values are those encoding/xml produced from the same bytes before (the reference decoder in the
// tests checks this): an element's value is its direct character data (text and CDATA, not comments),
// integers are strconv.ParseInt of the space-trimmed text, dates and periods go through ParseDate and
// ParsePeriod, names and addresses are collapsed as the schema's whiteSpace="collapse" reads them.
//
// It also checks rowsUnique, which the streaming validation leaves to Parse: dups are the problems for
// rows whose number an earlier row has.
func decodeEvents(ev *libxml.Events) (_ *Declaration, dups []libxml.Problem, _ error) {
	dec := eventDecoder{ev: ev, buf: make([]byte, 0, 256)}
	dec.advance()
	d := new(Declaration)
	dec.declaration(d)
	if dec.err == nil && dec.cur.Kind != 0 {
		dec.fail("content after the document element")
	}
	if dec.err == nil {
		if err := ev.Err(); err != nil {
			dec.err = err
		}
	}
	if dec.err != nil {
		return nil, nil, dec.err
	}
	return d, dec.dups, nil
}

// eventDecoder walks the record one event ahead (cur), holds the first error (every later step is
// skipped) and one scratch buffer.
type eventDecoder struct {
	ev   *libxml.Events
	cur  libxml.Event // the next event not yet consumed; Kind 0 at the end
	line int          // the line of the last start tag consumed, for messages
	buf  []byte
	err  error
	rows rowSet
	dups []libxml.Problem
}

func (dec *eventDecoder) advance() {
	ev, ok := dec.ev.Next()
	if !ok {
		ev = libxml.Event{}
	}
	dec.cur = ev
}

func (dec *eventDecoder) fail(format string, args ...any) {
	if dec.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if dec.line > 0 {
		msg = fmt.Sprintf("line %d: %s", dec.line, msg)
	}
	dec.err = errors.New(msg) // Parse wraps it: "declaration: decoding a schema-valid document: line …"
}

// element is an element whose start the decoder consumed: its name for messages and its attributes.
type element struct {
	name  string
	attrs []libxml.Event
}

func (e *element) attr(name string) ([]byte, bool) {
	for _, a := range e.attrs {
		if a.Space == "" && a.Local == name {
			return a.Value, true
		}
	}
	return nil, false
}

// is reports whether the next event starts the element {Namespace}local.
func (dec *eventDecoder) is(local string) bool {
	return dec.err == nil && dec.cur.Kind == libxml.StartElement && dec.cur.Space == Namespace && dec.cur.Local == local
}

// start consumes the start of the child {Namespace}local of parent, and its attributes. attrs is
// reused storage for them.
func (dec *eventDecoder) start(parent, local string, attrs []libxml.Event) element {
	switch {
	case dec.err != nil:
		return element{}
	case dec.cur.Kind != libxml.StartElement:
		dec.fail("%s has no %s element", parent, local)
		return element{}
	case !dec.is(local):
		dec.line = dec.cur.Line
		dec.fail("%s: found {%s}%s where %s belongs", parent, dec.cur.Space, dec.cur.Local, local)
		return element{}
	}
	dec.line = dec.cur.Line
	e := element{name: local, attrs: attrs[:0]}
	for dec.advance(); dec.cur.Kind == libxml.Attribute; dec.advance() {
		e.attrs = append(e.attrs, dec.cur)
	}
	return e
}

// end consumes the end of e, which must have no further child.
func (dec *eventDecoder) end(e element) {
	if dec.err != nil {
		return
	}
	switch dec.cur.Kind {
	case libxml.EndElement:
		dec.advance()
	case libxml.StartElement:
		dec.line = dec.cur.Line
		dec.fail("%s: unexpected element {%s}%s", e.name, dec.cur.Space, dec.cur.Local)
	default:
		dec.fail("%s: not closed", e.name)
	}
}

// leaf consumes the child {Namespace}local of parent, an element of simple type, and returns its
// character data; the result is valid until the next read.
func (dec *eventDecoder) leaf(parent, local string) []byte {
	e := dec.start(parent, local, nil)
	if dec.err != nil {
		return nil
	}
	var v []byte
	if dec.cur.Kind == libxml.CharData {
		v = dec.cur.Value
		dec.advance()
	}
	dec.end(e)
	return v
}

func (dec *eventDecoder) str(parent, local string) string { return string(dec.leaf(parent, local)) }

// collapsed reads a leaf with XSD white-space collapse applied (the schema's Nev and RovidSzoveg).
func (dec *eventDecoder) collapsed(parent, local string) string {
	v := dec.leaf(parent, local)
	dec.buf = append(dec.buf[:0], v...)
	return string(collapseBytes(dec.buf))
}

func (dec *eventDecoder) int64(parent, local string) int64 {
	b := dec.leaf(parent, local)
	if dec.err != nil {
		return 0
	}
	v, err := parseInt(b)
	if err != nil {
		dec.fail("%s: %v", local, err)
	}
	return v
}

func (dec *eventDecoder) date(parent, local string) Date {
	b := dec.leaf(parent, local)
	if dec.err != nil {
		return Date{}
	}
	v, err := parseDate(b)
	if err != nil {
		dec.fail("%s: %v", local, err)
	}
	return v
}

func (dec *eventDecoder) declaration(d *Declaration) {
	if dec.cur.Kind != libxml.StartElement {
		dec.fail("no document element")
		return
	}
	if !dec.is("Bevallas") {
		dec.line = dec.cur.Line
		dec.fail("document element is {%s}%s, not {%s}Bevallas", dec.cur.Space, dec.cur.Local, Namespace)
		return
	}
	root := dec.start("", "Bevallas", nil)
	d.XMLName.Space, d.XMLName.Local = Namespace, "Bevallas"
	v, ok := root.attr("verzio")
	if !ok {
		dec.fail("Bevallas has no verzio attribute")
		return
	}
	d.Version = string(v)
	dec.header(&d.Header)
	dec.declarant(&d.Declarant)
	dec.fund(&d.Fund)
	dec.summary(&d.Summary)
	dec.items(d)
	dec.end(root)
}

func (dec *eventDecoder) header(h *Header) {
	e := dec.start("Bevallas", "Fejlec", nil)
	if dec.err != nil {
		return
	}
	h.ID = dec.str("Fejlec", "Azonosito")
	h.Type = Type(dec.str("Fejlec", "Tipus"))
	if dec.is("ElozmenyAzonosito") {
		h.PredecessorID = dec.str("Fejlec", "ElozmenyAzonosito")
	}
	if p := dec.leaf("Fejlec", "Idoszak"); dec.err == nil {
		if err := h.Period.UnmarshalText(p); err != nil {
			dec.fail("Idoszak: %v", err)
		}
	}
	if p := dec.leaf("Fejlec", "Letrehozva"); dec.err == nil {
		// As Header.UnmarshalXML reads it: the white space xs:dateTime allows around the value.
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(p)))
		if err != nil {
			dec.fail("Letrehozva: %v", err)
		}
		h.Created = t
	}
	p := dec.start("Fejlec", "Program", nil)
	h.Program.Name = dec.collapsed("Program", "Nev")
	h.Program.Version = dec.collapsed("Program", "Verzio")
	dec.end(p)
	dec.end(e)
}

func (dec *eventDecoder) declarant(b *Declarant) {
	e := dec.start("Bevallas", "Bevallo", nil)
	if dec.err != nil {
		return
	}
	b.Name = dec.collapsed("Bevallo", "Nev")
	var attrs [2]libxml.Event
	if id := dec.start("Bevallo", "Azonosito", attrs[:]); dec.err == nil {
		t, ok := id.attr("tipus")
		if !ok {
			dec.fail("Azonosito has no tipus attribute")
			return
		}
		b.ID.Type = IDType(t)
		if dec.cur.Kind == libxml.CharData {
			b.ID.Value = string(dec.cur.Value)
			dec.advance()
		}
		dec.end(id)
	}
	a := dec.start("Bevallo", "Cim", nil)
	b.Address.PostalCode = dec.str("Cim", "Iranyitoszam")
	b.Address.City = dec.collapsed("Cim", "Telepules")
	b.Address.Street = dec.collapsed("Cim", "KozteruletHazszam")
	dec.end(a)
	dec.end(e)
}

func (dec *eventDecoder) fund(f *Fund) {
	e := dec.start("Bevallas", "Penztar", nil)
	f.Code = dec.str("Penztar", "Kod")
	f.Name = dec.collapsed("Penztar", "Nev")
	dec.end(e)
}

func (dec *eventDecoder) summary(s *Summary) {
	e := dec.start("Bevallas", "Osszesito", nil)
	s.HeadCount = dec.int64("Osszesito", "Letszam")
	s.BaseTotal = dec.int64("Osszesito", "JarulekalapOsszesen")
	s.MemberTotal = dec.int64("Osszesito", "TagdijOsszesen")
	s.SupplementTotal = dec.int64("Osszesito", "MunkaltatoiKiegeszitesOsszesen")
	s.PayableTotal = dec.int64("Osszesito", "FizetendoOsszesen")
	dec.end(e)
}

func (dec *eventDecoder) items(d *Declaration) {
	e := dec.start("Bevallas", "Tetelek", nil)
	if dec.err != nil {
		return
	}
	// No items stays a nil slice, as encoding/xml left it. The record does not say how many items
	// follow, so the slice grows; Letszam, checked against the count later, is a good first guess.
	if n := d.Summary.HeadCount; n > 0 && n <= MaxItems {
		d.Items = make([]Item, 0, n)
	}
	var attrs [2]libxml.Event
	for dec.err == nil && dec.cur.Kind == libxml.StartElement {
		if len(d.Items) >= MaxItems {
			dec.line = dec.cur.Line
			dec.fail("more than %d Tetel elements", MaxItems)
			break
		}
		d.Items = append(d.Items, Item{})
		dec.item(&d.Items[len(d.Items)-1], attrs[:])
	}
	if dec.err != nil {
		d.Items = nil
		return
	}
	if len(d.Items) == 0 {
		d.Items = nil
	}
	dec.end(e)
}

func (dec *eventDecoder) item(it *Item, attrs []libxml.Event) {
	e := dec.start("Tetelek", "Tetel", attrs)
	if dec.err != nil {
		return
	}
	row, ok := e.attr("sorszam")
	if !ok {
		dec.fail("Tetel has no sorszam attribute")
		return
	}
	r, err := parseInt(row)
	if err != nil {
		dec.fail("Tetel sorszam: %v", err)
		return
	}
	it.Row = int(r)
	if r > 0 && dec.rows.add(uint64(r)) {
		dec.dups = append(dec.dups, duplicateRow(dec.line, uint64(r)))
	}
	// Name, TAJ and tax id share one string allocation: the three are read into one buffer and sliced.
	dec.buf = append(dec.buf[:0], dec.leaf("Tetel", "Nev")...)
	dec.buf = collapseBytes(dec.buf)
	nameEnd := len(dec.buf)
	birth := dec.date("Tetel", "SzuletesiDatum")
	dec.buf = append(dec.buf, dec.leaf("Tetel", "TAJ")...)
	tajEnd := len(dec.buf)
	dec.buf = append(dec.buf, dec.leaf("Tetel", "Adoazonosito")...)
	if dec.err != nil {
		return
	}
	s := string(dec.buf)
	it.Name, it.TAJ, it.TaxID = s[:nameEnd], s[nameEnd:tajEnd], s[tajEnd:]
	it.BirthDate = birth
	it.EmploymentFrom = dec.date("Tetel", "JogviszonyKezdete")
	if dec.is("JogviszonyVege") {
		to := dec.date("Tetel", "JogviszonyVege")
		it.EmploymentTo = &to
	}
	it.Base = dec.int64("Tetel", "Jarulekalap")
	it.MemberContribution = dec.int64("Tetel", "Tagdij")
	it.Supplement = dec.int64("Tetel", "MunkaltatoiKiegeszites")
	dec.end(e)
}

// parseInt reads an integer as encoding/xml reads one into an int64 field: empty text is 0, anything
// else is strconv.ParseInt of the text without surrounding (Unicode) white space. Plain digit strings,
// which is what the schema admits after collapse, take a path that allocates nothing.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) <= 18 {
		var v int64
		for _, c := range b {
			if c < '0' || c > '9' {
				goto slow
			}
			v = v*10 + int64(c-'0')
		}
		return v, nil
	}
slow:
	return strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
}

// parseDate is ParseDate for text read into a buffer: the exact form YYYY-MM-DD is read in place; any
// other text goes to ParseDate, whose result and error it then is.
func parseDate(b []byte) (Date, error) {
	if len(b) == 10 && b[4] == '-' && b[7] == '-' {
		y, ok1 := digits(b[:4])
		m, ok2 := digits(b[5:7])
		day, ok3 := digits(b[8:])
		if ok1 && ok2 && ok3 {
			if d := (Date{y, time.Month(m), day}); d.Valid() {
				return d, nil
			}
		}
	}
	return ParseDate(string(b))
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
