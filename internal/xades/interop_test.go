package xades

import (
	"bytes"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/policy"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (make tools installs it): %v", name, err)
	}
	return p
}

func pemCert(f *fixture) []byte {
	root := f.sb.World.MustEntity(sandbox.RootCA)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw})
}

// writeRoot writes the sandbox root certificate as PEM into dir and returns its path.
func (f *fixture) writeRoot(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(p, pemCert(f), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// xmlsecVerify runs `xmlsec1 --verify` once per signature of data, selecting it with --node-id, and
// returns the signature Ids it accepted. The Id attributes of every referenced element are registered
// with --id-attr (xmlsec1 does not know the e-akta and XAdES vocabularies).
func (f *fixture) xmlsecVerify(t *testing.T, data []byte) (accepted []string, outputs []string) {
	t.Helper()
	bin := needTool(t, "xmlsec1")
	dir := t.TempDir()
	root := f.writeRoot(t, dir)
	doc := filepath.Join(dir, "dossier.es3")
	if err := os.WriteFile(doc, data, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := es3.Parse(data, es3.ParseOptions{})
	if err != nil {
		t.Fatalf("es3.Parse: %v", err)
	}
	var ids []string
	for _, s := range d.Signatures {
		ids = append(ids, s.ID)
	}
	d.Close()
	for _, id := range ids {
		cmd := exec.Command(bin, "--verify", "--trusted-pem", root, "--enabled-reference-uris", "same-doc",
			"--id-attr:Id", "Signature", "--id-attr:Id", "DossierProfile", "--id-attr:Id", "Documents",
			"--id-attr:Id", "Object", "--id-attr:Id", "SignedProperties", "--node-id", id, doc)
		out, err := cmd.CombinedOutput()
		outputs = append(outputs, string(out))
		if err == nil && bytes.Contains(out, []byte("OK")) {
			accepted = append(accepted, id)
		}
	}
	return accepted, outputs
}

// opensslVerifyTimestamps runs `openssl ts -verify` on every SignatureTimeStamp of data, with the
// exclusive canonical SignatureValue of its signature as the data, and returns how many passed and
// how many there were.
func (f *fixture) opensslVerifyTimestamps(t *testing.T, data []byte) (ok, total int, outputs []string) {
	t.Helper()
	bin := needTool(t, "openssl")
	dir := t.TempDir()
	root := f.writeRoot(t, dir)
	tsaUnit := f.sb.World.MustEntity(sandbox.TSAUnit)
	var chain []byte
	for _, c := range tsaUnit.Chain {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	untrusted := filepath.Join(dir, "tsa-chain.pem")
	if err := os.WriteFile(untrusted, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := es3.Parse(data, es3.ParseOptions{})
	if err != nil {
		t.Fatalf("es3.Parse: %v", err)
	}
	defer d.Close()
	for i, s := range d.Signatures {
		p, err := locate(s.Node)
		if err != nil || p.unsignedProps.IsZero() {
			t.Fatalf("signature %s: no unsigned properties (%v)", s.ID, err)
		}
		ub, err := canon(d.Doc(), p.unsignedProps, excC14N)
		if err != nil {
			t.Fatal(err)
		}
		up, err := props.ParseUnsignedProperties(ub)
		if err != nil {
			t.Fatal(err)
		}
		for j, ts := range up.SignatureTimeStamps() {
			cm, _ := c14nOf(ts.CanonicalizationMethod)
			sv, err := canon(d.Doc(), p.sigValue, cm)
			if err != nil {
				t.Fatal(err)
			}
			dataFile := filepath.Join(dir, "sigvalue-"+itoa(i)+"-"+itoa(j)+".xml")
			tokFile := filepath.Join(dir, "token-"+itoa(i)+"-"+itoa(j)+".der")
			if err := os.WriteFile(dataFile, sv, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(tokFile, ts.Tokens[0], 0o600); err != nil {
				t.Fatal(err)
			}
			total++
			out, err := exec.Command(bin, "ts", "-verify", "-data", dataFile, "-in", tokFile, "-token_in",
				"-CAfile", root, "-untrusted", untrusted).CombinedOutput()
			outputs = append(outputs, string(out))
			if err == nil && strings.Contains(string(out), "Verification: OK") {
				ok++
			}
		}
	}
	return ok, total, outputs
}

func itoa(i int) string { return string(rune('0' + i)) }

// TestInteropXmlsec1 has xmlsec1 verify every signature we produce (packages with three signers, a
// receipt-kind signature) and openssl every SignatureTimeStamp; a tampered copy is refused by both
// tools, so the test can fail.
func TestInteropXmlsec1(t *testing.T) {
	f := newFixture(t)
	pkg, ids := f.signedPackage(t, 3)
	rcpt, rid := f.sign(t, f.receiptDossier(t), f.sb.World.MustEntity(sandbox.FundReceipt), policy.KindReceipt, nil)
	rcpt = f.timestamp(t, rcpt)
	for name, c := range map[string]struct {
		data []byte
		ids  []string
	}{"package": {pkg, ids}, "receipt": {rcpt, []string{rid}}} {
		acc, outs := f.xmlsecVerify(t, c.data)
		if len(acc) != len(c.ids) {
			t.Fatalf("%s: xmlsec1 accepted %v of %v:\n%s", name, acc, c.ids, strings.Join(outs, "\n"))
		}
		ok, total, outs := f.opensslVerifyTimestamps(t, c.data)
		if ok != len(c.ids) || total != len(c.ids) {
			t.Fatalf("%s: openssl ts accepted %d of %d time-stamps (want %d):\n%s", name, ok, total, len(c.ids), strings.Join(outs, "\n"))
		}
	}
	// One byte of the payload changed: xmlsec1 refuses every signature.
	bad := bytes.Clone(pkg)
	i := bytes.Index(bad, []byte("<ds:Object xmlns:ds")) + 200
	bad[i] ^= 0x01
	if acc, _ := f.xmlsecVerify(t, bad); len(acc) != 0 {
		t.Fatalf("xmlsec1 accepted a tampered payload for %v", acc)
	}
	// A time-stamp moved onto another signature's SignatureValue: openssl refuses it.
	swapped := swapTokens(t, pkg)
	if ok, total, _ := f.opensslVerifyTimestamps(t, swapped); ok == total {
		t.Fatalf("openssl accepted swapped time-stamps (%d of %d)", ok, total)
	}
}
