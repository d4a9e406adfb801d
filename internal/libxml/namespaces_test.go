package libxml

import (
	"errors"
	"fmt"
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

func TestNamespaceDeclarationLimit(t *testing.T) {
	lim := DefaultLimits()
	// At the limit: accepted.
	ok := nsDoc(8, lim.MaxNamespaces/8, 10)
	d, err := Parse(ok)
	if err != nil {
		t.Fatalf("%d declarations refused: %v", lim.MaxNamespaces, err)
	}
	d.Close()
	// One more: refused by the pre-scan, with its position.
	over := nsDoc(8, lim.MaxNamespaces/8, 0)
	over = append([]byte(`<r xmlns:extra="urn:extra">`), append(over, []byte(`</r>`)...)...)
	_, err = Parse(over)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindLimit || !strings.Contains(e.Msg, "namespace") || e.Line != 1 {
		t.Fatalf("one declaration over the limit: %v", err)
	}
	// The attack shape of about a megabyte is refused at once, not after seconds of prefix lookups.
	attack := nsDoc(62, 63, 2000)
	start := time.Now()
	if _, err := Parse(attack); !errors.Is(err, ErrLimit) {
		t.Fatalf("attack (%d bytes): %v", len(attack), err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refusing the attack took %v", d)
	}
	// A configured limit is honoured (declarations on nested elements add up).
	p := Parser{Limits: Limits{MaxNamespaces: 4}}
	if _, err := p.Parse([]byte(`<a xmlns:a="urn:1" xmlns:b="urn:2"><b xmlns:c="urn:3" xmlns:d="urn:4"><c xmlns:e="urn:5"/></b></a>`)); !errors.Is(err, ErrLimit) {
		t.Fatalf("five declarations over a limit of four: %v", err)
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
