package props

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// testPKI is a small real PKI: a root, an intermediate with a multi-valued RDN and non-ASCII text, a
// signer, an OCSP response and a CRL, all made with the standard library.
type testPKI struct {
	root, ca, signer *x509.Certificate
	caKey            *ecdsa.PrivateKey
	ocspDER, crlDER  []byte
}

var (
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidOrgID = asn1.ObjectIdentifier{2, 5, 4, 97}
)

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rootKey, caKey, signerKey := key(), key(), key()
	mk := func(tmpl *x509.Certificate, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) *x509.Certificate {
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := mk(&x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tagdíj Teszt Gyökér CA", Country: []string{"HU"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, &rootKey.PublicKey, rootKey)
	// The intermediate's subject has an email attribute (hex in RFC 4514 output), an
	// organizationIdentifier, characters that need escaping and a multi-valued RDN.
	caSubject := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "HU"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Teszt, Kft. + \"Társai\""},
		{Type: oidOrgID, Value: "VATHU-12345678"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "Minősített CA 1"},
		{Type: oidEmail, Value: "ca@example.hu"},
	}}
	// The CA serial has 23 decimal digits: libxml2 2.9 (xmllint) rejects xs:integer values of more than
	// 24 digits, so the schema test cannot use 20-octet serials; TestLargeSerial covers those.
	ca := mk(&x509.Certificate{
		SerialNumber: new(big.Int).Lsh(big.NewInt(0x7fedcba9), 44), Subject: caSubject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}, root, &caKey.PublicKey, rootKey)
	signer := mk(&x509.Certificate{
		SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "Kovács Éva", Country: []string{"HU"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}, ca, &signerKey.PublicKey, caKey)
	ocspDER, err := ocsp.CreateResponse(ca, ca, ocsp.Response{
		Status: ocsp.Good, SerialNumber: signer.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		ProducedAt: now.Add(5 * time.Hour),
	}, caKey)
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(77), ThisUpdate: now.Add(25 * time.Hour), NextUpdate: now.Add(48 * time.Hour),
	}, root, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{root: root, ca: ca, signer: signer, caKey: caKey, ocspDER: ocspDER, crlDER: crlDER}
}
