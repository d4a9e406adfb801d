package receiptpkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

var (
	setOnce sync.Once
	theSet  *schema.Set
	setErr  error
)

func schemas(t testing.TB) *schema.Set {
	t.Helper()
	setOnce.Do(func() { theSet, setErr = schema.Load(libxml.Parser{}) })
	if setErr != nil {
		t.Fatal(setErr)
	}
	return theSet
}

type fixture struct {
	sb      *sandboxtest.Env
	pol     *policy.Policy
	env     *trust.Env // online, on the sandbox clock
	offline *trust.Env
	tsa     *tsp.Client
	key     *sandbox.Entity // fund-receipt
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	cfg := trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}}
	env, err := trust.Load(cfg, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	env.Online.Now = sb.Clock.Now
	cfg.Offline = true
	off, err := trust.Load(cfg, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	tsa := &tsp.Client{URL: sb.TSAURL, Trust: pathval.TSAVerifier{Anchors: env.TSAs, Algorithms: env.Algorithms()}, Now: sb.Clock.Now}
	return &fixture{sb: sb, pol: pol, env: env, offline: off, tsa: tsa, key: sb.World.MustEntity(sandbox.FundReceipt)}
}

func (f *fixture) opts() BuildOptions {
	return BuildOptions{Signer: f.key.Key, Certificate: f.key.Cert, Chain: f.key.Chain, Policy: f.pol, TSA: f.tsa,
		Now: f.sb.Clock.Now(), TLSCertificates: []*x509.Certificate{f.sb.World.MustEntity(sandbox.FundTLS).Cert}}
}

const pkgName = "TBA_12345676_0101_202601_B001_20260210T081200Z.es3"

func acceptance(t testing.TB, arrival time.Time) *receipt.Receipt {
	t.Helper()
	r, err := receipt.NewAcceptance(
		receipt.ReceivedPackage{FileName: pkgName, Size: 4096, SHA256: sha256.Sum256([]byte("package")),
			SubmissionID: "3f2c8a4e-1b7d-4c9a-8e21-5d0f6a7b9c13", Period: declaration.Period{Year: 2026, Month: time.January}, Type: declaration.Normal},
		arrival, receipt.Fund{Code: "0101", Name: "Tagdíj Sandbox Magánnyugdíjpénztár"},
		receipt.Declarant{IDType: declaration.IDAdoszam, ID: "12345676", Name: "Példa Kft."},
		receipt.PreCheck{State: receipt.Incomplete}, arrival.Add(4*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) verify(t testing.TB, data []byte, env *trust.Env) (*receipt.Receipt, *report.Document, error) {
	t.Helper()
	return Verify(context.Background(), data, VerifyOptions{Env: env, Now: f.sb.Clock.Now(), Schemas: schemas(t), FileName: "receipt.es3"})
}

// TestBuildVerify builds a receipt package and verifies it before and after the grace period.
func TestBuildVerify(t *testing.T) {
	f := newFixture(t)
	r := acceptance(t, f.sb.Clock.Now())
	data, name, err := Build(context.Background(), r, f.opts())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if name != "TBN_12345676_0101_202601_B001_20260210T081200Z.es3" {
		t.Errorf("name %s", name)
	}
	// The shape: one plain nyugta.xml, the title is the name, one signature with a time-stamp.
	d, err := es3.Parse(data, es3.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != name || len(d.Documents) != 1 || d.Documents[0].Title != DocumentTitle || d.Documents[0].MIMEType != "text/xml" ||
		d.Documents[0].Encrypted() || strings.Join(d.Documents[0].Transforms, ",") != "base64" || len(d.Signatures) != 1 {
		t.Errorf("shape: title %s, documents %+v, %d signatures", d.Title, d.Documents, len(d.Signatures))
	}
	d.Close()

	got, rep, err := f.verify(t, data, f.env)
	if err != nil || rep.Verdict.Indication != report.Indeterminate || rep.Verdict.Sub != report.TryLater {
		t.Fatalf("inside the grace period: %v %+v", err, rep.Verdict)
	}
	if got == nil || got.ID != r.ID || got.Result != receipt.Accepted || got.Package.SHA256 != r.Package.SHA256 || got.Package.FileName != pkgName {
		t.Errorf("decoded receipt %+v", got)
	}
	s := rep.Signatures[0]
	if s.Commitment != policy.ProofOfReceipt || s.TimestampTime.IsZero() || s.SignerName != xades.SignerName(f.key.Cert) || rep.Kind != "receipt" {
		t.Errorf("signature report %+v", s)
	}
	f.sb.Clock.Advance(6 * time.Second)
	if _, rep, err := f.verify(t, data, f.env); err != nil || rep.Verdict.Indication != report.TotalPassed {
		t.Fatalf("after the grace period: %v %+v", err, rep.Verdict)
	}
	// Offline without embedded evidence: incomplete, never valid.
	if _, rep, _ := f.verify(t, data, f.offline); rep.Verdict.Indication != report.Indeterminate {
		t.Errorf("offline: %+v", rep.Verdict)
	}

	// A tampered receipt: one character of nyugta.xml's base64 changed. Invalid and not decoded.
	i := bytes.Index(data, []byte("<ds:Object"))
	j := i + bytes.IndexByte(data[i:], '>') + 20
	bad := bytes.Clone(data)
	if bad[j] == 'A' {
		bad[j] = 'B'
	} else {
		bad[j] = 'A'
	}
	got, rep, err = f.verify(t, bad, f.env)
	if !errors.Is(err, ErrNotDecoded) || got != nil || rep.Verdict.Indication != report.TotalFailed || rep.Verdict.Sub != report.HashFailure {
		t.Errorf("tampered: %v %v %+v", got, err, rep.Verdict)
	}

	// The same receipt verified as a package is refused (wrong commitment, not qualified).
	if rep, err := xades.Verify(context.Background(), data, xades.VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}); err != nil || rep.Verdict.Indication != report.TotalFailed {
		t.Errorf("as a package: %v %+v", err, rep.Verdict)
	}
}

// TestFallbackName covers receipts for uploads without a usable name.
func TestFallbackName(t *testing.T) {
	arrival := time.Date(2026, 2, 10, 8, 15, 0, 0, time.UTC)
	for _, c := range []struct{ file, want string }{
		{pkgName, "TBN_12345676_0101_202601_B001_20260210T081200Z.es3"},
		{"", "TBN_0101_20260210T081500Z_0e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0.es3"},
		{"../../etc/passwd", "TBN_0101_20260210T081500Z_0e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0.es3"},
		{"TBA_12345676_0101_202601_B001_20260210T081200Z.ES3", "TBN_0101_20260210T081500Z_0e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0.es3"},
		{"TBN_12345676_0101_202601_B001_20260210T081200Z.es3", "TBN_0101_20260210T081500Z_0e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0.es3"}, // a receipt is not a package
	} {
		r := receipt.NewRejection(receipt.ReceivedPackage{FileName: c.file}, arrival, receipt.Fund{Code: "0101", Name: "F"}, []errcode.Finding{errcode.New(errcode.T001, "", "")})
		r.ID = "0e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0"
		got, err := FileName(r)
		if err != nil || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.file, got, err, c.want)
		}
	}
	if _, err := FileName(&receipt.Receipt{}); !errors.Is(err, ErrRefused) {
		t.Errorf("empty receipt: %v", err)
	}
}

// TestRejectionAndKeys builds a rejection under the fallback name and refuses unfit keys and options.
func TestRejectionAndKeys(t *testing.T) {
	f := newFixture(t)
	r := receipt.NewRejection(receipt.ReceivedPackage{FileName: "bevallas.zip", Size: 3, SHA256: sha256.Sum256([]byte("abc"))},
		f.sb.Clock.Now(), receipt.Fund{Code: "0101", Name: "Tagdíj Sandbox Magánnyugdíjpénztár"}, []errcode.Finding{errcode.New(errcode.T002, "", "")})
	data, name, err := Build(context.Background(), r, f.opts())
	if err != nil || !strings.HasPrefix(name, "TBN_0101_") || !strings.HasSuffix(name, r.ID+".es3") {
		t.Fatalf("rejection: %s, %v", name, err)
	}
	f.sb.Clock.Advance(6 * time.Second)
	got, rep, err := f.verify(t, data, f.env)
	if err != nil || rep.Verdict.Indication != report.TotalPassed || got.Result != receipt.Rejected || got.Errors[0].Code != errcode.T002 {
		t.Fatalf("verify rejection: %v %+v %+v", err, rep.Verdict, got)
	}

	tls := f.sb.World.MustEntity(sandbox.FundTLS)
	for name, mod := range map[string]func(*BuildOptions){
		"TLS key (serverAuth)":             func(o *BuildOptions) { o.Signer, o.Certificate, o.Chain = tls.Key, tls.Cert, tls.Chain },
		"receipt key equal to a TLS key":   func(o *BuildOptions) { o.TLSCertificates = append(o.TLSCertificates, f.key.Cert) },
		"no TSA":                           func(o *BuildOptions) { o.TSA = nil },
		"no policy":                        func(o *BuildOptions) { o.Policy = nil },
		"no key":                           func(o *BuildOptions) { o.Signer = nil },
		"signer key not the certificate's": func(o *BuildOptions) { o.Signer = tls.Key },
	} {
		o := f.opts()
		mod(&o)
		if _, _, err := Build(context.Background(), r, o); err == nil {
			t.Errorf("%s: built", name)
		} else if name != "signer key not the certificate's" && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want ErrRefused", name, err)
		}
	}
	// An inconsistent receipt is not written.
	bad := *r
	bad.Fund.Code = "12"
	if _, _, err := Build(context.Background(), &bad, f.opts()); !errors.Is(err, ErrRefused) {
		t.Errorf("bad fund code: %v", err)
	}
}

// TestTitleMismatch signs a receipt package whose title names another package: F010.
func TestTitleMismatch(t *testing.T) {
	f := newFixture(t)
	r := acceptance(t, f.sb.Clock.Now())
	body, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := es3.Build(es3.DossierSpec{Title: "TBN_12345676_0101_202601_B002_20260210T081200Z.es3", Created: f.sb.Clock.Now(),
		Documents: []es3.DocumentSpec{{Title: DocumentTitle, MIMEType: es3.MIMEXML, SourceSize: int64(len(body)), Transforms: es3.PlainTransforms(), Content: body}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	es3.Write(&buf, doc)
	o := f.opts()
	signed, _, err := xades.Sign(context.Background(), buf.Bytes(), xades.SignOptions{Signer: o.Signer, Certificate: o.Certificate, Chain: o.Chain, Policy: f.pol, Kind: policy.KindReceipt, SigningTime: o.Now})
	if err != nil {
		t.Fatal(err)
	}
	stamped, _, err := xades.Timestamp(context.Background(), signed, xades.TimestampOptions{TSA: f.tsa})
	if err != nil {
		t.Fatal(err)
	}
	f.sb.Clock.Advance(6 * time.Second)
	_, rep, err := f.verify(t, stamped, f.env)
	if err != nil || rep.Verdict.Indication != report.TotalFailed || !hasCode(rep.Verdict, errcode.F010) {
		t.Errorf("title mismatch: %v %+v", err, rep.Verdict)
	}
}

func hasCode(v report.Verdict, c errcode.Code) bool {
	for _, f := range v.Findings {
		if f.Code == c {
			return true
		}
	}
	return false
}

// TestXmlsec1 has xmlsec1 verify the receipt package's signature (the interop flags of internal/xades),
// and refuse a tampered one.
func TestXmlsec1(t *testing.T) {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Skip("xmlsec1 not installed (apt-get install xmlsec1): reference verifier unavailable")
	}
	f := newFixture(t)
	data, _, err := Build(context.Background(), acceptance(t, f.sb.Clock.Now()), f.opts())
	if err != nil {
		t.Fatal(err)
	}
	d, err := es3.Parse(data, es3.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := d.Signatures[0].ID
	d.Close()
	dir := t.TempDir()
	root := filepath.Join(dir, "root.pem")
	rootPEM, err := os.ReadFile(f.sb.World.Path(f.sb.World.MustEntity(sandbox.RootCA).Files.Cert))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(root, rootPEM, 0o600)
	run := func(data []byte) (bool, string) {
		p := filepath.Join(dir, "nyugta.es3")
		os.WriteFile(p, data, 0o600)
		out, err := exec.Command(bin, "--verify", "--trusted-pem", root, "--enabled-reference-uris", "same-doc",
			"--id-attr:Id", "Signature", "--id-attr:Id", "DossierProfile", "--id-attr:Id", "Documents",
			"--id-attr:Id", "Object", "--id-attr:Id", "SignedProperties", "--node-id", id, p).CombinedOutput()
		return err == nil && bytes.Contains(out, []byte("OK")), string(out)
	}
	if ok, out := run(data); !ok {
		t.Fatalf("xmlsec1 refused the receipt package:\n%s", out)
	}
	bad := bytes.Replace(data, []byte("<es:Title>TBN_"), []byte("<es:Title>TBX_"), 1)
	if ok, out := run(bad); ok {
		t.Errorf("xmlsec1 accepted a tampered title:\n%s", out)
	}
}

// FuzzVerify feeds mutated receipt packages to Verify, offline: it must never panic, and it may return
// a receipt only with a report that is not TOTAL-FAILED.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	data, _, err := Build(context.Background(), acceptance(f, fx.sb.Clock.Now()), fx.opts())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("<es:Dossier xmlns:es=\"https://www.microsec.hu/ds/e-szigno30#\"/>"))
	set := schemas(f)
	now := fx.sb.Clock.Now()
	f.Fuzz(func(t *testing.T, in []byte) {
		r, rep, err := Verify(context.Background(), in, VerifyOptions{Env: fx.offline, Now: now, Schemas: set})
		if rep == nil && err == nil {
			t.Fatal("no report and no error")
		}
		if r != nil && (rep == nil || rep.Verdict.Indication == report.TotalFailed) {
			t.Fatalf("a receipt decoded with verdict %+v", rep.Verdict)
		}
	})
}
