package tsp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

var oidKPTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
var oidKPServerAuth = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
var testPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1}

// testPKI is a root CA generated for one test.
type testPKI struct {
	root    *x509.Certificate
	rootKey crypto.Signer
	roots   *x509.CertPool
	serial  int64
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Tagdij Test Root CA", Organization: []string{"Tagdij test"}},
		NotBefore:             now.Add(-10 * 365 * 24 * time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &testPKI{root: root, rootKey: key, roots: pool, serial: 100}
}

// certSpec describes a TSA certificate to issue. The zero value is a good
// TSA certificate: P-256 key, critical EKU timeStamping only, valid now.
type certSpec struct {
	cn                  string
	key                 crypto.Signer
	eku                 []asn1.ObjectIdentifier // nil: timeStamping
	noEKU               bool
	nonCritical         bool
	notBefore, notAfter time.Time
	keyUsage            x509.KeyUsage
}

func (p *testPKI) issue(t testing.TB, s certSpec) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := s.key
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	if s.cn == "" {
		s.cn = "Tagdij Test TSA"
	}
	now := time.Now()
	if s.notBefore.IsZero() {
		s.notBefore = now.Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = now.Add(365 * 24 * time.Hour)
	}
	if s.keyUsage == 0 {
		s.keyUsage = x509.KeyUsageDigitalSignature
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: s.cn, Organization: []string{"Tagdij test"}},
		NotBefore:    s.notBefore,
		NotAfter:     s.notAfter,
		KeyUsage:     s.keyUsage,
	}
	if !s.noEKU {
		ekus := s.eku
		if ekus == nil {
			ekus = []asn1.ObjectIdentifier{oidKPTimeStamping}
		}
		val, err := asn1.Marshal(ekus)
		if err != nil {
			t.Fatal(err)
		}
		// crypto/x509 writes EKU non-critical; ExtraExtensions overrides it.
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidExtExtKeyUsage, Critical: !s.nonCritical, Value: val}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.root, key.Public(), p.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func rsaKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writePEM writes certificates (and optionally a key) as PEM files in dir.
func writePEM(t testing.TB, path string, certs ...*x509.Certificate) string {
	t.Helper()
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeKey(t testing.TB, path string, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// misbehave lists the ways the test TSA can break the protocol.
type misbehave struct {
	wrongNonce   bool
	dropNonce    bool
	wrongImprint bool
	wrongHash    bool // answer with a SHA-384 imprint
	noCerts      bool // ignore certReq
	noAccuracy   bool
	policy       asn1.ObjectIdentifier // token policy; nil: testPolicy
	timeShift    time.Duration         // genTime = now + timeShift
	reject       bool                  // PKIStatus rejection, badAlg
	httpStatus   int
	contentType  string
	body         []byte // replaces the answer
	oversize     int    // appends this many bytes to the answer
	tamper       func([]byte) []byte
}

// testTSA is an RFC 3161 responder built on digitorus/timestamp.
type testTSA struct {
	cert  *x509.Certificate
	key   crypto.Signer
	chain []*x509.Certificate
	bad   misbehave
	hits  atomic.Int64
}

func (s *testTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != ContentTypeQuery {
		http.Error(w, "want POST application/timestamp-query", http.StatusBadRequest)
		return
	}
	q, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := s.respond(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ct := ContentTypeReply
	if s.bad.contentType != "" {
		ct = s.bad.contentType
	}
	w.Header().Set("Content-Type", ct)
	if s.bad.httpStatus != 0 {
		w.WriteHeader(s.bad.httpStatus)
	}
	w.Write(resp)
}

func (s *testTSA) respond(q []byte) ([]byte, error) {
	b := s.bad
	if b.body != nil {
		return b.body, nil
	}
	if b.reject {
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadAlgorithm)
	}
	req, err := timestamp.ParseRequest(q)
	if err != nil {
		return nil, err
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     append([]byte(nil), req.HashedMessage...),
		Time:              time.Now().Add(b.timeShift),
		Accuracy:          500 * time.Millisecond,
		SerialNumber:      big.NewInt(1),
		Policy:            testPolicy,
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates && !b.noCerts,
		Certificates:      s.chain,
	}
	if b.noCerts {
		ts.Certificates = nil
	}
	if b.policy != nil {
		ts.Policy = b.policy
	}
	if b.noAccuracy {
		ts.Accuracy = 0
	}
	if b.wrongNonce {
		ts.Nonce = new(big.Int).Add(req.Nonce, big.NewInt(1))
	}
	if b.dropNonce {
		ts.Nonce = nil
	}
	if b.wrongImprint {
		ts.HashedMessage[0] ^= 0xff
	}
	if b.wrongHash {
		sum := sha512.Sum384(req.HashedMessage)
		ts.HashAlgorithm, ts.HashedMessage = crypto.SHA384, sum[:]
	}
	resp, err := ts.CreateResponseWithOpts(s.cert, s.key, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	if b.tamper != nil {
		resp = b.tamper(resp)
	}
	if b.oversize > 0 {
		resp = append(resp, make([]byte, b.oversize)...)
	}
	return resp, nil
}

// startTSA runs a test TSA on 127.0.0.1 and returns a client for it that
// trusts p's root.
func startTSA(t testing.TB, p *testPKI, s *testTSA) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &Client{URL: srv.URL, HTTP: srv.Client(), Trust: PoolVerifier{Roots: p.roots}}, srv
}

// tokenSpec builds tokens outside any TSA, to reach states no honest TSA
// library produces (wrong ESSCertID, wrong content type, ...).
type tokenSpec struct {
	cert        *x509.Certificate
	key         crypto.Signer
	chain       []*x509.Certificate
	imprint     []byte            // SHA-256 imprint
	essFor      *x509.Certificate // certificate hashed into ESSCertIDv2; nil: cert
	noESS       bool
	essV1       bool // SigningCertificate (SHA-1) instead of V2
	essSerial   *big.Int
	contentType asn1.ObjectIdentifier // eContentType; nil: id-ct-TSTInfo
	digest      asn1.ObjectIdentifier // CMS digest; nil: SHA-256
	skipCerts   bool
	tsaName     *x509.Certificate // TSTInfo tsa = this subject
	version     int
	critExt     bool
	genTime     time.Time // zero: now
}

func buildToken(t testing.TB, s tokenSpec) []byte {
	t.Helper()
	info := tstInfo{
		Version:        1,
		Policy:         testPolicy,
		MessageImprint: messageImprint{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}, HashedMessage: s.imprint},
		SerialNumber:   big.NewInt(42),
		GenTime:        time.Now().UTC().Truncate(time.Second),
		Accuracy:       accuracy{Seconds: 1},
	}
	if !s.genTime.IsZero() {
		info.GenTime = s.genTime.UTC().Truncate(time.Second)
	}
	if s.version != 0 {
		info.Version = s.version
	}
	if s.tsaName != nil {
		dn, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: s.tsaName.RawSubject})
		if err != nil {
			t.Fatal(err)
		}
		info.TSA = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: dn}
	}
	if s.critExt {
		info.Extensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
	}
	content, err := asn1.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	digest := s.digest
	if digest == nil {
		digest = oidSHA256
	}
	sd.SetDigestAlgorithm(digest)
	ct := s.contentType
	if ct == nil {
		ct = oidTSTInfo
	}
	sd.SetContentType(ct)
	sd.GetSignedData().Version = 3

	var attrs []pkcs7.Attribute
	if !s.noESS {
		target := s.essFor
		if target == nil {
			target = s.cert
		}
		serial := target.SerialNumber
		if s.essSerial != nil {
			serial = s.essSerial
		}
		gn := issuerSerial{
			Issuer: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true,
				Bytes: mustMarshal(t, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: target.RawIssuer})},
			Serial: serial,
		}
		if s.essV1 {
			sum := sha1Sum(target.Raw)
			attrs = append(attrs, pkcs7.Attribute{Type: oidAttrSigningCert,
				Value: asn1.RawValue{FullBytes: mustMarshal(t, signingCertificate{Certs: []essCertID{{CertHash: sum, IssuerSerial: gn}}})}})
		} else {
			sum := sha256.Sum256(target.Raw)
			attrs = append(attrs, pkcs7.Attribute{Type: oidAttrSigningCertV2,
				Value: asn1.RawValue{FullBytes: mustMarshal(t, signingCertificateV2{Certs: []essCertIDv2{{CertHash: sum[:], IssuerSerial: gn}}})}})
		}
	}
	cfg := pkcs7.SignerInfoConfig{ExtraSignedAttributes: attrs, SkipCertificates: s.skipCerts}
	if err := sd.AddSignerChain(s.cert, s.key, s.chain, cfg); err != nil {
		t.Fatal(err)
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha1Sum(b []byte) []byte {
	s := sha1.Sum(b)
	return s[:]
}
