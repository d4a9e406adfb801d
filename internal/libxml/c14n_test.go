package libxml

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusFiles lists testdata/c14n/*.xml, the hand-written tricky documents.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "c14n", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) < 30 {
		t.Fatalf("corpus has %d documents, want at least 30", len(files))
	}
	return files
}

// TestCorpusMatchesXmllint canonicalizes every corpus document whole with all six algorithms and
// compares the bytes with xmllint, a separate program over the same libxml2 that exercises its
// canonicalizer through its own parse path. xmllint --c14n, --c14n11 and --exc-c14n always keep
// comments; for the three modes without comments the expected bytes are xmllint's output with the
// comments removed by stripComments (C14N defines both forms over the same node-set minus comment
// nodes, and comment removal in canonical output is mechanical). xmllint has no option for an
// InclusiveNamespaces prefix list: those cases are covered by TestSubtreeCanonicalization.
func TestCorpusMatchesXmllint(t *testing.T) {
	bin := xmllintPath(t)
	flags := map[Method]string{C14N10: "--c14n", C14N11: "--c14n11", ExcC14N10: "--exc-c14n"}
	compared := 0
	for _, f := range corpusFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d := mustParse(t, data)
			for _, m := range []Method{C14N10, C14N11, ExcC14N10} {
				withC := xmllintC14N(t, bin, flags[m], f)
				withoutC, err := stripComments(withC)
				if err != nil {
					t.Fatalf("%s: stripping comments of xmllint output: %v", flags[m], err)
				}
				for _, wc := range []bool{true, false} {
					c := C14N{Method: m, WithComments: wc}
					want := withoutC
					if wc {
						want = withC
					}
					got, err := d.Canonicalize(c)
					if err != nil {
						t.Fatalf("%s: %v", c.URI(), err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("%s differs from xmllint %s\n got: %q\nwant: %q", c.URI(), flags[m], got, want)
					}
					compared++
				}
			}
		})
	}
	t.Logf("%d (document, algorithm) pairs compared with xmllint", compared)
}

// TestStripComments pins the oracle used above, since a wrong oracle would make the corpus test pass
// vacuously: comments inside the document element vanish in place, a comment before the document
// element takes its following newline with it and one after it its preceding newline, and a PI whose
// data merely looks like a comment is untouched.
func TestStripComments(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<!--a-->\n<r><!--b-->x<!----></r>\n<!--c-->", "<r>x</r>"},
		{"<?p <!--x-->?>\n<r a=\"<!--\"></r>", "<?p <!--x-->?>\n<r a=\"<!--\"></r>"},
		{"<r></r>\n<?q?>\n<!--z-->", "<r></r>\n<?q?>"},
		{"<r><!--a--><s>t</s></r>", "<r><s>t</s></r>"},
	}
	for _, tt := range tests {
		got, err := stripComments([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("stripComments(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := stripComments([]byte("<r><!--x</r>")); err == nil {
		t.Error("unterminated comment accepted")
	}
}

// TestCanonicalizeKnownForms pins a few whole-document results derived by hand from the
// recommendations, independent of libxml2: attribute order (namespace declarations first by prefix,
// then attributes by namespace URI then local name), empty elements expanded, character escaping,
// line-ending normalisation, xmlns="" removed when no default namespace is in scope, superfluous
// declarations dropped, and the XML declaration never emitted.
func TestCanonicalizeKnownForms(t *testing.T) {
	tests := []struct {
		name string
		in   string
		c    C14N
		want string
	}{
		{"attr order", `<e xmlns:b="http://www.ietf.org" xmlns:a="http://www.w3.org" xmlns="http://example.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e>`,
			C14N{Method: C14N10},
			`<e xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e>`},
		{"empty elements and decl", "<?xml version=\"1.0\"?>\n<a><b/></a>", C14N{Method: C14N10}, `<a><b></b></a>`},
		{"escapes", `<a x="&lt;&amp;&quot;&#9;&#10;&#13;>">&lt;&gt;&amp;"'&#13;</a>`, C14N{Method: C14N10},
			`<a x="&lt;&amp;&quot;&#x9;&#xA;&#xD;>">&lt;&gt;&amp;"'&#xD;</a>`},
		{"crlf", "<a>x\r\ny\rz</a>", C14N{Method: C14N11}, "<a>x\ny\nz</a>"},
		{"xmlns empty dropped", `<a xmlns=""><b xmlns=""/></a>`, C14N{Method: C14N10}, `<a><b></b></a>`},
		{"superfluous", `<a xmlns:p="urn:p"><b xmlns:p="urn:p"/></a>`, C14N{Method: C14N10}, `<a xmlns:p="urn:p"><b></b></a>`},
		{"exclusive drops unused", `<a xmlns:p="urn:p" xmlns:q="urn:q"><q:b/></a>`, C14N{Method: ExcC14N10}, `<a><q:b xmlns:q="urn:q"></q:b></a>`},
		{"exclusive keeps listed", `<a xmlns:p="urn:p" xmlns:q="urn:q"><q:b/></a>`, C14N{Method: ExcC14N10, InclusivePrefixes: []string{"p"}},
			`<a xmlns:p="urn:p"><q:b xmlns:q="urn:q"></q:b></a>`},
		{"comments kept", "<!--x-->\n<a><!--y--></a>", C14N{Method: C14N10, WithComments: true}, "<!--x-->\n<a><!--y--></a>"},
		{"comments dropped", "<!--x-->\n<a><!--y--></a>", C14N{Method: C14N10}, "<a></a>"},
		{"pi spacing", "<?p   d  ?><a/>", C14N{Method: C14N10}, "<?p d  ?>\n<a></a>"},
		{"char refs decoded", `<a x="&lt;&#233;">&amp;&gt;&#x151;</a>`, C14N{Method: C14N10}, `<a x="&lt;é">&amp;&gt;ő</a>`},
		{"cdata to text", `<a><![CDATA[<&>]]></a>`, C14N{Method: C14N10}, `<a>&lt;&amp;&gt;</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, []byte(tt.in))
			got, err := d.Canonicalize(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("%s\n got: %s\nwant: %s", tt.c.URI(), got, tt.want)
			}
		})
	}
}

// TestISO88592 checks that ISO-8859-2 input is decoded, not passed through: the canonical form is
// UTF-8, and ő (0xF5 in ISO-8859-2, U+0151) and ű (0xFB, U+0171) come out as their code points, which
// a Latin-1 misreading would render as õ and û.
func TestISO88592(t *testing.T) {
	in := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-2\"?>\n<a n=\"\xd5\xdb\">\xf5\xfb\xe1</a>")
	d := mustParse(t, in)
	got, err := d.Canonicalize(C14N{Method: C14N10})
	if err != nil {
		t.Fatal(err)
	}
	want := "<a n=\"ŐŰ\">őűá</a>"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !strings.ContainsRune(string(got), '\u0151') || strings.ContainsRune(string(got), '\u00f5') {
		t.Fatal("ő not decoded as U+0151")
	}
	if v, _ := d.Root().Attr("n"); v != "ŐŰ" {
		t.Fatalf("attribute decoded as %q", v)
	}
	if txt := d.Root().Text(); txt != "őűá" {
		t.Fatalf("text decoded as %q", txt)
	}
	// The same bytes declared as UTF-8 are not UTF-8: refused, not mis-decoded.
	bad := bytes.Replace(in, []byte("ISO-8859-2"), []byte("UTF-8"), 1)
	if _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("ISO-8859-2 bytes declared UTF-8: err = %v, want ErrMalformed", err)
	}
}

// TestRelativeNamespaceURI: the recommendations leave relative namespace URIs undefined and libxml2
// refuses them; the error must be ErrC14N, not a panic or garbage.
func TestRelativeNamespaceURI(t *testing.T) {
	d := mustParse(t, []byte(`<a xmlns="relative/uri"><b/></a>`))
	for _, m := range []Method{C14N10, C14N11, ExcC14N10} {
		if _, err := d.Canonicalize(C14N{Method: m}); !errors.Is(err, ErrC14N) {
			t.Errorf("method %d: err = %v, want ErrC14N", m, err)
		}
	}
}

func TestC14NURIRoundTrip(t *testing.T) {
	uris := []string{URIC14N10, URIC14N10WithComments, URIC14N11, URIC14N11WithComments, URIExcC14N, URIExcC14NWithComment}
	type key struct {
		m Method
		c bool
	}
	seen := map[key]bool{}
	for _, u := range uris {
		c, ok := ParseC14NURI(u)
		if !ok {
			t.Fatalf("ParseC14NURI(%q) not ok", u)
		}
		if c.URI() != u {
			t.Errorf("ParseC14NURI(%q).URI() = %q", u, c.URI())
		}
		k := key{c.Method, c.WithComments}
		if seen[k] {
			t.Errorf("%q maps to an already used C14N", u)
		}
		seen[k] = true
	}
	for _, u := range []string{"", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#", "http://www.w3.org/2006/12/xml-c14n11#withcomments", "http://www.w3.org/2000/09/xmldsig#enveloped-signature"} {
		if _, ok := ParseC14NURI(u); ok {
			t.Errorf("ParseC14NURI(%q) accepted", u)
		}
	}
}

// TestCanonicalizeErrors covers the refusals of CanonicalizeTo that do not depend on the document.
func TestCanonicalizeErrors(t *testing.T) {
	d := mustParse(t, []byte(`<a><b/></a>`))
	other := mustParse(t, []byte(`<x><y/></x>`))
	var b bytes.Buffer
	if err := d.CanonicalizeTo(&b, Node{}, C14N{Method: Method(42)}); err == nil {
		t.Error("unknown method accepted")
	}
	if err := d.CanonicalizeTo(&b, other.Root(), C14N{}); err == nil {
		t.Error("root from another document accepted")
	}
	if err := d.CanonicalizeTo(&b, Node{}, C14N{}, other.Root()); err == nil {
		t.Error("excluded node from another document accepted")
	}
	closed := mustParse(t, []byte(`<a/>`))
	closed.Close()
	closed.Close() // idempotent
	if _, err := closed.Canonicalize(C14N{}); err == nil {
		t.Error("canonicalizing a closed document succeeded")
	}
	// Writer errors surface, wrapped.
	werr := errors.New("disk full")
	if err := d.CanonicalizeTo(failWriter{werr}, Node{}, C14N{}); !errors.Is(err, werr) {
		t.Errorf("writer error: got %v, want wrapping %v", err, werr)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }
