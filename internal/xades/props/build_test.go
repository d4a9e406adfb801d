package props

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/tagdij/tagdij/internal/libxml"
)

var excC14N = libxml.C14N{Method: libxml.ExcC14N10}

const testPolicyID = "urn:x-mnyp:alairasi-szabalyzat:1"

func testSigned(p *testPKI) Signed {
	ph := sha256.Sum256([]byte("policy document"))
	return Signed{
		ID:                  "sig1-sp",
		SigningTime:         time.Date(2026, 3, 1, 13, 14, 15, 999, time.FixedZone("CET", 3600)),
		SigningCertificates: []*x509.Certificate{p.signer, p.ca},
		Policy: &SignaturePolicy{
			Identifier: testPolicyID, Description: "Tagdíj aláírási szabályzat",
			Hash: Digest{Hash: crypto.SHA256, Value: ph[:]}, SPURIs: []string{"https://example.hu/policy.xml"},
		},
		DataObjectFormats: []DataObjectFormat{
			{ObjectReference: "#sig1-ref-obj", MimeType: "application/pkcs7-mime", Encoding: EncodingBase64},
			{ObjectReference: "#sig1-ref-meta", MimeType: "text/xml", Description: "metaadat"},
		},
		Commitments: []CommitmentTypeIndication{{Identifier: ProofOfOrigin, AllSignedDataObjects: true}},
	}
}

// fullQP builds QualifyingProperties with every unsigned property Tagdíj writes, in extension order.
func fullQP(t testing.TB, p *testPKI) *etree.Element {
	t.Helper()
	qp, err := BuildQualifyingProperties("sig1", testSigned(p))
	if err != nil {
		t.Fatal(err)
	}
	add := func(e *etree.Element, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := AppendUnsigned(qp, e); err != nil {
			t.Fatal(err)
		}
	}
	add(TimeStampElement(KindSignatureTimeStamp, "sig1-sts", libxml.URIExcC14N, []byte("token-1")))
	add(CompleteCertificateRefsElement("sig1-ccr", 0, []*x509.Certificate{p.ca, p.root}))
	ocspRef, err := NewOCSPRef(p.ocspDER, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	crlRef, err := NewCRLRef(p.crlDER, crypto.SHA512)
	if err != nil {
		t.Fatal(err)
	}
	keyRef := OCSPRef{ResponderKey: bytes.Repeat([]byte{0xab}, 20), ProducedAt: time.Date(2026, 3, 2, 1, 2, 3, 0, time.UTC)}
	add(CompleteRevocationRefsElement("sig1-crr", []CRLRef{crlRef}, []OCSPRef{ocspRef, keyRef}))
	add(CertificateValuesElement("sig1-cv", []*x509.Certificate{p.ca, p.root}))
	add(RevocationValuesElement("sig1-rv", [][]byte{p.crlDER}, [][]byte{p.ocspDER}))
	add(TimeStampElement(KindSigAndRefsTimeStamp, "sig1-xts", libxml.URIC14N11, []byte("token-2")))
	add(TimeStampValidationDataElement("sig1-tsvd", "#sig1-xts", []*x509.Certificate{p.root}, nil, [][]byte{p.ocspDER}))
	add(TimeStampElement(KindArchiveTimeStamp, "sig1-ats", libxml.URIExcC14N, []byte("token-3")))
	return qp
}

// serialize writes el as a standalone document (declaring ds) and returns the bytes.
func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	el = el.Copy()
	DeclareDS(el)
	doc := etree.NewDocumentWithRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// canonical parses b with libxml2 and returns the exclusive canonical form of the whole document, or
// of its first descendant element named local when local is not "".
func canonical(t testing.TB, b []byte, local string) []byte {
	t.Helper()
	doc, err := libxml.Parse(b)
	if err != nil {
		t.Fatalf("libxml parse: %v\n%s", err, b)
	}
	defer doc.Close()
	var node libxml.Node
	if local != "" {
		doc.Walk(func(n libxml.Node) bool {
			if node.IsZero() && n.LocalName() == local {
				node = n
			}
			return node.IsZero()
		})
		if node.IsZero() {
			t.Fatalf("no %s", local)
		}
	}
	var buf bytes.Buffer
	if err := doc.CanonicalizeTo(&buf, node, excC14N); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	p := newTestPKI(t)
	qpEl := fullQP(t, p)
	c := canonical(t, serialize(t, qpEl), "")
	qp, err := ParseQualifyingProperties(c)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, c)
	}
	if qp.Target != "#sig1" {
		t.Errorf("Target = %q", qp.Target)
	}
	sp := qp.Signed
	if sp == nil || sp.ID != "sig1-sp" {
		t.Fatalf("SignedProperties = %+v", sp)
	}
	if want := time.Date(2026, 3, 1, 12, 14, 15, 0, time.UTC); !sp.SigningTime.Equal(want) || sp.SigningTime.Location() != time.UTC {
		t.Errorf("SigningTime = %v, want %v UTC", sp.SigningTime, want)
	}
	if !sp.HasSigningCertificate || sp.SigningCertificateV2 || len(sp.SigningCertificate) != 2 {
		t.Fatalf("SigningCertificate = %+v", sp.SigningCertificate)
	}
	if !CertDigestMatches(sp.SigningCertificate[0], p.signer) || !CertDigestMatches(sp.SigningCertificate[1], p.ca) {
		t.Error("SigningCertificate refs do not match the certificates they were built from")
	}
	if CertDigestMatches(sp.SigningCertificate[0], p.ca) {
		t.Error("signer ref matches the CA certificate")
	}
	if sp.SigningCertificate[1].SerialNumber.Cmp(p.ca.SerialNumber) != 0 {
		t.Errorf("serial %v, want %v", sp.SigningCertificate[1].SerialNumber, p.ca.SerialNumber)
	}
	wantPol := testSigned(p).Policy
	if !reflect.DeepEqual(sp.Policy, wantPol) {
		t.Errorf("Policy = %+v, want %+v", sp.Policy, wantPol)
	}
	if !reflect.DeepEqual(sp.DataObjectFormats, testSigned(p).DataObjectFormats) {
		t.Errorf("DataObjectFormats = %+v", sp.DataObjectFormats)
	}
	if !reflect.DeepEqual(sp.Commitments, testSigned(p).Commitments) {
		t.Errorf("Commitments = %+v", sp.Commitments)
	}
	if len(sp.Ignored) != 0 {
		t.Errorf("Ignored = %v", sp.Ignored)
	}

	u := qp.Unsigned
	wantKinds := []Kind{KindSignatureTimeStamp, KindCompleteCertificateRefs, KindCompleteRevocationRefs,
		KindCertificateValues, KindRevocationValues, KindSigAndRefsTimeStamp, KindTimeStampValidationData, KindArchiveTimeStamp}
	if !reflect.DeepEqual(u.Kinds(), wantKinds) {
		t.Fatalf("kinds = %v, want %v", u.Kinds(), wantKinds)
	}
	sts := u.SignatureTimeStamps()
	if len(sts) != 1 || sts[0].ID != "sig1-sts" || sts[0].CanonicalizationMethod != libxml.URIExcC14N ||
		len(sts[0].Tokens) != 1 || string(sts[0].Tokens[0]) != "token-1" {
		t.Errorf("SignatureTimeStamp = %+v", sts)
	}
	ccr := u.Properties[1].CertificateRefs
	if ccr.ID != "sig1-ccr" || len(ccr.Certs) != 2 || !CertDigestMatches(ccr.Certs[0], p.ca) || !CertDigestMatches(ccr.Certs[1], p.root) {
		t.Errorf("CompleteCertificateRefs = %+v", ccr)
	}
	crr := u.Properties[2].RevocationRefs
	if len(crr.CRLs) != 1 || len(crr.OCSP) != 2 {
		t.Fatalf("CompleteRevocationRefs = %+v", crr)
	}
	crl := crr.CRLs[0]
	if crl.Digest.Hash != crypto.SHA512 || !bytes.Equal(crl.Digest.Value, Sum(crypto.SHA512, p.crlDER).Value) ||
		!crl.HasIdentifier || crl.Number.Cmp(big.NewInt(77)) != 0 || !NameMatches(crl.Issuer, p.root.RawSubject) ||
		!crl.IssueTime.Equal(time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("CRLRef = %+v", crl)
	}
	o := crr.OCSP[0]
	if !NameMatches(o.ResponderName, p.ca.RawSubject) || o.Digest == nil || !bytes.Equal(o.Digest.Value, Sum(crypto.SHA256, p.ocspDER).Value) {
		t.Errorf("OCSPRef byName = %+v", o)
	}
	if k := crr.OCSP[1]; !bytes.Equal(k.ResponderKey, bytes.Repeat([]byte{0xab}, 20)) || k.ResponderName != "" || k.Digest != nil ||
		!k.ProducedAt.Equal(time.Date(2026, 3, 2, 1, 2, 3, 0, time.UTC)) {
		t.Errorf("OCSPRef byKey = %+v", k)
	}
	cv := u.Properties[3].CertificateValues
	if len(cv.Certs) != 2 || !cv.Certs[0].Equal(p.ca) || !cv.Certs[1].Equal(p.root) {
		t.Errorf("CertificateValues = %+v", cv)
	}
	rv := u.Properties[4].RevocationValues
	if !reflect.DeepEqual(rv.CRLs, [][]byte{p.crlDER}) || !reflect.DeepEqual(rv.OCSP, [][]byte{p.ocspDER}) {
		t.Error("RevocationValues differ")
	}
	if x := u.Properties[5].TimeStamp; x.CanonicalizationMethod != libxml.URIC14N11 || string(x.Tokens[0]) != "token-2" {
		t.Errorf("SigAndRefsTimeStamp = %+v", x)
	}
	vd := u.Properties[6].ValidationData
	if vd.URI != "#sig1-xts" || len(vd.CertificateValues.Certs) != 1 || !vd.CertificateValues.Certs[0].Equal(p.root) ||
		!reflect.DeepEqual(vd.RevocationValues.OCSP, [][]byte{p.ocspDER}) || vd.RevocationValues.CRLs != nil {
		t.Errorf("TimeStampValidationData = %+v", vd)
	}
	if a := u.Properties[7]; a.Name != "{"+NS141+"}ArchiveTimeStamp" || string(a.TimeStamp.Tokens[0]) != "token-3" {
		t.Errorf("ArchiveTimeStamp = %+v", a)
	}

	// The SignedProperties element alone, as a verified reference yields it, parses to the same.
	sp2, err := ParseSignedProperties(canonical(t, serialize(t, qpEl), "SignedProperties"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sp2, sp) {
		t.Errorf("ParseSignedProperties differs from the QualifyingProperties parse")
	}
	up2, err := ParseUnsignedProperties(canonical(t, serialize(t, qpEl), "UnsignedProperties"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(up2.Kinds(), wantKinds) {
		t.Errorf("ParseUnsignedProperties kinds = %v", up2.Kinds())
	}
}

// TestAppendKeepsSignedPart: appending unsigned properties must not change one canonical byte of
// SignedProperties, or the signature breaks.
func TestAppendKeepsSignedPart(t *testing.T) {
	p := newTestPKI(t)
	qp, err := BuildQualifyingProperties("sig1", testSigned(p))
	if err != nil {
		t.Fatal(err)
	}
	before := canonical(t, serialize(t, qp), "SignedProperties")
	full := fullQP(t, p)
	after := canonical(t, serialize(t, full), "SignedProperties")
	if !bytes.Equal(before, after) {
		t.Errorf("SignedProperties changed:\n%s\n%s", before, after)
	}
	// Exclusive c14n declares only the namespaces the signed part uses: xades and ds.
	for _, m := range regexp.MustCompile(`xmlns:(\w+)="([^"]*)"`).FindAllSubmatch(before, -1) {
		if ns := string(m[2]); !(string(m[1]) == "xades" && ns == NS || string(m[1]) == "ds" && ns == NSDS) {
			t.Errorf("SignedProperties c14n declares %s", m[0])
		}
	}
	// No namespace declaration is written inside the built signed part.
	for _, e := range qp.FindElements("//*") {
		for _, a := range e.Attr {
			if (a.Space == "xmlns" || a.Key == "xmlns") && e != qp {
				t.Errorf("%s declares %s", e.FullTag(), a.FullKey())
			}
		}
	}
	if err := AppendUnsigned(etree.NewElement("xades:SignedProperties"), etree.NewElement("x")); err == nil {
		t.Error("AppendUnsigned accepted an element that is not QualifyingProperties")
	}
}

func TestPolicyQualifier(t *testing.T) {
	p := newTestPKI(t)
	for _, tc := range []struct{ id, want string }{
		{testPolicyID, ""},
		{"urn:oid:1.3.6.1.4.1.99999.1.1", QualifierOIDAsURN},
		{"https://example.hu/policy", ""},
	} {
		s := testSigned(p)
		s.Policy.Identifier = tc.id
		sp, err := BuildSignedProperties(s)
		if err != nil {
			t.Fatal(err)
		}
		id := sp.FindElement(".//xades:SigPolicyId/xades:Identifier")
		if id == nil || id.Text() != tc.id || id.SelectAttrValue("Qualifier", "") != tc.want {
			t.Errorf("%s: Identifier element %v, want Qualifier %q", tc.id, id, tc.want)
		}
	}
}

func TestBuildRejects(t *testing.T) {
	p := newTestPKI(t)
	for name, mut := range map[string]func(*Signed){
		"no signing time":      func(s *Signed) { s.SigningTime = time.Time{} },
		"no certificate":       func(s *Signed) { s.SigningCertificates = nil },
		"bad id":               func(s *Signed) { s.ID = "1 x" },
		"sha1 cert digest":     func(s *Signed) { s.CertDigest = crypto.SHA1 },
		"short policy hash":    func(s *Signed) { s.Policy.Hash.Value = s.Policy.Hash.Value[:5] },
		"policy no identifier": func(s *Signed) { s.Policy.Identifier = "" },
		"object ref not #":     func(s *Signed) { s.DataObjectFormats[0].ObjectReference = "ref" },
		"no mime type":         func(s *Signed) { s.DataObjectFormats[0].MimeType = "" },
		"commitment both":      func(s *Signed) { s.Commitments[0].ObjectReferences = []string{"#r"} },
		"commitment neither":   func(s *Signed) { s.Commitments[0].AllSignedDataObjects = false },
	} {
		s := testSigned(p)
		mut(&s)
		if _, err := BuildQualifyingProperties("sig1", s); err == nil {
			t.Errorf("%s: built", name)
		}
	}
	if _, err := TimeStampElement(KindSignatureTimeStamp, "x", "", []byte{1}); err == nil {
		t.Error("time-stamp without c14n algorithm built")
	}
	if _, err := TimeStampElement(KindCertificateValues, "x", libxml.URIExcC14N, []byte{1}); err == nil {
		t.Error("time-stamp of a non-time-stamp kind built")
	}
	if _, err := CompleteRevocationRefsElement("", nil, []OCSPRef{{ProducedAt: time.Now()}}); err == nil {
		t.Error("OCSPRef without responder built")
	}
	if _, err := NewOCSPRef([]byte("junk"), crypto.SHA256); err == nil {
		t.Error("NewOCSPRef accepted junk")
	}
	if _, err := NewCRLRef([]byte("junk"), crypto.SHA256); err == nil {
		t.Error("NewCRLRef accepted junk")
	}
}

// TestElementOrder checks the sequences of the built element against the XAdES 1.3.2 schema's
// xsd:sequence order, independently of any validator.
func TestElementOrder(t *testing.T) {
	p := newTestPKI(t)
	qp := fullQP(t, p)
	children := func(path string) []string {
		e := qp.FindElement(path)
		if e == nil {
			t.Fatalf("no %s", path)
		}
		var out []string
		for _, c := range e.ChildElements() {
			out = append(out, c.Tag)
		}
		return out
	}
	for path, want := range map[string][]string{
		".":                                         {"SignedProperties", "UnsignedProperties"},
		"./xades:SignedProperties":                  {"SignedSignatureProperties", "SignedDataObjectProperties"},
		".//xades:SignedSignatureProperties":        {"SigningTime", "SigningCertificate", "SignaturePolicyIdentifier"},
		".//xades:SignedDataObjectProperties":       {"DataObjectFormat", "DataObjectFormat", "CommitmentTypeIndication"},
		".//xades:SigningCertificate/xades:Cert[1]": {"CertDigest", "IssuerSerial"},
		".//xades:SigningCertificate/xades:Cert[1]/xades:CertDigest":   {"DigestMethod", "DigestValue"},
		".//xades:SigningCertificate/xades:Cert[1]/xades:IssuerSerial": {"X509IssuerName", "X509SerialNumber"},
		".//xades:SignaturePolicyId":                                   {"SigPolicyId", "SigPolicyHash", "SigPolicyQualifiers"},
		".//xades:DataObjectFormat[1]":                                 {"MimeType", "Encoding"},
		".//xades:DataObjectFormat[2]":                                 {"Description", "MimeType"},
		".//xades:CommitmentTypeIndication":                            {"CommitmentTypeId", "AllSignedDataObjects"},
		".//xades:CompleteRevocationRefs":                              {"CRLRefs", "OCSPRefs"},
		".//xades:CRLRef":                                              {"DigestAlgAndValue", "CRLIdentifier"},
		".//xades:CRLIdentifier":                                       {"Issuer", "IssueTime", "Number"},
		".//xades:OCSPRef[1]":                                          {"OCSPIdentifier", "DigestAlgAndValue"},
		".//xades:OCSPIdentifier":                                      {"ResponderID", "ProducedAt"},
		".//xades:RevocationValues":                                    {"CRLValues", "OCSPValues"},
		".//xades:SignatureTimeStamp":                                  {"CanonicalizationMethod", "EncapsulatedTimeStamp"},
		".//xades141:TimeStampValidationData":                          {"CertificateValues", "RevocationValues"},
	} {
		if got := children(path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: children %v, want %v", path, got, want)
		}
	}
}

// TestSchemaValid validates built QualifyingProperties against the ETSI XSDs (testdata/xsd) with the
// xmllint binary: internal/libxml.CompileSchema refuses xsd:import, which XAdES needs (three
// namespaces), so it cannot load them.
func TestSchemaValid(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (make installs it); schema validation skipped")
	}
	p := newTestPKI(t)
	dir := t.TempDir()
	validate := func(name string, b []byte) error {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", filepath.Join("testdata", "xsd", "XAdESv141.xsd"), f).CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	qp := fullQP(t, p)
	if err := validate("full.xml", serialize(t, qp)); err != nil {
		t.Errorf("full QualifyingProperties invalid: %v", err)
	}
	signedOnly, err := BuildQualifyingProperties("sig1", testSigned(p))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate("signed.xml", serialize(t, signedOnly)); err != nil {
		t.Errorf("signed-only QualifyingProperties invalid: %v", err)
	}
	// The validator does fail: swap SigningTime and SigningCertificate.
	bad := qp.Copy()
	ssp := bad.FindElement(".//xades:SignedSignatureProperties")
	st := ssp.SelectElement("xades:SigningTime")
	ssp.RemoveChild(st)
	ssp.InsertChildAt(1, st)
	if err := validate("bad.xml", serialize(t, bad)); err == nil {
		t.Error("misordered SignedSignatureProperties validated")
	}
	// And our parser refuses the same misordering.
	if _, err := ParseQualifyingProperties(canonical(t, serialize(t, bad), "")); !errors.Is(err, ErrMalformed) {
		t.Errorf("parser accepted misordered properties: %v", err)
	}
}

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		ns, local string
		want      Kind
	}{
		{NS, "SignatureTimeStamp", KindSignatureTimeStamp},
		{NS, "ArchiveTimeStamp", KindArchiveTimeStampV132},
		{NS141, "ArchiveTimeStamp", KindArchiveTimeStamp},
		{NS141, "TimeStampValidationData", KindTimeStampValidationData},
		{NS141, "SignatureTimeStamp", KindOther},
		{NS, "SigningTime", KindOther},
		{"urn:x", "SignatureTimeStamp", KindOther},
	} {
		if got := KindOf(tc.ns, tc.local); got != tc.want {
			t.Errorf("KindOf(%s, %s) = %v, want %v", tc.ns, tc.local, got, tc.want)
		}
	}
	if !strings.Contains(Kind(99).String(), "99") {
		t.Error("unknown Kind has no number in its name")
	}
}
