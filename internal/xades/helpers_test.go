package xades

import (
	"bytes"
	"context"
	"crypto/x509"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/policy"
)

const pkgTitle = "TBA_12345676_0123_202601_B001_20260210T081200Z.es3"

// fixture is a running sandbox with the trust environment and TSA client a test needs.
type fixture struct {
	sb  *sandboxtest.Env
	pol *policy.Policy
	env *trust.Env // online, clocked by the sandbox
	tsa *tsp.Client
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}}, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	env.Online.Now = sb.Clock.Now
	tsa := &tsp.Client{URL: sb.TSAURL, Trust: pathval.TSAVerifier{Anchors: env.TSAs, Algorithms: env.Algorithms()}, Now: sb.Clock.Now}
	return &fixture{sb: sb, pol: pol, env: env, tsa: tsa}
}

func (f *fixture) signers(t testing.TB, employer string) []*sandbox.Entity {
	t.Helper()
	s, err := f.sb.World.Signers(employer)
	if err != nil || len(s) == 0 {
		t.Fatalf("signers of %s: %v", employer, err)
	}
	return s
}

func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func metadata() *es3.Metadata {
	return &es3.Metadata{
		ID:        "3f2c8a4e-1b7d-4c9a-8e21-5d0f6a7b9c13",
		Fund:      "0123",
		Declarant: es3.Declarant{IDType: string(declaration.IDAdoszam), ID: "12345676", Name: "Példa Kft."},
		Period:    "2026-01",
		Type:      "B",
		Contact:   es3.Contact{Name: "Kovács Éva", Phone: "+36 1 234 5678", Address: "1051 Budapest, Nádor utca 7."},
	}
}

const declXML = `<?xml version="1.0" encoding="UTF-8"?><Bevallas xmlns="urn:x-mnyp:tagdijbevallas:1"><Osszesito/></Bevallas>`

// encryptedPackage builds an encrypted package whose declaration is size bytes (at least the
// declaration above), encrypted to the fund and the employer.
func (f *fixture) encryptedPackage(t testing.TB, size int) []byte {
	t.Helper()
	src := []byte(declXML)
	if size > len(src) {
		pad := make([]byte, size-len(src))
		_, _ = seeded(9).Read(pad)
		// Keep the payload compressible-ish but not trivially: printable filler in a comment.
		for i := range pad {
			pad[i] = 'a' + pad[i]%26
		}
		src = append([]byte(declXML[:len(declXML)-len("</Bevallas>")]+"<!--"), pad...)
		src = append(src, []byte("--></Bevallas>")...)
	}
	var zipped bytes.Buffer
	if err := payload.Zip(&zipped, payload.EntryName, bytes.NewReader(src)); err != nil {
		t.Fatal(err)
	}
	fund := f.sb.World.MustEntity(sandbox.FundEncryption)
	org, err := f.sb.World.Employer("pelda")
	if err != nil {
		t.Fatal(err)
	}
	own := f.sb.World.MustEntity(org.Encryption)
	cms, err := cmsenc.Encrypt(zipped.Bytes(), []*x509.Certificate{fund.Cert, own.Cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return written(t, es3.DossierSpec{
		Title: pkgTitle, Created: f.sb.Clock.Now(), Metadata: metadata(),
		Documents: []es3.DocumentSpec{{Title: "bevallas.xml", MIMEType: es3.MIMEXML, SourceSize: int64(len(src)),
			Transforms: es3.EncryptedTransforms(), Content: cms}},
		Rand: seeded(1),
	})
}

// receiptDossier builds a plain receipt dossier.
func (f *fixture) receiptDossier(t testing.TB) []byte {
	t.Helper()
	rx := []byte(`<?xml version="1.0" encoding="UTF-8"?><Nyugta xmlns="urn:x-mnyp:nyugta:1"><Eredmeny>BEFOGADVA</Eredmeny></Nyugta>`)
	return written(t, es3.DossierSpec{
		Title: "TBN_12345676_0123_202601_B001_20260210T081200Z.es3", Created: f.sb.Clock.Now(),
		Documents: []es3.DocumentSpec{{Title: "nyugta.xml", MIMEType: es3.MIMEXML, SourceSize: int64(len(rx)),
			Transforms: es3.PlainTransforms(), Content: rx}},
		Rand: seeded(2),
	})
}

func written(t testing.TB, spec es3.DossierSpec) []byte {
	t.Helper()
	doc, err := es3.Build(spec)
	if err != nil {
		t.Fatalf("es3.Build: %v", err)
	}
	var buf bytes.Buffer
	if err := es3.Write(&buf, doc); err != nil {
		t.Fatalf("es3.Write: %v", err)
	}
	return buf.Bytes()
}

// sign adds one signature by e.
func (f *fixture) sign(t testing.TB, data []byte, e *sandbox.Entity, kind policy.DocKind, mod func(*SignOptions)) ([]byte, string) {
	t.Helper()
	opts := SignOptions{Signer: e.Key, Certificate: e.Cert, Chain: e.Chain, Policy: f.pol, Kind: kind,
		SigningTime: f.sb.Clock.Now(), Generator: "xades test"}
	if mod != nil {
		mod(&opts)
	}
	out, id, err := Sign(context.Background(), data, opts)
	if err != nil {
		t.Fatalf("Sign by %s: %v", e.Name, err)
	}
	return out, id
}

func (f *fixture) timestamp(t testing.TB, data []byte) []byte {
	t.Helper()
	out, _, err := Timestamp(context.Background(), data, TimestampOptions{TSA: f.tsa})
	if err != nil {
		t.Fatalf("Timestamp: %v", err)
	}
	return out
}

// signedPackage is an encrypted package signed by the first n pelda signers and time-stamped.
func (f *fixture) signedPackage(t testing.TB, n int) ([]byte, []string) {
	t.Helper()
	data := f.encryptedPackage(t, 0)
	var ids []string
	for _, s := range f.signers(t, "pelda")[:n] {
		var id string
		data, id = f.sign(t, data, s, policy.KindPackage, nil)
		ids = append(ids, id)
	}
	return f.timestamp(t, data), ids
}

func (f *fixture) verify(t testing.TB, data []byte, kind policy.DocKind, env *trust.Env, now time.Time) *report.Document {
	t.Helper()
	if env == nil {
		env = f.env
	}
	if now.IsZero() {
		now = f.sb.Clock.Now()
	}
	doc, err := Verify(context.Background(), data, VerifyOptions{Env: env, Kind: kind, Now: now, FileName: pkgTitle})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return doc
}

// afterGrace moves the sandbox clock past every grace period of the sandbox policy.
func (f *fixture) afterGrace() { f.sb.Clock.Advance(6 * time.Second) }

func codes(v report.Verdict) []errcode.Code {
	var out []errcode.Code
	for _, f := range v.Findings {
		if f.Severity == errcode.Error {
			out = append(out, f.Code)
		}
	}
	return out
}

func hasCode(v report.Verdict, c errcode.Code) bool {
	for _, f := range v.Findings {
		if f.Code == c {
			return true
		}
	}
	return false
}

// expect checks a document verdict.
func expect(t testing.TB, name string, d *report.Document, ind report.Indication, sub report.SubIndication, code errcode.Code) {
	t.Helper()
	all := d.Verdict
	for _, s := range d.Signatures {
		all.Findings = append(all.Findings, s.Verdict.Findings...)
	}
	if d.Verdict.Indication != ind || (sub != "" && d.Verdict.Sub != sub) {
		t.Fatalf("%s: %s/%s %v, want %s/%s %s", name, d.Verdict.Indication, d.Verdict.Sub, all.Findings, ind, sub, code)
	}
	if code != "" && !hasCode(all, code) {
		t.Fatalf("%s: codes %v, want %s", name, codes(all), code)
	}
}
