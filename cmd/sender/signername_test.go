package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/xades"
)

// TestShownSignerName: the name cert show, cert check and the signing preview show is the one Sign
// writes into es:SignerName, also for certificates without a common name.
func TestShownSignerName(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(subject pkix.Name) *x509.Certificate {
		t.Helper()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	person := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: "Kovács"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Anna"}}}
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		want string
	}{
		{"common name", mk(pkix.Name{CommonName: "Minta Márta", Organization: []string{"Példa Kft."}}), "Minta Márta"},
		{"surname and given name", mk(person), "Kovács Anna"},
		{"organisation only", mk(pkix.Name{Organization: []string{"Példa Kft."}}), "O=Példa Kft."},
	} {
		shown := describeCert(&certSource{Name: c.name, Leaf: c.cert}, time.Now()).SignerName
		if shown != c.want || shown != xades.SignerName(c.cert) {
			t.Errorf("%s: shown %q, es:SignerName %q, want %q", c.name, shown, xades.SignerName(c.cert), c.want)
		}
	}
}
