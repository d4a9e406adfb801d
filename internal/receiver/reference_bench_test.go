package receiver_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/receiver/loadgen"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// The reference for the receiver's own work: xmlsec1, the XML signature tool the guide measures
// against, doing the two signature operations every upload needs (verify the package's signature,
// sign a receipt) on the same packages. Its CPU per package is what a receiver built on that engine
// would add to the bare intake before time-stamps, registry, policy or the receipt's XML.

// xmlsecIDArgs register the Id attributes of the e-akta and XAdES elements; the signature is the
// first ds:Signature of the dossier.
var xmlsecIDArgs = []string{"--enabled-reference-uris", "same-doc", "--id-attr:Id", "Signature", "--id-attr:Id", "DossierProfile",
	"--id-attr:Id", "Documents", "--id-attr:Id", "Object", "--id-attr:Id", "SignedProperties",
	"--node-name", "http://www.w3.org/2000/09/xmldsig#:Signature"}

// xmlsecCPU runs xmlsec1 with args over files, once over all of them and once over the first, and
// returns the CPU time (user + system) per file beyond the first: the process's start-up (loading
// keys and libraries) is paid once either way. okWant is the number of "OK" lines a verify run must
// print (0: the command's exit status alone decides).
func xmlsecCPU(t *testing.T, bin string, args, files []string, okWant int) time.Duration {
	t.Helper()
	run := func(fs []string) time.Duration {
		cmd := exec.Command(bin, append(append([]string(nil), args...), fs...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("xmlsec1 %v: %v\n%.2000s", args[0], err, out.String())
		}
		if okWant > 0 && len(fs) == len(files) {
			if n := bytes.Count(out.Bytes(), []byte("\nOK\n")) + bytes.Count(out.Bytes()[:min(3, out.Len())], []byte("OK\n")); n != okWant {
				t.Fatalf("xmlsec1 %v: %d of %d signatures verified\n%.2000s", args[0], n, okWant, out.String())
			}
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	all, one := run(files), run(files[:1])
	return (all - one) / time.Duration(len(files)-1)
}

// xmlsecRef is the reference engine set up over the benchmark's packages: the packages, signing
// templates made from them, the trust anchor and a receipt key as files.
type xmlsecRef struct {
	bin                  string
	verifyArgs, signArgs []string
	pkgs, tmpls          []string
}

// newXmlsecRef writes the files xmlsec1 needs for ups, or returns nil when xmlsec1 is not installed
// (scripts/deps.sh installs it). It needs at least two packages (start-up is measured on one).
func newXmlsecRef(t *testing.T, s *receivertest.Stack, ups []loadgen.Upload) *xmlsecRef {
	t.Helper()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil || len(ups) < 2 {
		t.Logf("no xmlsec1 reference (xmlsec1: %v; %d packages)", err, len(ups))
		return nil
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPEM := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	root := write("root.pem", certPEM(s.SB.World.MustEntity(sandbox.RootCA).Cert))
	// Templates for signing: the packages' own dossiers (18–19 KB; a receipt package is 17–18 KB) with
	// their digest and signature values emptied and the unsigned properties (the time-stamp) removed;
	// xmlsec1 computes them again.
	digest := regexp.MustCompile(`(<ds:DigestValue>)[^<]*(</ds:DigestValue>)`)
	sigValue := regexp.MustCompile(`(<ds:SignatureValue[^>]*>)[^<]*(</ds:SignatureValue>)`)
	unsigned := regexp.MustCompile(`(?s)<xades:UnsignedProperties>.*?</xades:UnsignedProperties>`)
	x := &xmlsecRef{bin: bin}
	for i, u := range ups {
		x.pkgs = append(x.pkgs, write(fmt.Sprintf("p%04d.xml", i), u.Data))
		tm := unsigned.ReplaceAll(sigValue.ReplaceAll(digest.ReplaceAll(u.Data, []byte("$1$2")), []byte("$1$2")), nil)
		if bytes.Equal(tm, u.Data) {
			t.Fatal("reference: the template is the signed package")
		}
		x.tmpls = append(x.tmpls, write(fmt.Sprintf("t%04d.xml", i), tm))
	}
	// The receipt key (RSA-2048, as the packages' signature method says) as PEM for --privkey-pem.
	rk := s.SB.World.MustEntity(sandbox.FundReceipt)
	der, err := x509.MarshalPKCS8PrivateKey(rk.Key)
	if err != nil {
		t.Fatal(err)
	}
	key := write("key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	cert := write("cert.pem", certPEM(rk.Cert))
	x.verifyArgs = append([]string{"--verify", "--trusted-pem", root}, xmlsecIDArgs...)
	x.signArgs = append([]string{"--sign", "--privkey-pem", key + "," + cert, "--output", os.DevNull}, xmlsecIDArgs...)
	return x
}

// verify is xmlsec1 --verify's CPU per package (every signature must verify).
func (x *xmlsecRef) verify(t *testing.T) time.Duration {
	return xmlsecCPU(t, x.bin, x.verifyArgs, x.pkgs, len(x.pkgs))
}

// sign is xmlsec1 --sign's CPU per template.
func (x *xmlsecRef) sign(t *testing.T) time.Duration {
	return xmlsecCPU(t, x.bin, x.signArgs, x.tmpls, 0)
}
