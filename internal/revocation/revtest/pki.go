// Package revtest builds throw-away PKIs and real loopback OCSP responders and CRL distribution
// points for tests of revocation checking and path validation. Servers are httptest servers on
// 127.0.0.1 speaking the real protocols (responses from x/crypto's ocsp.CreateResponse, CRLs from
// x509.CreateRevocationList); nothing is mocked. For tests only.
package revtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/qc"
)

// Identity is a certificate with its private key.
type Identity struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Spec describes a certificate to issue. Zero fields get test defaults: a P-256 key, validity from
// an hour ago to a day ahead, digitalSignature (end entity) or certSign+cRLSign (CA).
type Spec struct {
	Name        string
	CA          bool
	PathLen     int  // with CA: pathLenConstraint when positive; no constraint when 0 ...
	PathLenZero bool // ... unless PathLenZero, which sets pathLenConstraint 0
	NoBasic     bool // omit the basicConstraints extension entirely
	Key         crypto.Signer
	SigAlg      x509.SignatureAlgorithm
	NotBefore   time.Time
	NotAfter    time.Time
	KeyUsage    x509.KeyUsage
	EKU         []x509.ExtKeyUsage
	OCSP        []string
	CRL         []string
	// Qualified adds QcStatements with QcCompliance and QcSSCD.
	Qualified bool
	// Extra extensions, e.g. id-pkix-ocsp-nocheck; Critical EKU is set through Modify.
	Extra  []pkix.Extension
	Modify func(*x509.Certificate)
}

// Key returns a fresh P-256 key.
func Key(tb testing.TB) crypto.Signer {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func serial(tb testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		tb.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

// NewRoot returns a self-signed root CA.
func NewRoot(tb testing.TB, spec Spec) *Identity {
	tb.Helper()
	spec.CA = true
	return issue(tb, nil, spec)
}

// Issue issues a certificate from ca.
func (ca *Identity) Issue(tb testing.TB, spec Spec) *Identity {
	tb.Helper()
	return issue(tb, ca, spec)
}

func issue(tb testing.TB, parent *Identity, spec Spec) *Identity {
	tb.Helper()
	key := spec.Key
	if key == nil {
		key = Key(tb)
	}
	now := time.Now()
	nb, na := spec.NotBefore, spec.NotAfter
	if nb.IsZero() {
		nb = now.Add(-time.Hour)
	}
	if na.IsZero() {
		na = now.Add(24 * time.Hour)
	}
	t := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: spec.Name, Organization: []string{"Tagdij Test"}, Country: []string{"HU"}},
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              spec.KeyUsage,
		ExtKeyUsage:           spec.EKU,
		BasicConstraintsValid: !spec.NoBasic,
		IsCA:                  spec.CA,
		OCSPServer:            spec.OCSP,
		CRLDistributionPoints: spec.CRL,
		SignatureAlgorithm:    spec.SigAlg,
		ExtraExtensions:       spec.Extra,
	}
	if spec.CA {
		if t.KeyUsage == 0 {
			t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		}
		switch {
		case spec.PathLenZero:
			t.MaxPathLen, t.MaxPathLenZero = 0, true
		case spec.PathLen > 0:
			t.MaxPathLen = spec.PathLen
		default:
			t.MaxPathLen = -1
		}
	} else if t.KeyUsage == 0 {
		t.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if spec.Qualified {
		ext, err := qc.Extension(qc.Statements{Compliance: true, SSCD: true, Types: []asn1.ObjectIdentifier{qc.OIDTypeESign}})
		if err != nil {
			tb.Fatal(err)
		}
		t.ExtraExtensions = append(t.ExtraExtensions, ext)
	}
	if spec.Modify != nil {
		spec.Modify(t)
	}
	parentCert, parentKey := t, key
	if parent != nil {
		parentCert, parentKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, t, parentCert, key.Public(), parentKey)
	if err != nil {
		tb.Fatalf("revtest: issuing %q: %v", spec.Name, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &Identity{Cert: c, Key: key}
}

// WritePEM writes the certificate (and, if keyFile is not empty, the PKCS#8 key) as PEM files in dir
// and returns their paths.
func (id *Identity) WritePEM(tb testing.TB, dir, certFile, keyFile string) (string, string) {
	tb.Helper()
	cp := filepath.Join(dir, certFile)
	if err := os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if keyFile == "" {
		return cp, ""
	}
	kd, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		tb.Fatal(err)
	}
	kp := filepath.Join(dir, keyFile)
	if err := os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return cp, kp
}
