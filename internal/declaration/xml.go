package declaration

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

// ParseError is why Parse refused a document, as findings ready for a report: T006 for a forbidden
// construct or an exceeded limit, D003 for anything not well-formed or not schema-valid (one finding per
// schema problem, located by line).
type ParseError struct {
	Findings []errcode.Finding
	Err      error // the underlying *libxml.Error, *libxml.ValidationError or decoding error
}

func (e *ParseError) Error() string { return "declaration: " + e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a declaration from untrusted bytes. It parses them once, with the hardened libxml2 parser
// under the schema set's limits, validating them against the embedded tagdijbevallas.xsd (schemas) as
// they are read, without building a tree, and only when both succeed decodes the model from the record
// of that same pass (libxml.Parser.ValidateStream): the memory of a 100,000-member declaration is its
// bytes, the record (about half of them) and the model, where a tree would be ten times its size. Every
// refusal is a *ParseError. Names and addresses are returned with their white space collapsed, as the
// schema's whiteSpace="collapse" facet reads them.
func Parse(data []byte, schemas *schema.Set) (*Declaration, error) {
	if schemas == nil {
		return nil, errors.New("declaration: Parse needs a schema set")
	}
	if d := schemas.Deferred(schema.Declaration); !slices.Equal(d, []string{rowsUnique}) {
		return nil, fmt.Errorf("declaration: the schema's identity constraints %v are not the ones Parse checks (%s)", d, rowsUnique)
	}
	ev, err := schemas.ValidateStream(schema.Declaration, data)
	defer ev.Close()
	var ve *libxml.ValidationError
	if ev != nil && (err == nil || errors.As(err, &ve)) {
		// A document element in another namespace is a wrong document, not a wrong declaration: say
		// so rather than repeat the schema's "no matching global declaration".
		if first, ok := ev.Next(); ok && first.Kind == libxml.StartElement && first.Space != Namespace {
			err = &libxml.ValidationError{Schema: string(schema.Declaration), Problems: []libxml.Problem{{Line: first.Line,
				Msg: fmt.Sprintf("document element is in namespace %q, expected %q", first.Space, Namespace)}}}
		} else if ve != nil {
			err = withDuplicateRows(ev, ve)
		}
		ev.Rewind()
	}
	if err != nil {
		return nil, &ParseError{Findings: findingsFor(err), Err: err}
	}
	// A valid record: the decoder reads every row number and reports the duplicates.
	d, dups, err := decodeEvents(ev)
	if err != nil {
		err = fmt.Errorf("decoding a schema-valid document: %w", err)
		return nil, &ParseError{Findings: []errcode.Finding{errcode.New(errcode.D003, "", err.Error())}, Err: err}
	}
	if len(dups) > 0 {
		err = mergeProblems(nil, dups)
		return nil, &ParseError{Findings: findingsFor(err), Err: err}
	}
	return d, nil
}

// rowsUnique is tagdijbevallas.xsd's identity constraint on item row numbers, which the streaming
// validation leaves to Parse (schema.Set.ValidateStream): no two Tetelek/Tetel may have the same
// sorszam value (as positive integers: "1" and "01" are the same row).
const rowsUnique = "TetelSorszamEgyedi"

// withDuplicateRows checks rowsUnique on the record of a whole invalid document and returns the
// schema problems the validator found (ve) together with one problem per duplicate (mergeProblems).
// For a valid document the decoder checks the rule as it reads the rows.
func withDuplicateRows(ev *libxml.Events, ve *libxml.ValidationError) error {
	ev.Rewind()
	var dups []libxml.Problem
	var seen rowSet
	depth, inItems := 0, false
	tetel := -1 // line of the Tetel whose attributes follow; -1 when the attributes are not a Tetel's
	for {
		e, ok := ev.Next()
		if !ok {
			break
		}
		switch e.Kind {
		case libxml.StartElement:
			depth++
			tetel = -1
			switch {
			case depth == 2:
				inItems = e.Space == Namespace && e.Local == "Tetelek"
			case depth == 3 && inItems && e.Space == Namespace && e.Local == "Tetel":
				tetel = e.Line
			}
		case libxml.Attribute:
			if tetel < 0 || e.Space != "" || e.Local != "sorszam" {
				continue
			}
			if row, ok := positiveInteger(e.Value); ok && seen.add(row) {
				dups = append(dups, duplicateRow(tetel, row))
			}
		case libxml.EndElement:
			depth--
			tetel = -1
		}
	}
	return mergeProblems(ve, dups)
}

// duplicateRow is the problem libxml2 reports for a duplicate row number, on the duplicate's line.
func duplicateRow(line int, row uint64) libxml.Problem {
	return libxml.Problem{Line: line, Msg: fmt.Sprintf("Element '{%s}Tetel': Duplicate key-sequence ['%d'] in "+
		"unique identity-constraint '{%s}%s'.", Namespace, row, Namespace, rowsUnique)}
}

// rowSet is a set of row numbers: a bitmap for the schema's range (1…MaxItems), a map beyond.
type rowSet struct {
	bits []uint64
	big  map[uint64]bool
}

// add adds row and reports whether it was already in the set.
func (s *rowSet) add(row uint64) bool {
	if row <= MaxItems {
		if s.bits == nil {
			s.bits = make([]uint64, MaxItems/64+1)
		}
		w, b := row/64, uint64(1)<<(row%64)
		had := s.bits[w]&b != 0
		s.bits[w] |= b
		return had
	}
	if s.big == nil {
		s.big = make(map[uint64]bool)
	}
	had := s.big[row]
	s.big[row] = true
	return had
}

// mergeProblems returns the schema problems of ve (nil: none) together with dups, as tree validation
// reports them: in line order, at most maxProblems kept and the rest counted as dropped; nil when
// there is no problem at all.
func mergeProblems(ve *libxml.ValidationError, dups []libxml.Problem) error {
	if len(dups) == 0 {
		if ve == nil {
			return nil
		}
		return ve
	}
	out := &libxml.ValidationError{Schema: string(schema.Declaration)}
	var probs []libxml.Problem
	if ve != nil {
		out.Dropped = ve.Dropped
		probs = append(probs, ve.Problems...)
	}
	probs = append(probs, dups...)
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	if len(probs) > maxProblems {
		out.Dropped += len(probs) - maxProblems
		probs = probs[:maxProblems]
	}
	out.Problems = probs
	return out
}

// maxProblems is how many schema problems libxml keeps (the rest are counted).
const maxProblems = 64

// positiveInteger reads an xs:positiveInteger attribute value as the schema's value space has it:
// white space collapsed away, an optional "+", decimal digits, leading zeros allowed, greater than 0.
// Values beyond 10¹⁸ are reported as not ok (the schema's bound is 10⁶; the validator refuses them).
func positiveInteger(b []byte) (uint64, bool) {
	s := strings.TrimPrefix(strings.Trim(string(b), " \t\r\n"), "+")
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" || len(s) > 18 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// findingsFor turns a parse or validation error into findings.
func findingsFor(err error) []errcode.Finding {
	var ve *libxml.ValidationError
	if errors.As(err, &ve) {
		out := make([]errcode.Finding, 0, len(ve.Problems)+1)
		for _, p := range ve.Problems {
			out = append(out, errcode.New(errcode.D003, fmt.Sprintf("sor %d / line %d", p.Line, p.Line), strings.TrimSpace(p.Msg)))
		}
		if ve.Dropped > 0 {
			out = append(out, errcode.New(errcode.D003, "", fmt.Sprintf("+%d", ve.Dropped)))
		}
		if len(out) == 0 {
			out = append(out, errcode.New(errcode.D003, "", ve.Error()))
		}
		return out
	}
	var xe *libxml.Error
	if errors.As(err, &xe) {
		loc := ""
		if xe.Line > 0 {
			loc = fmt.Sprintf("sor %d / line %d", xe.Line, xe.Line)
		}
		code := errcode.D003
		if errors.Is(err, libxml.ErrForbidden) || errors.Is(err, libxml.ErrLimit) {
			code = errcode.T006
		}
		return []errcode.Finding{errcode.New(code, loc, xe.Msg)}
	}
	return []errcode.Finding{errcode.New(errcode.D003, "", err.Error())}
}

// collapseSpace applies XSD whiteSpace="collapse": runs of #x20, #x9, #xA and #xD become one space and
// leading and trailing ones go. strings.Fields would also fold no-break and other Unicode spaces, which
// the schema keeps. A string already collapsed is returned as is, without allocating.
func collapseSpace(s string) string {
	if isCollapsed(s) {
		return s
	}
	return string(collapseBytes([]byte(s)))
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isCollapsed(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\t' || c == '\r' || c == '\n':
			return false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' '):
			return false
		}
	}
	return true
}

// collapseBytes collapses b in place and returns the result, a prefix of b. The four white-space bytes
// are ASCII and never part of a multi-byte UTF-8 sequence, so working on bytes is working on runes.
func collapseBytes(b []byte) []byte {
	w, pending := 0, false
	for _, c := range b {
		if isXMLSpace(c) {
			pending = w > 0
			continue
		}
		if pending {
			b[w] = ' '
			w++
			pending = false
		}
		b[w] = c
		w++
	}
	return b[:w]
}

// UnmarshalXML reads the header, accepting the white space xs:dateTime allows around Letrehozva.
func (h *Header) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	type plain Header
	var w struct {
		plain
		Created string `xml:"Letrehozva"`
	}
	if err := dec.DecodeElement(&w, &start); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(w.Created))
	if err != nil {
		return fmt.Errorf("declaration: Letrehozva: %w", err)
	}
	*h = Header(w.plain)
	h.Created = t
	return nil
}

func name(local string) xml.StartElement { return xml.StartElement{Name: xml.Name{Local: local}} }

// MarshalXML writes the declaration in the schema's exact element order, always with a Tetelek element
// (empty for a nil declaration). Items are encoded one at a time, so an encoder over a buffered writer
// streams.
func (d *Declaration) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	v := d.Version
	if v == "" {
		v = Version
	}
	root := xml.StartElement{Name: xml.Name{Space: Namespace, Local: "Bevallas"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "verzio"}, Value: v}}}
	if err := e.EncodeToken(root); err != nil {
		return err
	}
	h := d.Header
	h.Created = h.Created.Round(0)
	for _, part := range []struct {
		v    any
		name string
	}{{h, "Fejlec"}, {d.Declarant, "Bevallo"}, {d.Fund, "Penztar"}, {d.Summary, "Osszesito"}} {
		if err := e.EncodeElement(part.v, name(part.name)); err != nil {
			return fmt.Errorf("%s: %w", part.name, err)
		}
	}
	tetelek := name("Tetelek")
	if err := e.EncodeToken(tetelek); err != nil {
		return err
	}
	for i := range d.Items {
		if err := e.EncodeElement(&d.Items[i], name("Tetel")); err != nil {
			return fmt.Errorf("Tetel %d: %w", d.Items[i].Row, err)
		}
	}
	if err := e.EncodeToken(tetelek.End()); err != nil {
		return err
	}
	return e.EncodeToken(root.End())
}

// WriteTo writes the declaration as indented UTF-8 XML with an XML declaration, streaming item by item.
// The output is schema-valid whenever the model respects the schema's bounds (Check reports the
// content rules; a round trip through Parse proves validity).
func (d *Declaration) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	if _, err := bw.WriteString(xml.Header); err != nil {
		return cw.n, err
	}
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		return cw.n, fmt.Errorf("declaration: encoding: %w", err)
	}
	if err := enc.Close(); err != nil {
		return cw.n, fmt.Errorf("declaration: encoding: %w", err)
	}
	if err := bw.WriteByte('\n'); err != nil {
		return cw.n, err
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("declaration: writing: %w", err)
	}
	return cw.n, nil
}

// Marshal returns the bytes WriteTo writes.
func (d *Declaration) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(1024 + 420*len(d.Items))
	if _, err := d.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
