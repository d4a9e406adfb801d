package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/xades"
)

// TestShownSignerName: the name cert show, cert check and the signing preview show is the one Sign
// writes into es:SignerName, also for certificates without a common name.
func TestShownSignerName(t *testing.T) {
	withSubject := func(subject pkix.Name) *x509.Certificate {
		return revtest.NewRoot(t, revtest.Spec{Modify: func(c *x509.Certificate) { c.Subject = subject }}).Cert
	}
	person := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: "Kovács"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Anna"}}}
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		want string
	}{
		{"common name", withSubject(pkix.Name{CommonName: "Minta Márta", Organization: []string{"Példa Kft."}}), "Minta Márta"},
		{"surname and given name", withSubject(person), "Kovács Anna"},
		{"organisation only", withSubject(pkix.Name{Organization: []string{"Példa Kft."}}), "O=Példa Kft."},
	} {
		shown := describeCert(&certSource{Name: c.name, Leaf: c.cert}, time.Now()).SignerName
		if shown != c.want || shown != xades.SignerName(c.cert) {
			t.Errorf("%s: shown %q, es:SignerName %q, want %q", c.name, shown, xades.SignerName(c.cert), c.want)
		}
	}
}
