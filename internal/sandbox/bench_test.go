package sandbox_test

import (
	"bytes"
	"crypto"
	"io"
	"net/http"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// roundTrip posts body to url over loopback HTTP and checks a 200.
func roundTrip(b *testing.B, c *http.Client, url, ctype string, body []byte) []byte {
	resp, err := c.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("HTTP %d: %v", resp.StatusCode, err)
	}
	return out
}

// BenchmarkOCSPRoundTrip measures one OCSP request/response over loopback
// HTTP, including parsing and verifying the response.
func BenchmarkOCSPRoundTrip(b *testing.B) {
	env := sandboxtest.Start(b, sandboxtest.SharedKeys())
	w := env.World
	leaf, issuer := w.MustEntity("signer-pelda-1").Cert, w.MustEntity(sandbox.QualifiedCA).Cert
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		b.Fatal(err)
	}
	c := &http.Client{}
	for b.Loop() {
		body := roundTrip(b, c, env.OCSPURL, sandbox.ContentTypeOCSPRequest, req)
		if r, err := ocsp.ParseResponseForCert(body, leaf, issuer); err != nil || r.Status != ocsp.Good {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkTSARoundTrip measures one RFC 3161 request/token over loopback
// HTTP (RSA-2048 TSA key), parsing the token.
func BenchmarkTSARoundTrip(b *testing.B) {
	env := sandboxtest.Start(b, sandboxtest.SharedKeys())
	req := tsQuery(b, crypto.SHA256, []byte("benchmark"), nil, true)
	c := &http.Client{}
	for b.Loop() {
		body := roundTrip(b, c, env.TSAURL, sandbox.ContentTypeTSQuery, req)
		if len(body) < 100 {
			b.Fatal("short token")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
