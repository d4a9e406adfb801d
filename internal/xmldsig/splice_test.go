package xmldsig

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/libxml"
)

// spliceTemplate is a template with one reference to #a and the given SignedInfo canonicalization,
// with DigestValue and SignatureValue written as dv and sv, inside a document whose root carries a
// default namespace, xml:lang and an unused prefix (what inclusive canonicalization renders on the
// apex and exclusive canonicalization leaves out).
func spliceTemplate(c14n, c14nParams, dsPrefix, dv, sv string) []byte {
	p := ""
	decl := `xmlns="` + NSDSig + `"`
	if dsPrefix != "" {
		p = dsPrefix + ":"
		decl = `xmlns:` + dsPrefix + `="` + NSDSig + `"`
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<r xmlns="urn:r" xmlns:u="urn:unused" xml:lang="hu">
  <a Id="a">data <!-- c --> &amp; more</a>
  <` + p + `Signature ` + decl + ` Id="s">
    <` + p + `SignedInfo>
      <` + p + `CanonicalizationMethod Algorithm="` + c14n + `">` + c14nParams + `</` + p + `CanonicalizationMethod>
      <` + p + `SignatureMethod Algorithm="` + ECDSASHA256 + `"/>
      <` + p + `Reference URI="#a">
        <` + p + `DigestMethod Algorithm="` + DigestSHA256 + `"/>
        ` + strings.ReplaceAll(dv, "P:", p) + `
      </` + p + `Reference>
      <` + p + `Reference URI="#a">
        <` + p + `Transforms><` + p + `Transform Algorithm="` + libxml.URIExcC14N + `"/></` + p + `Transforms>
        <` + p + `DigestMethod Algorithm="` + DigestSHA512 + `"/>
        <` + p + `DigestValue/>
      </` + p + `Reference>
    </` + p + `SignedInfo>
    ` + strings.ReplaceAll(sv, "P:", p) + `
  </` + p + `Signature>
</r>
`)
}

// TestFillSignedInfoMatchesReparse is the differential test for Sign's single parse: the canonical
// SignedInfo that Sign signs (canonicalized from the template, values put in afterwards) must be byte
// for byte what canonicalizing SignedInfo of the finished document gives (what Verify computes), for
// every canonicalization, with and without comments, prefixed or default ds namespace, and empty,
// self-closing, white-space, character-reference and comment-holding values.
func TestFillSignedInfoMatchesReparse(t *testing.T) {
	k := key(t, "p256")
	prefixList := `<ec:InclusiveNamespaces xmlns:ec="` + NSExcC14 + `" PrefixList="u #default"/>`
	tests := []struct {
		name, c14n, params, prefix, dv, sv string
	}{
		{"exclusive", libxml.URIExcC14N, "", "ds", "<P:DigestValue></P:DigestValue>", "<P:SignatureValue/>"},
		{"exclusive with PrefixList", libxml.URIExcC14N, prefixList, "ds", "<P:DigestValue/>", "<P:SignatureValue></P:SignatureValue>"},
		{"exclusive with comments", libxml.URIExcC14NWithComment, "", "ds", "<P:DigestValue> <!-- fill --> </P:DigestValue>", "<P:SignatureValue>\n</P:SignatureValue>"},
		{"C14N 1.0", libxml.URIC14N10, "", "ds", "<P:DigestValue>&#13;\n</P:DigestValue>", "<P:SignatureValue/>"},
		{"C14N 1.0 with comments", libxml.URIC14N10WithComments, "", "ds", "<P:DigestValue><!--x--></P:DigestValue>", "<P:SignatureValue/>"},
		{"C14N 1.1", libxml.URIC14N11, "", "ds", "<P:DigestValue />", "<P:SignatureValue/>"},
		{"default namespace ds", libxml.URIC14N10, "", "", "<P:DigestValue/>", "<P:SignatureValue/>"},
		{"default namespace ds exclusive", libxml.URIExcC14N, "", "", "<P:DigestValue/>", "<P:SignatureValue/>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := spliceTemplate(tt.c14n, tt.params, tt.prefix, tt.dv, tt.sv)
			d, err := libxml.Parse(tmpl)
			if err != nil {
				t.Fatal(err)
			}
			s, digests, emptySI, spans, err := signTemplate(d, tmpl, "s", k.signer.Public(), 2048, limits{refs: 10, transforms: 10})
			d.Close()
			if err != nil {
				t.Fatal(err)
			}
			texts := []string{"AAAA", "QUJD+/=="}
			if len(digests) != 2 || len(spans) != 3 {
				t.Fatalf("%d digests, %d spans", len(digests), len(spans))
			}
			got, err := fillSignedInfo(emptySI, texts)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(got, []byte("fill")) || bytes.Contains(got, []byte("&#xD;")) {
				t.Errorf("the template's placeholder content survived: %s", got)
			}

			// Oracle: splice into the whole document, parse it again, canonicalize its SignedInfo.
			doc := splice(tmpl, spans[:2], texts)
			d2, err := libxml.Parse(doc)
			if err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			defer d2.Close()
			ids, err := indexIDs(d2)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := parseSignature(ids["s"], limits{refs: 10, transforms: 10})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range s2.refs {
				if r.digestValue.Text() != texts[i] {
					t.Fatalf("DigestValue %d is %q after splicing", i, r.digestValue.Text())
				}
			}
			var want bytes.Buffer
			if err := d2.CanonicalizeTo(&want, s2.signedInfo, s.c14n); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("canonical SignedInfo differs\n got: %s\nwant: %s", got, want.Bytes())
			}

			// And the real thing verifies.
			out, err := Sign(tmpl, "s", k.signer, SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(out, VerifyOptions{KeyResolver: StaticKey(k.signer.Public())}); err != nil {
				t.Fatalf("Verify: %v\n%s", err, out)
			}
		})
	}
}

// TestLocateValuesDisagreement: offsets are taken only when the scanner sees the same signature as
// libxml2; a signature parsed from other bytes is refused, not spliced.
func TestLocateValuesDisagreement(t *testing.T) {
	k := key(t, "p256")
	tmpl := spliceTemplate(libxml.URIExcC14N, "", "ds", "<P:DigestValue/>", "<P:SignatureValue/>")
	d, err := libxml.Parse(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, _, err := digestTemplate(d, "s", k.signer.Public(), 2048, limits{refs: 10, transforms: 10})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		raw  []byte
	}{
		{"attribute added", bytes.Replace(tmpl, []byte(`<ds:Reference URI="#a">`), []byte(`<ds:Reference URI="#a" Id="r1">`), 1)},
		{"reference content wrapped", bytes.Replace(bytes.Replace(tmpl, []byte(`<ds:Reference URI="#a">`), []byte(`<ds:Reference URI="#a"><ds:W>`), 1),
			[]byte(`</ds:Reference>`), []byte(`</ds:W></ds:Reference>`), 1)},
		{"extra element in a reference", bytes.Replace(tmpl, []byte(`<ds:DigestValue/>`), []byte(`<ds:DigestValue/><ds:X/>`), 1)},
		{"signature Id moved", bytes.Replace(tmpl, []byte(`Id="s"`), []byte(`Id="t"`), 1)},
		{"signature Id on another element", bytes.Replace(bytes.Replace(tmpl, []byte(`Id="s"`), []byte(``), 1), []byte(`<a Id="a">`), []byte(`<a Id="a"><b Id="s"/>`), 1)},
		{"not well-formed", tmpl[:len(tmpl)-8]},
	}
	// The first case changes nothing the shape depends on: it must still be accepted.
	if _, err := locateValues(tests[0].raw, "s", s); err != nil {
		t.Fatalf("an added attribute is not a structural change: %v", err)
	}
	for _, tt := range tests[1:] {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := locateValues(tt.raw, "s", s); !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
}

// TestFillSignedInfoRefusals: a canonical SignedInfo that does not have the expected references is an
// error, never a signature over something else.
func TestFillSignedInfoRefusals(t *testing.T) {
	ds := `xmlns:ds="` + NSDSig + `"`
	ref := `<ds:Reference URI="#a"><ds:DigestMethod Algorithm="x"></ds:DigestMethod><ds:DigestValue></ds:DigestValue></ds:Reference>`
	head := `<ds:SignedInfo ` + ds + `><ds:CanonicalizationMethod Algorithm="x"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="y"></ds:SignatureMethod>`
	good := head + ref + `</ds:SignedInfo>`
	if out, err := fillSignedInfo([]byte(good), []string{"AAAA"}); err != nil || !bytes.Contains(out, []byte("<ds:DigestValue>AAAA</ds:DigestValue>")) {
		t.Fatalf("good SignedInfo: %v %s", err, out)
	}
	tests := []struct {
		name, si string
		texts    []string
	}{
		{"too few texts", head + ref + ref + `</ds:SignedInfo>`, []string{"AAAA"}},
		{"too many texts", good, []string{"AAAA", "BBBB"}},
		{"not SignedInfo", strings.ReplaceAll(good, "SignedInfo", "Info"), []string{"AAAA"}},
		{"reference without DigestValue", head + `<ds:Reference URI="#a"><ds:DigestMethod Algorithm="x"></ds:DigestMethod></ds:Reference></ds:SignedInfo>`, []string{"AAAA"}},
		{"not a reference", head + `<ds:Object><ds:DigestValue></ds:DigestValue></ds:Object></ds:SignedInfo>`, []string{"AAAA"}},
		{"text that is markup", good, []string{"<x/>"}},
		{"not well-formed", good[:len(good)-3], []string{"AAAA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := fillSignedInfo([]byte(tt.si), tt.texts); err == nil {
				t.Errorf("accepted: %s", out)
			}
		})
	}
}

// TestSpliceSize: splice allocates the output once, at its final size.
func TestSpliceSize(t *testing.T) {
	doc := []byte(`<r><a/><b> </b><c>x</c></r>`)
	spans := []span{{start: 5, end: 7, selfClosing: true, name: "a"}, {start: 10, end: 11}}
	out := splice(doc, spans, []string{"AA", "BBB"})
	if want := `<r><a>AA</a><b>BBB</b><c>x</c></r>`; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
	if cap(out) != len(out) {
		t.Errorf("capacity %d for length %d: the size was not computed exactly", cap(out), len(out))
	}
	if allocs := testing.AllocsPerRun(10, func() { splice(doc, spans, []string{"AA", "BBB"}) }); allocs != 1 {
		t.Errorf("%v allocations, want 1", allocs)
	}
}

// FuzzSign: for any template, Sign never panics, and whatever it signs verifies and differs from the
// template only inside the DigestValue and SignatureValue elements.
func FuzzSign(f *testing.F) {
	k := key(f, "p256")
	for _, c := range []struct{ c14n, dv, sv string }{
		{libxml.URIExcC14N, "<P:DigestValue/>", "<P:SignatureValue/>"},
		{libxml.URIC14N10WithComments, "<P:DigestValue> <!--x--> </P:DigestValue>", "<P:SignatureValue>\n</P:SignatureValue>"},
	} {
		f.Add(spliceTemplate(c.c14n, "", "ds", c.dv, c.sv))
	}
	f.Add(spliceTemplate(libxml.URIC14N11, "", "", "<P:DigestValue></P:DigestValue>", "<P:SignatureValue/>"))
	values := regexp.MustCompile(`(?s)<((?:[A-Za-z_][\w.-]*:)?)(DigestValue|SignatureValue)(\s[^>]*)?(/>|>.*?</((?:[A-Za-z_][\w.-]*:)?)(DigestValue|SignatureValue)>)`)
	f.Fuzz(func(t *testing.T, tmpl []byte) {
		out, err := Sign(tmpl, "s", k.signer, SignOptions{})
		if err != nil {
			return
		}
		d, err := libxml.Parse(out)
		if err != nil {
			t.Fatalf("signed output does not parse: %v\n%s", err, out)
		}
		defer d.Close()
		ids, err := indexIDs(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyDocument(d, ids["s"], VerifyOptions{KeyResolver: StaticKey(k.signer.Public())}); err != nil {
			t.Fatalf("signed output does not verify: %v\n%s", err, out)
		}
		if a, b := values.ReplaceAll(tmpl, nil), values.ReplaceAll(out, nil); !bytes.Equal(a, b) {
			t.Fatalf("bytes outside the values changed:\n%s\n---\n%s", tmpl, out)
		}
	})
}
