package libxml

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const nodeDoc = `<?xml version="1.0"?>
<r xmlns="urn:r" xmlns:p="urn:p" Id="root">
  <a Id="a1" x="1" p:x="2">text<!--c--><![CDATA[ and cdata]]> end<b/></a>
  <p:c xml:id="c1">
    <d ID="d1"/>
    <e id="e1"/>
  </p:c>
  <f/>
</r>`

func names(ns []Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.LocalName())
	}
	return out
}

func TestNodeNavigation(t *testing.T) {
	d := mustParse(t, []byte(nodeDoc))
	r := d.Root()
	if !r.Is("urn:r", "r") || r.Is("urn:p", "r") || r.Is("urn:r", "x") {
		t.Fatalf("root is {%s}%s", r.NamespaceURI(), r.LocalName())
	}
	if !r.Parent().IsZero() {
		t.Error("the document element has a parent element")
	}
	if r.Line() != 2 {
		t.Errorf("root line %d, want 2", r.Line())
	}
	kids := r.Children()
	if got := names(kids); !reflect.DeepEqual(got, []string{"a", "c", "f"}) {
		t.Fatalf("Children = %v (text, comments and CDATA must not appear)", got)
	}
	a, c := kids[0], kids[1]
	if c.NamespaceURI() != "urn:p" || c.LocalName() != "c" {
		t.Errorf("p:c read as {%s}%s", c.NamespaceURI(), c.LocalName())
	}
	if a.Parent().p != r.p || c.Children()[0].Parent().p != c.p {
		t.Error("Parent does not invert Children")
	}
	if a.Line() != 3 || c.Children()[1].Line() != 6 {
		t.Errorf("lines %d, %d; want 3, 6", a.Line(), c.Children()[1].Line())
	}
	// Attr: unqualified only; a namespaced attribute of the same local name is not returned.
	if v, ok := a.Attr("x"); !ok || v != "1" {
		t.Errorf(`Attr("x") = %q, %v`, v, ok)
	}
	if _, ok := a.Attr("y"); ok {
		t.Error(`Attr("y") found`)
	}
	if _, ok := c.Attr("id"); ok {
		t.Error("xml:id returned as unqualified id")
	}
	// Text: direct text and CDATA, not comments, not descendants.
	if got := a.Text(); got != "text and cdata end" {
		t.Errorf("Text = %q", got)
	}
	if got := r.Children()[2].Text(); got != "" {
		t.Errorf("empty element Text = %q", got)
	}
	// Contains: reflexive, descendant, not ancestor or sibling.
	dd := c.Children()[0]
	for _, tt := range []struct {
		n, m Node
		want bool
	}{{r, dd, true}, {c, dd, true}, {dd, dd, true}, {dd, c, false}, {a, dd, false}, {c, a, false}} {
		if got := tt.n.Contains(tt.m); got != tt.want {
			t.Errorf("%s.Contains(%s) = %v", tt.n.LocalName(), tt.m.LocalName(), got)
		}
	}
	if !(Node{}).IsZero() || r.IsZero() {
		t.Error("IsZero")
	}
	if (Node{}).Is("", "") {
		t.Error("zero Node Is anything")
	}
}

func TestWalkOrder(t *testing.T) {
	d := mustParse(t, []byte(nodeDoc))
	var got []string
	d.Walk(func(n Node) bool { got = append(got, n.LocalName()); return true })
	if want := []string{"r", "a", "b", "c", "d", "e", "f"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Walk order %v, want %v", got, want)
	}
	// Stopping early.
	got = nil
	d.Walk(func(n Node) bool { got = append(got, n.LocalName()); return n.LocalName() != "c" })
	if want := []string{"r", "a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Walk stopped at %v, want %v", got, want)
	}
	// A single element, and a deep chain ending at the limit (iterative walk, no recursion).
	one := mustParse(t, []byte(`<only/>`))
	got = nil
	one.Walk(func(n Node) bool { got = append(got, n.LocalName()); return true })
	if !reflect.DeepEqual(got, []string{"only"}) {
		t.Fatalf("Walk over a single element: %v", got)
	}
	// Walking from a last child up several levels to a later sibling.
	up := mustParse(t, []byte(`<a><b><c><d/></c></b><e/></a>`))
	got = nil
	up.Walk(func(n Node) bool { got = append(got, n.LocalName()); return true })
	if want := []string{"a", "b", "c", "d", "e"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Walk %v, want %v", got, want)
	}
}

func TestIDs(t *testing.T) {
	d := mustParse(t, []byte(nodeDoc))
	ids, err := d.IDs("Id", "ID")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"root": "r", "a1": "a", "c1": "c", "d1": "d"}
	if len(ids) != len(want) {
		t.Errorf("IDs = %v, want keys %v", len(ids), want)
	}
	for id, local := range want {
		if n, ok := ids[id]; !ok || n.LocalName() != local {
			t.Errorf("ids[%q] = %v, want element %s", id, n.LocalName(), local)
		}
	}
	if _, ok := ids["e1"]; ok {
		t.Error(`lower-case "id" indexed without being asked for`)
	}
	// xml:id is always indexed, even with no attribute names.
	only, err := d.IDs()
	if err != nil || len(only) != 1 || only["c1"].LocalName() != "c" {
		t.Errorf("IDs() = %v, %v; want only xml:id c1", only, err)
	}
	// A namespaced attribute named Id is not an ID.
	ns := mustParse(t, []byte(`<a xmlns:p="urn:p"><b p:Id="x"/></a>`))
	if m, _ := ns.IDs("Id"); len(m) != 0 {
		t.Errorf("p:Id indexed: %v", m)
	}
}

func TestDuplicateIDs(t *testing.T) {
	tests := []struct {
		name        string
		doc         string
		attrs       []string
		id          string
		first, then int
	}{
		{"same attribute", "<r>\n<a Id=\"x\"/>\n\n<b Id=\"x\"/>\n</r>", []string{"Id"}, "x", 2, 4},
		{"different attributes", "<r>\n<a Id=\"x\"/>\n<b ID=\"x\"/></r>", []string{"Id", "ID"}, "x", 2, 3},
		{"xml:id against Id", "<r>\n<a xml:id=\"k\"/>\n<b Id=\"k\"/></r>", []string{"Id"}, "k", 2, 3},
		{"wrapping attack: nested copy", "<r Id=\"s\">\n<w>\n<r Id=\"s\"/></w></r>", []string{"Id"}, "s", 1, 3},
		{"both on one element", "<r>\n<a Id=\"z\" ID=\"z\"/></r>", []string{"Id", "ID"}, "z", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, []byte(tt.doc))
			ids, err := d.IDs(tt.attrs...)
			if ids != nil {
				t.Error("map returned with an error")
			}
			var de *DuplicateIDError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DuplicateIDError", err)
			}
			if de.ID != tt.id || de.First != tt.first || de.Then != tt.then {
				t.Errorf("got %+v, want ID %q lines %d and %d", *de, tt.id, tt.first, tt.then)
			}
			if de.Error() == "" {
				t.Error("empty message")
			}
		})
	}
	// Negative: the same value under an attribute not asked for is no duplicate.
	d := mustParse(t, []byte(`<r><a Id="x"/><b id="x"/></r>`))
	if _, err := d.IDs("Id"); err != nil {
		t.Errorf("unrequested attribute counted: %v", err)
	}
}

// Lines past 65535 (libxml2 stores element lines in 16 bits) are still reported exactly for elements
// that start a line of text, which is what a large declaration or package looks like.
func TestLinesBeyond16Bits(t *testing.T) {
	var b strings.Builder
	b.WriteString("<r>\n")
	for i := 0; i < 70000; i++ {
		b.WriteString("<i>x</i>\n")
	}
	b.WriteString("<i Id=\"dup\">y</i>\n<i Id=\"dup\">z</i>\n</r>\n")
	d, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.IDs("Id")
	var de *DuplicateIDError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DuplicateIDError", err)
	}
	if de.First != 70002 || de.Then != 70003 {
		t.Fatalf("lines %d and %d, want 70002 and 70003", de.First, de.Then)
	}
}
