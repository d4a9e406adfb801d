package xmlsplice

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// checkSpaces fails unless every element's Space is what LookupPrefix, which walks the ancestors,
// answers for its prefix: the scope Index keeps while scanning must agree with the finished tree.
func checkSpaces(t *testing.T, d *Document) {
	t.Helper()
	d.Walk(func(e *Element) bool {
		want, _ := e.LookupPrefix(e.Prefix())
		if e.Space != want {
			t.Fatalf("<%s>: Space %q, LookupPrefix %q", e.Name, e.Space, want)
		}
		return true
	})
}

func TestIndexNamespaceScope(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		spaces    []string // Space of each element in document order; nil: refused
	}{
		{"default and prefix", `<a xmlns="u1" xmlns:p="u2"><p:b/><c/></a>`, []string{"u1", "u2", "u1"}},
		{"shadowing and restore", `<p:a xmlns:p="u1"><p:b xmlns:p="u2"><p:c/></p:b><p:d/></p:a>`, []string{"u1", "u2", "u2", "u1"}},
		{"self-closing declaration does not leak", `<a xmlns="u1"><b xmlns="u2"/><c/></a>`, []string{"u1", "u2", "u1"}},
		{"default reset", `<a xmlns="u1"><b xmlns=""><c/></b><d/></a>`, []string{"u1", "", "", "u1"}},
		{"first of two declarations counts", `<p:a xmlns:p="u1" xmlns:p="u2"><p:b/></p:a>`, []string{"u1", "u1"}},
		{"xml prefix", `<xml:a/>`, []string{"http://www.w3.org/XML/1998/namespace"}},
		{"deep restore", `<a xmlns:p="u0"><b xmlns:p="u1"><c xmlns:p="u2"><p:x/></c><p:y/></b><p:z/></a>`, []string{"", "", "", "u2", "u1", "u0"}},
		{"sibling's declaration is out of scope", `<a><b xmlns:p="u"/><p:c/></a>`, nil},
		{"closed child's declaration is out of scope", `<a><b xmlns:p="u"></b><p:c/></a>`, nil},
		{"undeclared prefix", `<a xmlns:p=""><p:b/></a>`, nil},
		{"default declaration is not a prefix", `<a xmlns:="u"><b/></a>`, []string{"", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Index([]byte(c.doc))
			if c.spaces == nil {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("got %v, want ErrSyntax", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			d.Walk(func(e *Element) bool { got = append(got, e.Space); return true })
			if fmt.Sprint(got) != fmt.Sprint(c.spaces) {
				t.Fatalf("spaces %q, want %q", got, c.spaces)
			}
			checkSpaces(t, d)
		})
	}
}

// TestIndexLinear: shapes that made Index quadratic (each element's prefix looked up by walking every
// ancestor's attributes) index 1 MB in well under the bound. Before the scope, deep nesting took 45-65 s
// at 1 MB, deep prefixed nesting 16 s and a root with many attributes above many children 6.7 s.
func TestIndexLinear(t *testing.T) {
	const size = 1 << 20
	var wide strings.Builder
	wide.WriteString(`<a`)
	for i := 0; wide.Len() < size/2; i++ {
		fmt.Fprintf(&wide, ` a%d=""`, i)
	}
	wide.WriteString(` xmlns="u">` + strings.Repeat("<b/>", size/8) + "</a>")
	var decls strings.Builder
	decls.WriteString("<a")
	for i := 0; decls.Len() < size; i++ {
		fmt.Fprintf(&decls, ` xmlns:p%d="u"`, i)
	}
	decls.WriteString("><p0:b/></a>")
	for name, doc := range map[string]string{
		"deep nesting":                       strings.Repeat("<a>", size/7) + strings.Repeat("</a>", size/7),
		"deep prefixed nesting":              `<p:a xmlns:p="u">` + strings.Repeat("<p:a>", size/11) + strings.Repeat("</p:a>", size/11+1),
		"many attributes over many children": wide.String(),
		"many declarations on one element":   decls.String(),
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			d, err := Index([]byte(doc))
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if d.Root == nil || d.Root.End != len(doc)-len("</"+d.Root.Name+">") {
				t.Fatalf("root not indexed to its end tag")
			}
			t.Logf("%d bytes in %v", len(doc), elapsed)
			if elapsed > 2*time.Second {
				t.Fatalf("indexing %d bytes took %v", len(doc), elapsed)
			}
		})
	}
}
