package es3

import (
	"bytes"
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pkgname"
)

func TestRoundTripPackage(t *testing.T) {
	payload := pseudoPayload(100_000, 7) // > one sink chunk of base64
	spec := packageSpec(payload)
	spec.Schemas = testSchemas(t)
	data := written(t, spec)
	d := mustParse(t, data, ParseOptions{})

	if d.Title != pkgTitle || !d.CreationDate.Equal(created) {
		t.Errorf("Title %q CreationDate %v", d.Title, d.CreationDate)
	}
	if len(d.Documents) != 1 || len(d.Signatures) != 0 {
		t.Fatalf("%d documents, %d signatures", len(d.Documents), len(d.Signatures))
	}
	doc := d.Documents[0]
	if doc.Title != "bevallas.xml" || doc.MIMEType != MIMEXML || doc.Extension != "xml" ||
		doc.SourceSize != int64(len(payload))*7 || !doc.Encrypted() || !doc.CreationDate.Equal(created) {
		t.Errorf("document %+v", doc)
	}
	got, err := d.Payload(0)
	if err != nil {
		t.Fatalf("Payload: %v", err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("payload differs (%d vs %d bytes)", len(got), len(payload))
	}
	// The profile's OBJREF and the dossier's references resolve through Lookup to the parsed nodes.
	if n, ok := d.Lookup(d.ProfileID); !ok || n != d.Profile {
		t.Errorf("Lookup(ProfileID) = %v %v", n, ok)
	}
	if n, ok := d.Lookup(doc.ObjectID); !ok || n != doc.Object {
		t.Errorf("Lookup(ObjectID) = %v %v", n, ok)
	}
	m, findings := d.Metadata(testSchemas(t))
	if len(findings) > 0 {
		t.Fatalf("Metadata: %v", findings)
	}
	if *m != *sampleMetadata() {
		t.Errorf("Metadata = %+v, want %+v", *m, *sampleMetadata())
	}
	n, err := pkgname.Parse(d.Title)
	if err != nil {
		t.Fatal(err)
	}
	if f := pkgname.Matches(n, m.NameFields()); len(f) != 0 {
		t.Errorf("name and metadata disagree: %v", f)
	}
	other := sampleMetadata()
	other.Fund = "0124"
	if f := pkgname.Matches(n, other.NameFields()); len(f) != 1 || f[0].Code != errcode.F010 {
		t.Errorf("Matches with another fund: %v", f)
	}
}

func TestBuildDeterministicIDs(t *testing.T) {
	payload := pseudoPayload(1000, 1)
	a, b := written(t, packageSpec(payload)), written(t, packageSpec(payload))
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different bytes")
	}
	spec := packageSpec(payload)
	spec.Rand = seeded(99)
	c := written(t, spec)
	if bytes.Equal(a, c) {
		t.Fatal("a different seed gave the same bytes")
	}
	ids := regexp.MustCompile(` Id="([^"]+)"`).FindAllStringSubmatch(string(a), -1)
	if len(ids) != 4 {
		t.Fatalf("%d Ids, want 4", len(ids))
	}
	idRE := regexp.MustCompile(`^[A-Za-z][A-Za-z]+-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for _, m := range ids {
		if !idRE.MatchString(m[1]) || seen[m[1]] {
			t.Errorf("Id %q not a unique prefixed v4 UUID", m[1])
		}
		seen[m[1]] = true
	}
	// Without a seed, crypto/rand: two builds differ.
	spec.Rand = nil
	if bytes.Equal(written(t, spec), written(t, spec)) {
		t.Fatal("two unseeded builds gave the same Ids")
	}
}

func TestRoundTripReceipt(t *testing.T) {
	data := written(t, receiptSpec())
	d := mustParse(t, data, ParseOptions{})
	if d.Title != receiptTitle || len(d.Documents) != 1 {
		t.Fatalf("Title %q, %d documents", d.Title, len(d.Documents))
	}
	doc := d.Documents[0]
	if doc.Encrypted() || !slices.Equal(doc.Transforms, []string{TransformBase64}) || doc.MIMEType != "text/xml" ||
		doc.SourceSize != int64(len(receiptXML)) {
		t.Errorf("document %+v", doc)
	}
	got, err := d.Payload(0)
	if err != nil || string(got) != receiptXML {
		t.Fatalf("Payload = %q, %v", got, err)
	}
	if _, ok := d.MetadataNode(); ok {
		t.Error("receipt has es:Metadata")
	}
	if _, f := d.Metadata(testSchemas(t)); len(f) != 1 || f[0].Code != errcode.F009 {
		t.Errorf("Metadata on a receipt: %v, want one F009", f)
	}
	if !bytes.Contains(data, []byte(`<es:BaseTransform><es:Transform Algorithm="base64"></es:Transform></es:BaseTransform>`)) {
		t.Error("plain transform list not written as in the sample")
	}
}

func TestRoundTripContainer(t *testing.T) {
	pkg := written(t, packageSpec(pseudoPayload(5000, 4)))
	rcpt := written(t, receiptSpec())
	spec := containerSpec(pkg, rcpt)
	data := written(t, spec)
	d := mustParse(t, data, ParseOptions{})
	if len(d.Documents) != 3 {
		t.Fatalf("%d documents", len(d.Documents))
	}
	for i, want := range spec.Documents {
		doc := d.Documents[i]
		if doc.Title != want.Title || doc.MIMEType != want.MIMEType || doc.SourceSize != want.SourceSize {
			t.Errorf("document %d: %+v", i, doc)
		}
		got, err := d.Payload(i)
		if err != nil || !bytes.Equal(got, want.Content) {
			t.Fatalf("Payload(%d): %v (equal %v)", i, err, bytes.Equal(got, want.Content))
		}
	}
	if d.Documents[0].Extension != "es3" {
		t.Errorf("extension %q", d.Documents[0].Extension)
	}
	md, ok := d.MetadataNode()
	if !ok || len(md.Children()) != 1 || md.Children()[0].LocalName() != "Kontener" {
		t.Fatal("container metadata not kept")
	}
	if v, _ := md.Children()[0].Attr("csomag"); v != pkgTitle {
		t.Errorf("metadata attribute %q", v)
	}
	// Nested dossiers parse again from their payloads.
	inner, _ := d.Payload(0)
	pd := mustParse(t, inner, ParseOptions{})
	if pd.Title != pkgTitle {
		t.Errorf("inner package title %q", pd.Title)
	}
	if _, err := d.Payload(3); err == nil {
		t.Error("Payload(3) of three documents succeeded")
	}
}

// TestWriteShape checks what the signature layer relies on: an XML declaration, no whitespace between
// elements, canonical-style end tags, base64 in 76-character LF-separated lines, and that Write leaves
// the document's own settings alone.
func TestWriteShape(t *testing.T) {
	doc, err := Build(packageSpec(pseudoPayload(300, 5)))
	if err != nil {
		t.Fatal(err)
	}
	doc.WriteSettings = etree.WriteSettings{} // Write must not depend on them
	var buf bytes.Buffer
	if err := Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if !strings.HasPrefix(s, `<?xml version="1.0" encoding="UTF-8"?><es:Dossier `) {
		t.Fatalf("prefix %q", s[:60])
	}
	if regexp.MustCompile(`>\s+<`).MatchString(s) {
		t.Error("whitespace between elements")
	}
	if strings.Contains(s, "/>") {
		t.Error("self-closing tag written")
	}
	if doc.WriteSettings != (etree.WriteSettings{}) {
		t.Error("Write changed the document's settings")
	}
	obj := regexp.MustCompile(`(?s)<ds:Object xmlns:ds="[^"]+" Id="[^"]+">(.*)</ds:Object>`).FindStringSubmatch(s)
	if obj == nil {
		t.Fatal("no ds:Object")
	}
	lines := strings.Split(obj[1], "\n")
	for i, l := range lines {
		if (i < len(lines)-1 && len(l) != 76) || len(l) == 0 || len(l) > 76 {
			t.Errorf("line %d has %d characters", i, len(l))
		}
	}
	// A declaration with another encoding is refused; a document without one gets one.
	bad := etree.NewDocument()
	bad.CreateProcInst("xml", `version="1.0" encoding='ISO-8859-2'`)
	bad.CreateElement("x")
	if err := Write(&bytes.Buffer{}, bad); err == nil {
		t.Error("Write accepted an ISO-8859-2 declaration")
	}
	bare := etree.NewDocument()
	bare.CreateElement("x")
	buf.Reset()
	if err := Write(&buf, bare); err != nil || buf.String() != `<?xml version="1.0" encoding="UTF-8"?><x></x>` {
		t.Errorf("Write(bare) = %q, %v", buf.String(), err)
	}
}

// TestXmllintAgrees parses a built package with xmllint as an independent well-formedness check and
// compares its canonical form with ours.
func TestXmllintAgrees(t *testing.T) {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (make installs libxml2-utils)")
	}
	data := written(t, packageSpec(pseudoPayload(2000, 6)))
	p := filepath.Join(t.TempDir(), pkgTitle)
	if err := writeFile(p, data); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--exc-c14n", p).Output()
	if err != nil {
		t.Fatalf("xmllint: %v", err)
	}
	d := mustParse(t, data, ParseOptions{})
	ours, err := d.Doc().Canonicalize(libxmlExc())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, ours) {
		t.Error("xmllint's exclusive canonical form differs from ours")
	}
	// Built dossiers are already in canonical form apart from the XML declaration.
	if !bytes.Equal(ours, data[len(`<?xml version="1.0" encoding="UTF-8"?>`):]) {
		t.Error("written bytes are not the canonical form after the declaration")
	}
}

func TestBuildRefuses(t *testing.T) {
	base := func() DossierSpec { return packageSpec(pseudoPayload(10, 1)) }
	tests := []struct {
		name string
		mod  func(*DossierSpec)
	}{
		{"empty title", func(s *DossierSpec) { s.Title = " " }},
		{"control character in title", func(s *DossierSpec) { s.Title = "a\x01b" }},
		{"CR in title", func(s *DossierSpec) { s.Title = "a\rb" }},
		{"invalid UTF-8", func(s *DossierSpec) { s.Documents[0].Title = "\xff.xml" }},
		{"zero time", func(s *DossierSpec) { s.Created = time.Time{} }},
		{"no documents", func(s *DossierSpec) { s.Documents = nil }},
		{"both metadata", func(s *DossierSpec) { s.OtherMetadata = etree.NewElement("x") }},
		{"bad MIME", func(s *DossierSpec) { s.Documents[0].MIMEType = "text" }},
		{"MIME with space", func(s *DossierSpec) { s.Documents[0].MIMEType = "text/x ml" }},
		{"bad extension", func(s *DossierSpec) { s.Documents[0].Extension = "x/y" }},
		{"negative size", func(s *DossierSpec) { s.Documents[0].SourceSize = -1 }},
		{"unknown transforms", func(s *DossierSpec) { s.Documents[0].Transforms = []string{"zip", "base64"} }},
		{"plain size mismatch", func(s *DossierSpec) { s.Documents[0].Transforms = PlainTransforms() }},
		{"metadata rule", func(s *DossierSpec) { s.Metadata.Type = "O" }},
		{"metadata schema", func(s *DossierSpec) { s.Metadata.ID = "not-a-uuid"; s.Schemas = testSchemas(t) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.mod(&s)
			if _, err := Build(s); err == nil {
				t.Fatal("Build accepted it")
			}
		})
	}
	if _, err := Build(base()); err != nil {
		t.Fatalf("the unmodified spec: %v", err)
	}
	// A broken random source that repeats itself is caught rather than producing duplicate Ids.
	s := base()
	s.Rand = bytes.NewReader(bytes.Repeat([]byte{7}, 1<<10))
	if _, err := Build(s); err == nil {
		t.Fatal("Build accepted repeated Ids")
	}
}

func TestMetadataRules(t *testing.T) {
	set := testSchemas(t)
	tests := []struct {
		name string
		mod  func(*Metadata)
		loc  string // expected location of the first finding; "" = valid
	}{
		{"valid B", func(m *Metadata) {}, ""},
		{"valid O", func(m *Metadata) { m.Type = "O"; m.PredecessorID = "9b1e4f70-2c3d-4e5f-a6b7-c8d9e0f1a2b3" }, ""},
		{"valid 11-digit tax number", func(m *Metadata) { m.Declarant.ID = "12345676241" }, ""},
		{"B with predecessor", func(m *Metadata) { m.PredecessorID = "9b1e4f70-2c3d-4e5f-a6b7-c8d9e0f1a2b3" }, "cs:ElozmenyAzonosito"},
		{"H without predecessor", func(m *Metadata) { m.Type = "H" }, "cs:ElozmenyAzonosito"},
		{"O predecessor is itself", func(m *Metadata) { m.Type = "O"; m.PredecessorID = m.ID }, "cs:ElozmenyAzonosito"},
		{"tax number check digit", func(m *Metadata) { m.Declarant.ID = "12345678" }, "cs:Bevallo/@azonosito"},
		{"personal tax id as tax number", func(m *Metadata) { m.Declarant.ID = "8123456789" }, "cs:Bevallo/@azonosito"},
		{"TAJ check digit", func(m *Metadata) { m.Declarant = Declarant{string(declaration.IDTAJ), "123456789", "X"} }, "cs:Bevallo/@azonosito"},
		{"personal tax id check digit", func(m *Metadata) { m.Declarant = Declarant{string(declaration.IDAdoazonosito), "8000000000", "X"} }, "cs:Bevallo/@azonosito"},
		{"schema: fund", func(m *Metadata) { m.Fund = "12a4" }, "cs:Csomag"},
		{"schema: period", func(m *Metadata) { m.Period = "2026-13" }, "cs:Csomag"},
		{"schema: phone", func(m *Metadata) { m.Contact.Phone = "call me" }, "cs:Csomag"},
		{"schema: empty name", func(m *Metadata) { m.Declarant.Name = "  " }, "cs:Csomag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleMetadata()
			tc.mod(m)
			f := m.Check(set)
			if tc.loc == "" {
				if len(f) != 0 {
					t.Fatalf("findings %v", f)
				}
				data, err := m.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				back, f := DecodeMetadata(data, set)
				if len(f) != 0 || *back != *m {
					t.Fatalf("DecodeMetadata = %+v, %v", back, f)
				}
				return
			}
			if len(f) == 0 || f[0].Code != errcode.F009 || f[0].Location != tc.loc {
				t.Fatalf("findings %v, want F009 at %s first", f, tc.loc)
			}
		})
	}
}

func TestDecodeMetadataSchemaTestdata(t *testing.T) {
	set := testSchemas(t)
	files, _ := filepath.Glob(filepath.Join("..", "..", "schema", "testdata", "csomag", "*.xml"))
	if len(files) == 0 {
		t.Skip("schema/testdata/csomag not found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := readFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, findings := DecodeMetadata(data, set)
			valid := strings.HasPrefix(filepath.Base(f), "valid-")
			if !valid && (len(findings) == 0 || findings[0].Code != errcode.F009) {
				t.Fatalf("accepted: %+v", m)
			}
			if !valid {
				return
			}
			// The schema testdata are schema-valid; the rules beyond the schema may still object.
			for _, x := range findings {
				if x.Location == "cs:Csomag" {
					t.Fatalf("schema finding on a schema-valid file: %v", x)
				}
			}
			if len(findings) == 0 && m.Contact.Name == "" {
				t.Fatal("contact not decoded")
			}
		})
	}
	// valid-full.xml passes the rules beyond the schema too: collapsed name and the predecessor decode.
	data, err := readFile(filepath.Join("..", "..", "schema", "testdata", "csomag", "valid-full.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m, f := DecodeMetadata(data, set)
	if len(f) != 0 || m.Declarant.Name != "Szabó Péter egyéni vállalkozó" || m.PredecessorID == "" || m.Type != "O" ||
		m.Contact.Phone != "06 (30) 123-4567" {
		t.Errorf("valid-full decoded as %+v, %v", m, f)
	}
}

// TestMetadataInDossier checks that Metadata decodes what the dossier carries and refuses what the
// schema or rules refuse there.
func TestMetadataInDossier(t *testing.T) {
	set := testSchemas(t)
	tamper := func(t *testing.T, from, to string, opts ParseOptions) []errcode.Finding {
		t.Helper()
		data := bytes.Replace(written(t, packageSpec(pseudoPayload(10, 1))), []byte(from), []byte(to), 1)
		d := mustParse(t, data, opts)
		_, f := d.Metadata(set)
		return f
	}
	if f := tamper(t, "<cs:Penztar>0123<", "<cs:Penztar>01x3<", ParseOptions{}); len(f) == 0 || f[0].Code != errcode.F009 {
		t.Errorf("schema-invalid fund: %v", f)
	}
	if f := tamper(t, "<cs:Tipus>B<", "<cs:Tipus>H<", ParseOptions{}); len(f) == 0 || f[0].Location != "cs:ElozmenyAzonosito" {
		t.Errorf("H without predecessor: %v", f)
	}
	two := "</cs:Csomag><x:Extra xmlns:x=\"urn:x\"></x:Extra></es:Metadata>"
	if f := tamper(t, "</cs:Csomag></es:Metadata>", two, ParseOptions{Mode: Generic}); len(f) != 1 || f[0].Code != errcode.F009 {
		t.Errorf("two metadata elements: %v", f)
	}
	// An element that only looks like cs:Csomag (another namespace) is not the metadata.
	if f := tamper(t, "<cs:Csomag xmlns:cs=\"urn:x-mnyp:csomag:1\">", "<cs:Csomag xmlns:cs=\"urn:x-other\">", ParseOptions{}); len(f) != 1 {
		t.Errorf("wrong namespace: %v", f)
	}
}

func TestConformanceSampleGeneric(t *testing.T) {
	data := sharedFile(t, filepath.Join("conformance", "es3-sample.es3"))
	d := mustParse(t, data, ParseOptions{Mode: Generic})
	if d.Title != "openSzigno OpenSSL vector" || d.CreationDate.IsZero() || d.ProfileID != "dossier-profile" || d.DocumentsID != "documents" {
		t.Errorf("dossier %q %v %q %q", d.Title, d.CreationDate, d.ProfileID, d.DocumentsID)
	}
	if len(d.Documents) != 1 {
		t.Fatalf("%d documents", len(d.Documents))
	}
	doc := d.Documents[0]
	if doc.ProfileID != "prof0" || doc.ObjectID != "obj0" || doc.MIMEType != "text/plain" || doc.Extension != "txt" ||
		doc.SourceSize != 5 || !slices.Equal(doc.Transforms, []string{"base64"}) {
		t.Errorf("document %+v", doc)
	}
	p, err := d.Payload(0)
	if err != nil || string(p) != "hello" {
		t.Errorf("Payload = %q, %v", p, err)
	}
	if len(d.Signatures) != 1 || d.Signatures[0].ID != "sig0" || d.Signatures[0].Document != 0 {
		t.Errorf("signatures %+v", d.Signatures)
	}
	if n, ok := d.Lookup("sigprof0"); !ok || n.LocalName() != "SignatureProfile" {
		t.Error("signature profile Id not indexed")
	}
	// Strict mode refuses the document-level signature (Tagdíj signs at dossier level).
	if _, err := Parse(data, ParseOptions{}); codeOf(err) != errcode.T005 {
		t.Errorf("strict Parse of the sample: %v", err)
	}
	// So the strict refusal is due to the signature alone: without it strict mode accepts the rest.
	noSig := regexp.MustCompile(`(?s)<ds:Signature Id="sig0">.*</ds:Signature>`).ReplaceAll(data, nil)
	if _, err := Parse(noSig, ParseOptions{}); err != nil {
		t.Errorf("strict Parse of the sample without its signature: %v", err)
	}
}

func TestPayloadEncodings(t *testing.T) {
	content := []byte("Tagdíj payload \x00\xff bytes!") // 28 bytes: the base64 ends in "="
	b64 := base64.StdEncoding.EncodeToString(content)
	ok := map[string]string{
		"one line":        b64,
		"spaces and tabs": " \t" + b64[:5] + " " + b64[5:9] + "\t\n" + b64[9:] + "\n ",
		"CDATA":           "<![CDATA[" + b64[:8] + "]]>" + b64[8:],
		"comment inside":  b64[:4] + "<!-- x -->" + b64[4:],
	}
	for name, text := range ok {
		t.Run(name, func(t *testing.T) {
			d := mustParse(t, withObjectText(t, text), ParseOptions{})
			got, err := d.Payload(0)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("Payload = %q, %v", got, err)
			}
		})
	}
	bad := map[string]struct {
		text string
		code errcode.Code
	}{
		"non-alphabet":          {b64[:4] + "*" + b64[4:], errcode.T005},
		"URL alphabet":          {"QUJD-_==", errcode.T005},
		"missing padding":       {strings.TrimRight(b64, "="), errcode.T005},
		"data after padding":    {"QQ==QUJD", errcode.T005},
		"data after pad, split": {"QQ== QUJD", errcode.T005},
		"non-zero pad bits":     {"QR==", errcode.T005},
		"truncated":             {"QUJ", errcode.T005},
		"escaped ampersand":     {"QUJD&amp;", errcode.T005},
		"CR reference":          {"QUJD&#13;QUJD", errcode.T005},
		"gt":                    {"QUJD&gt;", errcode.T005},
		"processing instr.":     {"QUJD<?pi x?>QUJD", errcode.T005},
		"empty":                 {"", errcode.F011},
		"whitespace only":       {" \n ", errcode.F011},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			d := mustParse(t, withObjectText(t, tc.text), ParseOptions{})
			if _, err := d.Payload(0); codeOf(err) != tc.code {
				t.Fatalf("Payload: %v, want %s", err, tc.code)
			}
		})
	}
	t.Run("size limit", func(t *testing.T) {
		data := written(t, packageSpec(pseudoPayload(200_000, 2)))
		d := mustParse(t, data, ParseOptions{MaxPayloadBytes: 199_999})
		if _, err := d.Payload(0); codeOf(err) != errcode.T003 {
			t.Fatalf("Payload over the limit: %v", err)
		}
		d = mustParse(t, data, ParseOptions{MaxPayloadBytes: 200_000})
		if _, err := d.Payload(0); err != nil {
			t.Fatalf("Payload at the limit: %v", err)
		}
	})
	t.Run("attribute with >", func(t *testing.T) {
		data := withObjectText(t, b64)
		data = bytes.Replace(data, []byte("<ds:Object "), []byte(`<ds:Object MimeType="a&gt;b&quot;>" `), 1)
		d := mustParse(t, data, ParseOptions{})
		if got, err := d.Payload(0); err != nil || !bytes.Equal(got, content) {
			t.Fatalf("Payload = %q, %v", got, err)
		}
	})
	t.Run("last transform not base64", func(t *testing.T) {
		data := withObjectText(t, b64)
		data = bytes.Replace(data, []byte(`Algorithm="base64"`), []byte(`Algorithm="hex"`), 1)
		d := mustParse(t, data, ParseOptions{Mode: Generic})
		if _, err := d.Payload(0); codeOf(err) != errcode.F007 {
			t.Fatalf("Payload: %v", err)
		}
	})
}

// withObjectText returns a built receipt whose payload object text is replaced by text (raw XML).
func withObjectText(t *testing.T, text string) []byte {
	t.Helper()
	data := written(t, receiptSpec())
	re := regexp.MustCompile(`(?s)(<ds:Object [^>]*>).*(</ds:Object>)`)
	return re.ReplaceAll(data, []byte("${1}"+strings.ReplaceAll(text, "$", "$$")+"${2}"))
}
