package props

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNameMatches(t *testing.T) {
	p := newTestPKI(t)
	der := p.signer.RawIssuer // C=HU, O=…, organizationIdentifier, CN, emailAddress
	goForm, err := NameString(der)
	if err != nil {
		t.Fatal(err)
	}
	emailDER, _ := asn1.MarshalWithParams("ca@example.hu", "ia5")
	match := []string{
		goForm,
		`emailAddress=ca@example.hu,CN=Minősített CA 1,organizationIdentifier=VATHU-12345678,O=Teszt\, Kft. \+ \"Társai\",C=HU`,
		`E=ca@example.hu, CN=Minősített CA 1, OID.2.5.4.97=VATHU-12345678, O=Teszt\2C Kft. \2B "Társai", C=HU`,
		`1.2.840.113549.1.9.1=#` + hex.EncodeToString(emailDER) + `;cn=MINŐSÍTETT  CA 1;2.5.4.97=VATHU-12345678;O=Teszt\, Kft. \+ "Társai";C=hu`,
		`EMAILADDRESS = ca@example.hu , CN = Minősített CA 1 , ORGANIZATIONIDENTIFIER=VATHU-12345678,O=Teszt\, Kft. \+ \"T\C3\A1rsai\",C=HU`,
	}
	for _, s := range match {
		if !NameMatches(s, der) {
			t.Errorf("no match: %s", s)
		}
	}
	noMatch := []string{
		`C=HU,O=Teszt\, Kft. \+ \"Társai\",2.5.4.97=VATHU-12345678,CN=Minősített CA 1,1.2.840.113549.1.9.1=ca@example.hu`, // DER order
		`CN=Minősített CA 1,2.5.4.97=VATHU-12345678,O=Teszt\, Kft. \+ \"Társai\",C=HU`,                                    // RDN missing
		`emailAddress=ca@example.hu,CN=Minősített CA 2,organizationIdentifier=VATHU-12345678,O=Teszt\, Kft. \+ \"Társai\",C=HU`,
		`emailAddress=ca@example.hu,CN=Minősített CA 1,organizationIdentifier=VATHU-12345678,O=Teszt\, Kft. \+ \"Társai\",C=HU,DC=x`,
		`emailAddress=ca@example.hu,CN=Minősített CA 1,organizationIdentifier=VATHU-12345678,O=Teszt, Kft. + "Társai",C=HU`, // unescaped
		`FOO=ca@example.hu,CN=Minősített CA 1,2.5.4.97=VATHU-12345678,O=Teszt\, Kft. \+ \"Társai\",C=HU`,
		`emailAddress=ca@example.hu,CN=Minősített CA 1\`,
		`CN`, "", `/C=HU/O=Teszt`, `1.2.840.113549.1.9.1=#zz,CN=x`, `01.2=x`,
		strings.Repeat("CN=x,", 3000),
	}
	for _, s := range noMatch {
		if NameMatches(s, der) {
			t.Errorf("matches: %s", s)
		}
	}
	if NameMatches(goForm, []byte("junk")) {
		t.Error("matches junk DER")
	}

	// Multi-valued RDN: attribute order within the RDN is free, RDN order is not.
	mv, _ := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "HU"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "a"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "b"}},
	})
	s, _ := NameString(mv)
	for _, ok := range []string{s, "O=b+CN=a,C=HU", "CN=a + O=b, C=HU"} {
		if !NameMatches(ok, mv) {
			t.Errorf("multi-valued: no match %q (NameString %q)", ok, s)
		}
	}
	for _, bad := range []string{"CN=a,O=b,C=HU", "CN=a+O=b+O=b,C=HU", "C=HU,CN=a+O=b"} {
		if NameMatches(bad, mv) {
			t.Errorf("multi-valued: matches %q", bad)
		}
	}
}

// TestNameMatchesOpenSSL compares with the RFC 2253 strings OpenSSL (and so xmlsec) writes.
func TestNameMatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed (make installs it)")
	}
	p := newTestPKI(t)
	dir := t.TempDir()
	for _, c := range []*x509.Certificate{p.signer, p.ca} {
		f := filepath.Join(dir, "c.pem")
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, opt := range []string{"RFC2253", "RFC2253,-esc_msb"} {
			out, err := exec.Command(openssl, "x509", "-in", f, "-noout", "-issuer", "-nameopt", opt).Output()
			if err != nil {
				t.Fatal(err)
			}
			s := strings.TrimSpace(strings.TrimPrefix(string(out), "issuer="))
			if !NameMatches(s, c.RawIssuer) {
				t.Errorf("openssl -nameopt %s form %q does not match", opt, s)
			}
			if NameMatches(s, c.RawSubject) && string(c.RawSubject) != string(c.RawIssuer) {
				t.Errorf("openssl issuer form %q matches the subject", s)
			}
		}
	}
}
