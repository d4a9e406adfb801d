package policy

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
)

func mustProduction(t testing.TB) *Policy {
	t.Helper()
	p, err := Production()
	if err != nil {
		t.Fatalf("production policy: %v", err)
	}
	return p
}

func mustSandbox(t testing.TB) *Policy {
	t.Helper()
	p, err := Sandbox()
	if err != nil {
		t.Fatalf("sandbox policy: %v", err)
	}
	return p
}

// TestEmbeddedDocumentsValidate validates both documents against the schema with libxml directly, not
// through Parse, so that a Parse bug cannot hide an invalid document.
func TestEmbeddedDocumentsValidate(t *testing.T) {
	schema, err := libxml.CompileSchema("szabalyzat.xsd", Schema())
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	defer schema.Close()
	for name, data := range map[string][]byte{"production": ProductionDocument(), "sandbox": SandboxDocument()} {
		doc, err := libxml.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		doc.Close()
	}
}

// TestEmbeddedDocumentsXmllint cross-checks the schema verdicts with xmllint, a second consumer of
// the same XSD.
func TestEmbeddedDocumentsXmllint(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed (make deps installs it)")
	}
	dir := t.TempDir()
	xsd := filepath.Join(dir, "szabalyzat.xsd")
	if err := os.WriteFile(xsd, Schema(), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(ProductionDocument(), []byte("<TurelmiIdo>PT4H</TurelmiIdo>"), []byte("<TurelmiIdo>P1Y</TurelmiIdo>"), 1)
	for name, c := range map[string]struct {
		data  []byte
		valid bool
	}{
		"production": {ProductionDocument(), true},
		"sandbox":    {SandboxDocument(), true},
		"years":      {bad, false},
	} {
		f := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(f, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", xsd, f).CombinedOutput()
		if (err == nil) != c.valid {
			t.Errorf("%s: xmllint valid=%v, want %v: %s", name, err == nil, c.valid, out)
		}
		if _, perr := Parse(c.data); (perr == nil) != c.valid {
			t.Errorf("%s: Parse err=%v, want valid=%v", name, perr, c.valid)
		}
	}
}

func TestProductionValues(t *testing.T) {
	p := mustProduction(t)
	if p.ID() != "urn:x-mnyp:alairasi-szabalyzat:tagdij:1.0" || p.Version != "1.0" || p.Test {
		t.Fatalf("identity: id=%q version=%q test=%v", p.ID(), p.Version, p.Test)
	}
	// SPEC §3 and SND-23: these are the legal values, not implementation echoes.
	for m, want := range map[RevocationMethod]time.Duration{OCSP: 4 * time.Hour, CRL: 24 * time.Hour} {
		if g, ok := p.Grace(m); !ok || g != want {
			t.Errorf("grace %s = %v, %v; want %v", m, g, ok, want)
		}
	}
	if p.Revocation.Methods[0].Method != OCSP || p.Revocation.Methods[1].Method != CRL {
		t.Errorf("revocation order %v, want OCSP then CRL", p.Revocation.Methods)
	}
	if p.Gaps.SigningToTimestamp != 30*time.Minute || p.Gaps.TimestampToArrival != 72*time.Hour || p.Gaps.ClockSkew != 5*time.Minute {
		t.Errorf("gaps %+v", p.Gaps)
	}
	if p.Algorithms.MinRSABits != 2048 {
		t.Errorf("min RSA %d", p.Algorithms.MinRSABits)
	}
	pkg, _ := p.Document(KindPackage)
	rcpt, _ := p.Document(KindReceipt)
	if pkg.Commitment != ProofOfOrigin || rcpt.Commitment != ProofOfReceipt || pkg.Level != LevelQualified || rcpt.Level != LevelAdvanced {
		t.Errorf("documents: %+v / %+v", pkg, rcpt)
	}
	signer, ok := p.Authorities.Role(pkg.SignerRole)
	if !ok || !signer.Qualified || !signer.requires(oidQcCompliance) || !signer.requires(oidQcSSCD) ||
		signer.KeyUsage != x509.KeyUsageContentCommitment || !signer.KeyUsageAll {
		t.Errorf("signer role %+v", signer)
	}
	tsa, ok := p.Authorities.Role(p.Timestamp.Role)
	if !ok || tsa.ExtKeyUsage != x509.ExtKeyUsageTimeStamping || !tsa.EKUCritical || !tsa.Qualified {
		t.Errorf("TSA role %+v", tsa)
	}
	if !p.Receipt.TLSKeyForbidden || !p.Receipt.Timestamp || !p.Receipt.EveryUpload {
		t.Errorf("receipt rules %+v", p.Receipt)
	}
}

func TestSandboxSaysTest(t *testing.T) {
	p := mustSandbox(t)
	if !p.Test || !strings.Contains(p.ID(), "TESZT") || !strings.Contains(p.ID(), "sandbox") {
		t.Fatalf("sandbox identity: test=%v id=%q", p.Test, p.ID())
	}
	for _, s := range []string{p.Title.HU, p.Description.HU} {
		if !strings.Contains(s, "TESZT") || !strings.Contains(s, "jogi hatály") && !strings.Contains(s, "JOGI HATÁLYA") {
			t.Errorf("Hungarian text does not say TESZT / no legal effect: %q", s)
		}
	}
	for _, s := range []string{p.Title.EN, p.Description.EN} {
		if !strings.Contains(s, "TEST") || !strings.Contains(strings.ToLower(s), "no legal effect") {
			t.Errorf("English text does not say TEST / no legal effect: %q", s)
		}
	}
	if g, _ := p.Grace(OCSP); g != 2*time.Second {
		t.Errorf("sandbox OCSP grace %v", g)
	}
	if g, _ := p.Grace(CRL); g != 5*time.Second {
		t.Errorf("sandbox CRL grace %v", g)
	}
	// Test data may carry past dates; the production policy refuses them.
	old := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := p.CheckValidAt(old); err != nil || mustProduction(t).CheckValidAt(old) == nil {
		t.Errorf("validity: sandbox %v, production accepts %v", err, old)
	}
	if bytes.Equal(p.Digest(), mustProduction(t).Digest()) || p.ID() == mustProduction(t).ID() {
		t.Error("sandbox and production share identity or digest")
	}
}

func TestDigest(t *testing.T) {
	p := mustProduction(t)
	sum := sha256.Sum256(ProductionDocument())
	if !bytes.Equal(p.Digest(), sum[:]) {
		t.Fatalf("Digest %x, sha256(document) %x", p.Digest(), sum)
	}
	raw := p.Raw()
	if r := sha256.Sum256(raw); !bytes.Equal(r[:], p.Digest()) {
		t.Fatal("Digest is not sha256(Raw)")
	}
	// Stable across parses and immune to callers writing into the returned slices.
	raw[0] ^= 0xff
	d := p.Digest()
	d[0] ^= 0xff
	if q := mustProduction(t); !bytes.Equal(q.Digest(), sum[:]) || !bytes.Equal(p.Digest(), sum[:]) || !bytes.Equal(p.Raw(), ProductionDocument()) {
		t.Fatal("digest or raw changed")
	}
	// One byte changed in a comment: still a valid policy, but another digest.
	doc := ProductionDocument()
	i := bytes.Index(doc, []byte("Tagdíj signature policy 1.0"))
	if i < 0 {
		t.Fatal("comment not found")
	}
	doc[i] = 't'
	q, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(q.Digest(), p.Digest()) {
		t.Fatal("digest did not change with the document")
	}
	if err := p.CheckSignaturePolicy(q.ID(), crypto.SHA256, q.Digest()); err == nil {
		t.Fatal("a signature naming the modified document's digest passed against the original")
	}
}

func TestFreshValues(t *testing.T) {
	a := mustProduction(t)
	a.Gaps.SigningToTimestamp = time.Hour
	a.Documents[0].Formats[0].MIME = "x/y"
	b := mustProduction(t)
	if b.Gaps.SigningToTimestamp != 30*time.Minute || b.Documents[0].Formats[0].MIME != "application/pkcs7-mime" {
		t.Fatal("Production returned shared state")
	}
}

// TestConcurrentParse exercises the shared compiled schema from several goroutines (run with -race).
func TestConcurrentParse(t *testing.T) {
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			doc := ProductionDocument()
			if i%2 == 1 {
				doc = SandboxDocument()
			}
			_, err := Parse(doc)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "p.xml")
	if err := os.WriteFile(good, SandboxDocument(), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Digest(), mustSandbox(t).Digest()) {
		t.Fatal("loaded digest differs")
	}
	if _, err := Load(filepath.Join(dir, "missing.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.xml")
	padded := append(SandboxDocument(), bytes.Repeat([]byte(" "), MaxDocumentSize)...)
	if err := os.WriteFile(big, padded, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "big.xml") {
		t.Fatalf("oversize file: %v", err)
	}
}

// TestInvalidDocuments mutates the production document and expects a clear refusal.
func TestInvalidDocuments(t *testing.T) {
	prod := string(ProductionDocument())
	sandbox := string(SandboxDocument())
	rep := func(doc, old, new string) string {
		t.Helper()
		if !strings.Contains(doc, old) {
			t.Fatalf("fixture: %q not in document", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	cases := []struct {
		name, doc, want string
		forbidden       bool
	}{
		{name: "missing required element", doc: rep(prod, "<Verzio>1.0</Verzio>", ""), want: "Verzio"},
		{name: "bad duration", doc: rep(prod, "<TurelmiIdo>PT4H</TurelmiIdo>", "<TurelmiIdo>4 hours</TurelmiIdo>"), want: "TurelmiIdo"},
		{name: "duration in years", doc: rep(prod, "<MaxKor>P7D</MaxKor>", "<MaxKor>P1Y</MaxKor>"), want: "MaxKor"},
		{name: "zero grace", doc: rep(prod, "<TurelmiIdo>PT4H</TurelmiIdo>", "<TurelmiIdo>PT0S</TurelmiIdo>"), want: "positive"},
		{name: "DOCTYPE", doc: rep(prod, "<Szabalyzat ", "<!DOCTYPE Szabalyzat [<!ENTITY x \"y\">]>\n<Szabalyzat "), want: "DOCTYPE", forbidden: true},
		{name: "wrong namespace", doc: rep(prod, `xmlns="urn:x-mnyp:alairasi-szabalyzat:1"`, `xmlns="urn:other"`), want: "root element"},
		{name: "not well-formed", doc: rep(prod, "</Verzio>", "</Verzi>"), want: "malformed"},
		{name: "English text missing", doc: rep(prod, `<Leiras xml:lang="en">This policy`, `<Leiras xml:lang="de">This policy`), want: `xml:lang "de"`},
		{name: "two Hungarian texts", doc: rep(prod, `<Megnevezes xml:lang="en">`, `<Megnevezes xml:lang="hu">`), want: "two Hungarian"},
		{name: "production claims TESZT id", doc: rep(prod, "tagdij:1.0</Azonosito>", "tagdij-TESZT:1.0</Azonosito>"), want: "Teszt is false"},
		{name: "sandbox without TESZT id", doc: rep(sandbox, "tagdij-sandbox-TESZT:1.0", "tagdij-sandbox:1.0"), want: "TESZT or TEST"},
		{name: "id without version", doc: rep(prod, "tagdij:1.0</Azonosito>", "tagdij:2.0</Azonosito>"), want: "must end with the version"},
		{name: "SHA-1 accepted", doc: rep(prod, "<Lenyomat>SHA-256</Lenyomat>", "<Lenyomat>SHA-1</Lenyomat>"), want: "Lenyomat"},
		{name: "RSA 1024", doc: rep(prod, "<MinRSAMeret>2048</MinRSAMeret>", "<MinRSAMeret>1024</MinRSAMeret>"), want: "MinRSAMeret"},
		{name: "P-224", doc: rep(prod, "<Gorbe>P-384</Gorbe>", "<Gorbe>P-224</Gorbe>"), want: "Gorbe"},
		{name: "package with ProofOfReceipt", doc: rep(prod, "#ProofOfOrigin", "#ProofOfReceipt"), want: "SND-19"},
		{name: "package advanced only", doc: rep(prod, "<AlairasSzint>minositett</AlairasSzint>", "<AlairasSzint>fokozott</AlairasSzint>"), want: "GEN-04"},
		{name: "timestamp dropped", doc: rep(prod, "<Tulajdonsag>SignatureTimeStamp</Tulajdonsag>", ""), want: "SignatureTimeStamp is required"},
		{name: "signed property in unsigned list", doc: rep(prod, "<Tulajdonsag>CompleteCertificateRefs</Tulajdonsag>", "<Tulajdonsag>CompleteCertificateRefs</Tulajdonsag><Tulajdonsag>SigningTime</Tulajdonsag>"), want: "wrong list"},
		{name: "unknown role", doc: rep(prod, "<Hitelesito>alairo</Hitelesito>", "<Hitelesito>senki</Hitelesito>"), want: "DokumentumHitelesito"},
		{name: "signer role not qualified", doc: rep(prod, `<QcStatement oid="0.4.0.1862.1.4">QcSSCD</QcStatement>`, ""), want: "QcSSCD"},
		{name: "TSA EKU not critical", doc: rep(prod, `kritikus="true">timeStamping`, `kritikus="false">timeStamping`), want: "critical timeStamping"},
		{name: "timestamps per signer", doc: rep(prod, "<UtolsoAlairasUtan>true</UtolsoAlairasUtan>", "<UtolsoAlairasUtan>false</UtolsoAlairasUtan>"), want: "SND-12"},
		{name: "TLS key allowed", doc: rep(prod, "<TLSKulcsTilos>true</TLSKulcsTilos>", "<TLSKulcsTilos>false</TLSKulcsTilos>"), want: "TLSKulcsTilos"},
		{name: "validity reversed", doc: rep(prod, "<Kezdete>2026-01-01T00:00:00Z</Kezdete>", "<Kezdete>2026-01-01T00:00:00Z</Kezdete><Vege>2025-01-01T00:00:00Z</Vege>"), want: "not after"},
		{name: "validity without zone", doc: rep(prod, "<Kezdete>2026-01-01T00:00:00Z</Kezdete>", "<Kezdete>2026-01-01T00:00:00</Kezdete>"), want: "Kezdete"},
		{name: "unknown c14n", doc: rep(prod, "<Kanonizalas>http://www.w3.org/2006/12/xml-c14n11</Kanonizalas>", "<Kanonizalas>http://example.org/c14n</Kanonizalas>"), want: "Kanonizalas"},
		{name: "pin with bad length", doc: rep(prod, "</KulcsHasznalat>\n    </Szerep>", "</KulcsHasznalat><Horgony><Megnevezes>x</Megnevezes><UjjlenyomatSHA256>abcd</UjjlenyomatSHA256></Horgony>\n    </Szerep>"), want: "UjjlenyomatSHA256"},
		{name: "ISO-8859-2", doc: rep(prod, `encoding="UTF-8"`, `encoding="ISO-8859-2"`), want: "must be UTF-8"},
		{name: "unknown element", doc: rep(prod, "<Teszt>false</Teszt>", "<Teszt>false</Teszt><Extra/>"), want: "Extra"},
		{name: "empty", doc: "", want: "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse([]byte(c.doc))
			if err == nil {
				t.Fatalf("accepted: %s", p.ID())
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			if c.forbidden && !errors.Is(err, libxml.ErrForbidden) {
				t.Errorf("error does not match libxml.ErrForbidden: %v", err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT4H", 4 * time.Hour, true},
		{"PT24H", 24 * time.Hour, true},
		{"P7D", 7 * 24 * time.Hour, true},
		{"P1DT2H3M4S", 26*time.Hour + 3*time.Minute + 4*time.Second, true},
		{"PT2S", 2 * time.Second, true},
		{"PT0.5S", 500 * time.Millisecond, true},
		{"PT1.000000001S", time.Second + 1, true},
		{"PT30M", 30 * time.Minute, true},
		{"PT0S", 0, true},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1Y", 0, false},
		{"P1M", 0, false},
		{"-PT1H", 0, false},
		{"PT1H30", 0, false},
		{"PT30M1H", 0, false},
		{"PT1.0000000001S", 0, false},
		{"PT.5S", 0, false},
		{"4h", 0, false},
		{"PT99999999999999999999H", 0, false},
		{"PT9223372037S", 0, false}, // above time.Duration's range
		{"", 0, false},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// TestCodesMatchCatalogue keeps this package's plain codes in step with the project's catalogue:
// same severity, and a property's code names that property in the catalogue's text.
func TestCodesMatchCatalogue(t *testing.T) {
	p := mustProduction(t)
	for _, kind := range []DocKind{KindPackage, KindReceipt} {
		for _, prop := range append(p.RequiredSignedProperties(kind), p.RequiredUnsignedProperties(kind)...) {
			info, ok := errcode.Lookup(errcode.Code(prop.Code))
			if !ok {
				t.Errorf("%s: code %s not in the catalogue", prop.Name, prop.Code)
				continue
			}
			if prop.Code != F008 && !strings.Contains(info.EN, prop.Name) {
				t.Errorf("%s has code %s, but the catalogue says %q", prop.Name, prop.Code, info.EN)
			}
		}
	}
	for _, c := range []Code{T003, F001, F002, F003, F004, F005, F006, F007, F008, A003, A004, A007, A008, A009, A010, A013} {
		info, ok := errcode.Lookup(errcode.Code(c))
		if !ok || string(info.Severity) != string(SeverityError) {
			t.Errorf("code %s: catalogue %+v, %v", c, info, ok)
		}
	}
}
