package declaration

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"

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

// Parse reads a declaration from untrusted bytes. It first parses them with the hardened libxml2 parser
// and validates them against the embedded tagdijbevallas.xsd (schemas); only bytes that pass both are
// decoded into the model. Every refusal is a *ParseError. Names and addresses are returned with their
// white space collapsed, as the schema's whiteSpace="collapse" facet reads them.
func Parse(data []byte, schemas *schema.Set) (*Declaration, error) {
	if schemas == nil {
		return nil, errors.New("declaration: Parse needs a schema set")
	}
	if err := schemas.ValidateBytes(schema.Declaration, data); err != nil {
		return nil, &ParseError{Findings: findingsFor(err), Err: err}
	}
	d := new(Declaration)
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	if err := dec.Decode(d); err != nil {
		err = fmt.Errorf("decoding a schema-valid document: %w", err)
		return nil, &ParseError{Findings: []errcode.Finding{errcode.New(errcode.D003, "", err.Error())}, Err: err}
	}
	d.collapse()
	return d, nil
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

// charsetReader lets the decoder read the one non-UTF-8 encoding the hardened parser admits.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-2", "iso8859-2", "latin2", "l2", "iso_8859-2":
		return charmap.ISO8859_2.NewDecoder().Reader(input), nil
	}
	return nil, fmt.Errorf("declaration: unsupported encoding %q", label)
}

func collapseSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	// XSD whiteSpace="collapse" knows only #x20, #x9, #xA and #xD: strings.Fields would also fold
	// no-break and other Unicode spaces, which the schema keeps.
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}), " ")
}

func (d *Declaration) collapse() {
	d.Header.Program.Name = collapseSpace(d.Header.Program.Name)
	d.Header.Program.Version = collapseSpace(d.Header.Program.Version)
	d.Declarant.Name = collapseSpace(d.Declarant.Name)
	d.Declarant.Address.City = collapseSpace(d.Declarant.Address.City)
	d.Declarant.Address.Street = collapseSpace(d.Declarant.Address.Street)
	d.Fund.Name = collapseSpace(d.Fund.Name)
	for i := range d.Items {
		d.Items[i].Name = collapseSpace(d.Items[i].Name)
	}
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
