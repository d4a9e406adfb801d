package es3

import (
	"bytes"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// TestISO88592 converts a built package to ISO-8859-2 (the 2006 systems' encoding) and checks that it
// parses to the same fields, metadata and payload as the UTF-8 original.
func TestISO88592(t *testing.T) {
	spec := packageSpec(pseudoPayload(3000, 8))
	spec.Metadata.Declarant.Name = "Őrségi Űrkutató és Tűzoltó Kft."
	spec.Metadata.Contact = Contact{Name: "Kőrösi Ödön", Phone: "+36 1 234 5678", Address: "9941 Őriszentpéter, Fő utca 1."}
	spec.Documents[0].Title = "bevallás_őszi.xml"
	utf8Data := written(t, spec)

	latin2, err := charmap.ISO8859_2.NewEncoder().Bytes(utf8Data)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	latin2 = bytes.Replace(latin2, []byte(`encoding="UTF-8"`), []byte(`encoding="ISO-8859-2"`), 1)
	if bytes.Equal(latin2, utf8Data) || bytes.Contains(latin2, []byte("Ő")) {
		t.Fatal("conversion did not change the encoding of the Hungarian letters")
	}

	a := mustParse(t, utf8Data, ParseOptions{})
	b := mustParse(t, latin2, ParseOptions{})
	if a.Title != b.Title || a.Documents[0].Title != "bevallás_őszi.xml" || b.Documents[0].Title != a.Documents[0].Title {
		t.Errorf("titles %q %q / %q", a.Title, b.Title, b.Documents[0].Title)
	}
	ma, fa := a.Metadata(testSchemas(t))
	mb, fb := b.Metadata(testSchemas(t))
	if len(fa) != 0 || len(fb) != 0 {
		t.Fatalf("metadata findings %v / %v", fa, fb)
	}
	if *mb != *spec.Metadata || *ma != *mb {
		t.Errorf("metadata %+v, want %+v", *mb, *spec.Metadata)
	}
	pa, _ := a.Payload(0)
	pb, err := b.Payload(0)
	if err != nil || !bytes.Equal(pa, pb) {
		t.Fatalf("payload differs: %v", err)
	}
	// The canonical form, which signatures cover, is UTF-8 and identical for both encodings.
	ca, _ := a.Doc().Canonicalize(libxmlExc())
	cb, _ := b.Doc().Canonicalize(libxmlExc())
	if !bytes.Equal(ca, cb) {
		t.Error("canonical forms differ between UTF-8 and ISO-8859-2")
	}
	// A declaration of an encoding the parser does not read is refused.
	other := bytes.Replace(latin2, []byte(`ISO-8859-2`), []byte(`windows-1250`), 1)
	if _, err := Parse(other, ParseOptions{}); codeOf(err) != "T005" {
		t.Errorf("windows-1250: %v", err)
	}
}
