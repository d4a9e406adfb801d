package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/revocation/revtest"
)

// The foreign responder: OpenSSL's `openssl ocsp` answers from an index.txt in OpenSSL's CA
// database format; our client must accept its good, revoked and unknown answers (in both responder
// ID forms) and reject a tampered one.
//
// By default each request is answered by one `openssl ocsp -reqin ... -respout ...` process behind
// an httptest server on 127.0.0.1, because `openssl ocsp -port N` listens on every interface, not
// only loopback (OpenSSL 3.0 accepts no bind address). Set TAGDIJ_OPENSSL_OCSP_DAEMON=1 to run the
// long-lived `openssl ocsp -port N -nrequest N -ignore_err` responder instead; requests then reach
// it through the same loopback proxy (which also does the tampering).

func opensslTime(t time.Time) string { return t.UTC().Format("060102150405Z") }

func opensslSubject(c *x509.Certificate) string {
	var b strings.Builder
	for _, n := range c.Subject.ToRDNSequence() {
		for _, a := range n {
			short := map[string]string{"2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.3": "CN"}[a.Type.String()]
			if short == "" {
				short = a.Type.String()
			}
			fmt.Fprintf(&b, "/%s=%v", short, a.Value)
		}
	}
	return b.String()
}

type opensslPKI struct {
	dir                      string
	ca, responder            *revtest.Identity
	good, revoked, unlisted  *revtest.Identity
	revokedAt                time.Time
	caPEM, rPEM, rKey, index string
}

func newOpenSSLPKI(t *testing.T, ocspURL string) *opensslPKI {
	p := &opensslPKI{dir: t.TempDir(), revokedAt: time.Now().Add(-90 * time.Minute).Truncate(time.Second)}
	p.ca = revtest.NewRoot(t, revtest.Spec{Name: "OpenSSL Test CA"})
	p.responder = p.ca.Issue(t, revtest.Spec{Name: "OpenSSL OCSP Responder", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, Extra: oidNoCheck})
	spec := func(n string) revtest.Spec { return revtest.Spec{Name: n, OCSP: []string{ocspURL}} }
	p.good, p.revoked, p.unlisted = p.ca.Issue(t, spec("good")), p.ca.Issue(t, spec("revoked")), p.ca.Issue(t, spec("unlisted"))
	p.caPEM, _ = p.ca.WritePEM(t, p.dir, "ca.pem", "")
	p.rPEM, p.rKey = p.responder.WritePEM(t, p.dir, "responder.pem", "responder.key")
	line := func(status string, c *x509.Certificate, rev string) string {
		return fmt.Sprintf("%s\t%s\t%s\t%X\tunknown\t%s\n", status, opensslTime(c.NotAfter), rev, c.SerialNumber.Bytes(), opensslSubject(c))
	}
	idx := line("V", p.good.Cert, "") + line("R", p.revoked.Cert, opensslTime(p.revokedAt)+",keyCompromise")
	p.index = filepath.Join(p.dir, "index.txt")
	if err := os.WriteFile(p.index, []byte(idx), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *opensslPKI) responderArgs(extra ...string) []string {
	return append([]string{"ocsp", "-index", p.index, "-CA", p.caPEM, "-rsigner", p.rPEM, "-rkey", p.rKey,
		"-rmd", "sha256", "-ndays", "1"}, extra...)
}

// perRequest answers one DER request with a fresh openssl process.
func (p *opensslPKI) perRequest(t *testing.T, extra ...string) func([]byte) ([]byte, error) {
	n := 0
	return func(req []byte) ([]byte, error) {
		n++
		in := filepath.Join(p.dir, fmt.Sprintf("req%d.der", n))
		out := filepath.Join(p.dir, fmt.Sprintf("resp%d.der", n))
		if err := os.WriteFile(in, req, 0o600); err != nil {
			return nil, err
		}
		cmd := exec.Command("openssl", p.responderArgs(append(extra, "-reqin", in, "-respout", out)...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("openssl ocsp: %v: %s", err, b)
		}
		return os.ReadFile(out)
	}
}

// daemon starts `openssl ocsp -port` for n requests and returns a function forwarding to it.
func (p *opensslPKI) daemon(t *testing.T, n int, extra ...string) func([]byte) ([]byte, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := p.responderArgs(append(extra, "-port", strconv.Itoa(port), "-nrequest", strconv.Itoa(n), "-ignore_err")...)
	cmd := exec.Command("openssl", args...)
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("openssl ocsp output:\n%s", logBuf.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// No readiness probe: a bare connection would count as one of the n requests. Connection
	// refused means "not listening yet", so the first request is retried for a while.
	return func(req []byte) ([]byte, error) {
		var resp *http.Response
		var err error
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			resp, err = http.Post("http://"+addr+"/", "application/ocsp-request", bytes.NewReader(req))
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("openssl ocsp daemon: %v", err)
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
}

// proxy is the loopback HTTP front: it decodes POST and GET requests, has them answered, and
// passes the response through mutate.
type proxy struct {
	answer func([]byte) ([]byte, error)
	mutate func([]byte) []byte
	gets   int
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req []byte
	var err error
	if r.Method == http.MethodGet {
		p.gets++
		var s string
		if s, err = url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/")); err == nil {
			req, err = base64.StdEncoding.DecodeString(s)
		}
	} else {
		req, err = io.ReadAll(io.LimitReader(r.Body, 1<<16))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := p.answer(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if p.mutate != nil {
		resp = p.mutate(bytes.Clone(resp))
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

func TestOpenSSLResponder(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (make deps installs it)")
	}
	daemonMode := os.Getenv("TAGDIJ_OPENSSL_OCSP_DAEMON") == "1"
	px := &proxy{}
	srv := httptest.NewServer(px)
	defer srv.Close()
	p := newOpenSSLPKI(t, srv.URL)
	caKeyBits, _ := publicKeyBits(p.ca.Cert)
	caKeyHash := sha1.Sum(caKeyBits)

	cases := []struct {
		name     string
		extra    []string // responder options
		cert     *revtest.Identity
		client   OCSPClient
		mutate   func([]byte) []byte
		want     Status
		reason   error
		checkEvi func(*testing.T, *Evidence)
	}{
		{name: "good, nonce echoed", cert: p.good, client: OCSPClient{Nonce: NonceRequired}, want: StatusGood,
			checkEvi: func(t *testing.T, ev *Evidence) {
				if !ev.OCSP.NonceEchoed || ev.OCSP.CASigned || !ev.OCSP.NoCheck || ev.OCSP.ResponderName == nil {
					t.Fatalf("echoed %v casigned %v nocheck %v", ev.OCSP.NonceEchoed, ev.OCSP.CASigned, ev.OCSP.NoCheck)
				}
				if ev.NextUpdate().Sub(ev.ThisUpdate()) != 24*time.Hour {
					t.Fatalf("nextUpdate %v thisUpdate %v (-ndays 1)", ev.NextUpdate(), ev.ThisUpdate())
				}
			}},
		{name: "revoked with time and reason", cert: p.revoked, want: StatusRevoked,
			checkEvi: func(t *testing.T, ev *Evidence) {
				if !ev.RevocationTime.Equal(p.revokedAt) || ev.RevocationReason != 1 {
					t.Fatalf("revoked at %v reason %d, want %v keyCompromise", ev.RevocationTime, ev.RevocationReason, p.revokedAt)
				}
			}},
		{name: "unknown serial", cert: p.unlisted, want: StatusUnknown},
		{name: "responder ID by key, SHA-256 CertID, GET", extra: []string{"-resp_key_id"}, cert: p.good,
			client: OCSPClient{UseGET: true, Hash: crypto.SHA256}, want: StatusGood,
			checkEvi: func(t *testing.T, ev *Evidence) {
				if ev.OCSP.ResponderKeyHash == nil || px.gets == 0 {
					t.Fatal("want responder ID by key over GET")
				}
			}},
		{name: "tampered response rejected", cert: p.good, mutate: func(b []byte) []byte {
			i := bytes.Index(b, caKeyHash[:])
			if i < 0 {
				t.Fatal("issuer key hash not in the response")
			}
			b[i+5] ^= 0x80
			return b
		}, reason: ErrBadSignature},
		{name: "truncated response rejected", cert: p.good, mutate: func(b []byte) []byte { return b[:len(b)-10] }, reason: ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if daemonMode {
				px.answer = p.daemon(t, 1, tc.extra...)
			} else {
				px.answer = p.perRequest(t, tc.extra...)
			}
			px.mutate = tc.mutate
			client := tc.client
			client.Skew = time.Minute
			ev, err := client.Query(context.Background(), srv.URL, tc.cert.Cert, p.ca.Cert, time.Now())
			if tc.reason != nil {
				wantErr(t, err, tc.reason, ErrInvalidEvidence)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Status != tc.want {
				t.Fatalf("status %v, want %v", ev.Status, tc.want)
			}
			if tc.checkEvi != nil {
				tc.checkEvi(t, ev)
			}
		})
	}
}
