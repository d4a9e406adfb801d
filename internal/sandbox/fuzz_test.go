package sandbox_test

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

func fuzzHandler(f *testing.F) (http.Handler, *sandboxtest.Env) {
	env := sandboxtest.Start(f, sandboxtest.SharedKeys())
	return env.World.Handler(sandbox.ServeOptions{Logger: slog.New(slog.DiscardHandler), MaxRequestBytes: 8 << 10}), env
}

func serve(h http.Handler, method, target, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1/", bytes.NewReader(body))
	req.URL.Path = target
	req.URL.RawPath = ""
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzTSARequest feeds arbitrary bodies to POST /tsa: the answer is always a
// well-formed TimeStampResp, granted only with HTTP 200.
func FuzzTSARequest(f *testing.F) {
	h, _ := fuzzHandler(f)
	f.Add(tsQuery(f, crypto.SHA256, []byte("a"), nil, true))
	f.Add(tsQuery(f, crypto.SHA512, []byte("b"), nil, false))
	f.Add(tsQuery(f, crypto.SHA1, []byte("c"), nil, false))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serve(h, http.MethodPost, "/tsa", sandbox.ContentTypeTSQuery, body)
		var resp struct {
			Status struct {
				Status int
				Rest   []asn1.RawValue `asn1:"optional"`
			}
			Token asn1.RawValue `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("HTTP %d: response is not a TimeStampResp: %v", rec.Code, err)
		}
		granted := resp.Status.Status == 0
		if granted != (rec.Code == 200 && len(resp.Token.FullBytes) > 0) && (granted || rec.Code != 200) {
			t.Fatalf("status %d, HTTP %d, token %d bytes", resp.Status.Status, rec.Code, len(resp.Token.FullBytes))
		}
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d for input", rec.Code)
		}
	})
}

// FuzzOCSPRequest feeds arbitrary bodies to POST /ocsp: the answer is always
// an OCSPResponse; success only with HTTP 200.
func FuzzOCSPRequest(f *testing.F) {
	h, env := fuzzHandler(f)
	w := env.World
	good, _ := ocsp.CreateRequest(w.MustEntity("signer-pelda-1").Cert, w.MustEntity(sandbox.QualifiedCA).Cert, nil)
	f.Add(good)
	f.Add(addOCSPNonce(f, good, []byte{4, 2, 1, 2}))
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := serve(h, http.MethodPost, "/ocsp", sandbox.ContentTypeOCSPRequest, body)
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d", rec.Code)
		}
		_, err := ocsp.ParseResponse(rec.Body.Bytes(), nil)
		var re ocsp.ResponseError
		isErrResp := asErr(err, &re)
		if rec.Code == 200 && isErrResp {
			t.Fatalf("HTTP 200 with OCSP error status %v", re.Status)
		}
		if rec.Code != 200 && !isErrResp {
			t.Fatalf("HTTP %d without an OCSP error response: %v", rec.Code, err)
		}
	})
}

// FuzzHandler drives every route with arbitrary methods, paths and bodies;
// nothing may panic or answer 5xx.
func FuzzHandler(f *testing.F) {
	h, _ := fuzzHandler(f)
	f.Add("GET", "/crl/qualified-ca.crl", "", []byte(nil))
	f.Add("GET", "/ca/root-ca.crt", "", []byte(nil))
	f.Add("GET", "/ocsp/MAMCAQA=", "", []byte(nil))
	f.Add("POST", "/tsa", sandbox.ContentTypeTSQuery, []byte{0x30})
	f.Add("POST", "/ocsp", "", []byte{0x30})
	f.Add("DELETE", "/crl/../ca/x", "x/y", []byte("z"))
	f.Fuzz(func(t *testing.T, method, path, ctype string, body []byte) {
		if len(path) == 0 || path[0] != '/' || !validMethod(method) {
			return
		}
		req, err := http.NewRequest(method, "http://127.0.0.1/", bytes.NewReader(body))
		if err != nil {
			return
		}
		req.URL.Path = path
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: HTTP %d %s", method, path, rec.Code, rec.Body.String())
		}
		io.Copy(io.Discard, rec.Body)
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for _, c := range []byte(m) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
