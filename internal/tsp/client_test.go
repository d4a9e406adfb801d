package tsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

func digestOf(h crypto.Hash, data string) []byte {
	hh := h.New()
	hh.Write([]byte(data))
	return hh.Sum(nil)
}

func TestStampAccepts(t *testing.T) {
	p := newPKI(t)
	rsaTSA, rsaTSAKey := p.issue(t, certSpec{cn: "RSA TSA", key: rsaKey(t)})
	ecTSA, ecTSAKey := p.issue(t, certSpec{cn: "EC TSA", keyUsage: x509.KeyUsageContentCommitment})
	tests := []struct {
		name   string
		cert   *x509.Certificate
		key    crypto.Signer
		h      crypto.Hash
		policy asn1.ObjectIdentifier
	}{
		{"ecdsa-p256 sha256", ecTSA, ecTSAKey, crypto.SHA256, nil},
		{"ecdsa-p256 sha512 with policy", ecTSA, ecTSAKey, crypto.SHA512, testPolicy},
		{"rsa2048 sha256", rsaTSA, rsaTSAKey, crypto.SHA256, nil},
		{"rsa2048 sha384", rsaTSA, rsaTSAKey, crypto.SHA384, testPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &testTSA{cert: tc.cert, key: tc.key, chain: []*x509.Certificate{p.root}}
			c, _ := startTSA(t, p, s)
			c.Policy = tc.policy
			digest := digestOf(tc.h, "<ds:SignatureValue>abc</ds:SignatureValue>")
			before := time.Now()
			tok, err := c.Stamp(context.Background(), digest, tc.h)
			if err != nil {
				t.Fatalf("Stamp: %v", err)
			}
			if tok.HashAlgorithm != tc.h || !bytes.Equal(tok.HashedMessage, digest) {
				t.Errorf("imprint %v %x, want %v %x", tok.HashAlgorithm, tok.HashedMessage, tc.h, digest)
			}
			if tok.GenTime.Before(before.Add(-2*time.Second)) || tok.GenTime.After(time.Now().Add(time.Second)) {
				t.Errorf("genTime %v not around %v", tok.GenTime, before)
			}
			if tok.Accuracy != 500*time.Millisecond {
				t.Errorf("accuracy %v, want 500ms", tok.Accuracy)
			}
			if !tok.TSA.Equal(tc.cert) {
				t.Errorf("TSA is %q, want %q", tok.TSA.Subject, tc.cert.Subject)
			}
			if !tok.Policy.Equal(testPolicy) {
				t.Errorf("policy %v", tok.Policy)
			}
			if tok.Nonce == nil || tok.Nonce.BitLen() < 64 {
				t.Errorf("nonce %v is not a 64-bit+ value", tok.Nonce)
			}
			if !slices.ContainsFunc(tok.Certificates, p.root.Equal) {
				t.Errorf("chain certificate missing from token certificates")
			}
			// The DER is a standalone token: it verifies again on its own.
			again, err := Verify(tok.DER, digest, tc.h, PoolVerifier{Roots: p.roots})
			if err != nil {
				t.Fatalf("Verify of the stamped token: %v", err)
			}
			if !again.GenTime.Equal(tok.GenTime) || again.SerialNumber.Cmp(tok.SerialNumber) != 0 {
				t.Errorf("re-verified token differs")
			}
		})
	}
}

func TestStampNoncesDiffer(t *testing.T) {
	p := newPKI(t)
	cert, key := p.issue(t, certSpec{})
	c, _ := startTSA(t, p, &testTSA{cert: cert, key: key})
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		tok, err := c.StampData(context.Background(), []byte("same data"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok.Nonce.String()] {
			t.Fatalf("nonce %v repeated", tok.Nonce)
		}
		seen[tok.Nonce.String()] = true
	}
}

func TestStampRejects(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	now := time.Now()
	good, goodKey := p.issue(t, certSpec{})
	noEKU, noEKUKey := p.issue(t, certSpec{noEKU: true})
	nonCrit, nonCritKey := p.issue(t, certSpec{nonCritical: true})
	extraEKU, extraEKUKey := p.issue(t, certSpec{eku: []asn1.ObjectIdentifier{oidKPTimeStamping, oidKPServerAuth}})
	certSignOnly, certSignOnlyKey := p.issue(t, certSpec{keyUsage: x509.KeyUsageCertSign})
	expired, expiredKey := p.issue(t, certSpec{notBefore: now.Add(-2 * 365 * 24 * time.Hour), notAfter: now.Add(-24 * time.Hour)})
	future, futureKey := p.issue(t, certSpec{notBefore: now.Add(24 * time.Hour), notAfter: now.Add(48 * time.Hour)})
	foreign, foreignKey := other.issue(t, certSpec{})
	weakKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak, _ := p.issue(t, certSpec{key: weakKey})

	type tc struct {
		name   string
		cert   *x509.Certificate
		key    crypto.Signer
		chain  []*x509.Certificate // nil: p's root
		bad    misbehave
		client func(*Client)
		want   error
		code   string
	}
	tests := []tc{
		{name: "wrong nonce", bad: misbehave{wrongNonce: true}, want: ErrNonceMismatch},
		{name: "nonce dropped", bad: misbehave{dropNonce: true}, want: ErrNonceMismatch},
		{name: "wrong imprint", bad: misbehave{wrongImprint: true}, want: ErrImprintMismatch},
		{name: "wrong imprint hash algorithm", bad: misbehave{wrongHash: true}, want: ErrImprintMismatch},
		{name: "TSA without EKU", cert: noEKU, key: noEKUKey, want: ErrNoTimestampEKU},
		{name: "TSA with non-critical EKU", cert: nonCrit, key: nonCritKey, want: ErrNoTimestampEKU},
		{name: "TSA with extra EKU", cert: extraEKU, key: extraEKUKey, want: ErrNoTimestampEKU},
		{name: "TSA key usage certSign only", cert: certSignOnly, key: certSignOnlyKey, want: ErrNoTimestampEKU},
		{name: "TSA cert expired at genTime", cert: expired, key: expiredKey, want: ErrTSAUntrusted},
		{name: "TSA cert not yet valid at genTime", cert: future, key: futureKey, want: ErrTSAUntrusted},
		{name: "TSA under an untrusted root", cert: foreign, key: foreignKey, chain: []*x509.Certificate{other.root}, want: ErrTSAUntrusted},
		{name: "RSA-1024 TSA", cert: weak, key: weakKey, want: ErrWeakAlgorithm, code: CodeAlgorithm},
		{name: "rejection status", bad: misbehave{reject: true}, want: ErrRejected},
		{name: "garbage body", bad: misbehave{body: []byte("<html>not a TSA</html>")}, want: ErrMalformed},
		{name: "empty body", bad: misbehave{body: []byte{}}, want: ErrMalformed},
		{name: "trailing data", bad: misbehave{oversize: 3}, want: ErrMalformed},
		{name: "wrong content type", bad: misbehave{contentType: "text/html"}, want: ErrContentType},
		{name: "oversize body", bad: misbehave{oversize: DefaultMaxResponseSize + 1}, want: ErrTooLarge},
		{name: "over custom limit", client: func(c *Client) { c.MaxResponseSize = 200 }, want: ErrTooLarge},
		{name: "HTTP 503", bad: misbehave{httpStatus: http.StatusServiceUnavailable}, want: ErrUnavailable, code: CodeUnavailable},
		{name: "HTTP 400", bad: misbehave{httpStatus: http.StatusBadRequest}, want: ErrHTTPStatus},
		{name: "certReq ignored", bad: misbehave{noCerts: true}, want: ErrNoCertificate},
		{name: "accuracy missing", bad: misbehave{noAccuracy: true}, want: ErrAccuracy},
		{name: "accuracy too coarse", client: func(c *Client) { c.MaxAccuracy = 100 * time.Millisecond }, want: ErrAccuracy},
		{name: "other policy", bad: misbehave{policy: asn1.ObjectIdentifier{1, 2, 3}}, client: func(c *Client) { c.Policy = testPolicy }, want: ErrPolicyMismatch},
		{name: "genTime an hour ahead", bad: misbehave{timeShift: time.Hour}, want: ErrTimeSkew},
		{name: "signature byte flipped", bad: misbehave{tamper: func(b []byte) []byte { b[len(b)-1] ^= 0x01; return b }}, want: ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, key := tc.cert, tc.key
			if cert == nil {
				cert, key = good, goodKey
			}
			chain := tc.chain
			if chain == nil {
				chain = []*x509.Certificate{p.root}
			}
			c, _ := startTSA(t, p, &testTSA{cert: cert, key: key, chain: chain, bad: tc.bad})
			if tc.client != nil {
				tc.client(c)
			}
			tok, err := c.StampData(context.Background(), []byte("payload"))
			if err == nil {
				t.Fatalf("Stamp accepted a bad answer: genTime %v", tok.GenTime)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			code := tc.code
			if code == "" {
				code = CodeTimestamp
			}
			if got := Code(err); got != code {
				t.Errorf("Code = %q, want %q", got, code)
			}
		})
	}
	// The same good TSA is accepted, so every failure above is due to the
	// one thing each case changed.
	c, _ := startTSA(t, p, &testTSA{cert: good, key: goodKey, chain: []*x509.Certificate{p.root}})
	if _, err := c.StampData(context.Background(), []byte("payload")); err != nil {
		t.Fatalf("control: %v", err)
	}
}

func TestStampRejectionDetails(t *testing.T) {
	p := newPKI(t)
	cert, key := p.issue(t, certSpec{})
	c, _ := startTSA(t, p, &testTSA{cert: cert, key: key, bad: misbehave{reject: true}})
	_, err := c.StampData(context.Background(), []byte("x"))
	var re *RejectedError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *RejectedError", err)
	}
	if re.Status != 2 || !slices.Equal(re.FailInfo, []string{"badAlg"}) {
		t.Errorf("status %d fail info %v, want 2 [badAlg]", re.Status, re.FailInfo)
	}
	// The failure info reaches the message the operator sees.
	if msg := err.Error(); !bytes.Contains([]byte(msg), []byte("badAlg")) || !bytes.Contains([]byte(msg), []byte("rejection")) {
		t.Errorf("message %q lacks status or failure info", msg)
	}
}

func TestStampTransportFailures(t *testing.T) {
	p := newPKI(t)
	// A server that was closed: connection refused on 127.0.0.1.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := &Client{URL: url, Trust: PoolVerifier{Roots: p.roots}}
	if _, err := c.StampData(context.Background(), []byte("x")); !errors.Is(err, ErrUnavailable) || Code(err) != CodeUnavailable {
		t.Errorf("closed server: %v (code %q), want ErrUnavailable/R001", err, Code(err))
	}

	// A server that hangs past the client's timeout.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	c = &Client{URL: slow.URL, Trust: PoolVerifier{Roots: p.roots}, Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.StampData(context.Background(), []byte("x"))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow server: %v, want ErrUnavailable wrapping DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout not honoured: took %v", d)
	}

	// Configuration errors are not TSA errors.
	if _, err := (&Client{URL: slow.URL}).StampData(context.Background(), []byte("x")); err == nil || Code(err) != "" {
		t.Errorf("client without Trust: %v", err)
	}
	if _, err := (&Client{URL: slow.URL, Trust: PoolVerifier{Roots: p.roots}}).Stamp(context.Background(), []byte{1, 2}, crypto.SHA256); err == nil {
		t.Errorf("short digest accepted")
	}
	if _, err := (&Client{URL: slow.URL, Trust: PoolVerifier{Roots: p.roots}, Hash: crypto.SHA1}).StampData(context.Background(), []byte("x")); !errors.Is(err, ErrWeakAlgorithm) {
		t.Errorf("SHA-1: %v, want ErrWeakAlgorithm", err)
	}
}

// TestStampTamperEveryByte flips each byte of a good response in turn: every
// variant is either refused or yields exactly the original signed TSTInfo
// from the original TSA (bytes outside the signature, such as a copy of the
// root certificate, may change harmlessly).
func TestStampTamperEveryByte(t *testing.T) {
	p := newPKI(t)
	cert, key := p.issue(t, certSpec{})
	s := &testTSA{cert: cert, key: key, chain: []*x509.Certificate{p.root}}
	c := &Client{Trust: PoolVerifier{Roots: p.roots}}
	digest := sha256.Sum256([]byte("data"))
	nonce := big.NewInt(0).Lsh(big.NewInt(1), 100)
	q, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest[:], Certificates: true, Nonce: nonce}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.respond(q)
	if err != nil {
		t.Fatal(err)
	}
	req := request{hash: crypto.SHA256, digest: digest[:], nonce: nonce}
	orig, err := c.checkResponse(context.Background(), resp, req)
	if err != nil {
		t.Fatalf("untampered: %v", err)
	}
	accepted := 0
	for i := range resp {
		b := bytes.Clone(resp)
		b[i] ^= 0x01
		tok, err := c.checkResponse(context.Background(), b, req)
		if err != nil {
			if Code(err) == "" {
				t.Fatalf("byte %d: error outside the package's kinds: %v", i, err)
			}
			continue
		}
		accepted++
		if !bytes.Equal(tok.TSTInfo, orig.TSTInfo) || !tok.TSA.Equal(orig.TSA) {
			t.Fatalf("byte %d: tampered response accepted with different content", i)
		}
	}
	t.Logf("%d of %d single-byte flips accepted (outside the signed content)", accepted, len(resp))
	if accepted > len(resp)/2 {
		t.Errorf("too many flips accepted: %d of %d", accepted, len(resp))
	}
}

// Concurrent stamps through NewHTTPClient reuse their connections: a second wave of as many
// concurrent requests as the client was sized for opens (almost) no new connection, where
// http.DefaultClient would keep two and dial the rest again.
func TestNewHTTPClientReusesConnections(t *testing.T) {
	p := newPKI(t)
	cert, key := p.issue(t, certSpec{cn: "EC TSA", keyUsage: x509.KeyUsageContentCommitment})
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(&testTSA{cert: cert, key: key, chain: []*x509.Certificate{p.root}})
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	const conns = 16
	c := &Client{URL: srv.URL, HTTP: NewHTTPClient(conns), Trust: PoolVerifier{Roots: p.roots}}
	wave := func() {
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		for i := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Stamp(context.Background(), digestOf(crypto.SHA256, fmt.Sprint(i)), crypto.SHA256); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	wave()
	first := opened.Load()
	if first > conns {
		t.Fatalf("%d connections for %d concurrent requests", first, conns)
	}
	for range 3 {
		wave()
	}
	// A few redials are tolerated (a connection handed back a moment after the next request
	// looked for one); the default client's two idle connections would make it about 14 a wave.
	if again := opened.Load() - first; again > conns/2 {
		t.Fatalf("%d new connections in three more waves of %d (first wave: %d): connections are not reused", again, conns, first)
	}
}
