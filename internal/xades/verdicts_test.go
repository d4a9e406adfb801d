package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/internal/xmldsig"
	"github.com/tagdij/tagdij/policy"
)

// noTrust is a trust environment without anchors, like the auditor's without --trust.
func noTrust(pol *policy.Policy) *trust.Env {
	return &trust.Env{Policy: pol, Signers: pathval.NewAnchors(pathval.PurposeSigner), TSAs: pathval.NewAnchors(pathval.PurposeTSA)}
}

// handOpts describe a signature made the way another product might make it, including what
// xmldsig.Sign refuses to write (SHA-1, foreign transforms, a bare KeyValue).
type handOpts struct {
	digest     string      // DigestMethod of the reference to #data (default SHA-256)
	transforms string      // content of its ds:Transforms (default one exclusive C14N)
	badDigest  bool        // write a wrong DigestValue for #data
	extraRef   string      // another ds:Reference, verbatim, before the one to #data
	keyInfo    string      // content of ds:KeyInfo (default the signer's certificate)
	tsa        *tsp.Client // when set, a XAdES SignatureTimeStamp over the SignatureValue
}

var handDigests = map[string]crypto.Hash{xmldsig.DigestSHA1: crypto.SHA1, xmldsig.DigestSHA256: crypto.SHA256}

// handSign returns an XML document with a signature by e over its element with Id "data".
func handSign(t testing.TB, e *sandbox.Entity, o handOpts) []byte {
	t.Helper()
	if o.digest == "" {
		o.digest = xmldsig.DigestSHA256
	}
	if o.transforms == "" {
		o.transforms = `<ds:Transform Algorithm="` + libxml.URIExcC14N + `"/>`
	}
	if o.keyInfo == "" {
		o.keyInfo = `<ds:X509Data>`
		for _, c := range append([]*x509.Certificate{e.Cert}, e.Chain...) {
			o.keyInfo += `<ds:X509Certificate>` + base64.StdEncoding.EncodeToString(c.Raw) + `</ds:X509Certificate>`
		}
		o.keyInfo += `</ds:X509Data>`
	}
	method := xmldsig.RSASHA256
	if _, ok := e.Key.Public().(*ecdsa.PublicKey); ok {
		method = xmldsig.ECDSASHA256
	}
	qp := ""
	if o.tsa != nil {
		qp = `<ds:Object><xades:QualifyingProperties xmlns:xades="` + props.NS + `" Target="#sig">UNSIGNED</xades:QualifyingProperties></ds:Object>`
	}
	doc := []byte(`<?xml version="1.0" encoding="UTF-8"?><Adat xmlns="urn:x-test"><Tetel Id="data">1</Tetel>` +
		`<ds:Signature xmlns:ds="` + xmldsig.NSDSig + `" Id="sig"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="` + libxml.URIExcC14N + `"/><ds:SignatureMethod Algorithm="` + method + `"/>` +
		o.extraRef + `<ds:Reference URI="#data"><ds:Transforms>` + o.transforms + `</ds:Transforms><ds:DigestMethod Algorithm="` + o.digest + `"/>` +
		`<ds:DigestValue>DIGEST</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		`<ds:SignatureValue>SIGVALUE</ds:SignatureValue><ds:KeyInfo>` + o.keyInfo + `</ds:KeyInfo>` + qp + `</ds:Signature></Adat>`)
	// canonOf is the exclusive canonical form of the first element of doc that match accepts.
	canonOf := func(doc []byte, match func(libxml.Node) bool) []byte {
		d, err := libxml.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		var n libxml.Node
		d.Walk(func(x libxml.Node) bool {
			if n.IsZero() && match(x) {
				n = x
			}
			return n.IsZero()
		})
		b, err := canon(d, n, excC14N)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	digest := "AAAA"
	if h, ok := handDigests[o.digest]; ok && !o.badDigest {
		hh := h.New()
		hh.Write(canonOf(doc, func(n libxml.Node) bool { id, _ := n.Attr("Id"); return id == "data" }))
		digest = base64.StdEncoding.EncodeToString(hh.Sum(nil))
	}
	doc = bytes.Replace(doc, []byte("DIGEST"), []byte(digest), 1)
	sum := crypto.SHA256.New()
	sum.Write(canonOf(doc, func(n libxml.Node) bool { return n.Is(xmldsig.NSDSig, "SignedInfo") }))
	sig, err := e.Key.Sign(rand.Reader, sum.Sum(nil), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := e.Key.Public().(*ecdsa.PublicKey); ok {
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			t.Fatal(err)
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		sig = append(rs.R.FillBytes(make([]byte, size)), rs.S.FillBytes(make([]byte, size))...)
	} else if _, ok := e.Key.Public().(*rsa.PublicKey); !ok {
		t.Fatalf("key %T", e.Key.Public())
	}
	doc = bytes.Replace(doc, []byte("SIGVALUE"), []byte(base64.StdEncoding.EncodeToString(sig)), 1)
	if o.tsa == nil {
		return doc
	}
	tok, err := o.tsa.StampData(context.Background(), canonOf(doc, func(n libxml.Node) bool { return n.Is(xmldsig.NSDSig, "SignatureValue") }))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := props.TimeStampElement(props.KindSignatureTimeStamp, "sig-ts", libxml.URIExcC14N, tok.DER)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := serialize(ts)
	if err != nil {
		t.Fatal(err)
	}
	up := `<xades:UnsignedProperties><xades:UnsignedSignatureProperties>` + string(tb) + `</xades:UnsignedSignatureProperties></xades:UnsignedProperties>`
	return bytes.Replace(doc, []byte("UNSIGNED"), []byte(up), 1)
}

// signHooked is f.sign with hooks: a signature Sign would not make (another policy, another commitment).
func (f *fixture) signHooked(t testing.TB, data []byte, e *sandbox.Entity, signingTime time.Time, hooks *signHooks) []byte {
	t.Helper()
	if signingTime.IsZero() {
		signingTime = f.sb.Clock.Now()
	}
	out, _, err := sign(context.Background(), data, SignOptions{Signer: e.Key, Certificate: e.Cert, Chain: e.Chain, Policy: f.pol,
		Kind: policy.KindPackage, SigningTime: signingTime}, hooks)
	if err != nil {
		t.Fatalf("sign by %s: %v", e.Name, err)
	}
	return out
}

// how a test document is verified
type verifyHow int

const (
	asPackage verifyHow = iota // Verify, es3.Strict: a Tagdíj package
	asEAkta                    // Verify, es3.Generic: an e-akta dossier that is not Tagdíj's
	asXML                      // VerifyGeneric
)

func (f *fixture) verifyHow(t testing.TB, data []byte, how verifyHow, env *trust.Env) *report.Document {
	t.Helper()
	if env == nil {
		env = f.env
	}
	opts := VerifyOptions{Env: env, Kind: policy.KindPackage, Now: f.sb.Clock.Now(), FileName: pkgTitle}
	var d *report.Document
	var err error
	switch how {
	case asPackage:
		d, err = Verify(context.Background(), data, opts)
	case asEAkta:
		opts.Mode = es3.Generic
		d, err = Verify(context.Background(), data, opts)
	default:
		d, err = VerifyGeneric(context.Background(), data, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// errorCodes are the E0 codes of a document and its signatures.
func errorCodes(d *report.Document) []errcode.Code {
	all := d.Verdict
	for _, s := range d.Signatures {
		all.Findings = append(all.Findings, s.Verdict.Findings...)
	}
	return codes(all)
}

var reExcTransform = regexp.MustCompile(`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"\s*(/>|></ds:Transform>)`)

// TestVerdictClasses: each class of finding gets the ETSI EN 319 102-1 indication the package
// documentation's table gives it. Every case names the rule; the cases marked "was TOTAL-FAILED"
// failed with today's code before issue 7, the others are the hard failures that must stay.
func TestVerdictClasses(t *testing.T) {
	f := newFixture(t)
	pelda, minta := f.signers(t, "pelda"), f.signers(t, "minta")
	expired := f.sb.World.MustEntity(sandbox.ExpiredSigner)
	notYet := f.sb.World.MustEntity(sandbox.NotYetValidSign)
	rsaSigner := pelda[0] // RSA-2048

	// Packages and dossiers are built first, with the clock where a signer needs it; revocations are of
	// the minta signers only, so the pelda ones stay good for the other cases.
	pkg, _ := f.signedPackage(t, 2)
	stamped := func(data []byte) []byte { return f.timestamp(t, data) }
	otherPolicy := stamped(f.signHooked(t, f.encryptedPackage(t, 0), pelda[0], time.Time{}, &signHooks{signed: func(s *props.Signed) {
		s.Policy.Identifier = "urn:x-masik-termek:alairasi-szabalyzat:3"
	}}))
	implied := stamped(f.signHooked(t, f.encryptedPackage(t, 0), pelda[0], time.Time{}, &signHooks{signed: func(s *props.Signed) {
		s.Policy = &props.SignaturePolicy{Implied: true}
	}}))
	otherCommitment := stamped(f.signHooked(t, f.encryptedPackage(t, 0), pelda[0], time.Time{}, &signHooks{signed: func(s *props.Signed) {
		s.Commitments[0].Identifier = props.ProofOfReceipt
	}}))
	// Signed while the certificate was valid, time-stamped only after it expired / before it began.
	afterExpiry := stamped(f.signHooked(t, f.encryptedPackage(t, 0), expired, expired.Cert.NotAfter.Add(-time.Hour), nil))
	beforeValidity := stamped(f.signHooked(t, f.encryptedPackage(t, 0), notYet, notYet.Cert.NotBefore.Add(time.Hour), nil))
	revokedBeforeT, _ := f.sign(t, f.encryptedPackage(t, 0), minta[0], policy.KindPackage, nil)
	f.sb.Revoke(t, minta[0].Name, sandbox.ReasonKeyCompromise, time.Time{})
	f.sb.Clock.Advance(time.Second)
	revokedBeforeT = stamped(revokedBeforeT)
	f.sb.Revoke(t, minta[1].Name, sandbox.ReasonKeyCompromise, f.sb.Clock.Now().Add(-time.Second))

	// Hand-made signatures over plain XML.
	sha1Plain := handSign(t, rsaSigner, handOpts{digest: xmldsig.DigestSHA1})
	sha1Stamped := handSign(t, rsaSigner, handOpts{digest: xmldsig.DigestSHA1, tsa: f.tsa})
	xpath := handSign(t, rsaSigner, handOpts{transforms: `<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>1</ds:XPath></ds:Transform>`})
	external := `<ds:Reference URI="http://example.invalid/adat.xml"><ds:DigestMethod Algorithm="` + xmldsig.DigestSHA256 +
		`"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>`
	externalRef := handSign(t, rsaSigner, handOpts{extraRef: external})
	externalAndMismatch := handSign(t, rsaSigner, handOpts{extraRef: external, badDigest: true})
	pub := rsaSigner.Key.Public().(*rsa.PublicKey)
	keyValue := handSign(t, rsaSigner, handOpts{keyInfo: `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>` +
		base64.StdEncoding.EncodeToString(pub.N.Bytes()) + `</ds:Modulus><ds:Exponent>` +
		base64.StdEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()) + `</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`})
	expiredPlain := handSign(t, expired, handOpts{})
	notYetPlain := handSign(t, notYet, handOpts{})
	revokedPlain := handSign(t, minta[1], handOpts{})
	goodPlain := handSign(t, rsaSigner, handOpts{})
	f.afterGrace()

	// Hard failures: the bytes prove them.
	dec, err := es3.Parse(pkg, es3.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	payload := element(t, pkg, dec.Documents[0].ObjectID)
	dec.Close()
	tampered := flip(pkg, payload.StartEnd+100)
	sv := regexp.MustCompile(`<ds:SignatureValue Id="[^"]+">`).FindIndex(pkg)
	badValue := flip(pkg, sv[1]+20)
	sigIDs := regexp.MustCompile(`<ds:Signature xmlns:ds="[^"]+" Id="([^"]+)"`).FindAllStringSubmatch(string(pkg), -1)
	qpo0, qpo1 := element(t, pkg, sigIDs[0][1]+suffixQPObject), element(t, pkg, sigIDs[1][1]+suffixQPObject)
	wrapped := swapRanges(pkg, qpo0.Start, qpo0.EndEnd, qpo1.Start, qpo1.EndEnd)
	xpathPkg := reExcTransform.ReplaceAll(pkg, []byte(`<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>1</ds:XPath></ds:Transform>`))

	cases := []struct {
		name string
		data []byte
		how  verifyHow
		env  *trust.Env
		ind  report.Indication
		sub  report.SubIndication
		code errcode.Code // must be among the findings ("" none required)
		not  errcode.Code // must not be among the E0 findings
	}{
		// Was TOTAL-FAILED/FORMAT_FAILURE: the untrusted TSA left no T and F005 failed the package.
		{"package without trust anchors", pkg, asPackage, noTrust(f.pol), report.Indeterminate, report.NoCertificateChainFound, errcode.A003, ""},
		{"package without trust anchors, as e-akta", pkg, asEAkta, noTrust(f.pol), report.Indeterminate, report.NoCertificateChainFound, errcode.A003, ""},
		{"package without trust anchors, as XML", pkg, asXML, noTrust(f.pol), report.Indeterminate, report.NoCertificateChainFound, errcode.A003, ""},
		{"package with trust anchors (control)", pkg, asPackage, nil, report.TotalPassed, "", "", ""},
		// A Tagdíj package allows no foreign transform: a format failure (was TOTAL-FAILED/UNSUPPORTED).
		{"package with an XPath transform", xpathPkg, asPackage, nil, report.TotalFailed, report.FormatFailure, errcode.A013, ""},

		// Foreign signatures are judged under the generic validation policy.
		{"another signature policy, as e-akta", otherPolicy, asEAkta, nil, report.TotalPassed, "", errcode.A010, errcode.A010},
		{"another signature policy, as package", otherPolicy, asPackage, nil, report.TotalFailed, report.PolicyProcessingError, errcode.A010, ""},
		{"SignaturePolicyImplied, as e-akta", implied, asEAkta, nil, report.TotalPassed, "", errcode.A010, errcode.A010},
		{"SignaturePolicyImplied, as XML", implied, asXML, nil, report.TotalPassed, "", errcode.A010, errcode.A010},
		{"SignaturePolicyImplied, as package", implied, asPackage, nil, report.TotalFailed, report.PolicyProcessingError, errcode.A010, ""},
		{"another commitment, as e-akta", otherCommitment, asEAkta, nil, report.TotalPassed, "", "", errcode.F008},
		{"another commitment, as package", otherCommitment, asPackage, nil, report.TotalFailed, "", errcode.F008, ""},

		// Validity periods: expired before T is INDETERMINATE (no proof the signature predates the
		// expiry), not yet valid at T is final.
		{"signer expired before T", afterExpiry, asEAkta, nil, report.Indeterminate, report.OutOfBoundsNoPOE, errcode.A006, ""},
		{"signer expired, no time-stamp", expiredPlain, asXML, nil, report.Indeterminate, report.OutOfBoundsNoPOE, errcode.A006, ""},
		{"signer not yet valid at T", beforeValidity, asEAkta, nil, report.TotalFailed, report.NotYetValid, errcode.A006, ""},
		{"signer not yet valid, no time-stamp", notYetPlain, asXML, nil, report.TotalFailed, report.NotYetValid, errcode.A006, ""},

		// Revocation: final when T proves the signature existed only after it.
		{"signer revoked before T", revokedBeforeT, asEAkta, nil, report.TotalFailed, report.Revoked, errcode.A005, ""},
		{"signer revoked before T, as package", revokedBeforeT, asPackage, nil, report.TotalFailed, report.Revoked, errcode.A005, ""},
		{"signer revoked, no time-stamp", revokedPlain, asXML, nil, report.Indeterminate, report.RevokedNoPOE, errcode.A005, ""},

		// Algorithms past their sunset without a proof of existence from before it.
		{"SHA-1 digest, no time-stamp", sha1Plain, asXML, nil, report.Indeterminate, report.CryptoConstraintsFailureNoPOE, errcode.A013, ""},
		{"SHA-1 digest, time-stamped after the sunset", sha1Stamped, asXML, nil, report.Indeterminate, report.CryptoConstraintsFailureNoPOE, errcode.A013, ""},

		// What this verifier does not implement is INDETERMINATE for a foreign signature.
		{"XPath transform", xpath, asXML, nil, report.Indeterminate, report.SignedDataNotFound, errcode.A013, ""},
		{"reference outside the document", externalRef, asXML, nil, report.Indeterminate, report.SignedDataNotFound, errcode.F012, ""},
		{"bare KeyValue, no certificate", keyValue, asXML, nil, report.Indeterminate, report.NoSigningCertificate, errcode.F002, ""},
		{"good XML signature (control)", goodPlain, asXML, nil, report.Indeterminate, report.TryLater, errcode.A012, ""},

		// Hard failures stay TOTAL-FAILED in every mode.
		{"unsupported reference does not hide a digest mismatch", externalAndMismatch, asXML, nil, report.TotalFailed, report.HashFailure, errcode.A002, ""},
		{"payload tampered, as e-akta", tampered, asEAkta, nil, report.TotalFailed, report.HashFailure, errcode.A002, ""},
		{"payload tampered, as XML", tampered, asXML, noTrust(f.pol), report.TotalFailed, report.HashFailure, errcode.A002, ""},
		{"signature value broken, as e-akta", badValue, asEAkta, nil, report.TotalFailed, report.SigCryptoFailure, errcode.A001, ""},
		{"signature value broken, without trust", badValue, asPackage, noTrust(f.pol), report.TotalFailed, report.SigCryptoFailure, errcode.A001, ""},
		{"QualifyingProperties swapped, as e-akta", wrapped, asEAkta, nil, report.TotalFailed, report.SignedDataNotFound, errcode.F012, ""},
		{"QualifyingProperties swapped, without trust", wrapped, asPackage, noTrust(f.pol), report.TotalFailed, report.SignedDataNotFound, errcode.F012, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := f.verifyHow(t, c.data, c.how, c.env)
			expect(t, c.name, d, c.ind, c.sub, c.code)
			for _, got := range errorCodes(d) {
				if c.not != "" && got == c.not {
					t.Fatalf("E0 %s among %v", c.not, errorCodes(d))
				}
			}
			// A foreign signature gets EN 319 102-1 pairs only, but for the wrapping defence (doc.go).
			if c.how != asPackage && c.ind != report.TotalPassed && !c.sub.Under(c.ind) && c.sub != report.SignedDataNotFound {
				t.Fatalf("%s/%s is not an EN 319 102-1 pair", c.ind, c.sub)
			}
		})
	}
}

// TestForeignTimeStampDisregarded: a time-stamp that proves nothing (here another signature's) fails
// a Tagdíj package but is only disregarded on a foreign signature — it is unsigned, so anyone could
// append it — which is then judged without a proof of existence.
func TestForeignTimeStampDisregarded(t *testing.T) {
	f := newFixture(t)
	pkg, _ := f.signedPackage(t, 2)
	swapped := swapTokens(t, pkg)
	f.afterGrace()
	cases := []struct {
		how  verifyHow
		ind  report.Indication
		sub  report.SubIndication
		warn bool
	}{
		{asPackage, report.TotalFailed, report.HashFailure, false},
		{asEAkta, report.Indeterminate, report.TryLater, true},
		{asXML, report.Indeterminate, report.TryLater, true},
	}
	for _, c := range cases {
		d := f.verifyHow(t, swapped, c.how, nil)
		expect(t, "swapped time-stamps", d, c.ind, c.sub, errcode.A007)
		warned := false
		for _, fi := range d.Signatures[0].Verdict.Findings {
			warned = warned || fi.Code == errcode.A007 && fi.Severity == errcode.Warning && strings.Contains(fi.EN, "disregarded")
		}
		if warned != c.warn {
			t.Fatalf("mode %d: A007 warning %v, want %v: %+v", c.how, warned, c.warn, d.Signatures[0].Verdict.Findings)
		}
		if c.warn && !d.Signatures[0].TimestampTime.IsZero() {
			t.Fatalf("mode %d: a disregarded time-stamp still dates the signature", c.how)
		}
	}
}

// TestSunsetWithProofOfExistence: in a sandbox whose clock stands in 2011, a SHA-1 signature
// time-stamped then is proven to exist before SHA-1's sunset (2012-01-01) and passes that constraint;
// the same signature without its time-stamp is INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE.
func TestSunsetWithProofOfExistence(t *testing.T) {
	when := time.Date(2011, 6, 1, 10, 0, 0, 0, time.UTC)
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys(), sandboxtest.WithInit(func(o *sandbox.InitOptions) { o.Now = when }))
	sb.Clock.Advance(when.Sub(sb.Clock.Now()))
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}}, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	env.Online.Now = sb.Clock.Now
	tsa := &tsp.Client{URL: sb.TSAURL, Trust: pathval.TSAVerifier{Anchors: env.TSAs, Algorithms: env.Algorithms()}, Now: sb.Clock.Now}
	f := &fixture{sb: sb, pol: pol, env: env, tsa: tsa}
	s := f.signers(t, "pelda")[0]
	stamped := handSign(t, s, handOpts{digest: xmldsig.DigestSHA1, tsa: tsa})
	plain := handSign(t, s, handOpts{digest: xmldsig.DigestSHA1})
	f.afterGrace()

	d := f.verifyHow(t, stamped, asXML, nil)
	expect(t, "SHA-1, time-stamped in 2011", d, report.TotalPassed, "", "")
	if T := d.Signatures[0].TimestampTime; T.IsZero() || T.Year() != 2011 {
		t.Fatalf("T = %v, want the 2011 time-stamp", T)
	}
	d = f.verifyHow(t, plain, asXML, nil)
	expect(t, "SHA-1, no time-stamp", d, report.Indeterminate, report.CryptoConstraintsFailureNoPOE, errcode.A013)
}
