package es3

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

const (
	pkgTitle     = "TBA_12345676_0123_202601_B001_20260210T081200Z.es3"
	receiptTitle = "TBN_12345676_0123_202601_B001_20260210T081200Z.es3"
	contTitle    = "TBK_12345676_0123_202601_B001_20260210T081200Z.es3"
)

var created = time.Date(2026, 2, 10, 8, 12, 0, 0, time.UTC)

// seeded returns a reproducible random stream for Ids.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

var (
	schemasOnce sync.Once
	schemas     *schema.Set
	schemasErr  error
)

// testSchemas compiles the embedded schemas once for the whole test binary.
func testSchemas(t testing.TB) *schema.Set {
	t.Helper()
	schemasOnce.Do(func() { schemas, schemasErr = schema.Load(libxml.Parser{}) })
	if schemasErr != nil {
		t.Fatalf("schema.Load: %v", schemasErr)
	}
	return schemas
}

func sampleMetadata() *Metadata {
	return &Metadata{
		ID:        "3f2c8a4e-1b7d-4c9a-8e21-5d0f6a7b9c13",
		Fund:      "0123",
		Declarant: Declarant{IDType: string(declaration.IDAdoszam), ID: "12345676", Name: "Mintaker Kft."},
		Period:    "2026-01",
		Type:      "B",
		Contact:   Contact{Name: "Kovács Éva", Phone: "+36 1 234 5678", Address: "1051 Budapest, Nádor utca 7."},
	}
}

// pseudoPayload returns n reproducible bytes standing in for a CMS EnvelopedData.
func pseudoPayload(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = seeded(seed).Read(b)
	return b
}

func packageSpec(payload []byte) DossierSpec {
	return DossierSpec{
		Title:    pkgTitle,
		Created:  created,
		Metadata: sampleMetadata(),
		Documents: []DocumentSpec{{
			Title: "bevallas.xml", MIMEType: MIMEXML, SourceSize: int64(len(payload)) * 7,
			Transforms: EncryptedTransforms(), Content: payload,
		}},
		Rand: seeded(1),
	}
}

const receiptXML = `<?xml version="1.0" encoding="UTF-8"?><Nyugta xmlns="urn:x-mnyp:nyugta:1"><Eredmeny>BEFOGADVA</Eredmeny></Nyugta>`

func receiptSpec() DossierSpec {
	return DossierSpec{
		Title:   receiptTitle,
		Created: created.Add(time.Minute),
		Documents: []DocumentSpec{{
			Title: "nyugta.xml", MIMEType: MIMEXML, SourceSize: int64(len(receiptXML)),
			Transforms: PlainTransforms(), Content: []byte(receiptXML),
		}},
		Rand: seeded(2),
	}
}

func containerSpec(pkg, rcpt []byte) DossierSpec {
	kont := []byte(`<?xml version="1.0" encoding="UTF-8"?><Kontener xmlns="urn:x-mnyp:kontener:1"/>`)
	other := etree.NewElement("k:Kontener")
	other.CreateAttr("xmlns:k", "urn:x-mnyp:kontener:1")
	other.CreateAttr("csomag", pkgTitle)
	plain := func(title, mime string, b []byte) DocumentSpec {
		return DocumentSpec{Title: title, MIMEType: mime, SourceSize: int64(len(b)), Transforms: PlainTransforms(), Content: b}
	}
	return DossierSpec{
		Title:         contTitle,
		Created:       created.Add(2 * time.Minute),
		OtherMetadata: other,
		Documents: []DocumentSpec{
			plain(pkgTitle, MIMEES3, pkg),
			plain(receiptTitle, MIMEES3, rcpt),
			plain("kontener.xml", MIMEXML, kont),
		},
		Rand: seeded(3),
	}
}

// written builds spec and writes it.
func written(t testing.TB, spec DossierSpec) []byte {
	t.Helper()
	doc, err := Build(spec)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, doc); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

// mustParse parses data or fails; the dossier is closed at cleanup.
func mustParse(t testing.TB, data []byte, opts ParseOptions) *Dossier {
	t.Helper()
	d, err := Parse(data, opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// codeOf returns the SPEC §7 code of an *Error, or "" for anything else.
func codeOf(err error) errcode.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return ""
}

// sharedFile locates a file under the project's shared directory ($TAGDIJ_SHARED, or ../../../shared
// from this package) and skips the test when it is missing.
func sharedFile(t testing.TB, rel string) []byte {
	t.Helper()
	dir := os.Getenv("TAGDIJ_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	p := filepath.Join(dir, rel)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("conformance file %s unavailable (set TAGDIJ_SHARED): %v", p, err)
	}
	return data
}

func writeFile(p string, data []byte) error { return os.WriteFile(p, data, 0o600) }

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

func libxmlExc() libxml.C14N { return libxml.C14N{Method: libxml.ExcC14N10} }

// validPersonalTaxID returns a personal tax id with a correct check digit.
func validPersonalTaxID(t testing.TB) string {
	t.Helper()
	d, ok := hunid.AdoazonositoCheckDigit("812345678")
	if !ok || d > '9' {
		t.Fatal("no check digit for 812345678")
	}
	return "812345678" + string(rune(d))
}
