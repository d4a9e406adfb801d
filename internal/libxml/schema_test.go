package libxml

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func loadTagSchema(t *testing.T) *Schema {
	t.Helper()
	xsd, err := os.ReadFile(filepath.Join("testdata", "xsd", "tag.xsd"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := CompileSchema("tag.xsd", xsd)
	if err != nil {
		t.Fatalf("CompileSchema: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestSchemaValidate: a valid instance passes; each invalid one fails with a *ValidationError whose
// problems carry the line of the offending element.
func TestSchemaValidate(t *testing.T) {
	s := loadTagSchema(t)
	if s.Name() != "tag.xsd" {
		t.Errorf("Name() = %q", s.Name())
	}
	const head = "<bevallas xmlns=\"urn:tagdij:teszt:1\" verzio=\"1.0\">\n"
	tests := []struct {
		name  string
		doc   string
		lines []int // lines of the expected problems, in order; nil means valid
		words []string
	}{
		{name: "valid", doc: head + "  <tag azonosito=\"1\">\n    <nev>Kovács Ődön</nev>\n    <osszeg>12500.50</osszeg>\n  </tag>\n</bevallas>"},
		{name: "bad decimal", doc: head + "  <tag azonosito=\"1\">\n    <nev>K</nev>\n    <osszeg>sok</osszeg>\n  </tag>\n</bevallas>",
			lines: []int{4}, words: []string{"osszeg"}},
		{name: "missing attribute", doc: head + "  <tag>\n    <nev>K</nev>\n    <osszeg>1</osszeg>\n  </tag>\n</bevallas>",
			lines: []int{2}, words: []string{"azonosito"}},
		{name: "name too long", doc: head + "  <tag azonosito=\"1\">\n    <nev>" + strings.Repeat("x", 41) + "</nev>\n    <osszeg>1</osszeg>\n  </tag>\n</bevallas>",
			lines: []int{3}},
		{name: "unexpected element", doc: head + "  <tag azonosito=\"1\">\n    <nev>K</nev>\n    <osszeg>1</osszeg>\n    <extra/>\n  </tag>\n</bevallas>",
			lines: []int{5}, words: []string{"extra"}},
		{name: "wrong namespace", doc: "<bevallas xmlns=\"urn:other\"/>", lines: []int{1}},
		{name: "fixed attribute", doc: "<bevallas xmlns=\"urn:tagdij:teszt:1\" verzio=\"2.0\">\n<tag azonosito=\"1\"><nev>K</nev><osszeg>1</osszeg></tag></bevallas>",
			lines: []int{1}},
		{name: "two problems", doc: head + "  <tag azonosito=\"0\">\n    <nev>K</nev>\n    <osszeg>x</osszeg>\n  </tag>\n</bevallas>",
			lines: []int{2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, []byte(tt.doc))
			err := s.Validate(d)
			if tt.lines == nil {
				if err != nil {
					t.Fatalf("valid instance refused: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want *ValidationError", err, err)
			}
			if ve.Schema != "tag.xsd" {
				t.Errorf("Schema = %q", ve.Schema)
			}
			var got []int
			for _, p := range ve.Problems {
				got = append(got, p.Line)
				if p.Msg == "" {
					t.Errorf("empty message at line %d", p.Line)
				}
			}
			if len(got) != len(tt.lines) {
				t.Fatalf("problems at lines %v, want %v: %v", got, tt.lines, err)
			}
			for i := range got {
				if got[i] != tt.lines[i] {
					t.Errorf("problem %d at line %d, want %d: %s", i, got[i], tt.lines[i], ve.Problems[i].Msg)
				}
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestSchemaManyProblems: problems beyond the 64 kept are counted in Dropped, and Error() stays short.
func TestSchemaManyProblems(t *testing.T) {
	s := loadTagSchema(t)
	var b strings.Builder
	b.WriteString("<bevallas xmlns=\"urn:tagdij:teszt:1\">\n")
	for range 100 {
		b.WriteString("<tag azonosito=\"x\"><nev>K</nev><osszeg>1</osszeg></tag>\n")
	}
	b.WriteString("</bevallas>")
	d := mustParse(t, []byte(b.String()))
	var ve *ValidationError
	if err := s.Validate(d); !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if len(ve.Problems) != 64 || ve.Dropped != 36 {
		t.Fatalf("%d problems kept, %d dropped; want 64 and 36", len(ve.Problems), ve.Dropped)
	}
	if !strings.Contains(ve.Error(), "100 problem(s)") || strings.Count(ve.Error(), "line ") > 5 {
		t.Errorf("Error() = %q", ve.Error())
	}
}

// TestSchemaInvalid: a broken schema reports problems instead of compiling.
func TestSchemaInvalid(t *testing.T) {
	tests := map[string]string{
		"undefined type":  `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="nope"/></xs:schema>`,
		"element no name": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element/></xs:schema>`,
		"not a schema":    `<schema/>`,
		"not xml":         `<xs:schema`,
	}
	for name, xsd := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := CompileSchema(name, []byte(xsd))
			if err == nil {
				s.Close()
				t.Fatal("compiled")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("err = %v, want *ValidationError with problems", err)
			}
			t.Log(err)
			// A syntax error in the schema document is reported with its position, not only as
			// "failed to parse".
			if name == "not xml" && !strings.Contains(err.Error(), "line 1: Couldn't find end of Start Tag") {
				t.Errorf("syntax error not reported with its line: %v", err)
			}
		})
	}
	if _, err := CompileSchema("empty", nil); err == nil {
		t.Error("empty schema compiled")
	}
}

// TestSchemaNoNetwork: xs:import and xs:include of a remote location never reach the network. The
// locations point at a loopback server that counts requests; the import is either ignored (libxml2
// treats an unloadable import as a warning) or fails compilation, and the include fails.
func TestSchemaNoNetwork(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:remote"><xs:element name="x"/></xs:schema>`))
	}))
	defer srv.Close()
	imp := `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:l" xmlns:r="urn:remote">
  <xs:import namespace="urn:remote" schemaLocation="` + srv.URL + `/remote.xsd"/>
  <xs:element name="a" type="xs:string"/>
</xs:schema>`
	s, err := CompileSchema("import", []byte(imp))
	if err == nil {
		// Ignored import: the schema works for its own elements.
		d := mustParse(t, []byte(`<a xmlns="urn:l">x</a>`))
		if err := s.Validate(d); err != nil {
			t.Errorf("validation with an ignored import: %v", err)
		}
		s.Close()
	} else {
		t.Logf("import refused: %v", err)
	}
	// Using a type from the unreachable import must fail to compile.
	use := strings.Replace(imp, `<xs:element name="a" type="xs:string"/>`, `<xs:element name="a"><xs:complexType><xs:sequence><xs:element ref="r:x"/></xs:sequence></xs:complexType></xs:element>`, 1)
	if s, err := CompileSchema("import-use", []byte(use)); err == nil {
		s.Close()
		t.Error("schema referring to a remote component compiled: it must have been fetched")
	}
	inc := `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="` + srv.URL + `/inc.xsd"/><xs:element name="a"/></xs:schema>`
	if s, err := CompileSchema("include", []byte(inc)); err == nil {
		s.Close()
		t.Log("include ignored")
	}
	file := `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="file:///etc/passwd"/><xs:element name="a"/></xs:schema>`
	if s, err := CompileSchema("include-file", []byte(file)); err == nil {
		s.Close()
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
}

// TestSchemaInstanceHints: xsi:schemaLocation in an instance is not followed during validation.
func TestSchemaInstanceHints(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	s := loadTagSchema(t)
	d := mustParse(t, []byte(`<bevallas xmlns="urn:tagdij:teszt:1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="urn:x `+srv.URL+`/x.xsd"><tag azonosito="1"><nev>K</nev><osszeg>1</osszeg></tag></bevallas>`))
	if err := s.Validate(d); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("schemaLocation hint was fetched")
	}
}

// TestSchemaConcurrent: a compiled Schema validates from many goroutines at once (run with -race).
func TestSchemaConcurrent(t *testing.T) {
	s := loadTagSchema(t)
	good := []byte(`<bevallas xmlns="urn:tagdij:teszt:1"><tag azonosito="1"><nev>K</nev><osszeg>1</osszeg></tag></bevallas>`)
	bad := []byte(`<bevallas xmlns="urn:tagdij:teszt:1"><tag azonosito="1"><nev>K</nev><osszeg>x</osszeg></tag></bevallas>`)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				valid := (g+i)%2 == 0
				doc := good
				if !valid {
					doc = bad
				}
				d, err := Parse(doc)
				if err != nil {
					errs <- err
					return
				}
				err = s.Validate(d)
				d.Close()
				if (err == nil) != valid {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent validation: %v", err)
	}
}

func TestValidateClosedDocument(t *testing.T) {
	s := loadTagSchema(t)
	d := mustParse(t, []byte(`<a/>`))
	d.Close()
	if err := s.Validate(d); err == nil {
		t.Fatal("validated a closed document")
	}
	s2, err := CompileSchema("x", []byte(memXSD))
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s2.Close() // idempotent
}
