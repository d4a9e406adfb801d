package libxml

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// treeEvents is what the record of d must be: d's elements in document order with their attributes
// (in document order) and, for an element without child elements, its AppendText when not empty.
func treeEvents(n Node) []string {
	var out []string
	var walk func(n Node)
	walk = func(n Node) {
		out = append(out, fmt.Sprintf("start {%s}%s @%d", n.NamespaceURI(), n.LocalName(), n.Line()))
		for _, a := range n.Attrs() {
			name := a.Local
			if a.Space != "" {
				name = "{" + a.Space + "}" + a.Local
			}
			out = append(out, fmt.Sprintf("attr %s=%q", name, a.Value))
		}
		kids := n.Children()
		if len(kids) == 0 {
			if t := n.AppendText(nil); len(t) > 0 {
				out = append(out, fmt.Sprintf("text %q", t))
			}
		}
		for _, c := range kids {
			walk(c)
		}
		out = append(out, "end")
	}
	walk(n)
	return out
}

func streamEvents(t *testing.T, e *Events) []string {
	t.Helper()
	var out []string
	for {
		ev, ok := e.Next()
		if !ok {
			break
		}
		switch ev.Kind {
		case StartElement:
			out = append(out, fmt.Sprintf("start {%s}%s @%d", ev.Space, ev.Local, ev.Line))
		case Attribute:
			name := ev.Local
			if ev.Space != "" {
				name = "{" + ev.Space + "}" + ev.Local
			}
			out = append(out, fmt.Sprintf("attr %s=%q", name, ev.Value))
		case CharData:
			out = append(out, fmt.Sprintf("text %q", ev.Value))
		case EndElement:
			out = append(out, "end")
		default:
			t.Fatalf("unknown event kind %d", ev.Kind)
		}
	}
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// anySchema admits every element and attribute, so that the record of arbitrary documents can be
// compared with their tree.
const anySchema = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="r"><xs:complexType mixed="true"><xs:sequence>
    <xs:any minOccurs="0" maxOccurs="unbounded" processContents="skip" namespace="##any"/>
  </xs:sequence><xs:anyAttribute processContents="skip" namespace="##any"/></xs:complexType></xs:element>
</xs:schema>`

// TestStreamRecordMatchesTree: the record of a valid document is the tree's elements, attributes and
// leaf texts, with the references, CDATA sections, comments and encodings that Parse reads.
func TestStreamRecordMatchesTree(t *testing.T) {
	s, err := CompileSchema("any.xsd", []byte(anySchema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	docs := map[string]string{
		"simple":         "<r><a>1</a><b x=\"y\">two</b></r>",
		"namespaces":     "<r xmlns:p=\"urn:p\"><p:a p:at=\"v\" at=\"w\">x</p:a><a xmlns=\"urn:d\">y</a></r>",
		"references":     "<r><a v=\"&amp;&lt;&#38;&#x41;&gt;&quot;\">&amp;&lt;&#233;&#x151; &gt;</a></r>",
		"amp literal":    "<r><a v=\"a&amp;#38;b\">&amp;#38;</a></r>",
		"cdata":          "<r><a><![CDATA[<x>&amp;]]>tail<![CDATA[]]></a></r>",
		"comment inside": "<r><a>x<!-- no -->y<?pi z?>z</a></r>",
		"mixed dropped":  "<r>lead<a>in</a>tail</r>",
		"empty":          "<r><a/><b></b><c>  </c></r>",
		"lines":          "<r>\n\n  <a\n  x=\"1\">v</a>\n<b/></r>",
		"iso-8859-2":     "<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?><r><a v=\"\xf5\">\xfb\xe1</a></r>",
		"attr normalize": "<r><a v=\"  a\tb\nc  \"/></r>",
		"deep":           strings.Repeat("<r>", 1) + strings.Repeat("<a>", 30) + "x" + strings.Repeat("</a>", 30) + "</r>",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			d := mustParse(t, []byte(doc))
			want := treeEvents(d.Root())
			e, err := Parser{}.ValidateStream([]byte(doc), s)
			if err != nil {
				t.Fatalf("ValidateStream: %v", err)
			}
			defer e.Close()
			got := streamEvents(t, e)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("record:\n%s\nwant (tree):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestStreamValidityMatchesTree: streaming validation accepts and refuses what tree validation does,
// with as many problems.
func TestStreamValidityMatchesTree(t *testing.T) {
	s := loadTagSchema(t)
	const head = "<bevallas xmlns=\"urn:tagdij:teszt:1\" verzio=\"1.0\">\n"
	docs := []string{
		head + "<tag azonosito=\"1\"><nev>Kovács</nev><osszeg>1.5</osszeg></tag></bevallas>",
		head + "<tag azonosito=\"1\"><nev>K</nev><osszeg>sok</osszeg></tag></bevallas>",
		head + "<tag><nev>K</nev><osszeg>1</osszeg></tag></bevallas>",
		head + "<tag azonosito=\"1\"><nev>" + strings.Repeat("x", 41) + "</nev><osszeg>1</osszeg></tag></bevallas>",
		head + "<tag azonosito=\"1\"><nev>K</nev><osszeg>1</osszeg><extra/></tag></bevallas>",
		head + "<tag azonosito=\"1\"><nev>K</nev></tag></bevallas>",
		"<bevallas xmlns=\"urn:other\"/>",
		"<bevallas xmlns=\"urn:tagdij:teszt:1\" verzio=\"2.0\"><tag azonosito=\"1\"><nev>K</nev><osszeg>1</osszeg></tag></bevallas>",
		head + "<tag azonosito=\"0\"><nev>K</nev><osszeg>x</osszeg></tag></bevallas>",
		head + "</bevallas>",
	}
	for i, doc := range docs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			d := mustParse(t, []byte(doc))
			treeErr := s.Validate(d)
			e, streamErr := Parser{}.ValidateStream([]byte(doc), s)
			e.Close()
			if (treeErr == nil) != (streamErr == nil) {
				t.Fatalf("tree: %v; stream: %v", treeErr, streamErr)
			}
			if treeErr == nil {
				return
			}
			var tv, sv *ValidationError
			if !errors.As(treeErr, &tv) || !errors.As(streamErr, &sv) {
				t.Fatalf("tree %T, stream %T", treeErr, streamErr)
			}
			if len(tv.Problems) != len(sv.Problems) {
				t.Errorf("tree: %v\nstream: %v", tv, sv)
			}
			for _, p := range sv.Problems {
				if p.Line < 1 || p.Msg == "" {
					t.Errorf("problem without line or message: %+v", p)
				}
			}
		})
	}
}

// TestStreamManyProblems: the problems are counted as by tree validation (64 kept, the rest dropped)
// and the record covers the whole invalid document.
func TestStreamManyProblems(t *testing.T) {
	s := loadTagSchema(t)
	var b strings.Builder
	b.WriteString("<bevallas xmlns=\"urn:tagdij:teszt:1\">\n")
	for range 100 {
		b.WriteString("<tag azonosito=\"x\"><nev>K</nev><osszeg>1</osszeg></tag>\n")
	}
	b.WriteString("</bevallas>")
	e, err := Parser{}.ValidateStream([]byte(b.String()), s)
	defer e.Close()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if len(ve.Problems) != 64 || ve.Dropped != 36 {
		t.Fatalf("%d problems kept, %d dropped; want 64 and 36", len(ve.Problems), ve.Dropped)
	}
	var starts int
	for {
		ev, ok := e.Next()
		if !ok {
			break
		}
		if ev.Kind == StartElement {
			starts++
		}
	}
	if starts != 301 {
		t.Errorf("%d elements recorded, want 301", starts)
	}
}

// TestStreamHostile: ValidateStream refuses every hostile input with the same kind of error as Parse,
// before any validation.
func TestStreamHostile(t *testing.T) {
	s := loadTagSchema(t)
	for _, tc := range hostileCases() {
		if tc.want == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parser{Limits: tc.limits}.ValidateStream(tc.data(), s)
			if e != nil {
				e.Close()
				t.Fatalf("a record for refused input (err %v)", err)
			}
			var xe *Error
			if !errors.As(err, &xe) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.line != 0 && xe.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", xe.Line, tc.line, err)
			}
		})
	}
}

// TestStreamCorruptRecord: a damaged record ends with ErrEventRecord instead of a panic.
func TestStreamCorruptRecord(t *testing.T) {
	s, err := CompileSchema("any.xsd", []byte(anySchema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, err := Parser{}.ValidateStream([]byte("<r><a x=\"1\">text</a></r>"), s)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	full := append([]byte(nil), e.data...)
	for cut := range len(full) {
		for _, mutate := range []func([]byte){
			func(b []byte) {},
			func(b []byte) { b[cut] = 0xff },
			func(b []byte) { b[cut] = 0x7f },
		} {
			b := append([]byte(nil), full[:cut+1]...)
			mutate(b)
			r := &Events{ev: e.ev, data: b}
			for n := 0; n < 100; n++ {
				if _, ok := r.Next(); !ok {
					break
				}
			}
		}
	}
	r := &Events{ev: e.ev, data: []byte{9}}
	if _, ok := r.Next(); ok || !errors.Is(r.Err(), ErrEventRecord) {
		t.Errorf("unknown kind: Err() = %v", r.Err())
	}
}

// TestStreamReleasesCMemory: ValidateStream leaves nothing in the C heap once the record is closed,
// for valid documents, invalid ones (a record up to the problem) and refused parses.
func TestStreamReleasesCMemory(t *testing.T) {
	s := loadTagSchema(t)
	const head = "<bevallas xmlns=\"urn:tagdij:teszt:1\" verzio=\"1.0\">"
	docs := [][]byte{
		[]byte(head + strings.Repeat("<tag azonosito=\"1\"><nev>Kovács Ődön &amp; társa</nev><osszeg>1.5</osszeg></tag>", 50) + "</bevallas>"),
		[]byte(head + "<tag azonosito=\"x\"><nev>K</nev><osszeg>1</osszeg></tag></bevallas>"),
		[]byte(head + "<tag>"),
		[]byte("<!DOCTYPE a><a/>"),
	}
	cycle := func() {
		for _, d := range docs {
			e, _ := Parser{}.ValidateStream(d, s)
			e.Close()
		}
	}
	for range 100 {
		cycle()
	}
	runtime.GC()
	base := cHeapInUse()
	n := 5000
	if testing.Short() {
		n = 500
	}
	for range n {
		cycle()
	}
	after := cHeapInUse()
	t.Logf("C heap: %d B after warm-up, %d B after %d cycles (%+d B)", base, after, n, int64(after)-int64(base))
	if after > base+256<<10 {
		t.Fatalf("C heap grew by %d bytes over %d cycles", after-base, n)
	}
}

// TestStreamNameOverflow: a record keeps at most 256 names; a valid document with more is an
// ErrEventRecord (never a verdict), an invalid one a Truncated record.
func TestStreamNameOverflow(t *testing.T) {
	s, err := CompileSchema("any.xsd", []byte(anySchema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc := func(n int, root string) []byte {
		var b strings.Builder
		b.WriteString("<" + root + ">")
		for i := range n {
			fmt.Fprintf(&b, "<e%d/>", i)
		}
		b.WriteString("</" + root + ">")
		return []byte(b.String())
	}
	e, err := Parser{}.ValidateStream(doc(255, "r"), s) // r + 255
	if err != nil {
		t.Fatalf("256 names: %v", err)
	}
	e.Close()
	e, err = Parser{}.ValidateStream(doc(256, "r"), s)
	if e != nil || !errors.Is(err, ErrEventRecord) {
		t.Fatalf("257 names: %v, %v", e, err)
	}
	e, err = Parser{}.ValidateStream(doc(256, "x"), s)
	var ve *ValidationError
	if !errors.As(err, &ve) || e == nil || !e.Truncated {
		t.Fatalf("invalid, 257 names: record %v, err %v", e, err)
	}
	e.Close()
}

// FuzzStreamMatchesTree: whatever the input, ValidateStream (against a schema admitting everything)
// refuses exactly what Parse refuses, with the same kind of error, and otherwise records what the tree
// holds.
func FuzzStreamMatchesTree(f *testing.F) {
	for _, s := range []string{"<r><a x='1'>t</a></r>", "<r xmlns:p='urn:p'><p:a p:b='&amp;'><![CDATA[x]]>y<!--c--></p:a></r>",
		"<?xml version='1.0' encoding='ISO-8859-2'?><r>\xf5</r>", "<r><a>&#x41;</a><b/>tail</r>", "<!DOCTYPE r><r/>", "<r>\x00</r>", "<x/>"} {
		f.Add([]byte(s))
	}
	s, err := CompileSchema("any.xsd", []byte(anySchema))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, perr := Parse(data)
		e, serr := Parser{}.ValidateStream(data, s)
		defer e.Close()
		if perr != nil {
			var pe, se *Error
			if !errors.As(perr, &pe) || !errors.As(serr, &se) || pe.Kind != se.Kind {
				t.Fatalf("Parse: %v; ValidateStream: %v", perr, serr)
			}
			return
		}
		defer d.Close()
		var ve *ValidationError
		if errors.As(serr, &ve) {
			return // a root other than r, or text the schema does not allow: nothing to compare
		}
		if serr != nil {
			if errors.Is(serr, ErrEventRecord) {
				return
			}
			t.Fatalf("Parse accepts, ValidateStream: %v", serr)
		}
		if got, want := strings.Join(streamEvents(t, e), "\n"), strings.Join(treeEvents(d.Root()), "\n"); got != want {
			t.Fatalf("record:\n%s\ntree:\n%s", got, want)
		}
	})
}
