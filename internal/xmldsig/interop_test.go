package xmldsig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/libxml"
)

// interopBase is the document the interop signatures cover: a default namespace, a prefixed
// attribute, mixed content, and two elements with Id.
const interopBase = `<?xml version="1.0" encoding="UTF-8"?>
<Doc xmlns:x="urn:x-test" xmlns:unused="urn:unused">
  <Adat Id="a1" x:attr="1">hello <b>world</b> &amp; more</Adat>
  <Masik Id="a2">
    second	element <!-- a comment -->
  </Masik>
</Doc>`

type interopCase struct {
	name  string
	key   string
	alg   string
	shape string // enveloped, enveloping, detached, detached-exc-prefix, c14n11
}

func interopCases() []interopCase {
	var cs []interopCase
	for _, k := range []struct{ key, alg string }{
		{"rsa2048", RSASHA256}, {"rsa2048", RSASHA512}, {"rsa2048", RSAPSSSHA256}, {"p256", ECDSASHA256}, {"p384", ECDSASHA384},
	} {
		for _, shape := range []string{"enveloped", "enveloping", "detached", "detached-exc-prefix", "c14n11", "xpointer"} {
			cs = append(cs, interopCase{name: k.key + "/" + k.alg[strings.LastIndex(k.alg, "#")+1:] + "/" + shape, key: k.key, alg: k.alg, shape: shape})
		}
	}
	return cs
}

// signInterop builds and signs the template for c.
func signInterop(t testing.TB, c interopCase) []byte {
	t.Helper()
	k := key(t, c.key)
	ts := tSig{ID: "sig-1", C14N: libxml.URIExcC14N, Method: c.alg, Certs: nil}
	ts.Certs = append(ts.Certs, k.cert)
	switch c.shape {
	case "enveloped":
		ts.C14N = libxml.URIC14N10
		ts.Refs = []tRef{{URI: "", Transforms: []string{TransformEnveloped, libxml.URIExcC14N}, Digest: DigestSHA384}}
		return mustSign(t, envelopedTemplate(t, interopBase, ts), "sig-1", k)
	case "enveloping":
		ts.Objects = []string{`<Adat xmlns="urn:x-obj">payload <i>x</i></Adat>`, `AAECAwQ=`}
		ts.ObjectIDs = []string{"obj-1", "obj-2"}
		ts.Refs = []tRef{{URI: "#obj-1", Transforms: []string{libxml.URIExcC14N}}, {URI: "#obj-2", Transforms: []string{TransformBase64}, Digest: DigestSHA512}}
		return mustSign(t, envelopingTemplate(t, ts), "sig-1", k)
	case "detached":
		ts.Objects = []string{`<Tulajdonsag>signed property</Tulajdonsag>`}
		ts.ObjectIDs = []string{"props"}
		ts.Refs = []tRef{{URI: "#a1", Transforms: []string{libxml.URIExcC14N}}, {URI: "#a2"}, {URI: "#props", Transforms: []string{libxml.URIExcC14N}}}
		return mustSign(t, envelopedTemplate(t, interopBase, ts), "sig-1", k)
	case "detached-exc-prefix":
		ts.C14NPrefix = "#default x"
		ts.Refs = []tRef{{URI: "#a1", Transforms: []string{libxml.URIExcC14N}, PrefixList: "x unused"}}
		return mustSign(t, envelopedTemplate(t, interopBase, ts), "sig-1", k)
	case "c14n11":
		ts.C14N = libxml.URIC14N11
		ts.Refs = []tRef{{URI: "#a2", Transforms: []string{libxml.URIC14N11WithComments}}, {URI: "", Transforms: []string{TransformEnveloped, libxml.URIC14N11}}}
		return mustSign(t, envelopedTemplate(t, interopBase, ts), "sig-1", k)
	case "xpointer":
		ts.Refs = []tRef{
			{URI: "#xpointer(/)", Transforms: []string{TransformEnveloped, libxml.URIC14N10WithComments}},
			{URI: "#xpointer(id('a2'))", Transforms: []string{libxml.URIExcC14NWithComment}},
		}
		return mustSign(t, envelopedTemplate(t, interopBase, ts), "sig-1", k)
	}
	t.Fatalf("unknown shape %q", c.shape)
	return nil
}

// xmlsecVerifySigned runs xmlsec1 on a document we signed: the self-signed certificate is the trusted
// root, Adat/Masik carry Id attributes (ds:Object Ids are registered by xmlsec1 itself).
func xmlsecVerifySigned(t *testing.T, doc []byte, trusted []byte) (bool, string) {
	dir := writeTemp(t, map[string][]byte{"doc.xml": doc, "root.pem": trusted})
	ok, _, out := runXmlsec1(t, dir, "--trusted-pem", "root.pem", "--enabled-reference-uris", "empty,same-doc",
		"--id-attr:Id", "Adat", "--id-attr:Id", "Masik", "doc.xml")
	return ok, out
}

var reSigValue = regexp.MustCompile(`(<ds:SignatureValue>)([^<]*)(</ds:SignatureValue>)`)

// TestInterop signs with every algorithm and shape, has xmlsec1 accept the result, then tampers
// with a referenced element, the SignatureValue and the KeyInfo certificate and checks that both
// xmlsec1 and we reject.
func TestInterop(t *testing.T) {
	haveXmlsec := true
	if _, err := lookXmlsec(); err != nil {
		haveXmlsec = false
	}
	other := key(t, "rsa2048b")
	for _, c := range interopCases() {
		t.Run(c.name, func(t *testing.T) {
			k := key(t, c.key)
			signed := signInterop(t, c)
			res, err := Verify(signed, VerifyOptions{MinRSABits: 2048})
			if err != nil {
				t.Fatalf("our Verify: %v\n%s", err, signed)
			}
			if !res[0].Valid || res[0].Certificate == nil || !res[0].Certificate.Equal(k.cert) {
				t.Fatalf("unexpected result %+v", res[0])
			}
			// xmlsec1 1.2.37 has no RSA-PSS: our PSS output is checked by our verifier and
			// TestPSSAgainstOpenSSL only.
			xmlsecUsable := haveXmlsec && !strings.Contains(c.alg, "rsa-MGF1")
			if xmlsecUsable {
				if ok, out := xmlsecVerifySigned(t, signed, k.certPEM()); !ok {
					t.Fatalf("xmlsec1 rejects our signature:\n%s\n%s", out, signed)
				}
			}

			tampers := map[string][]byte{}
			switch {
			case c.shape == "xpointer":
				// Under #xpointer references comments are signed.
				tampers["referenced element"] = bytes.Replace(signed, []byte("a comment"), []byte("a cOmment"), 1)
			case bytes.Contains(signed, []byte("hello")) && c.shape != "c14n11":
				tampers["referenced element"] = bytes.Replace(signed, []byte("hello"), []byte("hellp"), 1)
			case bytes.Contains(signed, []byte("payload")):
				tampers["referenced element"] = bytes.Replace(signed, []byte("payload"), []byte("paylaod"), 1)
			default:
				tampers["referenced element"] = bytes.Replace(signed, []byte("second"), []byte("secomd"), 1)
			}
			m := reSigValue.FindSubmatchIndex(signed)
			sv, _ := base64.StdEncoding.DecodeString(string(signed[m[4]:m[5]]))
			sv[len(sv)/2] ^= 0x01
			tampers["signature value"] = append(append(append([]byte{}, signed[:m[4]]...), base64.StdEncoding.EncodeToString(sv)...), signed[m[5]:]...)
			tampers["KeyInfo certificate"] = bytes.Replace(signed, []byte(base64.StdEncoding.EncodeToString(k.cert.Raw)), []byte(base64.StdEncoding.EncodeToString(other.cert.Raw)), 1)
			for what, doc := range tampers {
				if bytes.Equal(doc, signed) {
					t.Fatalf("%s: tampering changed nothing", what)
				}
				_, err := Verify(doc, VerifyOptions{})
				if err == nil {
					t.Errorf("%s: we accept a tampered document", what)
				} else if !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrSignatureInvalid) && !errors.Is(err, ErrKey) {
					t.Errorf("%s: unexpected error kind: %v", what, err)
				}
				if xmlsecUsable {
					trusted := k.certPEM()
					if what == "KeyInfo certificate" {
						trusted = other.certPEM() // even trusting the swapped-in certificate
					}
					if ok, _ := xmlsecVerifySigned(t, doc, trusted); ok {
						t.Errorf("%s: xmlsec1 accepts a tampered document", what)
					}
				}
			}
		})
	}
}

// TestSignPreservesBytes checks that Sign changes nothing but the DigestValue and SignatureValue
// contents: indentation, CR characters as references, attribute quoting and empty-element forms of
// the template survive.
func TestSignPreservesBytes(t *testing.T) {
	k := key(t, "p256")
	tmpl := []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r xmlns='urn:r'>\n\t<a Id='x' b=\"1\"  c='2'>t&#13;ext<e/></a>\n" +
		`  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="s">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>
      <ds:Reference URI="#x">
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ds:DigestValue></ds:DigestValue>
      </ds:Reference>
      <ds:Reference URI="">
        <ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ds:DigestValue/>
      </ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue>
    </ds:SignatureValue>
  </ds:Signature>
</r>
`)
	out, err := Sign(tmpl, "s", k.signer, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	strip := regexp.MustCompile(`(?s)<ds:(DigestValue|SignatureValue)(/>|>.*?</ds:(DigestValue|SignatureValue)>)`)
	if a, b := strip.ReplaceAll(tmpl, nil), strip.ReplaceAll(out, nil); !bytes.Equal(a, b) {
		t.Errorf("bytes outside the values changed:\n%s\n---\n%s", a, b)
	}
	if _, err := Verify(out, VerifyOptions{KeyResolver: StaticKey(k.signer.Public())}); err != nil {
		t.Fatalf("Verify: %v\n%s", err, out)
	}
}
