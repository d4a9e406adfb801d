package sandbox_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

func post(t testing.TB, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func tsQuery(t testing.TB, h crypto.Hash, data []byte, nonce *big.Int, certReq bool) []byte {
	t.Helper()
	hh := h.New()
	hh.Write(data)
	req := timestamp.Request{HashAlgorithm: h, HashedMessage: hh.Sum(nil), Nonce: nonce, Certificates: certReq}
	der, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestTSAGrantsVerifiableTokens(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	unit := env.World.MustEntity(sandbox.TSAUnit)
	var lastSerial *big.Int
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		nonce := big.NewInt(int64(h) * 7919)
		before := env.Clock.Now().Truncate(time.Second)
		resp, body := post(t, env.TSAURL, sandbox.ContentTypeTSQuery, tsQuery(t, h, []byte("hello"), nonce, true))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != sandbox.ContentTypeTSReply {
			t.Fatalf("%v: HTTP %d %q", h, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		ts, err := timestamp.ParseResponse(body)
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		hh := h.New()
		hh.Write([]byte("hello"))
		if ts.HashAlgorithm != h || !bytes.Equal(ts.HashedMessage, hh.Sum(nil)) {
			t.Errorf("%v: imprint not echoed", h)
		}
		if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
			t.Errorf("%v: nonce %v, want %v", h, ts.Nonce, nonce)
		}
		if !ts.Policy.Equal(sandbox.OIDSandboxTSAPolicy) {
			t.Errorf("%v: policy %v", h, ts.Policy)
		}
		if ts.Accuracy != time.Second {
			t.Errorf("%v: accuracy %v", h, ts.Accuracy)
		}
		if ts.Time.Before(before) || ts.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("%v: genTime %v not now (%v)", h, ts.Time, before)
		}
		if lastSerial != nil && ts.SerialNumber.Cmp(lastSerial) <= 0 {
			t.Errorf("%v: serial %v not above %v", h, ts.SerialNumber, lastSerial)
		}
		lastSerial = ts.SerialNumber
		if len(ts.Certificates) != 2 || !ts.Certificates[0].Equal(unit.Cert) {
			t.Fatalf("%v: token certificates: %d, want unit + TSA CA", h, len(ts.Certificates))
		}
		if _, err := unit.Cert.Verify(x509.VerifyOptions{Roots: env.World.RootPool(), Intermediates: env.World.IntermediatePool(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, CurrentTime: ts.Time}); err != nil {
			t.Errorf("TSA unit does not chain to the root: %v", err)
		}
	}

	// certReq false: no certificates in the token.
	_, body := post(t, env.TSAURL, sandbox.ContentTypeTSQuery, tsQuery(t, crypto.SHA256, []byte("x"), nil, false))
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Certificates) != 0 || ts.Nonce != nil {
		t.Errorf("certReq=false: %d certificates, nonce %v", len(ts.Certificates), ts.Nonce)
	}
}

func TestTSAShiftedClock(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	env.Clock.Advance(6 * time.Hour)
	_, body := post(t, env.TSAURL, sandbox.ContentTypeTSQuery, tsQuery(t, crypto.SHA256, []byte("x"), nil, false))
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if d := ts.Time.Sub(time.Now()); d < 6*time.Hour-2*time.Second || d > 6*time.Hour+2*time.Second {
		t.Errorf("genTime %v is %v from now, want +6h", ts.Time, d)
	}
}

// tsStatus decodes status and failInfo of a TimeStampResp.
func tsStatus(t *testing.T, der []byte) (status int, fail int) {
	t.Helper()
	var r struct {
		Status struct {
			Status       int
			StatusString []asn1.RawValue `asn1:"optional"`
			FailInfo     asn1.BitString  `asn1:"optional"`
		}
		Token asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &r); err != nil {
		t.Fatalf("response is not a TimeStampResp: %v", err)
	}
	fail = -1
	for i := 0; i < r.Status.FailInfo.BitLength; i++ {
		if r.Status.FailInfo.At(i) == 1 {
			fail = i
		}
	}
	return r.Status.Status, fail
}

func TestTSARejections(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	good := tsQuery(t, crypto.SHA256, []byte("x"), nil, true)
	sha1 := tsQuery(t, crypto.SHA1, []byte("x"), nil, true)
	short := func() []byte {
		req := timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: []byte{1, 2, 3}}
		der, _ := req.Marshal()
		return der
	}()
	badPolicy := func() []byte {
		h := sha256.Sum256([]byte("x"))
		req := timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: h[:], TSAPolicyOID: asn1.ObjectIdentifier{1, 2, 3}}
		der, _ := req.Marshal()
		return der
	}()
	critExt := func() []byte {
		h := sha256.Sum256([]byte("x"))
		req := timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: h[:]}
		req.ExtraExtensions = append(req.ExtraExtensions, pkixExt(asn1.ObjectIdentifier{1, 2, 3, 4}, true))
		der, _ := req.Marshal()
		return der
	}()
	cases := []struct {
		name     string
		ctype    string
		body     []byte
		wantHTTP int
		wantFail int // RFC 3161 PKIFailureInfo bit, -1 = none
	}{
		{"granted", sandbox.ContentTypeTSQuery, good, 200, -1},
		{"sha1 refused", sandbox.ContentTypeTSQuery, sha1, 200, 0},
		{"imprint length", sandbox.ContentTypeTSQuery, short, 200, 5},
		{"unknown policy", sandbox.ContentTypeTSQuery, badPolicy, 200, 15},
		{"critical extension", sandbox.ContentTypeTSQuery, critExt, 200, 16},
		{"garbage", sandbox.ContentTypeTSQuery, []byte("not DER"), 400, 5},
		{"trailing data", sandbox.ContentTypeTSQuery, append(bytes.Clone(good), 0), 400, 5},
		{"empty", sandbox.ContentTypeTSQuery, nil, 400, 5},
		{"wrong content type", "text/plain", good, 415, 2},
		{"too large", sandbox.ContentTypeTSQuery, bytes.Repeat([]byte{0x30}, 70<<10), 413, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := post(t, env.TSAURL, c.ctype, c.body)
			if resp.StatusCode != c.wantHTTP {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, c.wantHTTP)
			}
			status, fail := tsStatus(t, body)
			if c.wantFail < 0 {
				if status != 0 {
					t.Errorf("status %d, want granted", status)
				}
				return
			}
			if status != 2 || fail != c.wantFail {
				t.Errorf("status %d failInfo bit %d, want rejection (2) bit %d", status, fail, c.wantFail)
			}
		})
	}
	// GET is not a TSA method.
	if resp, _ := get(t, env.TSAURL); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /tsa: HTTP %d", resp.StatusCode)
	}
}

func ocspQuery(t testing.TB, env *sandboxtest.Env, leaf, issuer string, h crypto.Hash) []byte {
	t.Helper()
	w := env.World
	der, err := ocsp.CreateRequest(w.MustEntity(leaf).Cert, w.MustEntity(issuer).Cert, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestOCSPStatuses(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	responder := w.MustEntity(sandbox.OCSPResponder)

	check := func(t *testing.T, leaf, issuer string, h crypto.Hash, want int, wantSigner *sandbox.Entity) *ocsp.Response {
		t.Helper()
		resp, body := post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, ocspQuery(t, env, leaf, issuer, h))
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		r, err := ocsp.ParseResponseForCert(body, w.MustEntity(leaf).Cert, w.MustEntity(issuer).Cert)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want {
			t.Fatalf("%s: status %d, want %d", leaf, r.Status, want)
		}
		if wantSigner != nil {
			if r.Certificate != nil && !r.Certificate.Equal(wantSigner.Cert) {
				t.Errorf("signed by %s, want %s", r.Certificate.Subject, wantSigner.Subject)
			}
			if !wantSigner.IsCA() && r.Certificate == nil {
				t.Errorf("delegated responder certificate not included")
			}
		}
		now := env.Clock.Now()
		if r.ProducedAt.Before(now.Add(-2*time.Second)) || r.ProducedAt.After(now.Add(time.Second)) {
			t.Errorf("producedAt %v, now %v", r.ProducedAt, now)
		}
		if !r.ThisUpdate.Equal(r.ProducedAt) || r.NextUpdate.Sub(r.ThisUpdate) != time.Hour {
			t.Errorf("thisUpdate %v nextUpdate %v", r.ThisUpdate, r.NextUpdate)
		}
		return r
	}

	t.Run("good", func(t *testing.T) { check(t, "signer-pelda-1", sandbox.QualifiedCA, crypto.SHA1, ocsp.Good, responder) })
	t.Run("good sha256 certid", func(t *testing.T) {
		check(t, "signer-minta-2", sandbox.QualifiedCA, crypto.SHA256, ocsp.Good, responder)
	})
	t.Run("other CA signs itself", func(t *testing.T) {
		check(t, sandbox.FundReceipt, sandbox.AdvancedCA, crypto.SHA1, ocsp.Good, w.MustEntity(sandbox.AdvancedCA))
	})
	t.Run("intermediate by root", func(t *testing.T) {
		check(t, sandbox.QualifiedCA, sandbox.RootCA, crypto.SHA1, ocsp.Good, w.MustEntity(sandbox.RootCA))
	})
	t.Run("wrong issuer for serial is unknown", func(t *testing.T) {
		// fund-receipt's serial asked of the qualified CA: that CA never issued it.
		check(t, sandbox.FundReceipt, sandbox.QualifiedCA, crypto.SHA1, ocsp.Unknown, responder)
	})

	// Revocation in the past takes effect; one dated in the future does not yet.
	at := env.Clock.Now().Add(-time.Hour).Truncate(time.Second)
	env.Revoke(t, "signer-pelda-1", sandbox.ReasonKeyCompromise, at)
	env.Revoke(t, "signer-pelda-2", sandbox.ReasonSuperseded, env.Clock.Now().Add(time.Hour))
	t.Run("revoked", func(t *testing.T) {
		r := check(t, "signer-pelda-1", sandbox.QualifiedCA, crypto.SHA1, ocsp.Revoked, responder)
		if !r.RevokedAt.Equal(at) || r.RevocationReason != ocsp.KeyCompromise {
			t.Errorf("revokedAt %v reason %d, want %v %d", r.RevokedAt, r.RevocationReason, at, ocsp.KeyCompromise)
		}
	})
	t.Run("future revocation not yet", func(t *testing.T) {
		check(t, "signer-pelda-2", sandbox.QualifiedCA, crypto.SHA1, ocsp.Good, responder)
		env.Clock.Advance(2 * time.Hour)
		defer env.Clock.Advance(-2 * time.Hour)
		r := check(t, "signer-pelda-2", sandbox.QualifiedCA, crypto.SHA1, ocsp.Revoked, responder)
		if r.RevocationReason != ocsp.Superseded {
			t.Errorf("reason %d", r.RevocationReason)
		}
	})
}

func TestOCSPNonceAndGet(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	req := ocspQuery(t, env, "signer-minta-1", sandbox.QualifiedCA, crypto.SHA1)
	withNonce := addOCSPNonce(t, req, []byte{0x04, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	_, body := post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, withNonce)
	r, err := ocsp.ParseResponse(body, w.MustEntity(sandbox.QualifiedCA).Cert)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != ocsp.Good {
		t.Errorf("status %d", r.Status)
	}
	got := ocspResponseNonce(t, body)
	if !bytes.Equal(got, []byte{0x04, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}) {
		t.Errorf("nonce not echoed: %x", got)
	}

	// Without a nonce, no nonce extension.
	_, body = post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, req)
	if _, err = ocsp.ParseResponse(body, w.MustEntity(sandbox.QualifiedCA).Cert); err != nil || ocspResponseNonce(t, body) != nil {
		t.Errorf("no-nonce request: err %v, nonce %x", err, ocspResponseNonce(t, body))
	}

	// GET form, with the base64 percent-encoded as RFC 6960 A.1 clients do.
	enc := strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(base64.StdEncoding.EncodeToString(req))
	resp, body := get(t, env.OCSPURL+"/"+enc)
	if resp.StatusCode != 200 {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}
	if r, err = ocsp.ParseResponse(body, w.MustEntity(sandbox.QualifiedCA).Cert); err != nil || r.Status != ocsp.Good {
		t.Errorf("GET: %v status %v", err, r)
	}
}

func TestOCSPCASignedMode(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys(), sandboxtest.WithServe(func(o *sandbox.ServeOptions) { o.OCSPSignedByCA = true }))
	w := env.World
	_, body := post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, ocspQuery(t, env, "signer-pelda-3", sandbox.QualifiedCA, crypto.SHA1))
	r, err := ocsp.ParseResponseForCert(body, w.MustEntity("signer-pelda-3").Cert, w.MustEntity(sandbox.QualifiedCA).Cert)
	if err != nil {
		t.Fatal(err)
	}
	if r.Certificate != nil {
		t.Errorf("CA-signed response carries a responder certificate %s", r.Certificate.Subject)
	}
	if err := r.CheckSignatureFrom(w.MustEntity(sandbox.QualifiedCA).Cert); err != nil {
		t.Errorf("not signed by the CA: %v", err)
	}
	if !bytes.Equal(r.RawResponderName, w.MustEntity(sandbox.QualifiedCA).Cert.RawSubject) {
		t.Errorf("responder name is not the CA")
	}
}

func TestOCSPMalformed(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	req := ocspQuery(t, env, "signer-minta-1", sandbox.QualifiedCA, crypto.SHA1)
	cases := []struct {
		name     string
		do       func() (*http.Response, []byte)
		wantHTTP int
	}{
		{"garbage", func() (*http.Response, []byte) {
			return post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, []byte("garbage"))
		}, 400},
		{"trailing", func() (*http.Response, []byte) {
			return post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, append(bytes.Clone(req), 0))
		}, 400},
		{"empty", func() (*http.Response, []byte) { return post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, nil) }, 400},
		{"too large", func() (*http.Response, []byte) {
			return post(t, env.OCSPURL, sandbox.ContentTypeOCSPRequest, bytes.Repeat([]byte{0x30}, 70<<10))
		}, 413},
		{"wrong type", func() (*http.Response, []byte) { return post(t, env.OCSPURL, "text/plain", req) }, 415},
		{"GET not base64", func() (*http.Response, []byte) { return get(t, env.OCSPURL+"/!!!!") }, 400},
		{"GET base64 garbage", func() (*http.Response, []byte) { return get(t, env.OCSPURL+"/AAAA") }, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := c.do()
			if resp.StatusCode != c.wantHTTP {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, c.wantHTTP)
			}
			_, err := ocsp.ParseResponse(body, nil)
			var re ocsp.ResponseError
			if !asErr(err, &re) || re.Status != ocsp.Malformed {
				t.Errorf("body is not a malformedRequest OCSPResponse: %v", err)
			}
		})
	}
}

func TestCRL(t *testing.T) {
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	qca := w.MustEntity(sandbox.QualifiedCA)
	fetch := func() *x509.RevocationList {
		t.Helper()
		resp, body := get(t, env.CRLURL(sandbox.QualifiedCA))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pkix-crl" {
			t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		crl, err := x509.ParseRevocationList(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(qca.Cert); err != nil {
			t.Fatalf("CRL signature: %v", err)
		}
		return crl
	}
	c1 := fetch()
	if len(c1.RevokedCertificateEntries) != 0 {
		t.Errorf("fresh sandbox CRL lists %d entries", len(c1.RevokedCertificateEntries))
	}
	if d := c1.NextUpdate.Sub(c1.ThisUpdate); d != 24*time.Hour {
		t.Errorf("validity %v", d)
	}
	at := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	env.Revoke(t, "signer-minta-3", sandbox.ReasonCessationOfOperation, at)
	env.Revoke(t, sandbox.FundReceipt, sandbox.ReasonKeyCompromise, at) // another CA: not on this CRL
	env.Clock.Advance(time.Minute)
	c2 := fetch()
	if c2.Number.Cmp(c1.Number) <= 0 {
		t.Errorf("CRL number %v not above %v", c2.Number, c1.Number)
	}
	if !c2.ThisUpdate.After(c1.ThisUpdate) {
		t.Errorf("thisUpdate %v not after %v", c2.ThisUpdate, c1.ThisUpdate)
	}
	if len(c2.RevokedCertificateEntries) != 1 {
		t.Fatalf("%d entries, want 1", len(c2.RevokedCertificateEntries))
	}
	e := c2.RevokedCertificateEntries[0]
	if e.SerialNumber.Cmp(w.MustEntity("signer-minta-3").Cert.SerialNumber) != 0 || !e.RevocationTime.Equal(at) || e.ReasonCode != sandbox.ReasonCessationOfOperation {
		t.Errorf("entry %x %v %d", e.SerialNumber, e.RevocationTime, e.ReasonCode)
	}

	for _, c := range []struct {
		path string
		want int
	}{
		{"/crl/root-ca.crl", 200}, {"/crl/tsa-ca.crl", 200}, {"/crl/signer-pelda-1.crl", 404}, {"/crl/nope.crl", 404},
		{"/crl/qualified-ca.crt", 404}, {"/ca/qualified-ca.crt", 200}, {"/ca/fund-tls.crt", 404}, {"/ca/qualified-ca.crl", 404},
	} {
		if resp, _ := get(t, env.URL+c.path); resp.StatusCode != c.want {
			t.Errorf("%s: HTTP %d, want %d", c.path, resp.StatusCode, c.want)
		}
	}
	_, der := get(t, env.CAURL(sandbox.QualifiedCA))
	if !bytes.Equal(der, qca.Cert.Raw) {
		t.Errorf("/ca/qualified-ca.crt is not the CA certificate")
	}
}
