package container

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/schema"
)

const pkgName = "TBA_12345676_0101_202610_B001_20261121T090000Z.es3"

func schemas(t *testing.T) *schema.Set {
	t.Helper()
	s, err := schema.Load(libxml.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func contents(state report.Indication, notices int) *Contents {
	pb, rb := []byte("<package/>"), []byte("<receipt/>")
	rep := &report.Document{Verdict: report.Verdict{Indication: state, Sub: report.SigCryptoFailure},
		Signatures: []report.Signature{{ID: "Signature-1", Signer: "CN=Fund", Issuer: "CN=CA", Serial: "12345", SigningTime: time.Unix(1e9, 0),
			Verdict: report.Verdict{Indication: state, Findings: []errcode.Finding{errcode.New(errcode.A001, "Signature-1", "x")}}}}}
	c := &Contents{Created: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
		Package: Ref{Name: pkgName, SHA256: sha256.Sum256(pb), ID: "0b7c8f2e-0000-4000-8000-000000000001"}, PackageBytes: pb,
		Receipt:      &Ref{Name: strings.Replace(pkgName, "TBA_", "TBN_", 1), SHA256: sha256.Sum256(rb), ID: "0b7c8f2e-0000-4000-8000-000000000002"},
		ReceiptBytes: rb,
		SendLog: []Attempt{{Time: time.Unix(1e9, 0), URL: "https://x/v1/packages", Outcome: "HALOZATI_HIBA", Detail: "reset"},
			{Time: time.Unix(1e9+1, 0), URL: "https://x/v1/packages", HTTPStatus: 200, Outcome: "NYUGTA_ERKEZETT"}},
		ReceiptCheck: &Check{Time: time.Unix(1e9+2, 0), Report: rep}}
	for i := 0; i < notices; i++ {
		who := []string{"PENZTAR", "FELUGYELET"}[i%2]
		c.Notifications = append(c.Notifications, Notification{Time: time.Unix(1e9+3, 0), Recipient: who, Address: "a@b", Text: "ÉRTESÍTÉS / NOTICE"})
	}
	return c
}

func read(t *testing.T, data []byte, set *schema.Set) *Parsed {
	t.Helper()
	d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err := Read(d, set)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func codes(p *Parsed) []errcode.Code {
	var out []errcode.Code
	for _, f := range p.Findings {
		out = append(out, f.Code)
	}
	return out
}

func TestBuildRead(t *testing.T) {
	set := schemas(t)
	c := contents(report.TotalFailed, 2)
	name, data, err := Build(c, set)
	if err != nil {
		t.Fatal(err)
	}
	if name != strings.Replace(pkgName, "TBA_", "TBK_", 1) {
		t.Errorf("name %s", name)
	}
	p := read(t, data, set)
	if len(p.Findings) != 0 || !bytes.Equal(p.PackageBytes, c.PackageBytes) || !bytes.Equal(p.ReceiptBytes, c.ReceiptBytes) ||
		p.CheckState != "ERVENYTELEN" || len(p.SendLog) != 2 || p.SendLog[1].HTTPStatus != 200 || len(p.Notifications) != 2 || p.Package.ID != c.Package.ID {
		t.Errorf("read back %+v", p)
	}

	// An invalid receipt check without both notifications breaks kontener.xsd's rule.
	_, data, _ = Build(contents(report.TotalFailed, 1), set)
	if got := codes(read(t, data, set)); len(got) != 1 || got[0] != errcode.F011 {
		t.Errorf("one notification: %v", got)
	}
	// A valid check needs none.
	_, data, _ = Build(contents(report.TotalPassed, 0), set)
	if got := codes(read(t, data, set)); len(got) != 0 {
		t.Errorf("valid receipt: %v", got)
	}
	// A document that is not what kontener.xml names (its bytes swapped after the fact).
	swapped := contents(report.TotalPassed, 0)
	_, data, _ = Build(swapped, set)
	data = bytes.Replace(data, []byte(b64("<package/>")), []byte(b64("<packagX/>")), 1)
	if got := codes(read(t, data, set)); len(got) != 1 || got[0] != errcode.A002 {
		t.Errorf("swapped package: %v", got)
	}

	// Build refuses bytes that are not the ones named, and a name that is not a package name.
	bad := contents(report.TotalPassed, 0)
	bad.PackageBytes = []byte("other")
	if _, _, err := Build(bad, set); err == nil {
		t.Error("package bytes of another hash accepted")
	}
	bad = contents(report.TotalPassed, 0)
	bad.Package.Name = "csomag.es3"
	if _, _, err := Build(bad, set); err == nil {
		t.Error("a container of a package without a SPEC §4 name was built")
	}
}

// Marshal keeps within kontener.xsd's bounds: the last 100 attempts, at most 8 signatures.
func TestMarshalBounds(t *testing.T) {
	set := schemas(t)
	c := contents(report.TotalPassed, 0)
	for i := 0; i < 150; i++ {
		c.SendLog = append(c.SendLog, Attempt{Time: time.Unix(int64(2e9+i), 0), URL: "https://x/", Outcome: "HTTP_HIBA", HTTPStatus: 503, Detail: strings.Repeat("é", 5000)})
	}
	for i := 0; i < 12; i++ {
		c.ReceiptCheck.Report.Signatures = append(c.ReceiptCheck.Report.Signatures, report.Signature{ID: "bad id with spaces", Serial: "-1",
			Verdict: report.Verdict{Indication: report.TotalPassed}})
	}
	b, err := Marshal(c, set)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("<Kiserlet>")); n != MaxAttempts {
		t.Errorf("%d attempts", n)
	}
	if n := bytes.Count(b, []byte("<Alairas>")); n != MaxSignatures {
		t.Errorf("%d signatures", n)
	}
}

func b64(s string) string {
	var b bytes.Buffer
	enc := der([]byte(s))
	out, _ := enc.MarshalText()
	b.Write(out)
	return b.String()
}
