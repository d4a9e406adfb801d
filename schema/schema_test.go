package schema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/libxml"
)

const xsdNS = "http://www.w3.org/2001/XMLSchema"

// ownSchemas are the schemas whose test corpus this file requires to be complete (a minimal and a full valid
// instance, and at least five invalid ones); the generic instance test covers every embedded schema.
var ownSchemas = []Name{Package, Receipt, Registration, Container, Export}

func loadSet(t testing.TB, p libxml.Parser) *Set {
	t.Helper()
	s, err := Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// expectRE finds the "<!-- expect: … -->" comment an invalid instance starts with (after an optional XML
// declaration).
var expectRE = regexp.MustCompile(`^\s*(?:<\?xml[^>]*\?>\s*)?<!--\s*expect:\s*(.*?)\s*-->`)

// instances lists testdata/<n>/<prefix>*.xml.
func instances(t *testing.T, n Name, prefix string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", string(n), prefix+"*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// xmllintVerdict validates file against the on-disk XSD with the reference implementation. ok reports
// whether xmllint ran; valid is its verdict.
func xmllintVerdict(t *testing.T, xmllint string, n Name, file string) (valid bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, xmllint, "--nonet", "--noout", "--schema", string(n)+".xsd", file).CombinedOutput()
	if err == nil {
		return true
	}
	var ee *exec.ExitError
	// Exit status 3 is "validation error"; anything else (1 parse error, 5 schema error, a signal) means the
	// comparison itself is broken.
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		return false
	}
	t.Fatalf("xmllint on %s: %v\n%s", file, err, out)
	return false
}

// TestInstances validates every testdata/<schema>/valid-*.xml (must pass) and invalid-*.xml (must fail
// with a problem containing the file's expected message, at a real line) for every embedded schema, and
// checks that xmllint, the reference implementation, reaches the same verdict.
func TestInstances(t *testing.T) {
	s := loadSet(t, libxml.Parser{})
	xmllint, lookErr := exec.LookPath("xmllint")
	if lookErr != nil {
		t.Logf("xmllint not found (%v): the cross-check against the reference implementation is skipped", lookErr)
	}
	for _, n := range Names() {
		valid, invalid := instances(t, n, "valid-"), instances(t, n, "invalid-")
		if len(valid) == 0 {
			t.Errorf("schema %s: no testdata/%s/valid-*.xml", n, n)
		}
		if len(invalid) == 0 {
			t.Errorf("schema %s: no testdata/%s/invalid-*.xml", n, n)
		}
		for _, f := range valid {
			t.Run(string(n)+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.ValidateBytes(n, data); err != nil {
					t.Errorf("valid instance refused: %v", err)
				}
				if xmllint == "" {
					t.Skip("xmllint not installed: no cross-check")
				}
				if !xmllintVerdict(t, xmllint, n, f) {
					t.Errorf("xmllint refuses an instance we accept")
				}
			})
		}
		for _, f := range invalid {
			t.Run(string(n)+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				m := expectRE.FindSubmatch(data)
				if m == nil || len(m[1]) == 0 {
					t.Fatalf("invalid instance does not start with <!-- expect: … -->")
				}
				want := string(m[1])
				err = s.ValidateBytes(n, data)
				var ve *libxml.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("want a *libxml.ValidationError, got %T: %v", err, err)
				}
				found := false
				for _, p := range ve.Problems {
					if strings.Contains(p.Msg, want) {
						found = true
						if p.Line <= 0 {
							t.Errorf("problem %q has no line (%d)", p.Msg, p.Line)
						}
					}
				}
				if !found {
					t.Errorf("no problem contains %q; got:\n%s", want, problems(ve))
				}
				if xmllint == "" {
					t.Skip("xmllint not installed: no cross-check")
				}
				if xmllintVerdict(t, xmllint, n, f) {
					t.Errorf("xmllint accepts an instance we refuse")
				}
			})
		}
	}
}

func problems(ve *libxml.ValidationError) string {
	var b strings.Builder
	for _, p := range ve.Problems {
		fmt.Fprintf(&b, "  line %d: %s\n", p.Line, strings.TrimSpace(p.Msg))
	}
	return b.String()
}

// TestOwnCorpus requires a minimal and a full valid instance and at least five distinct invalid ones for
// each schema of this package's own set, so no rule family goes untested by accident.
func TestOwnCorpus(t *testing.T) {
	for _, n := range ownSchemas {
		valid, invalid := instances(t, n, "valid-"), instances(t, n, "invalid-")
		for _, want := range []string{"valid-minimal.xml", "valid-full.xml"} {
			if !slices.Contains(valid, filepath.Join("testdata", string(n), want)) {
				t.Errorf("schema %s: testdata/%s/%s missing", n, n, want)
			}
		}
		if len(invalid) < 5 {
			t.Errorf("schema %s: %d invalid instances, want at least 5", n, len(invalid))
		}
	}
}

// TestLoad compiles every embedded schema and finds the six business documents of SPEC §2 and §5 among
// them (the declaration only once its XSD exists).
func TestLoad(t *testing.T) {
	s := loadSet(t, libxml.Parser{})
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() not sorted: %v", names)
	}
	if len(s.compiled) != len(names) {
		t.Errorf("Load compiled %d schemas, Names() lists %d", len(s.compiled), len(names))
	}
	for _, n := range names {
		if s.compiled[n] == nil {
			t.Errorf("schema %s not compiled", n)
		}
		if Namespace(n) == "" {
			t.Errorf("embedded schema %s has no namespace in the table", n)
		}
	}
	for _, n := range ownSchemas {
		if !slices.Contains(names, n) {
			t.Errorf("schema %s not embedded", n)
		}
	}
	if !slices.Contains(names, Declaration) {
		t.Logf("declaration schema not embedded yet: %v", names)
	}
	doc, err := libxml.Parse([]byte(`<a/>`))
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	if err := s.Validate("nincs", doc); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("Validate with an unknown name: got %v, want ErrUnknownSchema", err)
	}
	if err := s.ValidateBytes("nincs", []byte(`<a xmlns=""/>`)); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("ValidateBytes with an unknown name: got %v, want ErrUnknownSchema", err)
	}
}

// TestCloseTwice: Close is idempotent and a closed set refuses to validate rather than crash.
func TestCloseTwice(t *testing.T) {
	s, err := Load(libxml.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	data, err := os.ReadFile("testdata/nyugta/valid-full.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateBytes(Receipt, data); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("closed set: got %v, want ErrUnknownSchema", err)
	}
}

// TestSchemaFiles checks the properties every Tagdíj XSD promises: self-contained (no import, include or
// redefine), the target namespace of the table, elementFormDefault="qualified", version="1.0", a global
// element to validate; for this package's own schemas also bilingual documentation on every top-level
// component.
func TestSchemaFiles(t *testing.T) {
	for _, n := range Names() {
		t.Run(string(n), func(t *testing.T) {
			src, err := Source(n)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := libxml.Parse(src)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			defer doc.Close()
			root := doc.Root()
			if !root.Is(xsdNS, "schema") {
				t.Fatalf("root is {%s}%s", root.NamespaceURI(), root.LocalName())
			}
			for attr, want := range map[string]string{
				"targetNamespace":    Namespace(n),
				"elementFormDefault": "qualified",
				"version":            "1.0",
			} {
				if got, _ := root.Attr(attr); got != want {
					t.Errorf("%s=%q, want %q", attr, got, want)
				}
			}
			doc.Walk(func(x libxml.Node) bool {
				if x.NamespaceURI() == xsdNS && slices.Contains([]string{"import", "include", "redefine", "override"}, x.LocalName()) {
					t.Errorf("line %d: xs:%s cannot be loaded", x.Line(), x.LocalName())
				}
				return true
			})
			elements := 0
			for _, c := range root.Children() {
				if c.Is(xsdNS, "element") {
					elements++
				}
				if !slices.Contains(ownSchemas, n) || c.Is(xsdNS, "annotation") {
					continue
				}
				name, _ := c.Attr("name")
				docs := 0
				for _, a := range c.Children() {
					if a.Is(xsdNS, "annotation") {
						for _, d := range a.Children() {
							if d.Is(xsdNS, "documentation") && strings.TrimSpace(d.Text()) != "" {
								docs++
							}
						}
					}
				}
				if docs < 2 {
					t.Errorf("line %d: top-level xs:%s %q lacks English and Hungarian documentation", c.Line(), c.LocalName(), name)
				}
			}
			if elements == 0 {
				t.Errorf("no global element")
			}
		})
	}
}

// TestSharedTypesAgree: a type name used in several schemas means the same type everywhere. The copies are
// compared in exclusive canonical form, with the schema's own prefix replaced, so only a real difference in
// content or documentation counts. Differences involving a schema outside this package's own set are only
// logged: that schema's owner decides.
func TestSharedTypesAgree(t *testing.T) {
	type def struct {
		schema Name
		canon  string
	}
	defs := map[string][]def{}
	for _, n := range Names() {
		src, err := Source(n)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := libxml.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		prefix := tnsPrefix(src, Namespace(n))
		for _, c := range doc.Root().Children() {
			if !c.Is(xsdNS, "simpleType") && !c.Is(xsdNS, "complexType") {
				continue
			}
			var b bytes.Buffer
			if err := doc.CanonicalizeTo(&b, c, libxml.C14N{Method: libxml.ExcC14N10}); err != nil {
				t.Fatalf("%s: c14n: %v", n, err)
			}
			canon := b.String()
			if prefix != "" {
				canon = strings.ReplaceAll(canon, `"`+prefix+`:`, `"tns:`)
			}
			canon = regexp.MustCompile(`>\s+<`).ReplaceAllString(canon, "><")
			name, _ := c.Attr("name")
			defs[name] = append(defs[name], def{n, canon})
		}
		doc.Close()
	}
	shared := 0
	for name, ds := range defs {
		if len(ds) > 1 {
			shared++
		}
		for _, d := range ds[1:] {
			if d.canon == ds[0].canon {
				continue
			}
			msg := fmt.Sprintf("type %s differs between %s.xsd and %s.xsd:\n%s\n%s", name, ds[0].schema, d.schema, ds[0].canon, d.canon)
			if slices.Contains(ownSchemas, ds[0].schema) && slices.Contains(ownSchemas, d.schema) {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
	}
	if shared == 0 {
		t.Errorf("no type is shared between schemas: the comparison compared nothing")
	}
}

// tnsPrefix finds the prefix an XSD binds to its target namespace.
func tnsPrefix(src []byte, ns string) string {
	m := regexp.MustCompile(`xmlns:([A-Za-z_][\w.-]*)="` + regexp.QuoteMeta(ns) + `"`).FindSubmatch(src)
	if m == nil {
		return ""
	}
	return string(m[1])
}

func TestForNamespace(t *testing.T) {
	all := []Name{Declaration, Receipt, Registration, Package, Container, Export}
	seen := map[string]Name{}
	for _, n := range all {
		ns := Namespace(n)
		if !strings.HasPrefix(ns, "urn:x-mnyp:") || !strings.HasSuffix(ns, ":1") {
			t.Errorf("Namespace(%s) = %q", n, ns)
		}
		if other, dup := seen[ns]; dup {
			t.Errorf("%s and %s share namespace %s", n, other, ns)
		}
		seen[ns] = n
		if got, ok := ForNamespace(ns); !ok || got != n {
			t.Errorf("ForNamespace(%q) = %q, %v; want %q", ns, got, ok, n)
		}
	}
	for _, ns := range []string{"", "urn:x-mnyp:nyugta:2", "urn:x-mnyp:nyugta", "URN:X-MNYP:NYUGTA:1", "urn:x-mnyp:nyugta:1 "} {
		if got, ok := ForNamespace(ns); ok {
			t.Errorf("ForNamespace(%q) = %q, want no schema", ns, got)
		}
	}
}

// TestValidateBytesNamespace: ValidateBytes refuses a document whose root is not in the schema's
// namespace, even when the element names match, and says which namespace it expected.
func TestValidateBytesNamespace(t *testing.T) {
	s := loadSet(t, libxml.Parser{})
	receipt, err := os.ReadFile("testdata/nyugta/valid-full.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateBytes(Receipt, receipt); err != nil {
		t.Fatalf("control: %v", err)
	}
	tests := []struct {
		name   string
		schema Name
		data   []byte
	}{
		{"receipt as export", Export, receipt},
		{"receipt as package", Package, receipt},
		{"no namespace", Receipt, bytes.Replace(receipt, []byte(` xmlns="urn:x-mnyp:nyugta:1"`), nil, 1)},
		{"next version", Receipt, bytes.Replace(receipt, []byte(`urn:x-mnyp:nyugta:1`), []byte(`urn:x-mnyp:nyugta:2`), 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ValidateBytes(tc.schema, tc.data)
			var ve *libxml.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("got %v, want a *libxml.ValidationError", err)
			}
			want := fmt.Sprintf("expected %q", Namespace(tc.schema))
			if !strings.Contains(ve.Problems[0].Msg, want) || ve.Problems[0].Line <= 0 {
				t.Errorf("problem %+v, want %s at a line", ve.Problems[0], want)
			}
		})
	}
}

// TestValidateBytesParseRefusals: what the hardened parser refuses never reaches the validator.
func TestValidateBytesParseRefusals(t *testing.T) {
	s := loadSet(t, libxml.Parser{})
	receipt, err := os.ReadFile("testdata/nyugta/valid-minimal.xml")
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.TrimPrefix(receipt, []byte(`<?xml version="1.0" encoding="UTF-8"?>`))
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"doctype", append([]byte(`<!DOCTYPE ny:Nyugta>`), body...), libxml.ErrForbidden},
		{"internal entity", append([]byte(`<!DOCTYPE ny:Nyugta [<!ENTITY e "x">]>`), body...), libxml.ErrForbidden},
		{"external dtd", append([]byte(`<!DOCTYPE ny:Nyugta SYSTEM "http://127.0.0.1:1/x.dtd">`), body...), libxml.ErrForbidden},
		{"truncated", receipt[:len(receipt)/2], libxml.ErrMalformed},
		{"empty", nil, libxml.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ValidateBytes(Receipt, tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var ve *libxml.ValidationError
			if errors.As(err, &ve) {
				t.Errorf("a parse refusal reported as a schema problem: %v", err)
			}
		})
	}
}

// TestLoadParserLimits: the parser given to Load is the one ValidateBytes parses under.
func TestLoadParserLimits(t *testing.T) {
	data, err := os.ReadFile("testdata/nyugta/valid-full.xml")
	if err != nil {
		t.Fatal(err)
	}
	if err := loadSet(t, libxml.Parser{}).ValidateBytes(Receipt, data); err != nil {
		t.Fatalf("control: %v", err)
	}
	tight := loadSet(t, libxml.Parser{Limits: libxml.Limits{MaxDepth: 3}})
	if err := tight.ValidateBytes(Receipt, data); !errors.Is(err, libxml.ErrLimit) {
		t.Errorf("depth 4 document under MaxDepth 3: got %v, want ErrLimit", err)
	}
}

// FuzzValidateBytes: any input yields nil, a parse refusal or a schema verdict — never a panic, never
// another error — and the verdict is the same on a second run.
func FuzzValidateBytes(f *testing.F) {
	s, err := Load(libxml.Parser{})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	names := Names()
	for i, n := range names {
		files, _ := filepath.Glob(filepath.Join("testdata", string(n), "*.xml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		n := names[int(which)%len(names)]
		err := s.ValidateBytes(n, data)
		var pe *libxml.Error
		var ve *libxml.ValidationError
		switch {
		case err == nil:
		case errors.As(err, &pe):
		case errors.As(err, &ve):
			if len(ve.Problems) == 0 {
				t.Fatalf("validation error without problems: %v", err)
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		if again := s.ValidateBytes(n, data); (again == nil) != (err == nil) {
			t.Fatalf("verdict changed between runs: %v then %v", err, again)
		}
	})
}

// TestValidateStreamDefersIdentityConstraints: only the declaration is streamed; its schema compiles
// without its identity constraints (named by Deferred), so a duplicate row passes ValidateStream and
// is refused by ValidateBytes; any other schema is refused for streaming.
func TestValidateStreamDefersIdentityConstraints(t *testing.T) {
	s := loadSet(t, libxml.Parser{})
	if got := s.Deferred(Declaration); !slices.Equal(got, []string{"TetelSorszamEgyedi"}) {
		t.Errorf("Deferred(Declaration) = %v", got)
	}
	if got := s.Deferred(Receipt); len(got) != 0 {
		t.Errorf("Deferred(Receipt) = %v", got)
	}
	if _, err := s.ValidateStream(Receipt, []byte("<a/>")); !errors.Is(err, ErrUnknownSchema) {
		t.Errorf("ValidateStream(Receipt) = %v", err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "tagdijbevallas", "invalid-duplicate-row.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateBytes(Declaration, data); err == nil {
		t.Fatal("ValidateBytes accepts a duplicate row")
	}
	ev, err := s.ValidateStream(Declaration, data)
	if err != nil {
		t.Fatalf("ValidateStream: %v", err)
	}
	ev.Close()
}
