package libxml

import (
	"errors"
	"testing"
)

func TestSmoke(t *testing.T) {
	d, err := Parse([]byte(`<a xmlns="urn:x" b='1'  a="2"><c xmlns:p="urn:p" Id="x1"><!-- k --><p:d/></c></a>`))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := d.Canonicalize(C14N{Method: C14N10})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out)
	ids, err := d.IDs("Id")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Method{C14N10, C14N11, ExcC14N10} {
		var b []byte
		w := &bw{&b}
		if err := d.CanonicalizeTo(w, ids["x1"], C14N{Method: m}); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d %s", m, b)
	}
	_, err = Parse([]byte(`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`))
	if !errors.Is(err, ErrForbidden) {
		t.Fatal(err)
	}
	t.Log(err)
	_, err = Parse([]byte("<a>\n<b></a>"))
	t.Log(err)
	_, err = Parse([]byte("<a>&foo;</a>"))
	t.Log(err)
}

type bw struct{ b *[]byte }

func (w *bw) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

func TestPredefined(t *testing.T) {
	d, err := Parse([]byte(`<a x="&lt;&#233;">&amp;&gt;&#x151;</a>`))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, _ := d.Canonicalize(C14N{})
	if string(out) != `<a x="&lt;é">&amp;&gt;ő</a>` {
		t.Fatalf("%s", out)
	}
}
