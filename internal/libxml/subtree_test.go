package libxml

import (
	"testing"
)

// subtreeDoc is the document for the subset tests: ancestors of p:s carry three namespace
// declarations (one unused below them) and the four xml:* attributes.
const subtreeDoc = `<r xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q" xmlns:unused="urn:unused" xml:lang="hu" xml:space="preserve" xml:base="http://example.org/a/" xml:id="r1">
  <p:s Id="s1" attr="v"><q:t Id="t1" q:x="1"/><u Id="u1"/><!--c--></p:s>
</r>`

// TestSubtreeCanonicalization checks document-subset canonicalization (an XMLDSig same-document
// reference) against forms derived by hand from the recommendations, not from libxml2:
//
//   - C14N 1.0 (§2.4, §4.8): the apex element renders every namespace in scope, inherited ones
//     included, and inherits all xml:* attributes of its omitted ancestors, xml:id and xml:base too.
//   - C14N 1.1 (§2.4): as 1.0, but xml:id is not inherited and xml:base is the join of the omitted
//     ancestors' values (here one absolute value).
//   - Exclusive C14N (§3): only visibly utilized namespaces, declared where first utilized in the
//     output; no xml:* inheritance; the InclusiveNamespaces PrefixList ("#default" for the default
//     namespace) brings listed in-scope namespaces back under the inclusive rule.
//
// Attributes sort with unqualified ones first, then by namespace URI ("http://www.w3.org/XML/1998/
// namespace" sorts before "urn:q").
func TestSubtreeCanonicalization(t *testing.T) {
	const (
		inner     = `<q:t Id="t1" q:x="1"></q:t><u Id="u1"></u>`
		innerExc  = `<q:t xmlns:q="urn:q" Id="t1" q:x="1"></q:t><u xmlns="urn:d" Id="u1"></u>`
		inclNS    = `xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q" xmlns:unused="urn:unused"`
		xmlAttr10 = `xml:base="http://example.org/a/" xml:id="r1" xml:lang="hu" xml:space="preserve"`
		xmlAttr11 = `xml:base="http://example.org/a/" xml:lang="hu" xml:space="preserve"`
	)
	tests := []struct {
		name string
		id   string
		c    C14N
		want string
	}{
		{"c14n10", "s1", C14N{Method: C14N10}, `<p:s ` + inclNS + ` Id="s1" attr="v" ` + xmlAttr10 + `>` + inner + `</p:s>`},
		{"c14n10 comments", "s1", C14N{Method: C14N10, WithComments: true}, `<p:s ` + inclNS + ` Id="s1" attr="v" ` + xmlAttr10 + `>` + inner + `<!--c--></p:s>`},
		{"c14n11", "s1", C14N{Method: C14N11}, `<p:s ` + inclNS + ` Id="s1" attr="v" ` + xmlAttr11 + `>` + inner + `</p:s>`},
		{"c14n11 comments", "s1", C14N{Method: C14N11, WithComments: true}, `<p:s ` + inclNS + ` Id="s1" attr="v" ` + xmlAttr11 + `>` + inner + `<!--c--></p:s>`},
		{"exc", "s1", C14N{Method: ExcC14N10}, `<p:s xmlns:p="urn:p" Id="s1" attr="v">` + innerExc + `</p:s>`},
		{"exc comments", "s1", C14N{Method: ExcC14N10, WithComments: true}, `<p:s xmlns:p="urn:p" Id="s1" attr="v">` + innerExc + `<!--c--></p:s>`},
		{"exc #default q", "s1", C14N{Method: ExcC14N10, InclusivePrefixes: []string{"#default", "q"}},
			`<p:s xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q" Id="s1" attr="v">` + inner + `</p:s>`},
		{"exc unused", "s1", C14N{Method: ExcC14N10, InclusivePrefixes: []string{"unused"}},
			`<p:s xmlns:p="urn:p" xmlns:unused="urn:unused" Id="s1" attr="v">` + innerExc + `</p:s>`},
		{"exc prefix not in scope", "s1", C14N{Method: ExcC14N10, InclusivePrefixes: []string{"nope"}},
			`<p:s xmlns:p="urn:p" Id="s1" attr="v">` + innerExc + `</p:s>`},
		// A leaf: inclusive c14n still renders the full namespace context, exclusive only what it uses.
		{"leaf c14n10", "u1", C14N{Method: C14N10}, `<u ` + inclNS + ` Id="u1" ` + xmlAttr10 + `></u>`},
		{"leaf exc", "u1", C14N{Method: ExcC14N10}, `<u xmlns="urn:d" Id="u1"></u>`},
		{"leaf exc #default", "t1", C14N{Method: ExcC14N10, InclusivePrefixes: []string{"#default"}},
			`<q:t xmlns="urn:d" xmlns:q="urn:q" Id="t1" q:x="1"></q:t>`},
	}
	d := mustParse(t, []byte(subtreeDoc))
	ids, err := d.IDs("Id")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := ids[tt.id]
			if !ok {
				t.Fatalf("no element with Id %q", tt.id)
			}
			if got := canon(t, d, n, tt.c); string(got) != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

// TestSubtreeNamespaceEdges covers the default-namespace and xml:base rules at the apex.
func TestSubtreeNamespaceEdges(t *testing.T) {
	tests := []struct {
		name, doc, id string
		c             C14N
		want          string
	}{
		// xmlns="" is output only when the nearest output ancestor has a non-empty default (§4.7 /
		// exc §3 ¶2): at the apex there is none, so it disappears in every method.
		{"undeclare at apex 1.0", `<a xmlns="urn:d"><b Id="b" xmlns=""><c/></b></a>`, "b", C14N{Method: C14N10}, `<b Id="b"><c></c></b>`},
		{"undeclare at apex exc", `<a xmlns="urn:d"><b Id="b" xmlns=""><c/></b></a>`, "b", C14N{Method: ExcC14N10}, `<b Id="b"><c></c></b>`},
		// Below the apex it must be kept, or c would move into urn:d.
		{"undeclare below apex", `<a xmlns="urn:d"><b Id="b"><c xmlns=""/></b></a>`, "b", C14N{Method: C14N10}, `<b xmlns="urn:d" Id="b"><c xmlns=""></c></b>`},
		{"undeclare below apex exc", `<a xmlns="urn:d"><b Id="b"><c xmlns=""/></b></a>`, "b", C14N{Method: ExcC14N10}, `<b xmlns="urn:d" Id="b"><c xmlns=""></c></b>`},
		// An inherited default namespace is declared on the apex in both families.
		{"inherited default 1.0", `<a xmlns="urn:d"><b><c Id="c"/></b></a>`, "c", C14N{Method: C14N10}, `<c xmlns="urn:d" Id="c"></c>`},
		{"inherited default exc", `<a xmlns="urn:d"><b><c Id="c"/></b></a>`, "c", C14N{Method: ExcC14N10}, `<c xmlns="urn:d" Id="c"></c>`},
		// An unused inherited prefix: inclusive renders it, exclusive does not unless listed.
		{"unused prefix 1.0", `<a xmlns:u="urn:u"><b Id="b"/></a>`, "b", C14N{Method: C14N10}, `<b xmlns:u="urn:u" Id="b"></b>`},
		{"unused prefix exc", `<a xmlns:u="urn:u"><b Id="b"/></a>`, "b", C14N{Method: ExcC14N10}, `<b Id="b"></b>`},
		{"unused prefix exc listed", `<a xmlns:u="urn:u"><b Id="b"/></a>`, "b", C14N{Method: ExcC14N10, InclusivePrefixes: []string{"u"}}, `<b xmlns:u="urn:u" Id="b"></b>`},
		// A prefix used only by an attribute is visibly utilized.
		{"attr prefix exc", `<a xmlns:u="urn:u"><b Id="b" u:k="1"/></a>`, "b", C14N{Method: ExcC14N10}, `<b xmlns:u="urn:u" Id="b" u:k="1"></b>`},
		// xml:lang: the nearest omitted ancestor's value is inherited in 1.0 and 1.1, not in exc;
		// an own value wins.
		{"xml:lang nearest", `<a xml:lang="en"><b xml:lang="hu"><c Id="c"/></b></a>`, "c", C14N{Method: C14N10}, `<c Id="c" xml:lang="hu"></c>`},
		{"xml:lang own", `<a xml:lang="en"><c Id="c" xml:lang="de"/></a>`, "c", C14N{Method: C14N11}, `<c Id="c" xml:lang="de"></c>`},
		{"xml:lang exc", `<a xml:lang="en"><c Id="c"/></a>`, "c", C14N{Method: ExcC14N10}, `<c Id="c"></c>`},
		// xml:base: 1.0 inherits the nearest value verbatim; 1.1 joins the omitted ancestors' values
		// (RFC 3986 resolution of "sub/" against "http://example.org/dir/").
		{"xml:base 1.0", `<a xml:base="http://example.org/dir/"><b xml:base="sub/"><c Id="c"/></b></a>`, "c", C14N{Method: C14N10}, `<c Id="c" xml:base="sub/"></c>`},
		{"xml:base 1.1", `<a xml:base="http://example.org/dir/"><b xml:base="sub/"><c Id="c"/></b></a>`, "c", C14N{Method: C14N11}, `<c Id="c" xml:base="http://example.org/dir/sub/"></c>`},
		// xml:id is inherited by 1.0 (its known defect) but not by 1.1.
		{"xml:id 1.0", `<a xml:id="x"><c Id="c"/></a>`, "c", C14N{Method: C14N10}, `<c Id="c" xml:id="x"></c>`},
		{"xml:id 1.1", `<a xml:id="x"><c Id="c"/></a>`, "c", C14N{Method: C14N11}, `<c Id="c"></c>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, []byte(tt.doc))
			ids, err := d.IDs("Id")
			if err != nil {
				t.Fatal(err)
			}
			if got := canon(t, d, ids[tt.id], tt.c); string(got) != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

// TestEnvelopedExclusion checks the exclude argument: the excluded subtree vanishes with its
// comments and namespace declarations, its surroundings (whitespace text included) stay, several
// exclusions compose, and excluding inside a subtree reference works too.
func TestEnvelopedExclusion(t *testing.T) {
	doc := "<r xmlns=\"urn:d\">\n  <data Id=\"d\">v<!--k--></data>\n  <ds:Signature xmlns:ds=\"urn:sig\" Id=\"sig\"><ds:V>x</ds:V></ds:Signature>\n  <extra Id=\"e\"/>\n</r>"
	d := mustParse(t, []byte(doc))
	ids, err := d.IDs("Id")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		root    Node
		exclude []Node
		c       C14N
		want    string
	}{
		{"whole minus sig", Node{}, []Node{ids["sig"]}, C14N{Method: C14N10},
			"<r xmlns=\"urn:d\">\n  <data Id=\"d\">v</data>\n  \n  <extra Id=\"e\"></extra>\n</r>"},
		{"whole minus sig with comments", Node{}, []Node{ids["sig"]}, C14N{Method: C14N10, WithComments: true},
			"<r xmlns=\"urn:d\">\n  <data Id=\"d\">v<!--k--></data>\n  \n  <extra Id=\"e\"></extra>\n</r>"},
		{"whole minus two", Node{}, []Node{ids["sig"], ids["d"]}, C14N{Method: ExcC14N10},
			"<r xmlns=\"urn:d\">\n  \n  \n  <extra Id=\"e\"></extra>\n</r>"},
		{"root minus sig", d.Root(), []Node{ids["sig"]}, C14N{Method: C14N11},
			"<r xmlns=\"urn:d\">\n  <data Id=\"d\">v</data>\n  \n  <extra Id=\"e\"></extra>\n</r>"},
		{"exclude outside root is a no-op", ids["d"], []Node{ids["sig"]}, C14N{Method: ExcC14N10},
			"<data xmlns=\"urn:d\" Id=\"d\">v</data>"},
		{"exclude the root itself", ids["d"], []Node{ids["d"]}, C14N{Method: C14N10}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canon(t, d, tt.root, tt.c, tt.exclude...); string(got) != tt.want {
				t.Errorf("\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}
