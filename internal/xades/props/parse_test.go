package props

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// validCanonical returns the canonical bytes of the full test QualifyingProperties.
func validCanonical(t testing.TB) (string, *testPKI) {
	p := newTestPKI(t)
	return string(canonical(t, serialize(t, fullQP(t, p)), "")), p
}

func TestParseMalformed(t *testing.T) {
	good, _ := validCanonical(t)
	if _, err := ParseQualifyingProperties([]byte(good)); err != nil {
		t.Fatalf("baseline does not parse: %v", err)
	}
	sha256URI := `Algorithm="` + DigestSHA256 + `"`
	for _, tc := range []struct {
		name, old, new string
		prop           string // expected substring of PropertyError.Property
		limit          bool
	}{
		{"date without zone", "2026-03-01T12:14:15Z", "2026-03-01T12:14:15", "SigningTime", false},
		{"date month 13", "2026-03-01T12:14:15Z", "2026-13-01T12:14:15Z", "SigningTime", false},
		{"date lower-case t", "2026-03-01T12:14:15Z", "2026-03-01t12:14:15Z", "SigningTime", false},
		{"date garbage", "2026-03-01T12:14:15Z", "tegnap", "SigningTime", false},
		{"date empty", "2026-03-01T12:14:15Z", "", "SigningTime", false},
		{"bad base64 digest", "<ds:DigestValue xmlns:ds=\"" + NSDS + "\">", "<ds:DigestValue xmlns:ds=\"" + NSDS + "\">!!", "CertDigest/DigestValue", false},
		{"bad base64 token", ">dG9rZW4tMQ==<", ">dG9rZW4tMQ=<", "SignatureTimeStamp[1]/EncapsulatedTimeStamp", false},
		{"non-strict base64 padding bits", ">dG9rZW4tMQ==<", ">dG9rZW4tMR==<", "SignatureTimeStamp[1]/EncapsulatedTimeStamp", false},
		{"empty token", ">dG9rZW4tMQ==<", "><", "SignatureTimeStamp[1]/EncapsulatedTimeStamp", false},
		{"unknown digest", sha256URI, `Algorithm="http://www.w3.org/2001/04/xmldsig-more#md5"`, "DigestMethod", false},
		{"sha1 uri with sha256 value", sha256URI, `Algorithm="` + DigestSHA1 + `"`, "DigestValue", false},
		{"serial not decimal", ">4242<", ">0x1092<", "X509SerialNumber", false},
		{"serial overlong", ">4242<", ">" + strings.Repeat("9", 120) + "<", "X509SerialNumber", true},
		{"issuer name empty", ">CN=Tagdíj Teszt Gyökér CA,C=HU<", "><", "X509IssuerName", false},
		{"overlong mime type", ">text/xml<", ">" + strings.Repeat("x", 9000) + "<", "MimeType", true},
		{"unknown qualifier", "<xades:Identifier>" + testPolicyID, `<xades:Identifier Qualifier="OIDAsURL">` + testPolicyID, "SigPolicyId/Identifier", false},
		{"signed element out of order", "</xades:SigningCertificate>", "</xades:SigningCertificate><xades:SigningTime>2026-03-01T12:14:15Z</xades:SigningTime>", "SignedSignatureProperties", false},
		{"comment in value", ">4242<", ">42<!--x-->42<", "X509SerialNumber", false},
		{"unknown xades element in signed part", "<xades:SignedDataObjectProperties>", "<xades:Bogus></xades:Bogus><xades:SignedDataObjectProperties>", "SignedProperties", false},
		{"text in container", "<xades:SignedSignatureProperties>", "<xades:SignedSignatureProperties>szöveg", "SignedSignatureProperties", false},
		{"unknown unsigned xades element", "<xades:SignatureTimeStamp ", "<xades:SigningTime>2026-03-01T12:14:15Z</xades:SigningTime><xades:SignatureTimeStamp ", "UnsignedSignatureProperties/SigningTime", false},
		{"bad EncapsulatedPKIData encoding", "<xades:EncapsulatedTimeStamp>", `<xades:EncapsulatedTimeStamp Encoding="http://uri.etsi.org/01903/v1.2.2#BER">`, "EncapsulatedTimeStamp", false},
		{"certificate value not a certificate", "<xades:EncapsulatedX509Certificate>", "<xades:EncapsulatedX509Certificate>AAAA", "CertificateValues", false},
		{"no Target", ` Target="#sig1"`, "", "QualifyingProperties", false},
		{"commitment without objects", "<xades:AllSignedDataObjects></xades:AllSignedDataObjects>", "", "CommitmentTypeIndication[1]", false},
		{"responder neither name nor key", "<xades:ByKey>q6urq6urq6urq6urq6urq6urq6s=</xades:ByKey>", "<xades:ByWhat>x</xades:ByWhat>", "ResponderID", false},
		{"time-stamp without token", `<xades:EncapsulatedTimeStamp>dG9rZW4tMQ==</xades:EncapsulatedTimeStamp>`, "", "SignatureTimeStamp[1]", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("fixture lacks %q", tc.old)
			}
			in := strings.Replace(good, tc.old, tc.new, 1)
			_, err := ParseQualifyingProperties([]byte(in))
			var pe *PropertyError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *PropertyError", err)
			}
			if !strings.Contains(pe.Property, tc.prop) {
				t.Errorf("property %q, want it to name %q (%v)", pe.Property, tc.prop, err)
			}
			if errors.Is(err, ErrLimit) != tc.limit || errors.Is(err, ErrMalformed) == tc.limit {
				t.Errorf("limit=%v malformed=%v, want limit=%v: %v", errors.Is(err, ErrLimit), errors.Is(err, ErrMalformed), tc.limit, err)
			}
		})
	}
}

func TestParseInputRules(t *testing.T) {
	good, _ := validCanonical(t)
	for name, in := range map[string]string{
		"doctype":           `<!DOCTYPE x [<!ENTITY a "b">]>` + good,
		"not xml":           "<<<",
		"not utf-8":         "<a>\xff</a>",
		"wrong root":        `<xades:SignedProperties xmlns:xades="` + NS + `"></xades:SignedProperties>`,
		"undeclared ns":     `<x:QualifyingProperties Target="#a"></x:QualifyingProperties>`,
		"object with two":   `<ds:Object xmlns:ds="` + NSDS + `">` + good + good + `</ds:Object>`,
		"duplicate attr":    strings.Replace(good, `Target="#sig1"`, `Target="#sig1" Target="#sig2"`, 1),
		"text after root":   good + "x",
		"signed both v1 v2": strings.Replace(good, "</xades:SigningCertificate>", `</xades:SigningCertificate><xades:SigningCertificateV2></xades:SigningCertificateV2>`, 1),
	} {
		if _, err := ParseQualifyingProperties([]byte(in)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	// A ds:Object wrapper with exactly the QualifyingProperties is accepted.
	obj := `<ds:Object xmlns:ds="` + NSDS + `" Id="o">` + good + `</ds:Object>`
	if _, err := ParseQualifyingProperties([]byte(obj)); err != nil {
		t.Errorf("ds:Object wrapper: %v", err)
	}
	// ParseSignedProperties and ParseUnsignedProperties insist on their root.
	if _, err := ParseSignedProperties([]byte(good)); err == nil {
		t.Error("ParseSignedProperties accepted QualifyingProperties")
	}
	if _, err := ParseUnsignedProperties([]byte(good)); err == nil {
		t.Error("ParseUnsignedProperties accepted QualifyingProperties")
	}
}

func TestParseLimits(t *testing.T) {
	good, _ := validCanonical(t)
	for name, lim := range map[string]Limits{
		"bytes":    {MaxBytes: len(good) - 1},
		"elements": {MaxElements: 50},
		"depth":    {MaxDepth: 5},
		"items":    {MaxItems: 1},
		"binary":   {MaxBinary: 100},
		"text":     {MaxText: 10},
	} {
		_, err := Parser{Limits: lim}.ParseQualifyingProperties([]byte(good))
		if !errors.Is(err, ErrLimit) {
			t.Errorf("%s: err = %v, want ErrLimit", name, err)
		}
	}
	if _, err := (Parser{Limits: Limits{MaxBytes: len(good)}}).ParseQualifyingProperties([]byte(good)); err != nil {
		t.Errorf("exact MaxBytes: %v", err)
	}
}

// TestMissingIsNotError: absent properties are for the policy layer to report.
func TestMissingIsNotError(t *testing.T) {
	in := `<xades:QualifyingProperties xmlns:xades="` + NS + `" Target="#s"><xades:SignedProperties Id="sp"></xades:SignedProperties></xades:QualifyingProperties>`
	qp, err := ParseQualifyingProperties([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	sp := qp.Signed
	if !sp.SigningTime.IsZero() || sp.HasSigningCertificate || sp.Policy != nil || sp.DataObjectFormats != nil || qp.Unsigned != nil {
		t.Errorf("empty SignedProperties parsed as %+v", sp)
	}
}

// TestForeignSigned: legal but uninterpreted signed properties are reported, not errors.
func TestForeignSigned(t *testing.T) {
	in := `<xades:SignedProperties xmlns:xades="` + NS + `" Id="sp"><xades:SignedSignatureProperties>` +
		`<xades:SigningTime>2024-05-06T07:08:09.5+02:00</xades:SigningTime>` +
		`<xades:SignaturePolicyIdentifier><xades:SignaturePolicyImplied></xades:SignaturePolicyImplied></xades:SignaturePolicyIdentifier>` +
		`<xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>ügyvezető</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>` +
		`<es:X xmlns:es="https://www.microsec.hu/ds/e-szigno30#"></es:X></xades:SignedSignatureProperties></xades:SignedProperties>`
	sp, err := ParseSignedProperties([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !sp.SigningTime.Equal(time.Date(2024, 5, 6, 5, 8, 9, 5e8, time.UTC)) {
		t.Errorf("SigningTime = %v", sp.SigningTime)
	}
	if sp.Policy == nil || !sp.Policy.Implied {
		t.Errorf("Policy = %+v", sp.Policy)
	}
	want := []string{"{" + NS + "}SignerRole", "{https://www.microsec.hu/ds/e-szigno30#}X"}
	if strings.Join(sp.Ignored, " ") != strings.Join(want, " ") {
		t.Errorf("Ignored = %v, want %v", sp.Ignored, want)
	}
}

// TestSigningCertificateV2 reads EN 319 132-1's SigningCertificateV2 (with and without IssuerSerialV2).
func TestSigningCertificateV2(t *testing.T) {
	p := newTestPKI(t)
	isv2, err := IssuerSerialV2Of(p.signer)
	if err != nil {
		t.Fatal(err)
	}
	d := Sum(crypto.SHA384, p.signer.Raw)
	cert := func(withIS bool) string {
		s := `<xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="` + DigestSHA384 + `"></ds:DigestMethod><ds:DigestValue>` +
			base64.StdEncoding.EncodeToString(d.Value) + `</ds:DigestValue></xades:CertDigest>`
		if withIS {
			s += `<xades:IssuerSerialV2>` + base64.StdEncoding.EncodeToString(isv2) + `</xades:IssuerSerialV2>`
		}
		return s + `</xades:Cert>`
	}
	in := `<xades:SignedProperties xmlns:xades="` + NS + `" xmlns:ds="` + NSDS + `"><xades:SignedSignatureProperties>` +
		`<xades:SigningCertificateV2>` + cert(true) + cert(false) + `</xades:SigningCertificateV2>` +
		`</xades:SignedSignatureProperties></xades:SignedProperties>`
	sp, err := ParseSignedProperties([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !sp.SigningCertificateV2 || len(sp.SigningCertificate) != 2 {
		t.Fatalf("got %+v", sp)
	}
	r := sp.SigningCertificate[0]
	if !r.V2 || r.SerialNumber.Cmp(p.signer.SerialNumber) != 0 || !bytes.Equal(r.IssuerSerialV2, isv2) {
		t.Errorf("ref = %+v", r)
	}
	if !CertDigestMatches(r, p.signer) || !CertDigestMatches(sp.SigningCertificate[1], p.signer) {
		t.Error("v2 refs do not match the signer")
	}
	if CertDigestMatches(r, p.ca) {
		t.Error("v2 ref matches the CA")
	}
	// Right digest, IssuerSerialV2 of another certificate: no match.
	other, _ := IssuerSerialV2Of(p.ca)
	r.IssuerSerialV2 = other
	if CertDigestMatches(r, p.signer) {
		t.Error("v2 ref with a foreign IssuerSerialV2 matches")
	}
	bad := strings.Replace(in, base64.StdEncoding.EncodeToString(isv2), base64.StdEncoding.EncodeToString([]byte{0x30, 0x00}), 1)
	if _, err := ParseSignedProperties([]byte(bad)); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad IssuerSerialV2: %v", err)
	}
}

func TestCertDigestMatchesV1(t *testing.T) {
	p := newTestPKI(t)
	ref, err := NewCertRef(p.ca, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !CertDigestMatches(ref, p.ca) {
		t.Fatal("own ref does not match")
	}
	for name, mut := range map[string]func(*CertRef){
		"serial":        func(r *CertRef) { r.SerialNumber = new(big.Int).Add(r.SerialNumber, big.NewInt(1)) },
		"no serial":     func(r *CertRef) { r.SerialNumber = nil },
		"issuer":        func(r *CertRef) { r.IssuerName = "CN=Tagdíj Teszt Gyökér CA,C=DE" },
		"digest":        func(r *CertRef) { r.Digest.Value = append([]byte{}, r.Digest.Value...); r.Digest.Value[0] ^= 1 },
		"digest length": func(r *CertRef) { r.Digest.Hash = crypto.SHA384 },
		"no hash":       func(r *CertRef) { r.Digest.Hash = 0 },
	} {
		r := ref
		mut(&r)
		if CertDigestMatches(r, p.ca) {
			t.Errorf("%s: still matches", name)
		}
	}
	// SHA-1 CertDigests (legacy signatures) are compared too.
	if r := (CertRef{Digest: Sum(crypto.SHA1, p.ca.Raw), IssuerName: ref.IssuerName, SerialNumber: ref.SerialNumber}); !CertDigestMatches(r, p.ca) {
		t.Error("SHA-1 ref does not match")
	}
	if CertDigestMatches(ref, nil) {
		t.Error("matches nil")
	}
}

// TestLargeSerial: 20-octet serial numbers (49 digits) survive the round trip.
func TestLargeSerial(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial := new(big.Int).SetBytes(bytes.Repeat([]byte{0x7f}, 20))
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "nagy"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}, &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "nagy"}}, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	el, err := CompleteCertificateRefsElement("r", crypto.SHA256, []*x509.Certificate{c})
	if err != nil {
		t.Fatal(err)
	}
	el.CreateAttr("xmlns:xades", NS)
	b := canonical(t, serialize(t, el), "")
	up := `<xades:UnsignedProperties xmlns:xades="` + NS + `" xmlns:ds="` + NSDS + `"><xades:UnsignedSignatureProperties>` +
		strings.TrimPrefix(string(b), "") + `</xades:UnsignedSignatureProperties></xades:UnsignedProperties>`
	u, err := ParseUnsignedProperties([]byte(up))
	if err != nil {
		t.Fatal(err)
	}
	r := u.Properties[0].CertificateRefs.Certs[0]
	if r.SerialNumber.Cmp(serial) != 0 || !CertDigestMatches(r, c) {
		t.Errorf("ref %+v", r)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-03-01T12:00:00Z":        time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		"2026-03-01T13:00:00+01:00":   time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		"2026-03-01T12:00:00.123456Z": time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC),
		"2026-03-01T10:30:00.5-01:30": time.Date(2026, 3, 1, 12, 0, 0, 5e8, time.UTC),
	} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"2026-03-01T12:00:00", "2026-03-01 12:00:00Z", "2026-03-01T12:00:00z", "2026-02-30T12:00:00Z",
		"2026-03-01T25:00:00Z", "26-03-01T12:00:00Z", "2026-03-01T12:00:00+0100", "+2026-03-01T12:00:00Z", ""} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
	if got := FormatTime(time.Date(2026, 3, 1, 13, 0, 0, 999999999, time.FixedZone("CET", 3600))); got != "2026-03-01T12:00:00Z" {
		t.Errorf("FormatTime = %s", got)
	}
}

// TestParseFromLibxmlObject parses the canonical bytes of a ds:Object as internal/xades will pass them.
func TestParseFromLibxmlObject(t *testing.T) {
	p := newTestPKI(t)
	qp := fullQP(t, p)
	sig := `<ds:Signature xmlns:ds="` + NSDS + `" Id="sig1"><ds:Object Id="o1">` + string(mustWrite(t, qp)) + `</ds:Object></ds:Signature>`
	b := canonical(t, []byte(sig), "Object")
	got, err := ParseQualifyingProperties(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Target != "#sig1" || len(got.Unsigned.Properties) != 8 {
		t.Errorf("got %+v", got)
	}
}

// mustWrite serializes el without adding any namespace declaration.
func mustWrite(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	b, err := etree.NewDocumentWithRoot(el.Copy()).WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
