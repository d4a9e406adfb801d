package xmldsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// testKey is a signing key with a self-signed certificate.
type testKey struct {
	signer crypto.Signer
	cert   *x509.Certificate
}

var (
	keyMu    sync.Mutex
	keyCache = map[string]*testKey{}
)

// key returns a cached key of the named kind: rsa2048, rsa1024, rsa2048b, p256, p384, p521.
func key(t testing.TB, kind string) *testKey {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[kind]; ok {
		return k
	}
	var s crypto.Signer
	var err error
	switch kind {
	case "rsa2048", "rsa2048b":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa1024":
		s, err = rsa.GenerateKey(rand.Reader, 1024)
	case "p256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		s, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "xmldsig test " + kind, Organization: []string{"Tagdij test"}, Country: []string{"HU"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte(kind + "-ski"),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	k := &testKey{signer: s, cert: cert}
	keyCache[kind] = k
	return k
}

func (k *testKey) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw})
}

// tRef describes one Reference of a template.
type tRef struct {
	URI        string
	Transforms []string
	PrefixList string // InclusiveNamespaces for the last exclusive-c14n transform
	Digest     string
}

// tSig describes a signature template.
type tSig struct {
	ID         string
	C14N       string
	C14NPrefix string
	Method     string
	Refs       []tRef
	Certs      []*x509.Certificate
	Objects    []string // raw XML content of ds:Object elements, each with its Id
	ObjectIDs  []string
}

// buildSignature returns the ds:Signature element of a template.
func buildSignature(ts tSig) *etree.Element {
	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", NSDSig)
	sig.CreateAttr("Id", ts.ID)
	si := sig.CreateElement("ds:SignedInfo")
	cm := si.CreateElement("ds:CanonicalizationMethod")
	cm.CreateAttr("Algorithm", ts.C14N)
	if ts.C14NPrefix != "" {
		in := cm.CreateElement("ec:InclusiveNamespaces")
		in.CreateAttr("xmlns:ec", NSExcC14)
		in.CreateAttr("PrefixList", ts.C14NPrefix)
	}
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", ts.Method)
	for _, r := range ts.Refs {
		re := si.CreateElement("ds:Reference")
		re.CreateAttr("URI", r.URI)
		if len(r.Transforms) > 0 {
			tr := re.CreateElement("ds:Transforms")
			for i, t := range r.Transforms {
				te := tr.CreateElement("ds:Transform")
				te.CreateAttr("Algorithm", t)
				if i == len(r.Transforms)-1 && r.PrefixList != "" {
					in := te.CreateElement("ec:InclusiveNamespaces")
					in.CreateAttr("xmlns:ec", NSExcC14)
					in.CreateAttr("PrefixList", r.PrefixList)
				}
			}
		}
		dg := r.Digest
		if dg == "" {
			dg = DigestSHA256
		}
		re.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", dg)
		re.CreateElement("ds:DigestValue")
	}
	sig.CreateElement("ds:SignatureValue")
	if len(ts.Certs) > 0 {
		xd := sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
		for _, c := range ts.Certs {
			xd.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
		}
	}
	for i, o := range ts.Objects {
		ob := sig.CreateElement("ds:Object")
		ob.CreateAttr("Id", ts.ObjectIDs[i])
		frag := etree.NewDocument()
		if err := frag.ReadFromString("<w>" + o + "</w>"); err != nil {
			panic(err)
		}
		for _, c := range frag.Root().Child {
			ob.AddChild(c)
		}
	}
	return sig
}

// envelopedTemplate puts the signature as the last child of the document element of base.
func envelopedTemplate(t testing.TB, base string, ts tSig) []byte {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(base); err != nil {
		t.Fatal(err)
	}
	d.Root().AddChild(buildSignature(ts))
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// envelopingTemplate makes the signature the document element.
func envelopingTemplate(t testing.TB, ts tSig) []byte {
	t.Helper()
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	d.SetRoot(buildSignature(ts))
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustSign(t testing.TB, tmpl []byte, id string, k *testKey) []byte {
	t.Helper()
	out, err := Sign(tmpl, id, k.signer, SignOptions{})
	if err != nil {
		t.Fatalf("Sign: %v\n%s", err, tmpl)
	}
	return out
}

// xmlsec1Path returns the xmlsec1 binary or skips.
func lookXmlsec() (string, error) { return exec.LookPath("xmlsec1") }

func xmlsec1Path(t testing.TB) string {
	t.Helper()
	p, err := lookXmlsec()
	if err != nil {
		t.Skip("xmlsec1 not installed (apt-get install xmlsec1): reference verifier unavailable")
	}
	return p
}

// runXmlsec1 verifies file with xmlsec1 and the given options; it returns whether xmlsec1 accepted it,
// the "SignedInfo References (ok/all)" line if printed, and the output.
func runXmlsec1(t testing.TB, dir string, args ...string) (ok bool, refs string, out string) {
	t.Helper()
	bin := xmlsec1Path(t)
	cmd := exec.Command(bin, append([]string{"--verify"}, args...)...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	out = buf.String()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "SignedInfo References (ok/all): ") {
			refs = strings.TrimPrefix(line, "SignedInfo References (ok/all): ")
		}
	}
	return err == nil && strings.Contains(out, "\nOK\n") || strings.HasPrefix(out, "OK\n"), refs, out
}

// writeTemp writes files into a fresh directory.
func writeTemp(t testing.TB, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sharedDir locates /work/shared: TAGDIJ_SHARED or ../../../shared from this package.
func sharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("TAGDIJ_SHARED"); d != "" {
		return d
	}
	d, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared"))
	if _, err := os.Stat(filepath.Join(d, "conformance")); err != nil {
		t.Skipf("shared conformance material not found at %s (set TAGDIJ_SHARED)", d)
	}
	return d
}

// keyValueXML renders the public key of k as RSAKeyValue or dsig11:ECKeyValue.
func keyValueXML(t testing.TB, k *testKey) string {
	t.Helper()
	switch p := k.signer.Public().(type) {
	case *rsa.PublicKey:
		return `<ds:RSAKeyValue><ds:Modulus>` + base64.StdEncoding.EncodeToString(p.N.Bytes()) + `</ds:Modulus><ds:Exponent>` +
			base64.StdEncoding.EncodeToString(big.NewInt(int64(p.E)).Bytes()) + `</ds:Exponent></ds:RSAKeyValue>`
	case *ecdsa.PublicKey:
		oid := map[int]string{256: "1.2.840.10045.3.1.7", 384: "1.3.132.0.34", 521: "1.3.132.0.35"}[p.Curve.Params().BitSize]
		pt, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return `<dsig11:ECKeyValue xmlns:dsig11="` + NSDSig11 + `"><dsig11:NamedCurve URI="urn:oid:` + oid + `"/><dsig11:PublicKey>` +
			base64.StdEncoding.EncodeToString(pt) + `</dsig11:PublicKey></dsig11:ECKeyValue>`
	}
	t.Fatalf("unknown key type")
	return ""
}

var reSigValueAny = regexp.MustCompile(`(?s)<(?:\w+:)?SignatureValue[^>]*>([^<]*)</`)
