package declaration_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

// TestDuplicateRowsAsTheSchema: the streaming validation leaves xs:unique TetelSorszamEgyedi to Parse;
// Parse must find exactly the duplicates tree validation against the published schema finds, on the
// same lines and with the same messages, alone and beside other problems, and nothing else.
func TestDuplicateRowsAsTheSchema(t *testing.T) {
	set := refSchemas(t)
	if got := set.Deferred(schema.Declaration); !slices.Equal(got, []string{"TetelSorszamEgyedi"}) {
		t.Fatalf("Deferred(Declaration) = %v", got)
	}
	base, err := os.ReadFile(filepath.Join("..", "..", "schema", "testdata", "tagdijbevallas", "valid-full.xml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(base)
	if !strings.Contains(doc, `<Tetel sorszam="2">`) {
		t.Fatal("valid-full.xml has no row 2")
	}
	row2 := func(v string) string {
		return strings.Replace(doc, `<Tetel sorszam="2">`, `<Tetel sorszam="`+v+`">`, 1)
	}
	// third appends a copy of the last item with row number v.
	third := func(d, v string) string {
		i := strings.LastIndex(d, "<Tetel ")
		j := strings.Index(d[i:], "</Tetel>") + i + len("</Tetel>")
		item := d[i:j]
		item = `<Tetel sorszam="` + v + `"` + item[strings.Index(item, ">"):]
		return d[:j] + "\n    " + item + d[j:]
	}
	cases := map[string]string{
		"unique":                 doc,
		"same":                   row2("1"),
		"leading zero":           row2("01"),
		"plus sign":              row2("+1"),
		"white space":            row2(" 1 "),
		"three, two duplicates":  third(row2("1"), "1"),
		"three, later duplicate": third(doc, "2"),
		"invalid value":          row2("x"),
		"zero":                   row2("0"),
		"duplicate and an error": strings.Replace(row2("1"), "<Tagdij>24000</Tagdij>", "<Tagdij>sok</Tagdij>", 1),
		"error after duplicate":  strings.Replace(third(row2("1"), "3"), "</Tetelek>", "<Extra/></Tetelek>", 1),
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			treeErr := set.ValidateBytes(schema.Declaration, []byte(d))
			_, err := declaration.Parse([]byte(d), set)
			var pe *declaration.ParseError
			if treeErr == nil {
				if err != nil {
					t.Fatalf("tree validation accepts, Parse: %v", err)
				}
				return
			}
			if !errors.As(err, &pe) {
				t.Fatalf("tree validation refuses (%v), Parse: %v", treeErr, err)
			}
			var tv, sv *libxml.ValidationError
			if !errors.As(treeErr, &tv) || !errors.As(pe.Err, &sv) {
				t.Fatalf("tree %T, Parse %T", treeErr, pe.Err)
			}
			dups := func(ve *libxml.ValidationError) []string {
				var out []string
				for _, p := range ve.Problems {
					if strings.Contains(p.Msg, "Duplicate key-sequence") {
						out = append(out, fmt.Sprintf("%d: %s", p.Line, p.Msg))
					}
				}
				return out
			}
			if got, want := dups(sv), dups(tv); !slices.Equal(got, want) {
				t.Errorf("duplicates:\n%v\nwant (tree):\n%v", got, want)
			}
			// For a key value that is not a positive integer, libxml2's identity-constraint code adds a
			// second problem ("No precomputed value available") after the type error on the same
			// attribute: noise Parse does not repeat.
			noise := 0
			for _, p := range tv.Problems {
				if strings.Contains(p.Msg, "No precomputed value available") {
					noise++
				}
			}
			if len(sv.Problems)+sv.Dropped != len(tv.Problems)+tv.Dropped-noise {
				t.Errorf("%d problems, tree %d (%d noise):\n%v\n%v", len(sv.Problems)+sv.Dropped, len(tv.Problems)+tv.Dropped, noise, sv, tv)
			}
		})
	}
}
