package libxml

import (
	"reflect"
	"strings"
	"testing"
)

// TestChildElementIteration: FirstChildElement/NextSiblingElement visit exactly what Children returns,
// skipping text, comments, CDATA and processing instructions, and stop with the zero Node.
func TestChildElementIteration(t *testing.T) {
	d := mustParse(t, []byte(nodeDoc))
	var walk func(n Node)
	walk = func(n Node) {
		var got []string
		for c := n.FirstChildElement(); !c.IsZero(); c = c.NextSiblingElement() {
			got = append(got, c.LocalName())
			walk(c)
		}
		if want := names(n.Children()); !reflect.DeepEqual(got, want) {
			t.Errorf("iteration under %s = %v, Children = %v", n.LocalName(), got, want)
		}
	}
	walk(d.Root())
	mixed := mustParse(t, []byte(`<r>t<!--c--><?pi x?><![CDATA[d]]><a/>t<!--c--><b/>tail</r>`))
	var got []string
	for c := mixed.Root().FirstChildElement(); !c.IsZero(); c = c.NextSiblingElement() {
		got = append(got, c.LocalName())
	}
	if !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("children of mixed content: %v", got)
	}
	if !mixed.Root().FirstChildElement().FirstChildElement().IsZero() {
		t.Error("an empty element has a first child element")
	}
	if !(Node{}).FirstChildElement().IsZero() || !(Node{}).NextSiblingElement().IsZero() {
		t.Error("the zero Node has children or siblings")
	}
}

// TestIsComparesWholeNames: Is must not match prefixes or extensions of the name or the namespace.
func TestIsComparesWholeNames(t *testing.T) {
	d := mustParse(t, []byte(`<r xmlns="urn:r"><ab/><a xmlns=""/></r>`))
	ab := d.Root().FirstChildElement()
	a := ab.NextSiblingElement()
	for _, tt := range []struct {
		n         Node
		ns, local string
		want      bool
	}{
		{ab, "urn:r", "ab", true},
		{ab, "urn:r", "a", false},
		{ab, "urn:r", "abc", false},
		{ab, "urn:", "ab", false},
		{ab, "urn:rr", "ab", false},
		{ab, "", "ab", false},
		{a, "", "a", true},
		{a, "urn:r", "a", false},
		{d.Root(), "urn:r", "r", true},
		{d.Root(), "urn:r", "", false},
	} {
		if got := tt.n.Is(tt.ns, tt.local); got != tt.want {
			t.Errorf("{%s}%s .Is(%q, %q) = %v", tt.n.NamespaceURI(), tt.n.LocalName(), tt.ns, tt.local, got)
		}
	}
}

// TestAppendTextAndAttr: the Append forms return what Text and Attr return, append to what dst holds,
// and read non-ASCII text (converted to UTF-8 by libxml2), long text and entity/character references.
func TestAppendTextAndAttr(t *testing.T) {
	long := strings.Repeat("t\xFBr\xF5 ", 2000) // ISO-8859-2 bytes; one text node longer than libxml2's buffers
	longUTF8 := strings.Repeat("tűrő ", 2000)
	doc := `<?xml version="1.0" encoding="ISO-8859-2"?>` + "\n" +
		"<r a=\"x &amp; \xF5\" b=\"\"><s>k\xF5 &lt;&#x151;&gt;<!--c--><![CDATA[<]]>tail</s><l>" + long + "</l><e/><c>a<i>skip</i>b</c></r>"
	// The document above is ISO-8859-2: 0xF5 is ő.
	d := mustParse(t, []byte(doc))
	r := d.Root()
	s := r.FirstChildElement()
	l := s.NextSiblingElement()
	e := l.NextSiblingElement()
	c := e.NextSiblingElement()
	for _, tt := range []struct {
		n    Node
		want string
	}{{s, "kő <ő><tail"}, {l, longUTF8}, {e, ""}, {c, "ab"}} {
		if got := tt.n.Text(); got != tt.want {
			t.Errorf("Text = %.60q (%d bytes), want %.60q (%d bytes)", got, len(got), tt.want, len(tt.want))
		}
		if got := string(tt.n.AppendText([]byte("pre:"))); got != "pre:"+tt.want {
			t.Errorf("AppendText = %.60q (%d bytes), want %.60q", got, len(got), "pre:"+tt.want)
		}
	}
	for _, tt := range []struct {
		name string
		want string
		ok   bool
	}{{"a", "x & ő", true}, {"b", "", true}, {"", "", false}, {"ab", "", false}, {"c", "", false}} {
		v, ok := r.Attr(tt.name)
		bv, bok := r.AppendAttr([]byte("pre:"), tt.name)
		if v != tt.want || ok != tt.ok {
			t.Errorf("Attr(%q) = %q, %v; want %q, %v", tt.name, v, ok, tt.want, tt.ok)
		}
		wantB := "pre:"
		if tt.ok {
			wantB += tt.want
		}
		if string(bv) != wantB || bok != tt.ok {
			t.Errorf("AppendAttr(%q) = %q, %v; want %q, %v", tt.name, bv, bok, wantB, tt.ok)
		}
	}
	if got := (Node{}).AppendText([]byte("x")); string(got) != "x" {
		t.Errorf("zero Node AppendText = %q", got)
	}
	if _, ok := (Node{}).AppendAttr(nil, "a"); ok {
		t.Error("zero Node has an attribute")
	}
}

// TestAccessorsDoNotAllocate pins the point of the Append/iteration API: walking a tree and reading
// its values into a reused buffer costs no Go allocation.
func TestAccessorsDoNotAllocate(t *testing.T) {
	d := mustParse(t, []byte(`<r xmlns="urn:r" n="12"><a>1</a><b>22</b><c>333</c></r>`))
	r := d.Root()
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		if !r.Is("urn:r", "r") {
			t.Fatal("root")
		}
		buf, _ = r.AppendAttr(buf[:0], "n")
		for c := r.FirstChildElement(); !c.IsZero(); c = c.NextSiblingElement() {
			_ = c.Is("urn:r", "b")
			buf = c.AppendText(buf[:0])
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per walk, want 0", allocs)
	}
}
