package policy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/qc"
	"github.com/tagdij/tagdij/internal/report"
)

// codeOf returns the Finding code of err, "" for nil, and fails for any other error type.
func codeOf(t *testing.T, err error) Code {
	t.Helper()
	if err == nil {
		return ""
	}
	var f Finding
	if !errors.As(err, &f) {
		t.Fatalf("error %v (%T) is not a Finding", err, err)
	}
	if f.HU == "" || f.EN == "" || f.HU == f.EN || f.Severity != SeverityError {
		t.Fatalf("finding %+v lacks a bilingual message or severity", f)
	}
	return f.Code
}

func codes(fs []Finding) []Code {
	var out []Code
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// rsaPub returns an RSA public key whose modulus has exactly bits bits. Only its size matters to the
// rules under test, so no key is generated.
func rsaPub(bits int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: 65537}
}

func ecPub(c elliptic.Curve) *ecdsa.PublicKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return &k.PublicKey
}

func TestCheckDigest(t *testing.T) {
	p := mustProduction(t)
	for _, c := range []struct {
		h  crypto.Hash
		ok bool
	}{
		{crypto.SHA256, true}, {crypto.SHA384, true}, {crypto.SHA512, true},
		{crypto.SHA1, false}, {crypto.MD5, false}, {crypto.SHA224, false}, {crypto.SHA3_256, false}, {0, false},
	} {
		err := p.CheckDigest(c.h)
		if (err == nil) != c.ok || (!c.ok && codeOf(t, err) != A013) {
			t.Errorf("CheckDigest(%v) = %v, want ok=%v", c.h, err, c.ok)
		}
	}
	for uri, want := range map[string]crypto.Hash{
		"http://www.w3.org/2001/04/xmlenc#sha256":       crypto.SHA256,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
		"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
	} {
		if h, err := p.CheckDigestURI(uri); err != nil || h != want {
			t.Errorf("CheckDigestURI(%s) = %v, %v", uri, h, err)
		}
	}
	for _, uri := range []string{"http://www.w3.org/2000/09/xmldsig#sha1", "http://www.w3.org/2001/04/xmldsig-more#md5", "urn:nope", ""} {
		if _, err := p.CheckDigestURI(uri); codeOf(t, err) != A013 {
			t.Errorf("CheckDigestURI(%q) = %v, want A013", uri, err)
		}
	}
}

func TestCheckAlgorithm(t *testing.T) {
	p := mustProduction(t)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	p256, p384, p224, p521 := ecPub(elliptic.P256()), ecPub(elliptic.P384()), ecPub(elliptic.P224()), ecPub(elliptic.P521())
	cases := []struct {
		name string
		alg  x509.SignatureAlgorithm
		pub  crypto.PublicKey
		ok   bool
	}{
		{"RSA 2048 SHA-256", x509.SHA256WithRSA, rsaPub(2048), true},
		{"RSA 4096 SHA-512", x509.SHA512WithRSA, rsaPub(4096), true},
		{"RSA 2047", x509.SHA256WithRSA, rsaPub(2047), false},
		{"RSA 1024", x509.SHA256WithRSA, rsaPub(1024), false},
		{"RSA-PSS 2048", x509.SHA256WithRSAPSS, rsaPub(2048), true},
		{"RSA-PSS 1024", x509.SHA384WithRSAPSS, rsaPub(1024), false},
		{"SHA-1 RSA", x509.SHA1WithRSA, rsaPub(2048), false},
		{"MD5 RSA", x509.MD5WithRSA, rsaPub(2048), false},
		{"MD2 RSA", x509.MD2WithRSA, rsaPub(2048), false},
		{"ECDSA P-256", x509.ECDSAWithSHA256, p256, true},
		{"ECDSA P-384 SHA-384", x509.ECDSAWithSHA384, p384, true},
		{"ECDSA P-224", x509.ECDSAWithSHA256, p224, false},
		{"ECDSA P-521 not listed", x509.ECDSAWithSHA512, p521, false},
		{"ECDSA SHA-1", x509.ECDSAWithSHA1, p256, false},
		{"ECDSA scheme with RSA key", x509.ECDSAWithSHA256, rsaPub(2048), false},
		{"RSA scheme with EC key", x509.SHA256WithRSA, p256, false},
		{"Ed25519", x509.PureEd25519, edPub, false},
		{"DSA", x509.DSAWithSHA256, rsaPub(2048), false},
		{"no key", x509.SHA256WithRSA, nil, false},
		{"nil RSA key", x509.SHA256WithRSA, (*rsa.PublicKey)(nil), false},
		{"unknown algorithm", x509.UnknownSignatureAlgorithm, rsaPub(2048), false},
	}
	for _, c := range cases {
		err := p.CheckAlgorithm(c.alg, c.pub)
		if (err == nil) != c.ok {
			t.Errorf("%s: CheckAlgorithm = %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if !c.ok && codeOf(t, err) != A013 {
			t.Errorf("%s: code %s, want A013", c.name, codeOf(t, err))
		}
	}
	// The message states the numbers a user needs.
	f := p.CheckAlgorithm(x509.SHA256WithRSA, rsaPub(1024)).(Finding)
	if !strings.Contains(f.HU, "1024") || !strings.Contains(f.EN, "2048") {
		t.Errorf("key-size message lacks the sizes: %+v", f)
	}
}

func TestCheckAlgorithmURI(t *testing.T) {
	p := mustProduction(t)
	p256 := ecPub(elliptic.P256())
	cases := []struct {
		uri  string
		pub  crypto.PublicKey
		hash crypto.Hash
		ok   bool
	}{
		{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", rsaPub(2048), crypto.SHA256, true},
		{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", rsaPub(3072), crypto.SHA384, true},
		{"http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", rsaPub(2048), crypto.SHA256, true},
		{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", p256, crypto.SHA256, true},
		{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", p256, crypto.SHA512, true},
		{"http://www.w3.org/2000/09/xmldsig#rsa-sha1", rsaPub(2048), crypto.SHA1, false},
		{"http://www.w3.org/2001/04/xmldsig-more#rsa-md5", rsaPub(2048), crypto.MD5, false},
		{"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", rsaPub(1024), crypto.SHA256, false},
		{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", ecPub(elliptic.P224()), crypto.SHA256, false},
		{"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", rsaPub(2048), crypto.SHA256, false},
		{"http://www.w3.org/2000/09/xmldsig#dsa-sha1", rsaPub(2048), crypto.SHA1, false},
		{"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", rsaPub(2048), 0, false},
	}
	for _, c := range cases {
		h, err := p.CheckAlgorithmURI(c.uri, c.pub)
		if (err == nil) != c.ok || h != c.hash {
			t.Errorf("CheckAlgorithmURI(%s) = %v, %v; want hash %v ok=%v", c.uri, h, err, c.hash, c.ok)
		}
		if !c.ok && codeOf(t, err) != A013 {
			t.Errorf("%s: want A013", c.uri)
		}
	}
}

func TestCheckCanonicalization(t *testing.T) {
	p := mustProduction(t)
	for _, u := range c14nMethods {
		if err := p.CheckCanonicalization(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://www.w3.org/TR/1999/REC-xpath-19991116", "http://www.w3.org/2001/10/xml-exc-c14n", ""} {
		if codeOf(t, p.CheckCanonicalization(u)) != A013 {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestCheckTimeGaps(t *testing.T) {
	p := mustProduction(t)
	s := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	type want struct {
		code Code
		sub  report.SubIndication
	}
	cases := []struct {
		name         string
		sign, ts, at time.Time
		want         []want
	}{
		{"typical", s, s.Add(2 * time.Minute), s.Add(time.Hour), nil},
		{"gap exactly 30 min", s, s.Add(30 * time.Minute), s.Add(time.Hour), nil},
		{"gap 30 min + 1 ns", s, s.Add(30*time.Minute + 1), s.Add(time.Hour), []want{{A008, SubSigConstraints}}},
		{"timestamp 5 min before signing", s, s.Add(-5 * time.Minute), s.Add(time.Hour), nil},
		{"timestamp 5 min 1 s before signing", s, s.Add(-5*time.Minute - time.Second), s.Add(time.Hour), []want{{A008, SubTimestampOrder}}},
		{"arrival exactly 72 h", s, s.Add(time.Minute), s.Add(time.Minute + 72*time.Hour), nil},
		{"arrival 72 h + 1 ns", s, s.Add(time.Minute), s.Add(time.Minute + 72*time.Hour + 1), []want{{A009, SubSigConstraints}}},
		{"arrival 5 min before timestamp", s, s.Add(10 * time.Minute), s.Add(5 * time.Minute), nil},
		{"arrival 5 min 1 s before timestamp", s, s.Add(10 * time.Minute), s.Add(5*time.Minute - time.Second), []want{{A009, SubTimestampOrder}}},
		{"both gaps", s, s.Add(time.Hour), s.Add(100 * time.Hour), []want{{A008, SubSigConstraints}, {A009, SubSigConstraints}}},
		{"no signing time", time.Time{}, s.Add(time.Hour), s.Add(2 * time.Hour), nil},
		{"no arrival (sender)", s, s.Add(31 * time.Minute), time.Time{}, []want{{A008, SubSigConstraints}}},
		{"no timestamp", s, time.Time{}, s.Add(1000 * time.Hour), nil},
	}
	for _, c := range cases {
		got := p.CheckTimeGaps(c.sign, c.ts, c.at)
		var gw []want
		for _, f := range got {
			gw = append(gw, want{f.Code, f.Sub})
			if f.HU == "" || f.EN == "" || f.Severity != SeverityError {
				t.Errorf("%s: incomplete finding %+v", c.name, f)
			}
		}
		if !slices.Equal(gw, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, gw, c.want)
		}
	}
	f := p.CheckTimeGaps(s, s.Add(31*time.Minute), time.Time{})[0]
	if !strings.Contains(f.HU, "31 perc") || !strings.Contains(f.HU, "30 perc") || !strings.Contains(f.EN, "31 min") || !strings.Contains(f.EN, "30 min") {
		t.Errorf("gap message lacks the durations: %+v", f)
	}
}

func TestGracePeriod(t *testing.T) {
	T := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	prod, sb := mustProduction(t), mustSandbox(t)
	cases := []struct {
		name     string
		p        *Policy
		m        RevocationMethod
		evidence time.Time
		over     bool
	}{
		{"OCSP exactly T+4h", prod, OCSP, T.Add(4 * time.Hour), true},
		{"OCSP T+4h-1ns", prod, OCSP, T.Add(4*time.Hour - 1), false},
		{"OCSP long after", prod, OCSP, T.Add(30 * 24 * time.Hour), true},
		{"OCSP before T", prod, OCSP, T.Add(-time.Hour), false},
		{"CRL exactly T+24h", prod, CRL, T.Add(24 * time.Hour), true},
		{"CRL T+24h-1ns", prod, CRL, T.Add(24*time.Hour - 1), false},
		{"CRL at T+4h is not enough", prod, CRL, T.Add(4 * time.Hour), false},
		{"unknown method", prod, RevocationMethod("LDAP"), T.Add(1000 * time.Hour), false},
		{"sandbox OCSP T+2s", sb, OCSP, T.Add(2 * time.Second), true},
		{"sandbox OCSP T+2s-1ns", sb, OCSP, T.Add(2*time.Second - 1), false},
		{"sandbox CRL T+5s", sb, CRL, T.Add(5 * time.Second), true},
		{"sandbox CRL T+5s-1ns", sb, CRL, T.Add(5*time.Second - 1), false},
	}
	for _, c := range cases {
		if got := c.p.GraceOver(T, c.evidence, c.m); got != c.over {
			t.Errorf("%s: GraceOver = %v", c.name, got)
		}
	}
	for _, c := range []struct {
		p    *Policy
		m    RevocationMethod
		want time.Time
	}{
		{prod, OCSP, T.Add(4 * time.Hour)},
		{prod, CRL, T.Add(24 * time.Hour)},
		{prod, "LDAP", T.Add(24 * time.Hour)},
		{sb, OCSP, T.Add(2 * time.Second)},
		{sb, CRL, T.Add(5 * time.Second)},
	} {
		if got := c.p.EarliestFinalCheck(T, c.m); !got.Equal(c.want) {
			t.Errorf("%s %s: EarliestFinalCheck = %v, want %v", c.p.ID(), c.m, got, c.want)
		}
		// Consistency: evidence at the earliest instant passes for an allowed method.
		if _, ok := c.p.Grace(c.m); ok && !c.p.GraceOver(T, c.p.EarliestFinalCheck(T, c.m), c.m) {
			t.Errorf("%s %s: evidence at EarliestFinalCheck not accepted", c.p.ID(), c.m)
		}
	}
	if got := prod.EarliestFinalCheckAny(T); !got.Equal(T.Add(4 * time.Hour)) {
		t.Errorf("EarliestFinalCheckAny = %v", got)
	}
	if got := sb.EarliestFinalCheckAny(T); !got.Equal(T.Add(2 * time.Second)) {
		t.Errorf("sandbox EarliestFinalCheckAny = %v", got)
	}
}

func TestEvidenceFresh(t *testing.T) {
	p := mustProduction(t)
	ev := time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		m    RevocationMethod
		at   time.Time
		ok   bool
	}{
		{"OCSP at max age", OCSP, ev.Add(24 * time.Hour), true},
		{"OCSP past max age", OCSP, ev.Add(24*time.Hour + 1), false},
		{"CRL 7 days", CRL, ev.Add(7 * 24 * time.Hour), true},
		{"CRL 7 days + 1 ns", CRL, ev.Add(7*24*time.Hour + 1), false},
		{"from the future within skew", OCSP, ev.Add(-5 * time.Minute), true},
		{"from the future beyond skew", OCSP, ev.Add(-5*time.Minute - 1), false},
		{"unknown method", "LDAP", ev, false},
	} {
		if got := p.EvidenceFresh(c.m, ev, c.at); got != c.ok {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

func TestCheckCommitment(t *testing.T) {
	p := mustProduction(t)
	for _, c := range []struct {
		kind DocKind
		uri  string
		want Code
	}{
		{KindPackage, ProofOfOrigin, ""},
		{KindReceipt, ProofOfReceipt, ""},
		{KindPackage, ProofOfReceipt, F008},
		{KindReceipt, ProofOfOrigin, F008},
		{KindPackage, "", F008},
		{KindPackage, "http://uri.etsi.org/01903/v1.2.2#ProofOfApproval", F008},
		{KindPackage, ProofOfOrigin + " ", F008},
		{DocKind("export"), ProofOfOrigin, F008},
	} {
		if got := codeOf(t, p.CheckCommitment(c.kind, c.uri)); got != c.want {
			t.Errorf("CheckCommitment(%s, %q) = %q, want %q", c.kind, c.uri, got, c.want)
		}
	}
}

func TestCheckMIME(t *testing.T) {
	p := mustProduction(t)
	for _, c := range []struct {
		kind      DocKind
		mime      string
		encrypted bool
		want      Code
	}{
		{KindPackage, "application/pkcs7-mime", true, ""},
		{KindPackage, "application/x-pkcs7-mime", true, ""},
		{KindPackage, "application/xpkcs-7", true, ""},
		{KindPackage, "Application/PKCS7-MIME; smime-type=enveloped-data", true, ""},
		{KindPackage, "text/xml", false, ""},
		{KindPackage, "text/xml", true, F007},
		{KindPackage, "application/pkcs7-mime", false, F007},
		{KindPackage, "application/octet-stream", true, F007},
		{KindPackage, "application/xml", false, F007},
		{KindPackage, "", true, F007},
		{KindPackage, "not a type", true, F007},
		{KindReceipt, "text/xml", false, ""},
		{KindReceipt, "application/pkcs7-mime", true, F007},
		{DocKind("export"), "text/xml", false, F007},
	} {
		if got := codeOf(t, p.CheckMIME(c.kind, c.mime, c.encrypted)); got != c.want {
			t.Errorf("CheckMIME(%s, %q, %v) = %q, want %q", c.kind, c.mime, c.encrypted, got, c.want)
		}
	}
	for _, c := range []struct {
		kind      DocKind
		encrypted bool
		want      string
		ok        bool
	}{
		{KindPackage, true, "application/pkcs7-mime", true},
		{KindPackage, false, "text/xml", true},
		{KindReceipt, false, "text/xml", true},
		{KindReceipt, true, "", false},
	} {
		got, err := p.WriteMIME(c.kind, c.encrypted)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("WriteMIME(%s, %v) = %q, %v", c.kind, c.encrypted, got, err)
		}
	}
}

func TestCheckSize(t *testing.T) {
	p := mustProduction(t)
	for _, c := range []struct {
		kind DocKind
		n    int64
		want Code
	}{
		{KindPackage, 100 << 20, ""},
		{KindPackage, 100<<20 + 1, T003},
		{KindReceipt, 1 << 20, ""},
		{KindReceipt, 1<<20 + 1, T003},
		{DocKind("x"), 1, T003},
	} {
		if got := codeOf(t, p.CheckSize(c.kind, c.n)); got != c.want {
			t.Errorf("CheckSize(%s, %d) = %q, want %q", c.kind, c.n, got, c.want)
		}
	}
}

func TestRequiredProperties(t *testing.T) {
	p := mustProduction(t)
	names := func(ps []Property) (n []string, c []Code) {
		for _, x := range ps {
			n = append(n, x.Name)
			c = append(c, x.Code)
		}
		return
	}
	for _, kind := range []DocKind{KindPackage, KindReceipt} {
		sn, sc := names(p.RequiredSignedProperties(kind))
		un, uc := names(p.RequiredUnsignedProperties(kind))
		if !slices.Equal(sn, []string{"SigningTime", "SigningCertificate", "SignaturePolicyIdentifier", "DataObjectFormat", "CommitmentTypeIndication"}) ||
			!slices.Equal(sc, []Code{F001, F002, F003, F004, F008}) {
			t.Errorf("%s signed: %v %v", kind, sn, sc)
		}
		if !slices.Equal(un, []string{"SignatureTimeStamp", "CompleteCertificateRefs"}) || !slices.Equal(uc, []Code{F005, F006}) {
			t.Errorf("%s unsigned: %v %v", kind, un, uc)
		}
	}
	if p.RequiredSignedProperties("x") != nil {
		t.Error("unknown kind has properties")
	}
	// Copies: a caller cannot change the policy.
	ps := p.RequiredSignedProperties(KindPackage)
	ps[1].Alternatives[0] = "Forged"
	ps[0].Name = "Forged"
	if q := p.RequiredSignedProperties(KindPackage); q[0].Name != "SigningTime" || q[1].Alternatives[0] != "SigningCertificateV2" {
		t.Error("RequiredSignedProperties shares state")
	}

	all := []string{"SigningTime", "SigningCertificate", "SignaturePolicyIdentifier", "DataObjectFormat", "CommitmentTypeIndication"}
	unsigned := []string{"SignatureTimeStamp", "CompleteCertificateRefs", "CertificateValues"}
	without := func(l []string, drop string) []string {
		return slices.DeleteFunc(slices.Clone(l), func(s string) bool { return s == drop })
	}
	for _, c := range []struct {
		name             string
		signed, unsigned []string
		want             []Code
	}{
		{"complete", all, unsigned, nil},
		{"V2 names", append(without(all, "SigningCertificate"), "SigningCertificateV2"), append(without(unsigned, "CompleteCertificateRefs"), "CompleteCertificateRefsV2"), nil},
		{"no SigningTime", without(all, "SigningTime"), unsigned, []Code{F001}},
		{"no SignaturePolicyIdentifier", without(all, "SignaturePolicyIdentifier"), unsigned, []Code{F003}},
		{"no DataObjectFormat", without(all, "DataObjectFormat"), unsigned, []Code{F004}},
		{"no commitment", without(all, "CommitmentTypeIndication"), unsigned, []Code{F008}},
		{"no cert refs", all, without(unsigned, "CompleteCertificateRefs"), []Code{F006}},
		{"timestamp in the signed list", append(slices.Clone(all), "SignatureTimeStamp"), without(unsigned, "SignatureTimeStamp"), []Code{F005}},
		{"nothing", nil, nil, []Code{F001, F002, F003, F004, F008, F005, F006}},
	} {
		if got := codes(p.CheckProperties(KindPackage, c.signed, c.unsigned)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCheckValidAt(t *testing.T) {
	p := mustProduction(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := p.CheckValidAt(start); err != nil {
		t.Errorf("at start: %v", err)
	}
	if codeOf(t, p.CheckValidAt(start.Add(-1))) != A010 {
		t.Error("before start accepted")
	}
	if err := p.CheckValidAt(start.AddDate(30, 0, 0)); err != nil {
		t.Errorf("open-ended policy expired: %v", err)
	}
	doc := strings.Replace(string(ProductionDocument()), "<Kezdete>2026-01-01T00:00:00Z</Kezdete>",
		"<Kezdete>2026-01-01T00:00:00Z</Kezdete><Vege>2027-01-01T00:00:00+01:00</Vege>", 1)
	q, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	if err := q.CheckValidAt(end.Add(-1)); err != nil {
		t.Errorf("just before end: %v", err)
	}
	if codeOf(t, q.CheckValidAt(end)) != A010 {
		t.Error("at end accepted")
	}
}

func TestCheckSignaturePolicy(t *testing.T) {
	p := mustProduction(t)
	s256 := sha256.Sum256(ProductionDocument())
	s512 := sha512.Sum512(ProductionDocument())
	sb := mustSandbox(t)
	for _, c := range []struct {
		name   string
		id     string
		h      crypto.Hash
		digest []byte
		want   Code
	}{
		{"SHA-256", p.ID(), crypto.SHA256, s256[:], ""},
		{"SHA-512", p.ID(), crypto.SHA512, s512[:], ""},
		{"wrong id", sb.ID(), crypto.SHA256, s256[:], A010},
		{"sandbox digest", p.ID(), crypto.SHA256, sb.Digest(), A010},
		{"SHA-512 digest labelled SHA-256", p.ID(), crypto.SHA256, s512[:], A010},
		{"empty digest", p.ID(), crypto.SHA256, nil, A010},
		{"SHA-1", p.ID(), crypto.SHA1, s256[:20], A013},
	} {
		if got := codeOf(t, p.CheckSignaturePolicy(c.id, c.h, c.digest)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// --- certificates -----------------------------------------------------------------------------

var (
	oidEKU          = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidServerAuth   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
)

type certOpts struct {
	pub         crypto.PublicKey
	ku          x509.KeyUsage
	qc          *qc.Statements
	eku         []asn1.ObjectIdentifier
	ekuCritical bool
}

// issue makes a certificate for o signed by a fixed P-256 issuer key.
func issue(t *testing.T, issuer *ecdsa.PrivateKey, o certOpts) *x509.Certificate {
	t.Helper()
	if o.pub == nil {
		o.pub = ecPub(elliptic.P256())
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "Teszt Elek", Organization: []string{"Tagdíj teszt"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     o.ku,
	}
	if o.qc != nil {
		ext, err := qc.Extension(*o.qc)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	if o.eku != nil {
		der, err := asn1.Marshal(o.eku)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidEKU, Critical: o.ekuCritical, Value: der})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, o.pub, issuer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckCertificate(t *testing.T) {
	p := mustProduction(t)
	issuer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	qual := &qc.Statements{Compliance: true, SSCD: true, Types: []asn1.ObjectIdentifier{qc.OIDTypeESign}}
	sha1Signed := issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment, qc: qual})
	sha1Signed.SignatureAlgorithm = x509.ECDSAWithSHA1 // the rule reads the field; no SHA-1 signing needed
	cases := []struct {
		name string
		role Role
		cert *x509.Certificate
		want []Code
	}{
		{"qualified signer", RoleSigner, issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment, qc: qual}), nil},
		{"signer with both key usages", RoleSigner, issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment | x509.KeyUsageDigitalSignature, qc: qual}), nil},
		{"signer without SSCD", RoleSigner, issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment, qc: &qc.Statements{Compliance: true}}), []Code{A004}},
		{"signer without QC statements", RoleSigner, issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment}), []Code{A004, A004}},
		{"signer with digitalSignature only", RoleSigner, issue(t, issuer, certOpts{ku: x509.KeyUsageDigitalSignature, qc: qual}), []Code{A010}},
		{"signer on P-224", RoleSigner, issue(t, issuer, certOpts{pub: ecPub(elliptic.P224()), ku: x509.KeyUsageContentCommitment, qc: qual}), []Code{A013}},
		{"signer cert signed with SHA-1", RoleSigner, sha1Signed, []Code{A013}},
		{"receipt key digitalSignature", RoleReceiptSigner, issue(t, issuer, certOpts{ku: x509.KeyUsageDigitalSignature}), nil},
		{"receipt key without key usage", RoleReceiptSigner, issue(t, issuer, certOpts{ku: x509.KeyUsageKeyEncipherment}), []Code{A010}},
		{"TSA critical EKU", RoleTSA, issue(t, issuer, certOpts{ku: x509.KeyUsageDigitalSignature, eku: []asn1.ObjectIdentifier{oidTimeStamping}, ekuCritical: true}), nil},
		{"TSA EKU not critical", RoleTSA, issue(t, issuer, certOpts{ku: x509.KeyUsageDigitalSignature, eku: []asn1.ObjectIdentifier{oidTimeStamping}}), []Code{A007}},
		{"TSA EKU not exclusive", RoleTSA, issue(t, issuer, certOpts{eku: []asn1.ObjectIdentifier{oidTimeStamping, oidServerAuth}, ekuCritical: true}), []Code{A007}},
		{"TSA without EKU", RoleTSA, issue(t, issuer, certOpts{}), []Code{A007}},
		{"unknown role", Role("x"), issue(t, issuer, certOpts{}), []Code{A010}},
		{"no certificate", RoleSigner, nil, []Code{A003}},
	}
	// "mind" (all) versus "legalabbEgy" (at least one): a policy requiring both bits refuses a
	// certificate with one of them, which the production signer role (one bit) cannot show.
	both, err := Parse([]byte(strings.Replace(string(ProductionDocument()),
		`<KulcsHasznalat feltetel="mind">`, `<KulcsHasznalat feltetel="mind"><Ertek>digitalSignature</Ertek>`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	oneBit := issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment, qc: qual})
	twoBits := issue(t, issuer, certOpts{ku: x509.KeyUsageContentCommitment | x509.KeyUsageDigitalSignature, qc: qual})
	if got := codes(both.CheckCertificate(RoleSigner, oneBit)); !slices.Equal(got, []Code{A010}) {
		t.Errorf("all-of key usage with one bit: %v", got)
	}
	if got := both.CheckCertificate(RoleSigner, twoBits); got != nil {
		t.Errorf("all-of key usage with both bits: %v", got)
	}
	for _, c := range cases {
		got := p.CheckCertificate(c.role, c.cert)
		if !slices.Equal(codes(got), c.want) {
			t.Errorf("%s: %v, want %v (%v)", c.name, codes(got), c.want, got)
		}
	}
}

func TestCheckAnchor(t *testing.T) {
	issuer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a := issue(t, issuer, certOpts{})
	b := issue(t, issuer, certOpts{})
	prod := mustProduction(t)
	if err := prod.CheckAnchor(RoleSigner, a); err != nil {
		t.Errorf("unpinned role refused a deployment anchor: %v", err)
	}
	if codeOf(t, prod.CheckAnchor("nobody", a)) != A010 || codeOf(t, prod.CheckAnchor(RoleSigner, nil)) != A003 {
		t.Error("unknown role or nil anchor accepted")
	}
	fp := sha256.Sum256(a.Raw)
	pin := func(inner string) *Policy {
		doc := strings.Replace(string(ProductionDocument()),
			"<Ertek>nonRepudiation</Ertek>\n      </KulcsHasznalat>",
			"<Ertek>nonRepudiation</Ertek>\n      </KulcsHasznalat>\n      <Horgony><Megnevezes>Teszt CA</Megnevezes>"+inner+"</Horgony>", 1)
		q, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	byFP := pin("<UjjlenyomatSHA256>" + strings.ToUpper(hex.EncodeToString(fp[:])) + "</UjjlenyomatSHA256>")
	bySubject := pin("<Alany>" + a.Subject.String() + "</Alany>")
	byBoth := pin("<UjjlenyomatSHA256>" + hex.EncodeToString(fp[:]) + "</UjjlenyomatSHA256><Alany>CN=Other</Alany>")
	for _, c := range []struct {
		name string
		p    *Policy
		cert *x509.Certificate
		want Code
	}{
		{"fingerprint match", byFP, a, ""},
		{"fingerprint mismatch", byFP, b, A003},
		{"subject match", bySubject, b, ""}, // same subject, other key: subject pins are weaker, by design
		{"both must match", byBoth, a, A003},
		{"other role unaffected", byFP, b, ""},
	} {
		role := RoleSigner
		if c.name == "other role unaffected" {
			role = RoleTSA
		}
		if got := codeOf(t, c.p.CheckAnchor(role, c.cert)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCheckReceiptKey(t *testing.T) {
	p := mustProduction(t)
	issuer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tlsKey := ecPub(elliptic.P256())
	tlsCert := issue(t, issuer, certOpts{pub: tlsKey, eku: []asn1.ObjectIdentifier{oidServerAuth}})
	receipt := issue(t, issuer, certOpts{ku: x509.KeyUsageDigitalSignature})
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		want Code
	}{
		{"separate key", receipt, ""},
		{"the TLS certificate itself", tlsCert, A010},
		{"same key, other certificate", issue(t, issuer, certOpts{pub: tlsKey, ku: x509.KeyUsageDigitalSignature}), A010},
		{"missing", nil, A010},
	} {
		if got := codeOf(t, p.CheckReceiptKey(c.cert, tlsCert, nil)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
