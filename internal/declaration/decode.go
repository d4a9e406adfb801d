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

// decodeTree reads the model from a document libxml2 has parsed and tagdijbevallas.xsd has accepted, so
// the bytes are read once, by libxml2, and never again by a Go XML decoder. The schema fixes the
// element order and every value's lexical form; the decoder still checks each step and reports a
// mismatch as an error naming the line, so a document the schema let through by mistake cannot panic
// it or be half-read silently.
//
// The values are those encoding/xml produced from the same bytes before (the reference decoder in the
// tests checks this): an element's value is its direct character data (text and CDATA, not comments),
// integers are strconv.ParseInt of the space-trimmed text, dates and periods go through ParseDate and
// ParsePeriod, names and addresses are collapsed as the schema's whiteSpace="collapse" reads them.
func decodeTree(doc *libxml.Document) (*Declaration, error) {
	dec := treeDecoder{buf: make([]byte, 0, 256)}
	d := new(Declaration)
	dec.declaration(doc.Root(), d)
	if dec.err != nil {
		return nil, dec.err
	}
	return d, nil
}

// treeDecoder holds the first error (every later step is skipped) and one scratch buffer that every
// text value is read into, so reading a value allocates only the Go string it becomes.
type treeDecoder struct {
	buf []byte
	err error
}

func (dec *treeDecoder) fail(n libxml.Node, format string, args ...any) {
	if dec.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if !n.IsZero() {
		msg = fmt.Sprintf("line %d: %s", n.Line(), msg)
	}
	dec.err = errors.New(msg) // Parse wraps it: "declaration: decoding a schema-valid document: line …"
}

// children walks the child elements of parent in order.
type children struct {
	dec    *treeDecoder
	parent libxml.Node
	name   string // the parent's local name, for messages
	next   libxml.Node
}

func (dec *treeDecoder) children(parent libxml.Node, name string) children {
	return children{dec: dec, parent: parent, name: name, next: parent.FirstChildElement()}
}

// take returns the next child, which must be the element {Namespace}local.
func (c *children) take(local string) libxml.Node {
	n := c.next
	switch {
	case c.dec.err != nil:
		return libxml.Node{}
	case n.IsZero():
		c.dec.fail(c.parent, "%s has no %s element", c.name, local)
		return libxml.Node{}
	case !n.Is(Namespace, local):
		c.dec.fail(n, "%s: found {%s}%s where %s belongs", c.name, n.NamespaceURI(), n.LocalName(), local)
		return libxml.Node{}
	}
	c.next = n.NextSiblingElement()
	return n
}

// optional returns the next child if it is {Namespace}local, and the zero Node otherwise.
func (c *children) optional(local string) libxml.Node {
	if c.dec.err != nil || !c.next.Is(Namespace, local) {
		return libxml.Node{}
	}
	return c.take(local)
}

// end checks that no child is left.
func (c *children) end() {
	if c.dec.err == nil && !c.next.IsZero() {
		c.dec.fail(c.next, "%s: unexpected element {%s}%s", c.name, c.next.NamespaceURI(), c.next.LocalName())
	}
}

// text reads n's character data into the scratch buffer; the result is valid until the next read.
func (dec *treeDecoder) text(n libxml.Node) []byte {
	if dec.err != nil {
		return nil
	}
	dec.buf = n.AppendText(dec.buf[:0])
	return dec.buf
}

func (dec *treeDecoder) str(n libxml.Node) string { return string(dec.text(n)) }

// collapsed reads n's text with XSD white-space collapse applied (the schema's Nev and RovidSzoveg).
func (dec *treeDecoder) collapsed(n libxml.Node) string { return collapseSpace(dec.str(n)) }

func (dec *treeDecoder) int64(n libxml.Node, what string) int64 {
	b := dec.text(n)
	if dec.err != nil {
		return 0
	}
	v, err := parseInt(b)
	if err != nil {
		dec.fail(n, "%s: %v", what, err)
	}
	return v
}

func (dec *treeDecoder) date(n libxml.Node, what string) Date {
	b := dec.text(n)
	if dec.err != nil {
		return Date{}
	}
	v, err := parseDate(b)
	if err != nil {
		dec.fail(n, "%s: %v", what, err)
	}
	return v
}

func (dec *treeDecoder) declaration(root libxml.Node, d *Declaration) {
	if !root.Is(Namespace, "Bevallas") {
		if root.IsZero() {
			dec.fail(root, "no document element")
		} else {
			dec.fail(root, "document element is {%s}%s, not {%s}Bevallas", root.NamespaceURI(), root.LocalName(), Namespace)
		}
		return
	}
	d.XMLName.Space, d.XMLName.Local = Namespace, "Bevallas"
	v, ok := root.AppendAttr(dec.buf[:0], "verzio")
	if !ok {
		dec.fail(root, "Bevallas has no verzio attribute")
		return
	}
	d.Version = string(v)
	c := dec.children(root, "Bevallas")
	dec.header(c.take("Fejlec"), &d.Header)
	dec.declarant(c.take("Bevallo"), &d.Declarant)
	dec.fund(c.take("Penztar"), &d.Fund)
	dec.summary(c.take("Osszesito"), &d.Summary)
	dec.items(c.take("Tetelek"), d)
	c.end()
}

func (dec *treeDecoder) header(n libxml.Node, h *Header) {
	if dec.err != nil {
		return
	}
	c := dec.children(n, "Fejlec")
	h.ID = dec.str(c.take("Azonosito"))
	h.Type = Type(dec.str(c.take("Tipus")))
	if p := c.optional("ElozmenyAzonosito"); !p.IsZero() {
		h.PredecessorID = dec.str(p)
	}
	if p := c.take("Idoszak"); dec.err == nil {
		if err := h.Period.UnmarshalText(dec.text(p)); err != nil {
			dec.fail(p, "Idoszak: %v", err)
		}
	}
	if p := c.take("Letrehozva"); dec.err == nil {
		// As Header.UnmarshalXML reads it: the white space xs:dateTime allows around the value.
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(dec.str(p)))
		if err != nil {
			dec.fail(p, "Letrehozva: %v", err)
		}
		h.Created = t
	}
	p := dec.children(c.take("Program"), "Program")
	h.Program.Name = dec.collapsed(p.take("Nev"))
	h.Program.Version = dec.collapsed(p.take("Verzio"))
	p.end()
	c.end()
}

func (dec *treeDecoder) declarant(n libxml.Node, b *Declarant) {
	if dec.err != nil {
		return
	}
	c := dec.children(n, "Bevallo")
	b.Name = dec.collapsed(c.take("Nev"))
	if id := c.take("Azonosito"); dec.err == nil {
		t, ok := id.AppendAttr(dec.buf[:0], "tipus")
		if !ok {
			dec.fail(id, "Azonosito has no tipus attribute")
			return
		}
		b.ID.Type = IDType(t)
		b.ID.Value = dec.str(id)
	}
	a := dec.children(c.take("Cim"), "Cim")
	b.Address.PostalCode = dec.str(a.take("Iranyitoszam"))
	b.Address.City = dec.collapsed(a.take("Telepules"))
	b.Address.Street = dec.collapsed(a.take("KozteruletHazszam"))
	a.end()
	c.end()
}

func (dec *treeDecoder) fund(n libxml.Node, f *Fund) {
	if dec.err != nil {
		return
	}
	c := dec.children(n, "Penztar")
	f.Code = dec.str(c.take("Kod"))
	f.Name = dec.collapsed(c.take("Nev"))
	c.end()
}

func (dec *treeDecoder) summary(n libxml.Node, s *Summary) {
	if dec.err != nil {
		return
	}
	c := dec.children(n, "Osszesito")
	s.HeadCount = dec.int64(c.take("Letszam"), "Letszam")
	s.BaseTotal = dec.int64(c.take("JarulekalapOsszesen"), "JarulekalapOsszesen")
	s.MemberTotal = dec.int64(c.take("TagdijOsszesen"), "TagdijOsszesen")
	s.SupplementTotal = dec.int64(c.take("MunkaltatoiKiegeszitesOsszesen"), "MunkaltatoiKiegeszitesOsszesen")
	s.PayableTotal = dec.int64(c.take("FizetendoOsszesen"), "FizetendoOsszesen")
	c.end()
}

func (dec *treeDecoder) items(n libxml.Node, d *Declaration) {
	if dec.err != nil {
		return
	}
	// Count first, so the slice is allocated once at its final size instead of growing (and copying)
	// through doublings; counting is a walk over sibling pointers. No items stays a nil slice, as
	// encoding/xml left it.
	count := 0
	for t := n.FirstChildElement(); !t.IsZero(); t = t.NextSiblingElement() {
		count++
	}
	if count == 0 {
		return
	}
	if count > MaxItems {
		dec.fail(n, "more than %d Tetel elements", MaxItems)
		return
	}
	d.Items = make([]Item, count)
	c := dec.children(n, "Tetelek")
	for i := range d.Items {
		dec.item(c.take("Tetel"), &d.Items[i])
		if dec.err != nil {
			d.Items = nil
			return
		}
	}
	c.end()
}

func (dec *treeDecoder) item(n libxml.Node, it *Item) {
	if dec.err != nil {
		return
	}
	row, ok := n.AppendAttr(dec.buf[:0], "sorszam")
	if !ok {
		dec.fail(n, "Tetel has no sorszam attribute")
		return
	}
	r, err := parseInt(row)
	if err != nil {
		dec.fail(n, "Tetel sorszam: %v", err)
		return
	}
	it.Row = int(r)
	c := dec.children(n, "Tetel")
	// Name, TAJ and tax id share one string allocation: the three are read into one buffer and sliced.
	name := c.take("Nev")
	birth := dec.date(c.take("SzuletesiDatum"), "SzuletesiDatum")
	taj := c.take("TAJ")
	tax := c.take("Adoazonosito")
	if dec.err != nil {
		return
	}
	dec.buf = collapseAppend(dec.buf[:0], name)
	nameEnd := len(dec.buf)
	dec.buf = taj.AppendText(dec.buf)
	tajEnd := len(dec.buf)
	dec.buf = tax.AppendText(dec.buf)
	s := string(dec.buf)
	it.Name, it.TAJ, it.TaxID = s[:nameEnd], s[nameEnd:tajEnd], s[tajEnd:]
	it.BirthDate = birth
	it.EmploymentFrom = dec.date(c.take("JogviszonyKezdete"), "JogviszonyKezdete")
	if e := c.optional("JogviszonyVege"); !e.IsZero() {
		to := dec.date(e, "JogviszonyVege")
		it.EmploymentTo = &to
	}
	it.Base = dec.int64(c.take("Jarulekalap"), "Jarulekalap")
	it.MemberContribution = dec.int64(c.take("Tagdij"), "Tagdij")
	it.Supplement = dec.int64(c.take("MunkaltatoiKiegeszites"), "MunkaltatoiKiegeszites")
	c.end()
}

// collapseAppend appends n's text to dst with XSD collapse applied to the appended part only.
func collapseAppend(dst []byte, n libxml.Node) []byte {
	start := len(dst)
	dst = n.AppendText(dst)
	return append(dst[:start], collapseBytes(dst[start:])...)
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
