package xmldsig

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/libxml"
)

// detachedSigned is a document with a signature over "#a1" (exclusive c14n) and over the whole
// document (enveloped), signed with RSA-2048.
func detachedSigned(t *testing.T) []byte {
	t.Helper()
	k := key(t, "rsa2048")
	ts := tSig{ID: "sig-1", C14N: libxml.URIExcC14N, Method: RSASHA256, Certs: []*x509.Certificate{k.cert},
		Refs: []tRef{{URI: "#a1", Transforms: []string{libxml.URIExcC14N}}}}
	return mustSign(t, envelopedTemplate(t, `<Doc><Adat Id="a1">signed <b>content</b></Adat><Other>free</Other></Doc>`, ts), "sig-1", k)
}

func replaceOnce(t *testing.T, doc []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(doc, []byte(old)) {
		t.Fatalf("%q not in document:\n%s", old, doc)
	}
	return bytes.Replace(doc, []byte(old), []byte(new), 1)
}

// TestAttacks: each signature-wrapping or downgrade attempt yields the expected error.
func TestAttacks(t *testing.T) {
	signed := detachedSigned(t)
	if _, err := Verify(signed, VerifyOptions{}); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"duplicated Id", func(d []byte) []byte {
			return replaceOnce(t, d, `<Other>free</Other>`, `<Other Id="a1">evil</Other>`)
		}, ErrDuplicateID},
		{"duplicated Id via xml:id", func(d []byte) []byte {
			return replaceOnce(t, d, `<Other>free</Other>`, `<Other xml:id="a1">evil</Other>`)
		}, ErrDuplicateID},
		{"duplicated Id in lower case", func(d []byte) []byte {
			return replaceOnce(t, d, `<Other>free</Other>`, `<Other id="a1">evil</Other>`)
		}, ErrDuplicateID},
		{"reference to a non-existent Id", func(d []byte) []byte {
			return replaceOnce(t, d, `URI="#a1"`, `URI="#nope"`)
		}, ErrReference},
		{"extra XPath transform", func(d []byte) []byte {
			return replaceOnce(t, d, `<ds:Transforms>`, `<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>1</ds:XPath></ds:Transform>`)
		}, ErrUnsupported},
		{"XPath Filter 2.0 transform", func(d []byte) []byte {
			return replaceOnce(t, d, `<ds:Transforms>`, `<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"/>`)
		}, ErrUnsupported},
		{"XSLT transform", func(d []byte) []byte {
			return replaceOnce(t, d, `<ds:Transforms>`, `<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>`)
		}, ErrUnsupported},
		{"SignatureMethod swapped to another hash", func(d []byte) []byte {
			return replaceOnce(t, d, RSASHA256, RSASHA512)
		}, ErrSignatureInvalid},
		{"SignatureMethod swapped to PSS", func(d []byte) []byte {
			return replaceOnce(t, d, RSASHA256, RSAPSSSHA256)
		}, ErrSignatureInvalid},
		{"SignatureMethod swapped to ECDSA (key type mismatch)", func(d []byte) []byte {
			return replaceOnce(t, d, RSASHA256, ECDSASHA256)
		}, ErrKey},
		{"SignatureMethod swapped to HMAC", func(d []byte) []byte {
			return replaceOnce(t, d, RSASHA256, "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
		}, ErrUnsupportedAlgorithm},
		{"truncated signature value", func(d []byte) []byte {
			i := bytes.Index(d, []byte("</ds:SignatureValue>"))
			return append(append([]byte{}, d[:i-8]...), d[i:]...)
		}, ErrSignatureInvalid},
		{"KeyInfo with RetrievalMethod", func(d []byte) []byte {
			return replaceOnce(t, d, `<ds:KeyInfo>`, `<ds:KeyInfo><ds:RetrievalMethod URI="#a1" Type="http://www.w3.org/2000/09/xmldsig#X509Data"/>`)
		}, ErrUnsupported},
		{"reference with an http URI", func(d []byte) []byte { return replaceOnce(t, d, `URI="#a1"`, `URI="http://127.0.0.1:1/x.xml"`) }, ErrUnsupported},
		{"reference with a file URI", func(d []byte) []byte { return replaceOnce(t, d, `URI="#a1"`, `URI="file:///etc/passwd"`) }, ErrUnsupported},
		{"reference with a relative path", func(d []byte) []byte { return replaceOnce(t, d, `URI="#a1"`, `URI="other.xml"`) }, ErrUnsupported},
		{"reference without URI", func(d []byte) []byte { return replaceOnce(t, d, `URI="#a1"`, ``) }, ErrUnsupported},
		{"other XPointer", func(d []byte) []byte { return replaceOnce(t, d, `URI="#a1"`, `URI="#xpointer(//Adat)"`) }, ErrUnsupported},
		{"content changed", func(d []byte) []byte { return replaceOnce(t, d, `signed <b>`, `signed <b>not `) }, ErrDigestMismatch},
		{"SHA-1 digest swapped in", func(d []byte) []byte { return replaceOnce(t, d, DigestSHA256, DigestSHA1) }, ErrDigestMismatch},
		{"MD5 digest", func(d []byte) []byte {
			return replaceOnce(t, d, DigestSHA256, "http://www.w3.org/2001/04/xmldsig-more#md5")
		}, ErrUnsupportedAlgorithm},
		{"DOCTYPE", func(d []byte) []byte {
			return append([]byte(`<!DOCTYPE Doc [<!ATTLIST Other Id ID #IMPLIED>]>`), d...)
		}, libxml.ErrForbidden},
		{"element between SignedInfo and SignatureValue", func(d []byte) []byte {
			return replaceOnce(t, d, `</ds:SignedInfo>`, `</ds:SignedInfo><ds:Object/>`)
		}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.mutate(append([]byte{}, signed...))
			res, err := Verify(doc, VerifyOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			for _, r := range res {
				if r.Valid {
					t.Errorf("a result is valid: %+v", r)
				}
			}
		})
	}
}

// TestUnsupportedAlgorithmMessage: the error names the URI.
func TestUnsupportedAlgorithmMessage(t *testing.T) {
	for _, uri := range []string{
		"http://www.w3.org/2000/09/xmldsig#dsa-sha1", "http://www.w3.org/2009/xmldsig11#dsa-sha256",
		"http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519", "http://www.w3.org/2001/04/xmldsig-more#gostr34102001-gostr3411",
		"http://www.aleksey.com/xmlsec/2025/12/xmldsig-more#ml-dsa-44", "http://www.aleksey.com/xmlsec/2025/12/xmldsig-more#slh-dsa-sha2-128f",
		"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
	} {
		doc := replaceOnce(t, detachedSigned(t), RSASHA256, uri)
		res, err := Verify(doc, VerifyOptions{})
		var ua *UnsupportedAlgorithmError
		if !errors.As(err, &ua) || ua.URI != uri || !strings.Contains(err.Error(), "unsupported algorithm "+uri) {
			t.Errorf("%s: got %v", uri, err)
		}
		if len(res) != 1 || res[0].Valid || len(res[0].References) != 1 || !res[0].References[0].Valid {
			t.Errorf("%s: references should still be reported as checked: %+v", uri, res)
		}
	}
}

// TestMovedID: the signed element is moved into a wrapper and an unsigned look-alike takes its place.
// The digest still matches (the moved element is what was signed), so the signature verifies; the
// verifier reports WHERE the signed element now is, and Covers tells the look-alike apart. The XAdES
// layer checks positions.
func TestMovedID(t *testing.T) {
	signed := detachedSigned(t)
	orig := `<Adat Id="a1">signed <b>content</b></Adat>`
	doc := replaceOnce(t, signed, orig, `<Adat>evil <b>content</b></Adat>`)
	doc = replaceOnce(t, doc, `<Other>free</Other>`, `<Other><Wrapper>`+orig+`</Wrapper></Other>`)
	d, err := libxml.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var sig, lookalike libxml.Node
	d.Walk(func(n libxml.Node) bool {
		if n.Is(NSDSig, "Signature") {
			sig = n
		}
		if n.LocalName() == "Adat" && lookalike.IsZero() {
			lookalike = n
		}
		return true
	})
	res, err := VerifyDocument(d, sig, VerifyOptions{})
	if err != nil {
		t.Fatalf("VerifyDocument: %v", err)
	}
	got := res.References[0].Node
	if got.Parent().LocalName() != "Wrapper" {
		t.Errorf("resolved node's parent is %q, want Wrapper", got.Parent().LocalName())
	}
	if got.Parent().Parent().Parent() != d.Root() {
		t.Errorf("resolved node not under Doc/Other/Wrapper")
	}
	if res.Covers(lookalike) {
		t.Error("the unsigned look-alike is reported as covered")
	}
	if !res.Covers(got) || !res.Covers(got.Children()[0]) {
		t.Error("the signed element or its child is not reported as covered")
	}
	if len(res.Covered) != 1 || res.Covered[0] != got {
		t.Errorf("Covered = %v", res.Covered)
	}
}

// TestCommentInsideReferencedElement: "#id" references drop comments, so adding one keeps the
// signature valid; #xpointer(id()) keeps them, so there it breaks the digest.
func TestCommentInsideReferencedElement(t *testing.T) {
	signed := detachedSigned(t)
	doc := replaceOnce(t, signed, `signed <b>`, `signed <!-- added --><b>`)
	if _, err := Verify(doc, VerifyOptions{}); err != nil {
		t.Errorf("comment in #id-referenced element: %v", err)
	}

	k := key(t, "p256")
	ts := tSig{ID: "s", C14N: libxml.URIExcC14N, Method: ECDSASHA256, Certs: []*x509.Certificate{k.cert},
		Refs: []tRef{{URI: "#xpointer(id('a1'))", Transforms: []string{libxml.URIExcC14NWithComment}}}}
	xp := mustSign(t, envelopedTemplate(t, `<Doc><Adat Id="a1">signed <!--c--><b>content</b></Adat></Doc>`, ts), "s", k)
	if _, err := Verify(xp, VerifyOptions{}); err != nil {
		t.Fatalf("xpointer signature: %v", err)
	}
	_, err := Verify(replaceOnce(t, xp, `<!--c-->`, `<!--d-->`), VerifyOptions{})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("changed comment under #xpointer(id()) with comments: got %v", err)
	}
}

// TestLimits: signatures, references and transforms per the options.
func TestLimits(t *testing.T) {
	signed := detachedSigned(t)
	t.Run("signatures", func(t *testing.T) {
		sig := signed[bytes.Index(signed, []byte("<ds:Signature")):bytes.Index(signed, []byte("</Doc>"))]
		var many []byte
		many = append(many, `<Doc><Adat Id="a1">signed <b>content</b></Adat>`...)
		for i := 0; i < 3; i++ {
			many = append(many, bytes.Replace(sig, []byte(`Id="sig-1"`), fmt.Appendf(nil, `Id="sig-%d"`, i+10), 1)...)
		}
		many = append(many, "</Doc>"...)
		if _, err := Verify(many, VerifyOptions{}); err != nil {
			t.Fatalf("3 signatures: %v", err)
		}
		if _, err := Verify(many, VerifyOptions{MaxSignatures: 2}); !errors.Is(err, ErrLimit) {
			t.Errorf("3 signatures with max 2: %v", err)
		}
		res, err := Verify(many, VerifyOptions{SignatureID: "sig-11"})
		if err != nil || len(res) != 1 || res[0].ID != "sig-11" {
			t.Errorf("SignatureID: %v %+v", err, res)
		}
		if _, err := Verify(many, VerifyOptions{SignatureID: "a1"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("SignatureID of a non-signature: %v", err)
		}
	})
	t.Run("references", func(t *testing.T) {
		i := bytes.Index(signed, []byte("<ds:Reference"))
		j := bytes.Index(signed, []byte("</ds:SignedInfo>"))
		ref := signed[i:j]
		doc := append(append(append([]byte{}, signed[:j]...), bytes.Repeat(ref, 4)...), signed[j:]...)
		if _, err := Verify(doc, VerifyOptions{MaxReferences: 4}); !errors.Is(err, ErrLimit) {
			t.Errorf("5 references with max 4: %v", err)
		}
		if _, err := Verify(doc, VerifyOptions{MaxReferences: 5}); errors.Is(err, ErrLimit) {
			t.Errorf("5 references with max 5: %v", err)
		}
	})
	t.Run("transforms", func(t *testing.T) {
		c := `<ds:Transform Algorithm="` + libxml.URIExcC14N + `"/>`
		doc := replaceOnce(t, signed, `<ds:Transforms>`, `<ds:Transforms>`+strings.Repeat(c, 8))
		if _, err := Verify(doc, VerifyOptions{}); !errors.Is(err, ErrLimit) {
			t.Errorf("9 transforms: %v", err)
		}
		// 8 transforms (canonicalizing canonical output again changes nothing) are accepted.
		k := key(t, "p256")
		var tr []string
		for i := 0; i < 8; i++ {
			tr = append(tr, libxml.URIExcC14N)
		}
		ts := tSig{ID: "s", C14N: libxml.URIExcC14N, Method: ECDSASHA256, Certs: []*x509.Certificate{k.cert}, Refs: []tRef{{URI: "#a1", Transforms: tr}}}
		eight := mustSign(t, envelopedTemplate(t, `<Doc><Adat Id="a1">x <y/></Adat></Doc>`, ts), "s", k)
		if _, err := Verify(eight, VerifyOptions{}); err != nil {
			t.Errorf("8 transforms: %v", err)
		}
		if _, err := Verify(eight, VerifyOptions{MaxTransforms: 7}); !errors.Is(err, ErrLimit) {
			t.Errorf("8 transforms with max 7: %v", err)
		}
	})
}

// TestRSAKeySize: 1024-bit RSA verifies by default but not under MinRSABits 2048; Sign refuses it
// unless told otherwise.
func TestRSAKeySize(t *testing.T) {
	k := key(t, "rsa1024")
	ts := tSig{ID: "s", C14N: libxml.URIExcC14N, Method: RSASHA256, Certs: []*x509.Certificate{k.cert}, Refs: []tRef{{URI: "#a1"}}}
	tmpl := envelopedTemplate(t, `<Doc><Adat Id="a1">x</Adat></Doc>`, ts)
	if _, err := Sign(tmpl, "s", k.signer, SignOptions{}); !errors.Is(err, ErrKey) {
		t.Errorf("Sign with RSA-1024: %v", err)
	}
	signed, err := Sign(tmpl, "s", k.signer, SignOptions{MinRSABits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(signed, VerifyOptions{}); err != nil {
		t.Errorf("default verification of RSA-1024: %v", err)
	}
	if _, err := Verify(signed, VerifyOptions{MinRSABits: 2048}); !errors.Is(err, ErrKey) {
		t.Errorf("RSA-1024 under MinRSABits 2048: %v", err)
	}
}

// TestSignRefusals: what Sign will not do.
func TestSignRefusals(t *testing.T) {
	rk, ek := key(t, "rsa2048"), key(t, "p256")
	base := `<Doc><Adat Id="a1">x</Adat></Doc>`
	tests := []struct {
		name   string
		ts     tSig
		signer *testKey
		edit   func([]byte) []byte
		want   error
	}{
		{"SHA-1 digest", tSig{Method: RSASHA256, Refs: []tRef{{URI: "#a1", Digest: DigestSHA1}}}, rk, nil, ErrUnsupported},
		{"rsa-sha1", tSig{Method: RSASHA1, Refs: []tRef{{URI: "#a1"}}}, rk, nil, ErrUnsupported},
		{"ECDSA method, RSA key", tSig{Method: ECDSASHA256, Refs: []tRef{{URI: "#a1"}}}, rk, nil, ErrKey},
		{"RSA method, ECDSA key", tSig{Method: RSASHA256, Refs: []tRef{{URI: "#a1"}}}, ek, nil, ErrKey},
		{"DSA method", tSig{Method: "http://www.w3.org/2000/09/xmldsig#dsa-sha1", Refs: []tRef{{URI: "#a1"}}}, rk, nil, ErrUnsupportedAlgorithm},
		{"reference over its own signature", tSig{Method: RSASHA256, Refs: []tRef{{URI: "#s"}}}, rk, nil, ErrReference},
		{"whole document without enveloped transform", tSig{Method: RSASHA256, Refs: []tRef{{URI: ""}}}, rk, nil, ErrReference},
		{"non-empty DigestValue", tSig{Method: RSASHA256, Refs: []tRef{{URI: "#a1"}}}, rk, func(d []byte) []byte {
			return bytes.Replace(d, []byte("<ds:DigestValue/>"), []byte("<ds:DigestValue>AAAA</ds:DigestValue>"), 1)
		}, ErrMalformed},
		{"missing reference target", tSig{Method: RSASHA256, Refs: []tRef{{URI: "#none"}}}, rk, nil, ErrReference},
		{"external reference", tSig{Method: RSASHA256, Refs: []tRef{{URI: "http://127.0.0.1:1/"}}}, rk, nil, ErrUnsupported},
		{"duplicate Id", tSig{Method: RSASHA256, Refs: []tRef{{URI: "#a1"}}}, rk, func(d []byte) []byte {
			return bytes.Replace(d, []byte("<Doc>"), []byte(`<Doc><X Id="a1"/>`), 1)
		}, ErrDuplicateID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ts.ID, tt.ts.C14N = "s", libxml.URIExcC14N
			tmpl := envelopedTemplate(t, base, tt.ts)
			if tt.edit != nil {
				tmpl = tt.edit(tmpl)
			}
			if _, err := Sign(tmpl, "s", tt.signer.signer, SignOptions{}); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Sign([]byte(base), "s", rk.signer, SignOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("no template: %v", err)
	}
}

// TestManifestNotFollowed: a Manifest's references are not validated, and the Result says a
// Manifest is present.
func TestManifestNotFollowed(t *testing.T) {
	k := key(t, "rsa2048")
	man := `<ds:Manifest xmlns:ds="` + NSDSig + `" Id="m"><ds:Reference URI="#nowhere"><ds:DigestMethod Algorithm="` + DigestSHA256 + `"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:Manifest>`
	ts := tSig{ID: "s", C14N: libxml.URIExcC14N, Method: RSASHA256, Certs: []*x509.Certificate{k.cert},
		Objects: []string{man}, ObjectIDs: []string{"o"},
		Refs: []tRef{{URI: "#m", Transforms: []string{libxml.URIExcC14N}}}}
	signed := mustSign(t, envelopingTemplate(t, ts), "s", k)
	res, err := Verify(signed, VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res[0].Manifests != 1 || len(res[0].References) != 1 {
		t.Errorf("Manifests = %d, references = %d", res[0].Manifests, len(res[0].References))
	}
}

// TestKeySources: KeyValue (RSA, EC), a resolver over supplied certificates, a KeyValue that differs
// from the certificate, and no key at all.
func TestKeySources(t *testing.T) {
	for _, kind := range []string{"rsa2048", "p384"} {
		k := key(t, kind)
		method := RSASHA256
		if kind == "p384" {
			method = ECDSASHA384
		}
		ts := tSig{ID: "s", C14N: libxml.URIExcC14N, Method: method, Refs: []tRef{{URI: "#a1"}}}
		tmpl := envelopedTemplate(t, `<Doc><Adat Id="a1">x</Adat></Doc>`, ts)
		tmpl = replaceOnce(t, tmpl, `<ds:SignatureValue/>`, `<ds:SignatureValue/><ds:KeyInfo><ds:KeyValue>`+keyValueXML(t, k)+`</ds:KeyValue></ds:KeyInfo>`)
		signed := mustSign(t, tmpl, "s", k)
		res, err := Verify(signed, VerifyOptions{})
		if err != nil || res[0].Certificate != nil {
			t.Errorf("%s KeyValue: %v", kind, err)
		}
	}

	k, other := key(t, "rsa2048"), key(t, "rsa2048b")
	ts := tSig{ID: "s", C14N: libxml.URIExcC14N, Method: RSASHA256, Refs: []tRef{{URI: "#a1"}}}
	tmpl := envelopedTemplate(t, `<Doc><Adat Id="a1">x</Adat></Doc>`, ts)
	withHints := replaceOnce(t, tmpl, `<ds:SignatureValue/>`, `<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509SubjectName>`+k.cert.Subject.String()+`</ds:X509SubjectName></ds:X509Data></ds:KeyInfo>`)
	signed := mustSign(t, withHints, "s", k)
	if _, err := Verify(signed, VerifyOptions{}); !errors.Is(err, ErrKey) {
		t.Errorf("no key, no resolver: %v", err)
	}
	res, err := Verify(signed, VerifyOptions{KeyResolver: CertificateResolver(other.cert, k.cert)})
	if err != nil || !res[0].Certificate.Equal(k.cert) {
		t.Errorf("resolver by subject name: %v", err)
	}
	if _, err := Verify(signed, VerifyOptions{KeyResolver: CertificateResolver(other.cert)}); !errors.Is(err, ErrKey) {
		t.Errorf("resolver without the certificate: %v", err)
	}
	// KeyValue beside a certificate must be the certificate's key.
	ts.Certs = []*x509.Certificate{k.cert}
	tmpl = envelopedTemplate(t, `<Doc><Adat Id="a1">x</Adat></Doc>`, ts)
	tmpl = replaceOnce(t, tmpl, `<ds:KeyInfo>`, `<ds:KeyInfo><ds:KeyValue>`+keyValueXML(t, other)+`</ds:KeyValue>`)
	if _, err := Verify(mustSign(t, tmpl, "s", k), VerifyOptions{}); !errors.Is(err, ErrKey) {
		t.Errorf("KeyValue differing from certificate: %v", err)
	}
}
