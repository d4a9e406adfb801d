package declaration_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/schema"
)

// referenceParse is the decoder Parse used before it read the libxml2 tree: XSD validation of the bytes
// (schema.Set.ValidateBytes), then encoding/xml over the same bytes, then XSD collapse of the schema's
// collapsed fields with the original strings.FieldsFunc implementation. It is kept here as the oracle
// the tree decoder must agree with on every schema-valid document.
func referenceParse(data []byte, set *schema.Set) (*declaration.Declaration, error) {
	if err := set.ValidateBytes(schema.Declaration, data); err != nil {
		return nil, err
	}
	d := new(declaration.Declaration)
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = referenceCharsetReader
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("decoding a schema-valid document: %w", err)
	}
	c := referenceCollapse
	d.Header.Program.Name = c(d.Header.Program.Name)
	d.Header.Program.Version = c(d.Header.Program.Version)
	d.Declarant.Name = c(d.Declarant.Name)
	d.Declarant.Address.City = c(d.Declarant.Address.City)
	d.Declarant.Address.Street = c(d.Declarant.Address.Street)
	d.Fund.Name = c(d.Fund.Name)
	for i := range d.Items {
		d.Items[i].Name = c(d.Items[i].Name)
	}
	return d, nil
}

func referenceCharsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-2", "iso8859-2", "latin2", "l2", "iso_8859-2":
		return charmap.ISO8859_2.NewDecoder().Reader(input), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

func referenceCollapse(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}), " ")
}

var (
	refSetOnce sync.Once
	refSet     *schema.Set
	refSetErr  error
)

func refSchemas(t testing.TB) *schema.Set {
	t.Helper()
	refSetOnce.Do(func() { refSet, refSetErr = schema.Load(libxml.Parser{}) })
	if refSetErr != nil {
		t.Fatalf("schema.Load: %v", refSetErr)
	}
	return refSet
}

// assertSameAsReference decodes data both ways and requires both to accept it and to agree field for
// field (reflect.DeepEqual; time.Time values compare with their location, so Created must come out
// identical, not merely equal).
func assertSameAsReference(t *testing.T, data []byte) *declaration.Declaration {
	t.Helper()
	set := refSchemas(t)
	want, err := referenceParse(data, set)
	if err != nil {
		t.Fatalf("reference decoder refused the document: %v", err)
	}
	got, err := declaration.Parse(data, set)
	if err != nil {
		t.Fatalf("Parse refused what the reference accepts: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		reportDifference(t, got, want)
	}
	return got
}

func reportDifference(t *testing.T, got, want *declaration.Declaration) {
	t.Helper()
	gh, wh := *got, *want
	gh.Items, wh.Items = nil, nil
	if !reflect.DeepEqual(gh, wh) {
		t.Fatalf("declarations differ outside the items:\n got %+v\nwant %+v", gh, wh)
	}
	if len(got.Items) != len(want.Items) || (got.Items == nil) != (want.Items == nil) {
		t.Fatalf("%d items (nil %v), reference %d (nil %v)", len(got.Items), got.Items == nil, len(want.Items), want.Items == nil)
	}
	for i := range got.Items {
		if !reflect.DeepEqual(got.Items[i], want.Items[i]) {
			t.Fatalf("item %d:\n got %+v\nwant %+v", i, got.Items[i], want.Items[i])
		}
	}
	t.Fatal("declarations differ")
}

// TestTreeDecoderMatchesReferenceOnTestdata: every valid instance of the schema corpus.
func TestTreeDecoderMatchesReferenceOnTestdata(t *testing.T) {
	files, _ := filepath.Glob("../../schema/testdata/tagdijbevallas/valid-*.xml")
	if len(files) == 0 {
		t.Fatal("no valid-*.xml test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			assertSameAsReference(t, data)
		})
	}
}

// TestTreeDecoderMatchesReferenceOnGenerated: a generated declaration large enough to take every
// branch the generator takes (ended employments, zero supplements, long names) many times.
func TestTreeDecoderMatchesReferenceOnGenerated(t *testing.T) {
	members := 5_000
	if testing.Short() {
		members = 500
	}
	d := synth.Generate(synth.Options{Members: members, Seed: 7, Period: declaration.Period{Year: 2026, Month: time.October}})
	data, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got := assertSameAsReference(t, data)
	if len(got.Items) != members {
		t.Fatalf("%d items, want %d", len(got.Items), members)
	}
	ended := 0
	for _, it := range got.Items {
		if it.EmploymentTo != nil {
			ended++
		}
	}
	if ended == 0 || ended == members {
		t.Fatalf("%d of %d items have JogviszonyVege: the generated document does not exercise both forms", ended, members)
	}
}

// TestTreeDecoderMatchesReferenceOnLexicalVariants: schema-valid spellings that a tree decoder could
// read differently from encoding/xml: white space the schema collapses or that integer and date types
// allow around their value, CDATA, comments and character references inside values, CRLF line ends,
// leading zeros and a plus sign on integers, a time-zone offset, an empty Tetelek, and ISO-8859-2.
func TestTreeDecoderMatchesReferenceOnLexicalVariants(t *testing.T) {
	base, err := os.ReadFile("../../schema/testdata/tagdijbevallas/valid-full.xml")
	if err != nil {
		t.Fatal(err)
	}
	type repl struct{ old, new string }
	for _, tc := range []struct {
		name  string
		repls []repl
		latin bool
		crlf  bool
	}{
		{name: "as-is"},
		{name: "names with white space", repls: []repl{
			{"<Nev>Kovács János</Nev>", "<Nev>\n\t  Kovács \t\r\n János  </Nev>"},
			{"<Nev>tagdij-sender</Nev>", "<Nev>  tagdij-sender </Nev>"},
			{"<Telepules>Budapest</Telepules>", "<Telepules>Buda&#9;pest&#10;</Telepules>"},
			{"<KozteruletHazszam>Minta utca 1.</KozteruletHazszam>", "<KozteruletHazszam>Minta  utca&#13;1.</KozteruletHazszam>"},
			{"<Nev>Példa Magánnyugdíjpénztár</Nev>", "<Nev>Példa\u00a0Magán\u2003nyugdíjpénztár</Nev>"},
		}},
		{name: "CDATA comments and references in values", repls: []repl{
			{"<Nev>Kovács János</Nev>", "<Nev>Ko<!-- x -->vács<![CDATA[ J]]>&#xe1;nos</Nev>"},
			{"<TAJ>123456788</TAJ>", "<TAJ>1234<!--c-->56788</TAJ>"},
			{"<Azonosito tipus=\"adoszam\">15789934251</Azonosito>", "<Azonosito tipus=\"adoszam\"><![CDATA[1578993]]>4251</Azonosito>"},
			{"<Kod>1234</Kod>", "<Kod>&#49;234</Kod>"},
			{"<Nev>Példa Kereskedelmi Kft.</Nev>", "<Nev>Példa &amp; Társa &lt;Kft.&gt;</Nev>"},
		}},
		{name: "integers and dates with white space", repls: []repl{
			{"<Jarulekalap>300000</Jarulekalap>", "<Jarulekalap>\n  300000\n</Jarulekalap>"},
			{"<Tagdij>24000</Tagdij>", "<Tagdij>+024000</Tagdij>"},
			{"<Letszam>2</Letszam>", "<Letszam> 2 </Letszam>"},
			{"<SzuletesiDatum>1967-02-13</SzuletesiDatum>", "<SzuletesiDatum> 1967-02-13\n</SzuletesiDatum>"},
			{"<JogviszonyVege>2026-10-15</JogviszonyVege>", "<JogviszonyVege>\t2026-10-15</JogviszonyVege>"},
			{"<Letrehozva>2026-11-05T08:00:00Z</Letrehozva>", "<Letrehozva>\n 2026-11-05T09:30:00.123456789+01:30 </Letrehozva>"},
			{`sorszam="2"`, `sorszam=" 0002 "`},
		}},
		{name: "comments and PIs between elements", repls: []repl{
			{"<Tetelek>", "<Tetelek><!-- tételek --><?pi data?>"},
			{"</Fejlec>", "<!-- end --></Fejlec>"},
		}},
		{name: "CRLF line ends", crlf: true},
		{name: "ISO-8859-2", latin: true, repls: []repl{{"<Nev>Kovács János</Nev>", "<Nev> Kovács\tJános </Nev>"}}},
		{name: "no items", repls: []repl{
			{"<Letszam>2</Letszam>", "<Letszam>0</Letszam>"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := string(base)
			for _, r := range tc.repls {
				if !strings.Contains(doc, r.old) {
					t.Fatalf("the base document has no %q", r.old)
				}
				doc = strings.Replace(doc, r.old, r.new, 1)
			}
			if tc.name == "no items" {
				i, j := strings.Index(doc, "<Tetelek>"), strings.Index(doc, "</Tetelek>")
				doc = doc[:i] + "<Tetelek/>" + doc[j+len("</Tetelek>"):]
			}
			if tc.crlf {
				doc = strings.ReplaceAll(doc, "\n", "\r\n")
			}
			data := []byte(doc)
			if tc.latin {
				data = toLatin2(t, strings.Replace(doc, `encoding="UTF-8"`, `encoding="ISO-8859-2"`, 1))
			}
			got := assertSameAsReference(t, data)
			if tc.name == "no items" && got.Items != nil {
				t.Errorf("no items decoded as %#v, want nil", got.Items)
			}
		})
	}
}

func toLatin2(t *testing.T, s string) []byte {
	t.Helper()
	enc := charmap.ISO8859_2.NewEncoder()
	out, err := enc.String(s)
	if err != nil {
		t.Fatalf("ISO-8859-2: %v", err)
	}
	return []byte(out)
}

// FuzzParseMatchesReference: on any input, Parse accepts exactly what the reference accepts, and
// decodes it to the same model.
func FuzzParseMatchesReference(f *testing.F) {
	files, _ := filepath.Glob("../../schema/testdata/tagdijbevallas/*.xml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set := refSchemas(t)
		want, werr := referenceParse(data, set)
		got, gerr := declaration.Parse(data, set)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("reference error %v, Parse error %v", werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			reportDifference(t, got, want)
		}
	})
}
