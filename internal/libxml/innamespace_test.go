package libxml

import "testing"

func TestInNamespace(t *testing.T) {
	d, err := Parse([]byte(`<r xmlns="urn:d"><p:a xmlns:p="urn:p"/><b xmlns=""/><c/><p:d xmlns:p="urn:p:longer"/></r>`))
	if err != nil {
		t.Fatal(err)
	}
	kids := d.Root().Children()
	cases := []struct {
		n    Node
		ns   string
		want bool
	}{
		{d.Root(), "urn:d", true},
		{d.Root(), "", false},
		{d.Root(), "urn:", false},
		{kids[0], "urn:p", true},
		{kids[0], "urn:d", false},
		{kids[1], "", true},
		{kids[1], "urn:d", false},
		{kids[2], "urn:d", true},
		{kids[3], "urn:p", false}, // a prefix of the namespace name is not the name
		{kids[3], "urn:p:longer", true},
		{Node{}, "", false},
	}
	for i, c := range cases {
		if got := c.n.InNamespace(c.ns); got != c.want || (got && c.n.NamespaceURI() != c.ns) {
			t.Errorf("case %d: InNamespace(%q) = %v, want %v (NamespaceURI %q)", i, c.ns, got, c.want, c.n.NamespaceURI())
		}
	}
	d.Close()
	if kids[0].InNamespace("urn:p") {
		t.Error("a node of a closed document is in a namespace")
	}
}
