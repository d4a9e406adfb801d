package declaration

import (
	"os"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/libxml"
)

// permissiveRecord is the record of doc validated against a schema that admits anything under a
// document element named {ns}root: what decodeEvents would see if tagdijbevallas.xsd let a document
// through by mistake.
func permissiveRecord(t *testing.T, doc, ns, root string) *libxml.Events {
	t.Helper()
	tns := ""
	if ns != "" {
		tns = ` targetNamespace="` + ns + `"`
	}
	xsd := `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"` + tns + `><xs:element name="` + root + `"><xs:complexType>` +
		`<xs:sequence><xs:any minOccurs="0" maxOccurs="unbounded" processContents="skip" namespace="##any"/></xs:sequence>` +
		`<xs:anyAttribute processContents="skip" namespace="##any"/></xs:complexType></xs:element></xs:schema>`
	s, err := libxml.CompileSchema("any.xsd", []byte(xsd))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ev, err := libxml.Parser{}.ValidateStream([]byte(doc), s)
	if err != nil {
		t.Fatalf("ValidateStream: %v", err)
	}
	t.Cleanup(ev.Close)
	return ev
}

// TestDecodeRefusesWhatTheSchemaWouldHave: decodeEvents is only ever given the records of schema-valid
// documents, but it must not panic or read a malformed one half-way if that guarantee breaks; each
// case names what is wrong.
func TestDecodeRefusesWhatTheSchemaWouldHave(t *testing.T) {
	base, err := os.ReadFile(testdata + "/valid-full.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"wrong root", "<Bevallas xmlns", "<Bevallasok xmlns", "not {urn:x-mnyp:tagdijbevallas:1}Bevallas"},
		{"root in no namespace", `xmlns="urn:x-mnyp:tagdijbevallas:1"`, ``, "Bevallas"},
		{"no verzio", ` verzio="1.0"`, ``, "no verzio attribute"},
		{"missing header", "<Fejlec>", "<Fejlec2>", "found {urn:x-mnyp:tagdijbevallas:1}Fejlec2 where Fejlec belongs"},
		{"element order", "<Tipus>O</Tipus>\n    <ElozmenyAzonosito>", "<ElozmenyAzonosito>", "where Tipus belongs"},
		{"foreign namespace", "<Kod>1234</Kod>", `<Kod xmlns="urn:other">1234</Kod>`, "{urn:other}Kod where Kod belongs"},
		{"unknown trailing element", "</Penztar>", "<Extra/></Penztar>", "Penztar: unexpected element"},
		{"missing summary child", "<FizetendoOsszesen>65000</FizetendoOsszesen>", "", "Osszesito has no FizetendoOsszesen"},
		{"bad integer", "<Tagdij>24000</Tagdij>", "<Tagdij>24 000</Tagdij>", "Tagdij: "},
		{"integer overflow", "<Tagdij>24000</Tagdij>", "<Tagdij>99999999999999999999</Tagdij>", "value out of range"},
		{"bad date", "<SzuletesiDatum>1967-02-13</SzuletesiDatum>", "<SzuletesiDatum>1967-02-30</SzuletesiDatum>", "does not exist"},
		{"bad period", "<Idoszak>2026-10</Idoszak>", "<Idoszak>2026-13</Idoszak>", "Idoszak"},
		{"bad time", "<Letrehozva>2026-11-05T08:00:00Z</Letrehozva>", "<Letrehozva>2026-11-05</Letrehozva>", "Letrehozva"},
		{"no sorszam", `<Tetel sorszam="2">`, `<Tetel>`, "no sorszam attribute"},
		{"bad sorszam", `<Tetel sorszam="2">`, `<Tetel sorszam="two">`, "Tetel sorszam"},
		{"no tipus", `<Azonosito tipus="adoszam">`, `<Azonosito>`, "no tipus attribute"},
		{"not a Tetel", "<Tetel sorszam=\"2\">", "<Sor sorszam=\"2\">", "where Tetel belongs"},
		{"element in a leaf", "<Tagdij>24000</Tagdij>", "<Tagdij>24000<x/></Tagdij>", "Tagdij: unexpected element"},
		{"unexpected trailing item child", "<MunkaltatoiKiegeszites>", "<Extra/><MunkaltatoiKiegeszites>", "where MunkaltatoiKiegeszites belongs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := string(base)
			if !strings.Contains(doc, tc.old) {
				t.Fatalf("the base document has no %q", tc.old)
			}
			doc = strings.Replace(doc, tc.old, tc.new, 1)
			// Renamed elements need their end tag renamed too.
			switch tc.name {
			case "not a Tetel":
				doc = strings.Replace(doc, "</Tetel>\n  </Tetelek>", "</Sor>\n  </Tetelek>", 1)
			case "wrong root":
				doc = strings.Replace(doc, "</Bevallas>", "</Bevallasok>", 1)
			case "missing header":
				doc = strings.Replace(doc, "</Fejlec>", "</Fejlec2>", 1)
			}
			ns, root := "urn:x-mnyp:tagdijbevallas:1", "Bevallas"
			switch tc.name {
			case "wrong root":
				root = "Bevallasok"
			case "root in no namespace":
				ns = ""
			}
			d, _, err := decodeEvents(permissiveRecord(t, doc, ns, root))
			if err == nil {
				t.Fatalf("decoded %+v", d.Header)
			}
			if d != nil {
				t.Error("a model came back with the error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "line ") {
				t.Errorf("error %q does not say %q with a line", err, tc.want)
			}
		})
	}
}

func TestParseIntMatchesEncodingXML(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"007", 7, true}, {"+5", 5, true}, {" 42\n", 42, true},
		{"999999999999999999", 999999999999999999, true}, {"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false}, {"-1", -1, true}, {"1 2", 0, false}, {" ", 0, false}, {"1.0", 0, false},
		{"\u00a012", 12, true}, // strings.TrimSpace trims Unicode space, as encoding/xml did
	} {
		got, err := parseInt([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseInt(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseDateMatchesParseDate(t *testing.T) {
	for _, s := range []string{"2026-10-15", " 2026-10-15 ", "2023-02-29", "2024-02-29", "0999-01-01", "2026-1-15",
		"2026/10/15", "２026-10-15", "", "2026-10-1x", "2026-00-10", "2026-12-32"} {
		got, gerr := parseDate([]byte(s))
		want, werr := ParseDate(s)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Errorf("parseDate(%q) = %v, %v; ParseDate = %v, %v", s, got, gerr, want, werr)
		}
	}
}
