package props

import (
	"crypto"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// FuzzParse feeds arbitrary bytes to all three parsers: they must return a value or an error, never
// panic, and a QualifyingProperties that parses must have a Target.
func FuzzParse(f *testing.F) {
	// A compact but complete seed: the full test QualifyingProperties carries kilobytes of DER
	// (certificates, CRL, OCSP) that make coverage-guided minimization crawl.
	p := newTestPKI(f)
	qp, err := BuildQualifyingProperties("sig1", testSigned(p))
	if err != nil {
		f.Fatal(err)
	}
	ts, _ := TimeStampElement(KindSignatureTimeStamp, "ts", "http://www.w3.org/2001/10/xml-exc-c14n#", []byte("tok"))
	ccr, _ := CompleteCertificateRefsElement("ccr", 0, []*x509.Certificate{p.root})
	crr, _ := CompleteRevocationRefsElement("crr", []CRLRef{{Digest: Sum(crypto.SHA256, nil), HasIdentifier: true, Issuer: "CN=x",
		IssueTime: time.Unix(0, 0), Number: big.NewInt(1)}}, []OCSPRef{{ResponderKey: []byte{1}, ProducedAt: time.Unix(0, 0)}})
	ats, _ := TimeStampElement(KindArchiveTimeStamp, "ats", "http://www.w3.org/2001/10/xml-exc-c14n#", []byte("tok"))
	for _, e := range []*etree.Element{ts, ccr, crr, ats} {
		if err := AppendUnsigned(qp, e); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(canonical(f, serialize(f, qp), ""))
	f.Add([]byte(`<xades:QualifyingProperties xmlns:xades="` + NS + `" Target="#s"></xades:QualifyingProperties>`))
	f.Add([]byte(`<xades:SignedProperties xmlns:xades="` + NS + `"><xades:SignedSignatureProperties><xades:SigningTime>2024-01-01T00:00:00Z</xades:SigningTime></xades:SignedSignatureProperties></xades:SignedProperties>`))
	f.Add([]byte(`<xades:UnsignedProperties xmlns:xades="` + NS + `"><xades:UnsignedSignatureProperties><xades:SignatureTimeStamp><xades:EncapsulatedTimeStamp>AA==</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp></xades:UnsignedSignatureProperties></xades:UnsignedProperties>`))
	lim := Parser{Limits: Limits{MaxBytes: 1 << 20, MaxElements: 2000}}
	f.Fuzz(func(t *testing.T, b []byte) {
		if qp, err := lim.ParseQualifyingProperties(b); err == nil && qp.Target == "" {
			t.Fatal("QualifyingProperties without Target")
		}
		_, _ = lim.ParseSignedProperties(b)
		_, _ = lim.ParseUnsignedProperties(b)
	})
}

// FuzzNameMatches: arbitrary names never panic and a name always matches its own NameString.
func FuzzNameMatches(f *testing.F) {
	p := newTestPKI(f)
	f.Add(`CN=a,O=b\,c+OU=d,C=HU`, p.signer.RawIssuer)
	f.Add(`1.2.3=#0c0161`, p.root.RawSubject)
	f.Fuzz(func(t *testing.T, s string, der []byte) {
		_ = NameMatches(s, der)
		if name, err := NameString(der); err == nil && !NameMatches(name, der) {
			t.Fatalf("NameString %q does not match its own DER", name)
		}
	})
}
