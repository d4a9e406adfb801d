package cmsenc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// party is a test certificate with its key, also written as PEM files for openssl.
type party struct {
	name     string
	cert     *x509.Certificate
	key      *rsa.PrivateKey
	certPEM  string
	keyPEM   string
	certPath string
	keyPath  string
}

type testPKI struct {
	fund, sender, authority, stranger *party
	signOnly, small                   *party
	dir                               string
}

var pkiOnce = sync.OnceValues(makePKI)

// pki returns test certificates generated once per test binary: a CA and end-entity certificates
// with keyEncipherment (the fund's RSA-3072, the others RSA-2048), plus one restricted to signing and
// one with a 1024-bit key for the refusals.
func pki(t testing.TB) *testPKI {
	t.Helper()
	p, err := pkiOnce()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func makePKI() (*testPKI, error) {
	dir, err := os.MkdirTemp("", "cmsenc-pki-")
	if err != nil {
		return nil, err
	}
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tagdíj Test CA", Organization: []string{"Teszt Kft."}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	serial := int64(1000)
	mk := func(name string, bits int, ku x509.KeyUsage) (*party, error) {
		key, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, err
		}
		serial += 7919
		skid := sha1.Sum(x509.MarshalPKCS1PublicKey(&key.PublicKey))
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: ku, SubjectKeyId: skid[:],
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, err
		}
		cert, _ := x509.ParseCertificate(der)
		p8, _ := x509.MarshalPKCS8PrivateKey(key)
		pt := &party{name: name, cert: cert, key: key,
			certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))}
		pt.certPath = filepath.Join(dir, name+".crt.pem")
		pt.keyPath = filepath.Join(dir, name+".key.pem")
		if err := os.WriteFile(pt.certPath, []byte(pt.certPEM), 0o600); err != nil {
			return nil, err
		}
		if err := os.WriteFile(pt.keyPath, []byte(pt.keyPEM), 0o600); err != nil {
			return nil, err
		}
		return pt, nil
	}
	p := &testPKI{dir: dir}
	enc := x509.KeyUsageKeyEncipherment
	if p.fund, err = mk("fund", 3072, enc); err != nil {
		return nil, err
	}
	if p.sender, err = mk("sender", 2048, enc|x509.KeyUsageDigitalSignature); err != nil {
		return nil, err
	}
	if p.authority, err = mk("authority", 2048, enc); err != nil {
		return nil, err
	}
	if p.stranger, err = mk("stranger", 2048, enc); err != nil {
		return nil, err
	}
	if p.signOnly, err = mk("signonly", 2048, x509.KeyUsageDigitalSignature); err != nil {
		return nil, err
	}
	if p.small, err = mk("small", 1024, enc); err != nil {
		return nil, err
	}
	return p, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if p, err := pkiOnce(); err == nil && p != nil {
		os.RemoveAll(p.dir)
	}
	os.Exit(code)
}

// opaqueDecrypter hides the *rsa.PrivateKey behind crypto.Decrypter, as a PKCS#11 key does, and
// counts its uses.
type opaqueDecrypter struct {
	k     *rsa.PrivateKey
	calls *int
}

func (d opaqueDecrypter) Public() crypto.PublicKey { return &d.k.PublicKey }

func (d opaqueDecrypter) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	if d.calls != nil {
		*d.calls++
	}
	return d.k.Decrypt(r, msg, opts)
}

func requireOpenSSL(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed (make deps installs it): skipping the OpenSSL interoperability test")
	}
	return path
}
