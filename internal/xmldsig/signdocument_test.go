package xmldsig

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/libxml"
)

// TestSignDocumentCanonicalSignatureValue: the canonical SignatureValue SignDocument derives without
// parsing the signed document is what canonicalizing that element of a parse of it gives, and the
// document is Sign's.
func TestSignDocumentCanonicalSignatureValue(t *testing.T) {
	const base = `<Doc xmlns:x="urn:x"><Adat Id="a1">signed <x:b>content</x:b></Adat></Doc>`
	cases := []struct {
		name, key, method string
		tmpl              func(ts tSig) []byte
	}{
		{"enveloped, empty-element SignatureValue, RSA", "rsa2048", RSASHA256, func(ts tSig) []byte { return envelopedTemplate(t, base, ts) }},
		{"enveloped, ECDSA", "p256", ECDSASHA256, func(ts tSig) []byte { return envelopedTemplate(t, base, ts) }},
		{"enveloping, RSA", "rsa2048", RSASHA256, func(ts tSig) []byte {
			ts.Objects, ts.ObjectIDs = []string{`<Adat>signed</Adat>`}, []string{"a1"}
			return envelopingTemplate(t, ts)
		}},
		{"whitespace in the template's SignatureValue", "rsa2048", RSASHA256, func(ts tSig) []byte {
			b := envelopedTemplate(t, base, ts)
			return bytes.Replace(b, []byte("<ds:SignatureValue/>"), []byte("<ds:SignatureValue>\n  </ds:SignatureValue>"), 1)
		}},
		{"ds bound on the document element only", "rsa2048", RSASHA256, func(ts tSig) []byte {
			b := envelopedTemplate(t, base, ts)
			b = bytes.Replace(b, []byte(`<ds:Signature xmlns:ds="`+NSDSig+`"`), []byte(`<ds:Signature`), 1)
			return bytes.Replace(b, []byte(`<Doc xmlns:x="urn:x">`), []byte(`<Doc xmlns:x="urn:x" xmlns:ds="`+NSDSig+`">`), 1)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := key(t, c.key)
			tmpl := c.tmpl(tSig{ID: "s", C14N: libxml.URIExcC14N, Method: c.method, Certs: []*x509.Certificate{k.cert},
				Refs: []tRef{{URI: "#a1", Transforms: []string{libxml.URIExcC14N}}}})
			got, err := SignDocument(tmpl, "s", k.signer, SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c.method == RSASHA256 { // deterministic: the same bytes as Sign
				if plain, err := Sign(tmpl, "s", k.signer, SignOptions{}); err != nil || !bytes.Equal(plain, got.Doc) {
					t.Fatalf("Sign: %v; documents differ", err)
				}
			}
			d, err := libxml.Parse(got.Doc)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ids, err := indexIDs(d)
			if err != nil {
				t.Fatal(err)
			}
			s, err := parseSignature(ids["s"], limits{refs: 10, transforms: 10})
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := d.CanonicalizeTo(&want, s.sigValue, libxml.C14N{Method: libxml.ExcC14N10}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.CanonicalSignatureValue, want.Bytes()) {
				t.Fatalf("canonical SignatureValue\n got %s\nwant %s", got.CanonicalSignatureValue, want.Bytes())
			}
			if !strings.Contains(want.String(), `xmlns:ds="`+NSDSig+`"`) || len(s.sigValue.Text()) < 64 {
				t.Fatalf("not a filled, self-contained SignatureValue: %s", want.Bytes())
			}
		})
	}
}

// TestFillSignatureValueRefusals: anything but an element without children is not filled.
func TestFillSignatureValueRefusals(t *testing.T) {
	for _, in := range []string{
		`<ds:SignatureValue xmlns:ds="` + NSDSig + `"><ds:X></ds:X></ds:SignatureValue>`,
		`<ds:DigestValue xmlns:ds="` + NSDSig + `"></ds:DigestValue>`,
		`<ds:SignatureValue xmlns:ds="` + NSDSig + `">`,
	} {
		if out, err := fillSignatureValue([]byte(in), "QUJD"); err == nil {
			t.Errorf("%s filled: %s", in, out)
		}
	}
	out, err := fillSignatureValue([]byte(`<ds:SignatureValue xmlns:ds="`+NSDSig+`" Id="v"></ds:SignatureValue>`), "QUJD")
	if err != nil || string(out) != `<ds:SignatureValue xmlns:ds="`+NSDSig+`" Id="v">QUJD</ds:SignatureValue>` {
		t.Fatalf("%s %v", out, err)
	}
}

// TestVerifyParseCertificate: KeyInfo certificates go through VerifyOptions.ParseCertificate when
// set, with the same result as x509.ParseCertificate; a parser that refuses makes KeyInfo malformed.
func TestVerifyParseCertificate(t *testing.T) {
	signed := detachedSigned(t)
	calls := 0
	counting := func(der []byte) (*x509.Certificate, error) { calls++; return x509.ParseCertificate(der) }
	for _, tc := range []struct {
		name  string
		parse func([]byte) (*x509.Certificate, error)
		valid bool
	}{
		{"default", nil, true},
		{"counting", counting, true},
		{"refusing", func([]byte) (*x509.Certificate, error) { return nil, errors.New("refused") }, false},
	} {
		res, err := Verify(signed, VerifyOptions{ParseCertificate: tc.parse})
		if !tc.valid {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: %v, want ErrMalformed", tc.name, err)
			}
			continue
		}
		if err != nil || len(res) != 1 || !res[0].Valid {
			t.Fatalf("%s: %v %+v", tc.name, err, res)
		}
		if tc.valid && !res[0].Certificate.Equal(key(t, "rsa2048").cert) {
			t.Fatalf("%s: verified with another certificate", tc.name)
		}
	}
	if calls != 1 {
		t.Fatalf("the counting parser ran %d times, want once (one KeyInfo certificate)", calls)
	}
}
