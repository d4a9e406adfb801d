package libxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var allC14N = []C14N{
	{Method: C14N10}, {Method: C14N10, WithComments: true},
	{Method: C14N11}, {Method: C14N11, WithComments: true},
	{Method: ExcC14N10}, {Method: ExcC14N10, WithComments: true},
	{Method: ExcC14N10, InclusivePrefixes: []string{"#default", "p"}},
}

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "c14n", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		subtreeDoc, nodeDoc, "<a/>", "<!DOCTYPE a><a/>", "<a>&x;</a>", "<a xmlns='rel'/>",
		"<?xml version='1.0' encoding='ISO-8859-2'?><a>\xf5</a>", "\xef\xbb\xbf<a/>", "<a><![CDATA[x]]></a>",
	} {
		f.Add([]byte(s))
	}
}

// checkCanonical canonicalizes d with every method, whole and from the root, and checks that the
// only failure is ErrC14N and that C14N 1.0 without comments is idempotent: parsing the canonical
// form and canonicalizing it again yields the same bytes.
func checkCanonical(t *testing.T, d *Document) {
	var first []byte
	for i, c := range allC14N {
		out, err := d.Canonicalize(c)
		if err != nil {
			if !errors.Is(err, ErrC14N) {
				t.Fatalf("%s: unexpected error %v", c.URI(), err)
			}
			continue
		}
		if i == 0 {
			first = out
		}
		var b bytes.Buffer
		if err := d.CanonicalizeTo(&b, d.Root(), c); err != nil && !errors.Is(err, ErrC14N) {
			t.Fatalf("%s of root: %v", c.URI(), err)
		}
	}
	if first == nil {
		return
	}
	d2, err := Parse(first)
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%q", err, first)
	}
	defer d2.Close()
	again, err := d2.Canonicalize(C14N{Method: C14N10})
	if err != nil {
		t.Fatalf("canonicalizing the canonical form: %v", err)
	}
	if !bytes.Equal(first, again) {
		t.Fatalf("C14N 1.0 not idempotent:\n1: %q\n2: %q", first, again)
	}
}

// FuzzParse: any bytes either parse or are refused with an *Error of one Kind; never a panic or a
// crash in C. What parses canonicalizes (or fails with ErrC14N) and canonicalization is idempotent.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) || xe.Kind < KindMalformed || xe.Kind > KindInternal {
				t.Fatalf("error %v (%T) is not a classified *Error", err, err)
			}
			if xe.Kind == KindInternal {
				t.Fatalf("internal error on input: %v", err)
			}
			return
		}
		defer d.Close()
		checkCanonical(t, d)
		if _, err := d.IDs("Id", "ID", "id"); err != nil {
			var de *DuplicateIDError
			if !errors.As(err, &de) {
				t.Fatalf("IDs: %v", err)
			}
		}
	})
}

// shape is what Limits bound, measured independently of both the pre-scan and libxml2 with
// encoding/xml's tokenizer.
type shape struct {
	depth, attrs int
	nodes        int64
}

// measure returns the shape of data, or ok=false when encoding/xml cannot tokenize it all (it is
// stricter about a few things and reads only UTF-8), in which case no comparison is made.
func measure(data []byte) (s shape, ok bool) {
	dec := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})))
	dec.Strict = true
	depth := 0
	first := true
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return s, depth == 0
		}
		if err != nil {
			return s, false
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			s.nodes++
			s.depth = max(s.depth, depth)
			s.attrs = max(s.attrs, len(tk.Attr))
		case xml.EndElement:
			depth--
		case xml.Comment:
			s.nodes++
		case xml.ProcInst:
			if !(first && tk.Target == "xml") {
				s.nodes++
			}
		case xml.Directive:
			return s, false
		}
		first = false
	}
}

// checkLimits: a document accepted under generous limits is accepted again with every limit set to
// its measured value (no false refusal by either layer), and refused with ErrLimit when any one
// limit is one less (no layer lets an over-limit document through).
func checkLimits(t *testing.T, data []byte) {
	s, ok := measure(data)
	if !ok || s.depth == 0 {
		return
	}
	exact := Limits{MaxBytes: int64(len(data)), MaxDepth: s.depth, MaxNodes: s.nodes, MaxAttrs: max(s.attrs, 1), MaxTextBytes: 1 << 30}
	d, err := Parser{Limits: exact}.Parse(data)
	if err != nil {
		t.Fatalf("refused at its own measured limits %+v: %v", exact, err)
	}
	d.Close()
	tighter := []Limits{exact, exact, exact, exact}
	tighter[0].MaxBytes--
	tighter[1].MaxDepth--
	tighter[2].MaxNodes--
	tighter[3].MaxAttrs--
	for i, l := range tighter {
		// Zero means "default", so a bound of 1 cannot be tightened.
		if l.MaxBytes <= 0 || l.MaxDepth <= 0 || l.MaxNodes <= 0 || l.MaxAttrs <= 0 || (i == 3 && s.attrs == 0) {
			continue
		}
		d, err := Parser{Limits: l}.Parse(data)
		if err == nil {
			d.Close()
			t.Fatalf("accepted beyond limit %d: %+v (shape %+v)", i, l, s)
		}
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("limit %d tightened: err = %v, want ErrLimit", i, err)
		}
	}
}

// FuzzCanonicalize starts from the c14n corpus: what parses must canonicalize consistently, be
// idempotent, and the pre-scan and libxml2's callbacks must agree with an independent measurement
// of depth, node count and attributes per element.
func FuzzCanonicalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		checkCanonical(t, d)
		d.Close()
		checkLimits(t, data)
	})
}

// FuzzPrescan drives the pre-scan with arbitrary limits: it must never panic, and whenever Parse
// accepts under small limits the document really is within them.
func FuzzPrescan(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{MaxDepth: 2, MaxNodes: 4, MaxAttrs: 2, MaxTextBytes: 8}, {MaxDepth: 1, MaxNodes: 1, MaxAttrs: 1, MaxTextBytes: 1, MaxBytes: 16}} {
			err := prescan(data, lim.withDefaults())
			if err != nil {
				var xe *Error
				if !errors.As(err, &xe) || (xe.Kind != KindLimit && xe.Kind != KindForbidden && xe.Kind != KindMalformed) {
					t.Fatalf("prescan: %v", err)
				}
			}
			d, perr := Parser{Limits: lim}.Parse(data)
			if perr != nil {
				if err != nil && perr.Error() != err.Error() {
					t.Fatalf("Parse reports %v, pre-scan %v", perr, err)
				}
				continue
			}
			d.Close()
			if err != nil {
				t.Fatalf("pre-scan refused (%v) but Parse accepted", err)
			}
			if s, ok := measure(data); ok && (s.depth > lim.MaxDepth || s.nodes > lim.withDefaults().MaxNodes || s.attrs > lim.MaxAttrs) {
				t.Fatalf("accepted %+v under %+v", s, lim)
			}
		}
	})
}
