package libxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
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
			n := 0
			for _, a := range tk.Attr {
				// libxml2 drops the declaration of the xml prefix; Limits do not count it.
				if a.Name.Space != "xmlns" || a.Name.Local != "xml" {
					n++
				}
			}
			s.attrs = max(s.attrs, n)
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

// agreeLimits are the limit sets FuzzPrescanAgrees judges each input under: the defaults, and small
// ones that short fuzz inputs reach (a huge BytesPerTreeNode makes the tree budget its base alone).
var agreeLimits = []Limits{
	{},
	{MaxDepth: 3, MaxNodes: 6, MaxAttrs: 2, MaxTextBytes: 12, MaxNamespaces: 2, MaxNamespacesInScope: 1,
		MaxTotalAttrs: 3, BaseTreeNodes: 10, BytesPerTreeNode: 1 << 40, MaxNames: 4},
	{MaxDepth: 1, MaxNodes: 2, MaxAttrs: 1, MaxTextBytes: 4, MaxNamespaces: 1, MaxNamespacesInScope: 1,
		MaxTotalAttrs: 1, BaseTreeNodes: 1, BytesPerTreeNode: 8, MaxNames: 1},
}

// isTextLimit reports whether err is the pre-scan's refusal of a text run or CDATA section as too long.
func isTextLimit(err error) bool {
	var xe *Error
	return errors.As(err, &xe) && xe.Kind == KindLimit && (strings.HasPrefix(xe.Msg, "text longer") || strings.HasPrefix(xe.Msg, "CDATA section longer"))
}

// checkAgreement judges data with the pre-scan and with libxml2 alone (the pre-scan bypassed, the
// same limits enforced by the callbacks in shim.c) under lim, and fails t where they disagree beyond
// what is allowed. The pre-scan may be stricter than libxml2 only on limits and only where it
// measures differently, never on a well-formed document within the limits:
//
//  1. If libxml2 accepts, the pre-scan accepts, except for what only the pre-scan enforces (the
//     encodings and XML version of checkEncoding), and except a text limit on a document with a
//     reference or a CR: the pre-scan measures a text run or CDATA section in raw bytes, libxml2 after
//     decoding, and only references ("&amp;" is one byte) and CR LF normalization make that shorter.
//  2. If the pre-scan refuses for a limit, libxml2 refuses too (with that exception).
//  3. If both accept, they counted the same: elements, comments and PIs; attributes; tree nodes;
//     namespace declarations. libxml2's dictionary holds every name the pre-scan counted and may
//     hold more (namespace URIs, xml:id values, interned white space).
//
// The other direction is allowed: libxml2 may refuse for a limit what the pre-scan let through
// (text split by CDATA sections is one node to it, ISO-8859-2 text grows when decoded), which is why
// the callbacks enforce the limits a second time.
func checkAgreement(t *testing.T, data []byte, lim Limits) {
	t.Helper()
	pre, preErr := scan(data, lim.withDefaults())
	d, lib, libErr := Parser{Limits: lim}.parse(data, false)
	if d != nil {
		d.Close()
	}
	if preErr != nil {
		var xe *Error
		if !errors.As(preErr, &xe) || (xe.Kind != KindLimit && xe.Kind != KindForbidden && xe.Kind != KindMalformed) {
			t.Fatalf("pre-scan: %v", preErr)
		}
	}
	if libErr != nil {
		var xe *Error
		if !errors.As(libErr, &xe) || xe.Kind < KindMalformed || xe.Kind > KindLimit {
			t.Fatalf("libxml2 alone: unclassified or internal error %v", libErr)
		}
	}
	switch {
	case libErr == nil && preErr != nil: // 1 and 2
		if checkEncoding(data) != nil || (isTextLimit(preErr) && bytes.ContainsAny(data, "&\r")) {
			return
		}
		t.Fatalf("under %+v libxml2 accepts, the pre-scan refuses: %v", lim, preErr)
	case libErr == nil && preErr == nil: // 3
		if pre.nodes != lib.nodes || pre.attrs != lib.attrs || pre.tree != lib.tree || pre.namespaces != lib.namespaces || pre.names > lib.names {
			t.Fatalf("counts differ under %+v:\npre-scan %+v\nlibxml2  %+v", lim, pre, lib)
		}
	}
}

// FuzzPrescanAgrees checks that the pre-scan and libxml2's callbacks judge every input alike under
// each of agreeLimits (see checkAgreement for the exact relation).
func FuzzPrescanAgrees(f *testing.F) {
	addSeeds(f)
	for _, c := range afterRootCases() {
		// Large seeds make every mutation and minimization step slow: leave them to the unit test.
		if len(c.data) <= 4<<10 {
			f.Add(c.data)
		}
	}
	for _, s := range []string{
		"<r><e/><e/><e/><e/><e/><e/></r>", "<r>x<!---->y<?p?>z<![CDATA[a]]><![CDATA[b]]>c</r>",
		`<r a="1" b="2"><e xmlns:p="urn:p" p:a="&amp;"/></r>`, "<r>\r\n  <e/>\r\n</r>", "<r>&amp;&amp;&amp;&amp;&amp;</r>",
		"<r><![CDATA[]]></r>", "<r><![CDATA[x]]> <![CDATA[y]]></r>", `<r xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:id="a"/>`,
		"<r>\n                    <e/>\n                     <e/></r>", "<a1><a2/><a3/><a4/><a5/><a6/></a1>", "<?p1?><?p2?><r/><?p3?>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range agreeLimits {
			checkAgreement(t, data, lim)
		}
	})
}
