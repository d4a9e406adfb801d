package qc

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
)

func TestRoundTripThroughCertificate(t *testing.T) {
	cases := []Statements{
		{Compliance: true, SSCD: true, Types: []asn1OID{OIDTypeESign}},
		{Compliance: true},
		{SSCD: true, Types: []asn1OID{OIDTypeESeal, OIDTypeWeb}},
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for i, want := range cases {
		ext, err := Extension(want)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "qc"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), ExtraExtensions: []pkix.Extension{ext}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		got, present, err := FromCertificate(c)
		if err != nil || !present {
			t.Fatalf("case %d: present=%v err=%v", i, present, err)
		}
		if got.Compliance != want.Compliance || got.SSCD != want.SSCD || len(got.Types) != len(want.Types) {
			t.Fatalf("case %d: got %+v want %+v", i, got, want)
		}
		for _, ty := range want.Types {
			if !got.HasType(ty) {
				t.Fatalf("case %d: type %v lost", i, ty)
			}
		}
		if got.Qualified() != (want.Compliance && want.SSCD) {
			t.Fatalf("case %d: Qualified()=%v", i, got.Qualified())
		}
	}
}

func TestAbsentAndMalformed(t *testing.T) {
	if _, err := Parse([]byte{0x30, 0x03, 0x06, 0x01}); err == nil {
		t.Fatal("truncated DER accepted")
	}
	if _, err := Parse([]byte{0x04, 0x00}); err == nil {
		t.Fatal("wrong type accepted")
	}
	// QcType whose statementInfo is an INTEGER instead of a SEQUENCE OF OID.
	type intInfo struct {
		ID   asn1.ObjectIdentifier
		Info int
	}
	bad, err := asn1.Marshal([]intInfo{{OIDType, 7}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(bad); err == nil {
		t.Fatal("QcType with integer info accepted")
	}
	c := &x509.Certificate{}
	if _, present, err := FromCertificate(c); present || err != nil {
		t.Fatalf("empty certificate: present=%v err=%v", present, err)
	}
}

func FuzzParse(f *testing.F) {
	ext, _ := Extension(Statements{Compliance: true, SSCD: true, Types: []asn1OID{OIDTypeESign}})
	f.Add(ext.Value)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if _, err := Extension(s); err != nil {
			t.Fatalf("re-encoding parsed statements failed: %v", err)
		}
	})
}

type asn1OID = asn1.ObjectIdentifier
