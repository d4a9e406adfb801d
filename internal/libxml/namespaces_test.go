package libxml

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// nsDoc nests depth elements, each declaring per namespaces, then adds elements full of prefixed
// attributes: the shape that makes libxml2's linear prefix lookup cost about 1.2 s per MB.
func nsDoc(depth, per, tail int) []byte {
	var b strings.Builder
	for d := 0; d < depth; d++ {
		b.WriteString("<e")
		for k := 0; k < per; k++ {
			fmt.Fprintf(&b, ` xmlns:p%d_%d="urn:x:%d:%d"`, d, k, d, k)
		}
		b.WriteString(">")
	}
	for i := 0; i < tail; i++ {
		b.WriteString("<t")
		for k := 0; k < 60; k++ {
			fmt.Fprintf(&b, ` p0_%d:a="1"`, k)
		}
		b.WriteString("/>")
	}
	for d := 0; d < depth; d++ {
		b.WriteString("</e>")
	}
	return []byte(b.String())
}

// siblingsDoc has n sibling elements each declaring per namespaces: many declarations in the document,
// few in scope at once.
func siblingsDoc(n, per int) []byte {
	var b strings.Builder
	b.WriteString("<r>")
	for i := 0; i < n; i++ {
		b.WriteString("<s")
		for k := 0; k < per; k++ {
			fmt.Fprintf(&b, ` xmlns:p%d_%d="urn:x:%d:%d"`, i, k, i, k)
		}
		b.WriteString("/>")
	}
	b.WriteString("</r>")
	return []byte(b.String())
}

func TestNamespaceDeclarationLimit(t *testing.T) {
	lim := DefaultLimits()
	per := lim.MaxNamespacesInScope
	// The document total: at the limit accepted, one more refused (with its position).
	d, err := Parse(siblingsDoc(lim.MaxNamespaces/per, per))
	if err != nil {
		t.Fatalf("%d declarations refused: %v", lim.MaxNamespaces, err)
	}
	d.Close()
	full := siblingsDoc(lim.MaxNamespaces/per, per)
	over := append(full[:len(full)-len("</r>"):len(full)-len("</r>")], `<s xmlns:extra="urn:e"/></r>`...)
	_, err = Parse(over)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindLimit || !strings.Contains(e.Msg, "namespace") || e.Line != 1 {
		t.Fatalf("one declaration over the document limit: %v", err)
	}

	// In scope: nested declarations add up; at the limit accepted, one more refused.
	if d, err := Parse(nsDoc(2, per/2, 0)); err != nil {
		t.Fatalf("%d in scope refused: %v", per, err)
	} else {
		d.Close()
	}
	if _, err := Parse(nsDoc(2, per/2+1, 0)); !errors.Is(err, ErrLimit) {
		t.Fatalf("%d in scope: %v", per+2, err)
	}

	// The attack shapes of about a megabyte are refused at once, not after seconds of prefix lookups
	// (parse) or quadratic namespace handling (inclusive canonicalization).
	for name, attack := range map[string][]byte{"nested declarations and prefixed attributes": nsDoc(62, 63, 2000),
		"504 in scope then many elements": nsDoc(8, 63, 20000)} {
		start := time.Now()
		if _, err := Parse(attack); !errors.Is(err, ErrLimit) {
			t.Fatalf("%s (%d bytes): %v", name, len(attack), err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("refusing %s took %v", name, d)
		}
	}
	// A configured limit is honoured (declarations on nested elements add up).
	p := Parser{Limits: Limits{MaxNamespacesInScope: 4}}
	if _, err := p.Parse([]byte(`<a xmlns:a="urn:1" xmlns:b="urn:2"><b xmlns:c="urn:3" xmlns:d="urn:4"><c xmlns:e="urn:5"/></b></a>`)); !errors.Is(err, ErrLimit) {
		t.Fatalf("five in scope over a limit of four: %v", err)
	}
	if d, err := p.Parse([]byte(`<a xmlns:a="urn:1" xmlns:b="urn:2"><b xmlns:c="urn:3" xmlns:d="urn:4"/><c xmlns:e="urn:5"/></a>`)); err != nil {
		t.Fatalf("siblings do not share a scope: %v", err)
	} else {
		d.Close()
	}
}

func TestXMLVersion(t *testing.T) {
	for doc, ok := range map[string]bool{
		`<?xml version="1.0"?><a/>`:                  true,
		`<?xml version='1.0' encoding="UTF-8"?><a/>`: true,
		`<a/>`:                      true,
		`<?xml version="1."?><a/>`:  false, // found by FuzzParseMatchesReference
		`<?xml version="1.1"?><a/>`: false,
		`<?xml version="2.0" encoding="UTF-8"?><a/>`:     false,
		`<?xml version="1.0" encoding="EBCDIC-US"?><a/>`: false,
	} {
		d, err := Parse([]byte(doc))
		if (err == nil) != ok {
			t.Errorf("%s: err %v, want accepted=%v", doc, err, ok)
		}
		if err == nil {
			d.Close()
		} else if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v is not ErrMalformed", doc, err)
		}
	}
}

// TestNodeAfterClose: a Node of a closed Document reads nothing (never freed memory).
func TestNodeAfterClose(t *testing.T) {
	d, err := Parse([]byte(`<a x="1"><b>t</b></a>`))
	if err != nil {
		t.Fatal(err)
	}
	r := d.Root()
	b := r.FirstChildElement()
	d.Close()
	if r.LocalName() != "" || r.NamespaceURI() != "" || r.Line() != 0 || !r.Parent().IsZero() || r.Children() != nil ||
		!r.FirstChildElement().IsZero() || !b.NextSiblingElement().IsZero() || b.Text() != "" || r.Contains(b) || r.Is("", "a") {
		t.Fatal("a closed document's node still reads")
	}
	if v, ok := r.Attr("x"); ok || v != "" {
		t.Fatal("attribute read after Close")
	}
	if !d.Root().IsZero() {
		t.Fatal("Root of a closed document")
	}
	n := 0
	d.Walk(func(Node) bool { n++; return true })
	if n != 0 {
		t.Fatal("Walk over a closed document")
	}
}

// gcWriter forces collections while libxml2 is writing: the Document passed only as d.doc to C must
// stay alive (runtime.KeepAlive) even when nothing else refers to it. The test can only catch the
// use after free when the freed tree has been overwritten by then; the bug itself was shown under
// valgrind (Invalid read in xmlC14NExecute), which is the reliable check.
type gcWriter struct{ b []byte }

func (w *gcWriter) Write(p []byte) (int, error) {
	runtime.GC()
	w.b = append(w.b, p...)
	return len(p), nil
}

func TestGCDuringCanonicalization(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("<r>")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&doc, `<e n="%d">some text %d</e>`, i, i)
	}
	doc.WriteString("</r>")
	want := func() []byte {
		d, _ := Parse([]byte(doc.String()))
		defer d.Close()
		b, _ := d.Canonicalize(C14N{Method: C14N10})
		return b
	}()
	for i := 0; i < 3; i++ {
		w := &gcWriter{}
		d, err := Parse([]byte(doc.String()))
		if err != nil {
			t.Fatal(err)
		}
		// d is not used after this call: only KeepAlive inside CanonicalizeTo holds it.
		if err := d.CanonicalizeTo(w, Node{}, C14N{Method: C14N10}); err != nil {
			t.Fatal(err)
		}
		if string(w.b) != string(want) {
			t.Fatal("canonical form changed under garbage collection")
		}
	}
}
