package pack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"archive/zip"
	"crypto/x509"
	"encoding/pem"
	"io"

	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/synth"
)

var packageRE = regexp.MustCompile(pkgname.PackagePattern)

// TestPackRoundTrip packs a declaration and reads it back every way a later step does: strict es3
// parse, metadata decode, decryption with the fund's key and with the sender's own key, decompression,
// and Open.
func TestPackRoundTrip(t *testing.T) {
	f := newFixture(t)
	decl := f.decl(t, 40, 7, nil)
	opts, _ := f.options(t)
	res, err := pack.Pack(context.Background(), decl, opts)
	if err != nil {
		t.Fatal(err)
	}

	name := res.Name.String()
	if !packageRE.MatchString(name) {
		t.Errorf("name %q does not match SPEC §4", name)
	}
	want := "TBA_" + f.employer.TaxNumber + "_" + f.fund.FundCode + "_" + f.period.Compact() + "_B001_" + f.now.Format("20060102T150405Z") + ".es3"
	if name != want {
		t.Errorf("name %q, want %q", name, want)
	}

	d, err := es3.Parse(res.Bytes, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		t.Fatalf("strict parse: %v", err)
	}
	defer d.Close()
	if d.Title != name {
		t.Errorf("es:Title %q, want the package name %q", d.Title, name)
	}
	if !d.CreationDate.Equal(f.now) {
		t.Errorf("es:CreationDate %v, want %v", d.CreationDate, f.now)
	}
	if len(d.Documents) != 1 {
		t.Fatalf("%d documents", len(d.Documents))
	}
	doc := d.Documents[0]
	if doc.Title != "bevallas.xml" || doc.MIMEType != "text/xml" || doc.SourceSize != int64(len(decl)) || !doc.Encrypted() {
		t.Errorf("document %q %q size %d transforms %v", doc.Title, doc.MIMEType, doc.SourceSize, doc.Transforms)
	}
	if len(d.Signatures) != 0 {
		t.Errorf("an unsigned package has %d signatures", len(d.Signatures))
	}

	// The metadata are those of the declaration and the contact (SND-20).
	meta, findings := d.Metadata(schemas(t))
	if len(findings) > 0 {
		t.Fatalf("metadata: %v", findings)
	}
	parsed, err := declaration.Parse(decl, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := es3.Metadata{
		ID: parsed.Header.ID, Fund: parsed.Fund.Code, Period: f.period.String(), Type: "B",
		Declarant: es3.Declarant{IDType: "adoszam", ID: f.employer.TaxNumber, Name: f.employer.Name},
		Contact:   opts.Contact,
	}
	if *meta != wantMeta {
		t.Errorf("metadata\n got %+v\nwant %+v", *meta, wantMeta)
	}
	if *meta != res.Metadata {
		t.Errorf("Result.Metadata %+v differs from the written %+v", res.Metadata, *meta)
	}
	if f := pkgname.Matches(res.Name, meta.NameFields()); len(f) > 0 {
		t.Errorf("name vs metadata: %v", f)
	}
	if s := res.Summary; s.Items != 40 || s.Totals != parsed.Summary || s.ID != parsed.Header.ID || s.DeclarantID != f.employer.TaxNumber {
		t.Errorf("summary %+v", s)
	}

	// Both recipients decrypt (SND-06); a third party does not.
	der, err := d.Payload(0)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(der)) != res.Cipher {
		t.Errorf("payload %d bytes, Result.Cipher %d", len(der), res.Cipher)
	}
	rids, err := cmsenc.Recipients(der)
	if err != nil || len(rids) != 2 {
		t.Fatalf("recipients: %v, %v", rids, err)
	}
	for _, e := range []*sandbox.Entity{f.fundEnc, f.ownEnc} {
		zipped, err := cmsenc.Decrypt(der, e.Cert, decrypter(t, e))
		if err != nil {
			t.Fatalf("%s cannot decrypt: %v", e.Name, err)
		}
		got, err := payload.Unzip(bytes.NewReader(zipped), int64(len(zipped)), payload.Limits{})
		if err != nil || !bytes.Equal(got, decl) {
			t.Errorf("%s: unzip: %v, equal %v", e.Name, err, bytes.Equal(got, decl))
		}
		opened, err := pack.Open(res.Bytes, e.Cert, decrypter(t, e), payload.Limits{})
		if err != nil || !bytes.Equal(opened, decl) {
			t.Errorf("%s: Open: %v, equal %v", e.Name, err, bytes.Equal(opened, decl))
		}
	}
	_, err = pack.Open(res.Bytes, f.taxEnc.Cert, decrypter(t, f.taxEnc), payload.Limits{})
	var cerr *cmsenc.Error
	if !errors.As(err, &cerr) || cerr.Code() != errcode.D001 {
		t.Errorf("Open with a non-recipient key: %v, want D001", err)
	}
	if _, err := pack.Open(res.Bytes, nil, nil, payload.Limits{}); err == nil {
		t.Error("Open of an encrypted package without a key succeeded")
	}
}

// TestPackOpenSSL decrypts the payload with openssl cms, once with each recipient's key exported to
// PEM, and reads the ZIP with archive/zip: an independent implementation agrees.
func TestPackOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (make installs it)")
	}
	f := newFixture(t)
	decl := f.decl(t, 25, 3, nil)
	opts, _ := f.options(t)
	res, err := pack.Pack(context.Background(), decl, opts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := es3.Parse(res.Bytes, es3.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	der, err := d.Payload(0)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "payload.der")
	if err := os.WriteFile(in, der, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*sandbox.Entity{f.fundEnc, f.ownEnc} {
		t.Run(e.Name, func(t *testing.T) {
			certPEM := filepath.Join(dir, e.Name+".pem")
			keyPEM := filepath.Join(dir, e.Name+"-key.pem")
			os.WriteFile(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Cert.Raw}), 0o600)
			pk, err := x509.MarshalPKCS8PrivateKey(e.Key)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(keyPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
			out := filepath.Join(dir, e.Name+".zip")
			cmd := exec.Command("openssl", "cms", "-decrypt", "-inform", "DER", "-in", in, "-recip", certPEM, "-inkey", keyPEM, "-out", out)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("openssl cms -decrypt: %v\n%s", err, msg)
			}
			zr, err := zip.OpenReader(out)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			if len(zr.File) != 1 || zr.File[0].Name != "bevallas.xml" || zr.File[0].Method != zip.Deflate {
				t.Fatalf("archive entries: %d", len(zr.File))
			}
			rc, err := zr.File[0].Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, decl) {
				t.Errorf("openssl-decrypted archive: %v, equal %v", err, bytes.Equal(got, decl))
			}
		})
	}
}

// TestPackRefusesInvalid: an invalid declaration is refused with its D codes and uses no sequence
// number.
func TestPackRefusesInvalid(t *testing.T) {
	f := newFixture(t)
	good := f.decl(t, 12, 5, nil)
	re := regexp.MustCompile(`<TagdijOsszesen>\d+</TagdijOsszesen>`)
	cases := []struct {
		name  string
		decl  []byte
		codes []errcode.Code
	}{
		{"total", re.ReplaceAll(good, []byte("<TagdijOsszesen>1</TagdijOsszesen>")), []errcode.Code{errcode.D004}},
		{"future period", f.decl(t, 3, 5, func(o *synth.Options) {
			o.Period = declaration.PeriodOf(f.now).Next()
			o.Created = f.now.Add(-time.Hour)
		}), []errcode.Code{errcode.D007}},
		{"not xml", []byte("<Bevallas"), []errcode.Code{errcode.D003}},
		{"schema", bytes.Replace(good, []byte("<Tipus>B</Tipus>"), []byte("<Tipus>X</Tipus>"), 1), []errcode.Code{errcode.D003}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts, seq := f.options(t)
			_, err := pack.Pack(context.Background(), c.decl, opts)
			var inv *pack.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("err %v, want *InvalidError", err)
			}
			var got []errcode.Code
			for _, fd := range inv.Findings {
				if fd.Severity == errcode.Error {
					got = append(got, fd.Code)
				}
			}
			for _, want := range c.codes {
				found := false
				for _, g := range got {
					found = found || g == want
				}
				if !found {
					t.Errorf("codes %v, want %s", got, want)
				}
			}
			if !strings.Contains(err.Error(), string(c.codes[0])) {
				t.Errorf("error text %q does not name %s", err, c.codes[0])
			}
			if seq.calls != 0 {
				t.Errorf("a refused declaration used %d sequence numbers", seq.calls)
			}
		})
	}
}

// TestPackDeclarantIdentifiers: a TAJ declarant cannot be named (clear error), a personal tax id is
// named with its 10 digits, an 11-digit tax number with its 8-digit core.
func TestPackDeclarantIdentifiers(t *testing.T) {
	f := newFixture(t)
	taj := "12345678"
	d, _ := hunid.TAJCheckDigit(taj)
	taj += string(d)
	adoaz := ""
	for _, c := range []string{"812345678", "813579246", "800000001"} {
		if cd, ok := hunid.AdoazonositoCheckDigit(c); ok {
			adoaz = c + string(cd)
			break
		}
	}
	if adoaz == "" {
		t.Fatal("no check-digit-valid personal tax id found")
	}
	other, err := f.sb.World.Employer("minta")
	if err != nil {
		t.Fatal(err)
	}
	long := f.employer.TaxNumber + "241"
	if !hunid.ValidAdoszam(long) {
		t.Fatalf("%s is not a valid 11-digit tax number", long)
	}

	cases := []struct {
		name     string
		id       declaration.DeclarantID
		expect   *pack.Declarant
		wantName string // declarant field of the name; "" = refused
		wantErr  error
	}{
		{"taj", declaration.DeclarantID{Type: declaration.IDTAJ, Value: taj}, nil, "", pack.ErrTAJDeclarant},
		{"adoazonosito", declaration.DeclarantID{Type: declaration.IDAdoazonosito, Value: adoaz}, nil, adoaz, nil},
		{"adoszam 11", declaration.DeclarantID{Type: declaration.IDAdoszam, Value: long},
			&pack.Declarant{IDType: "adoszam", ID: f.employer.TaxNumber}, f.employer.TaxNumber, nil},
		{"other employer", declaration.DeclarantID{Type: declaration.IDAdoszam, Value: other.TaxNumber},
			&pack.Declarant{IDType: "adoszam", ID: f.employer.TaxNumber}, "", pack.ErrMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			decl := f.decl(t, 4, 11, func(o *synth.Options) { o.Declarant.ID = c.id })
			opts, seq := f.options(t)
			opts.Declarant = c.expect
			res, err := pack.Pack(context.Background(), decl, opts)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v, want %v", err, c.wantErr)
				}
				if seq.calls != 0 {
					t.Error("a refused declaration used a sequence number")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Name.Declarant != c.wantName || !packageRE.MatchString(res.Name.String()) {
				t.Errorf("name %s, declarant field %q, want %q", res.Name, res.Name.Declarant, c.wantName)
			}
			if res.Metadata.Declarant.ID != c.id.Value {
				t.Errorf("metadata declarant %q, want the declaration's %q", res.Metadata.Declarant.ID, c.id.Value)
			}
		})
	}
	if !strings.Contains(pack.ErrTAJDeclarant.Error(), "TAJ") || !strings.Contains(pack.ErrTAJDeclarant.Error(), "SPEC §4") {
		t.Errorf("TAJ error does not explain itself: %v", pack.ErrTAJDeclarant)
	}
}

// TestPackFundMismatchAndRecipients: the configured fund must be the declaration's; both recipients are
// required, distinct and valid now.
func TestPackFundMismatchAndRecipients(t *testing.T) {
	f := newFixture(t)
	decl := f.decl(t, 3, 2, nil)
	cases := []struct {
		name string
		mod  func(*pack.Options)
	}{
		{"fund code", func(o *pack.Options) { o.FundCode = "9999" }},
		{"no own cert", func(o *pack.Options) { o.OwnCert = nil }},
		{"no fund cert", func(o *pack.Options) { o.FundCert = nil }},
		{"same cert twice", func(o *pack.Options) { o.OwnCert = o.FundCert }},
		{"expired", func(o *pack.Options) { o.Now = f.fundEnc.Cert.NotAfter.Add(time.Hour) }},
		{"not an encryption key", func(o *pack.Options) {
			o.OwnCert = f.sb.World.MustEntity(f.employer.Signers[1]).Cert // ECDSA signer
		}},
		{"no schemas", func(o *pack.Options) { o.Schemas = nil }},
		{"no sequence", func(o *pack.Options) { o.Sequence = nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts, _ := f.options(t)
			c.mod(&opts)
			_, err := pack.Pack(context.Background(), decl, opts)
			if err == nil {
				t.Fatal("packed")
			}
			t.Log(err)
		})
	}
	opts, _ := f.options(t)
	opts.FundCode = "9999"
	if _, err := pack.Pack(context.Background(), decl, opts); !errors.Is(err, pack.ErrMismatch) {
		t.Errorf("fund mismatch: %v", err)
	}
}

// TestPackPlain builds a SEC-01 package: base64 only, readable without a key.
func TestPackPlain(t *testing.T) {
	f := newFixture(t)
	decl := f.decl(t, 8, 4, nil)
	opts, _ := f.options(t)
	opts.Plain, opts.FundCert, opts.OwnCert = true, nil, nil
	res, err := pack.Pack(context.Background(), decl, opts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := es3.Parse(res.Bytes, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		t.Fatal(err)
	}
	doc := d.Documents[0]
	d.Close()
	if doc.Encrypted() || strings.Join(doc.Transforms, ",") != "base64" || !res.Plain || res.Cipher != 0 {
		t.Errorf("plain package: transforms %v, result %+v", doc.Transforms, res.Plain)
	}
	got, err := pack.Open(res.Bytes, nil, nil, payload.Limits{})
	if err != nil || !bytes.Equal(got, decl) {
		t.Errorf("Open plain: %v", err)
	}
}

// TestPackSequence: two packs of the same declaration get different sequence numbers and names, with
// the real file allocator; another period starts again at 1.
func TestPackSequence(t *testing.T) {
	f := newFixture(t)
	decl := f.decl(t, 5, 1, nil)
	opts, _ := f.options(t)
	opts.Sequence = pack.FileSequence{Path: filepath.Join(t.TempDir(), "state", "sequence.json")}
	a, err := pack.Pack(context.Background(), decl, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pack.Pack(context.Background(), decl, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name.Seq != 1 || b.Name.Seq != 2 || a.Name.String() == b.Name.String() {
		t.Errorf("names %s and %s", a.Name, b.Name)
	}
	if bytes.Equal(a.Bytes, b.Bytes) {
		t.Error("two packs gave identical bytes")
	}
	other := f.decl(t, 5, 1, func(o *synth.Options) { o.Period = f.period.Prev() })
	c, err := pack.Pack(context.Background(), other, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name.Seq != 1 {
		t.Errorf("another period: seq %d, want 1", c.Name.Seq)
	}
}

// TestPackCancelled: a cancelled context stops before a number is allocated.
func TestPackCancelled(t *testing.T) {
	f := newFixture(t)
	decl := f.decl(t, 3, 1, nil)
	opts, seq := f.options(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pack.Pack(ctx, decl, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	if seq.calls != 0 {
		t.Error("sequence used")
	}
}

// TestOpenRefusesOtherDossiers: Open wants exactly one bevallas.xml whose size matches es:SourceSize.
func TestOpenRefusesOtherDossiers(t *testing.T) {
	build := func(title string, size int64, content []byte) []byte {
		doc, err := es3.Build(es3.DossierSpec{Title: "x.es3", Created: time.Now(), Documents: []es3.DocumentSpec{{
			Title: title, MIMEType: "text/xml", SourceSize: size, Transforms: es3.PlainTransforms(), Content: content}}})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := es3.Write(&buf, doc); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	content := []byte("<a/>")
	if _, err := pack.Open(build("nyugta.xml", 4, content), nil, nil, payload.Limits{}); err == nil {
		t.Error("a dossier without bevallas.xml opened")
	}
	if got, err := pack.Open(build("bevallas.xml", 4, content), nil, nil, payload.Limits{}); err != nil || string(got) != "<a/>" {
		t.Errorf("plain bevallas.xml: %q %v", got, err)
	}
	if _, err := pack.Open([]byte("<x/>"), nil, nil, payload.Limits{}); err == nil {
		t.Error("a non-dossier opened")
	}
}

// TestPackDigestsAndExcerpt: PayloadSHA256 is the digest of the payload object the signatures cover
// (encrypted and plain), DeclarationSHA256 that of the declaration, and the excerpt keeps the first
// ExcerptRows items with the count and sums of all.
func TestPackDigestsAndExcerpt(t *testing.T) {
	f := newFixture(t)
	decl := f.decl(t, 30, 6, nil)
	for _, plain := range []bool{false, true} {
		opts, _ := f.options(t)
		opts.ExcerptRows = 7
		if plain {
			opts.Plain, opts.FundCert, opts.OwnCert = true, nil, nil
		}
		res, err := pack.Pack(context.Background(), decl, opts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := es3.Parse(res.Bytes, es3.ParseOptions{Mode: es3.Strict})
		if err != nil {
			t.Fatal(err)
		}
		p, err := d.Payload(0)
		d.Close()
		if err != nil || sha256.Sum256(p) != res.PayloadSHA256 || sha256.Sum256(decl) != res.DeclarationSHA256 {
			t.Errorf("plain %v: payload digest %x, want %x (%v)", plain, res.PayloadSHA256, sha256.Sum256(p), err)
		}
		e := res.Excerpt
		if e == nil || len(e.Items) != 7 || e.Count != 30 || e.Complete() || e.Sums != e.Summary || e.Items[6].Row != 7 {
			t.Fatalf("plain %v: excerpt %+v", plain, e)
		}
	}
	opts, _ := f.options(t)
	if res, err := pack.Pack(context.Background(), decl, opts); err != nil || res.Excerpt != nil {
		t.Errorf("an excerpt without ExcerptRows: %v", err)
	}
}
