package xmlsplice

import (
	"bytes"
	"errors"
	"testing"
)

const sample = `<?xml version="1.0" encoding="UTF-8"?>
<!-- before -->
<es:Dossier xmlns:es="urn:es" xmlns:ds="urn:ds"><es:P Id="p&amp;1" a='x>y'>text &lt; more<![CDATA[ <not-a-tag> ]]></es:P><ds:Signature Id="s"><ds:Empty/><x:Y xmlns:x="urn:x" xmlns="urn:def"><Z/></x:Y></ds:Signature></es:Dossier>
<?pi after?>
`

func TestIndex(t *testing.T) {
	d, err := Index([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	r := d.Root
	if !r.Is("urn:es", "Dossier") || len(r.Children) != 2 {
		t.Fatalf("root %+v", r)
	}
	p := r.Children[0]
	if v, _ := p.Attr("Id"); v != "p&1" {
		t.Fatalf("Id %q", v)
	}
	if v, _ := p.Attr("a"); v != "x>y" {
		t.Fatalf("a %q", v)
	}
	if got := sample[p.Start:p.StartEnd]; got != `<es:P Id="p&amp;1" a='x>y'>` {
		t.Fatalf("start tag %q", got)
	}
	if got := sample[p.End:p.EndEnd]; got != `</es:P>` {
		t.Fatalf("end tag %q", got)
	}
	sig, ok := d.ByID("s")
	if !ok || !sig.Is("urn:ds", "Signature") {
		t.Fatal("ByID")
	}
	empty := sig.Children[0]
	if !empty.SelfClosing || sample[empty.Start:empty.EndEnd] != `<ds:Empty/>` {
		t.Fatalf("empty element %+v", empty)
	}
	if _, err := empty.ContentEnd(); err == nil {
		t.Fatal("ContentEnd of an empty-element tag")
	}
	z := sig.Children[1].Children[0]
	if !z.Is("urn:def", "Z") {
		t.Fatalf("default namespace: %+v", z)
	}
	if ns, ok := z.LookupPrefix("x"); !ok || ns != "urn:x" {
		t.Fatal("LookupPrefix x")
	}
	if _, ok := r.LookupPrefix("x"); ok {
		t.Fatal("x is not in scope at the root")
	}

	// Splice inserts and changes nothing else.
	at, _ := sig.ContentEnd()
	out, err := Splice([]byte(sample), Insertion{At: r.End, Text: []byte("<ds:New/>")}, Insertion{At: r.End, Text: []byte("<ds:Newer/>")})
	if err != nil {
		t.Fatal(err)
	}
	want := sample[:r.End] + "<ds:New/><ds:Newer/>" + sample[r.End:]
	if string(out) != want {
		t.Fatalf("splice:\n%s", out)
	}
	if _, err := Splice([]byte(sample), Insertion{At: r.End}, Insertion{At: at}); err == nil {
		t.Fatal("out-of-order insertions accepted")
	}
	if _, err := Splice([]byte(sample), Insertion{At: len(sample) + 1}); err == nil {
		t.Fatal("insertion outside accepted")
	}
}

func TestIndexRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"mismatched":     `<a><b></a></b>`,
		"unclosed":       `<a><b></b>`,
		"doctype":        `<!DOCTYPE a><a/>`,
		"two roots":      `<a/><b/>`,
		"text outside":   `x<a/>`,
		"unbound prefix": `<p:a/>`,
		"bad entity":     `<a b="&foo;"/>`,
		"unquoted":       `<a b=c/>`,
		"unterminated":   `<a b="c`,
		"comment":        `<a><!-- </a>`,
		"empty":          ``,
	} {
		if _, err := Index([]byte(doc)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: %v, want ErrSyntax", name, err)
		}
	}
}

// FuzzIndex: Index never panics, and what it accepts has offsets that point at its tags.
func FuzzIndex(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`<a xmlns="u"><b c='&#x41;'/></a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Index(data)
		if err != nil {
			return
		}
		d.Walk(func(e *Element) bool {
			if data[e.Start] != '<' || data[e.StartEnd-1] != '>' || data[e.EndEnd-1] != '>' || e.End < e.StartEnd-2 {
				t.Fatalf("bad offsets for %s: %+v", e.Name, e)
			}
			if !e.SelfClosing && !bytes.HasPrefix(data[e.End:], []byte("</"+e.Name)) {
				t.Fatalf("end tag of %s not at %d", e.Name, e.End)
			}
			return true
		})
	})
}
