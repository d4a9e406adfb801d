package tsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

func needOpenSSL(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed (make deps installs it); skipping the foreign TSA/verifier tests")
	}
	return path
}

// opensslTSA is a foreign TSA: every request is answered by a fresh
// `openssl ts -reply` process.
type opensslTSA struct {
	bin, dir, cfg, key, signer, chain string
	mu                                sync.Mutex // openssl updates the serial file
	tamper                            func(query, resp []byte) []byte
}

func newOpenSSLTSA(t testing.TB, p *testPKI, essAlg string) (*opensslTSA, *x509.Certificate) {
	t.Helper()
	bin := needOpenSSL(t)
	dir := t.TempDir()
	cert, key := p.issue(t, certSpec{cn: "OpenSSL TSA " + essAlg, key: rsaKey(t)})
	o := &opensslTSA{
		bin:    bin,
		dir:    dir,
		key:    writeKey(t, filepath.Join(dir, "tsa.key"), key),
		signer: writePEM(t, filepath.Join(dir, "tsa.pem"), cert),
		chain:  writePEM(t, filepath.Join(dir, "chain.pem"), p.root),
		cfg:    filepath.Join(dir, "tsa.cnf"),
	}
	writePEM(t, filepath.Join(dir, "root.pem"), p.root)
	if err := os.WriteFile(filepath.Join(dir, "serial"), []byte("01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = %s
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = %s
other_policies = 1.3.6.1.4.1.99999.1.2
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 0
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = %s
`, dir, testPolicy, essAlg)
	if err := os.WriteFile(o.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return o, cert
}

func (o *opensslTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := readAllLimited(r, 64<<10)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	qf, rf := filepath.Join(o.dir, "q.tsq"), filepath.Join(o.dir, "r.tsr")
	if err := os.WriteFile(qf, q, 0o600); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cmd := exec.CommandContext(r.Context(), o.bin, "ts", "-reply", "-config", o.cfg,
		"-queryfile", qf, "-inkey", o.key, "-signer", o.signer, "-chain", o.chain, "-out", rf)
	if out, err := cmd.CombinedOutput(); err != nil {
		http.Error(w, fmt.Sprintf("openssl ts -reply: %v: %s", err, out), http.StatusInternalServerError)
		return
	}
	resp, err := os.ReadFile(rf)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if o.tamper != nil {
		resp = o.tamper(q, resp)
	}
	w.Header().Set("Content-Type", ContentTypeReply)
	w.Write(resp)
}

func readAllLimited(r *http.Request, n int64) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, n))
	return b.Bytes(), err
}

// TestOpenSSLTSA: our client accepts a foreign TSA's answers, with both
// ESSCertID forms, and refuses them once tampered with.
func TestOpenSSLTSA(t *testing.T) {
	p := newPKI(t)
	for _, ess := range []string{"sha1", "sha256"} {
		t.Run("ess_cert_id_alg="+ess, func(t *testing.T) {
			o, cert := newOpenSSLTSA(t, p, ess)
			srv := httptest.NewServer(o)
			defer srv.Close()
			c := &Client{URL: srv.URL, HTTP: srv.Client(), Trust: PoolVerifier{Roots: p.roots}, Policy: testPolicy}
			for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
				digest := digestOf(h, "openssl "+h.String())
				tok, err := c.Stamp(context.Background(), digest, h)
				if err != nil {
					t.Fatalf("%v: Stamp: %v", h, err)
				}
				if !tok.TSA.Equal(cert) || !bytes.Equal(tok.HashedMessage, digest) {
					t.Errorf("%v: TSA %q imprint %x", h, tok.TSA.Subject.CommonName, tok.HashedMessage)
				}
				if want := time.Second + 500*time.Millisecond + 100*time.Microsecond; tok.Accuracy != want {
					t.Errorf("%v: accuracy %v, want %v", h, tok.Accuracy, want)
				}
				if d := time.Since(tok.GenTime); d < -2*time.Second || d > time.Minute {
					t.Errorf("%v: genTime %v", h, tok.GenTime)
				}
			}

			tampers := []struct {
				name string
				f    func(q, r []byte) []byte
				want error
			}{
				{"signature byte", func(_, r []byte) []byte { r[len(r)-1] ^= 0x01; return r }, ErrBadSignature},
				{"imprint byte", func(q, r []byte) []byte {
					req, err := timestamp.ParseRequest(q)
					if err != nil {
						return nil
					}
					if i := bytes.Index(r, req.HashedMessage); i >= 0 {
						r[i] ^= 0x01
					}
					return r
				}, ErrBadSignature},
				{"status byte", func(_, r []byte) []byte { r[0] ^= 0x01; return r }, ErrMalformed},
				{"truncated", func(_, r []byte) []byte { return r[:len(r)-10] }, ErrMalformed},
			}
			for _, tc := range tampers {
				o.tamper = tc.f
				_, err := c.StampData(context.Background(), []byte("tampered "+tc.name))
				if !errors.Is(err, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
				}
			}
			o.tamper = nil
		})
	}
}

// TestOpenSSLVerifiesOurTokens: `openssl ts -verify` accepts the tokens our
// client obtained (from the in-test TSA and from the openssl TSA) over the
// data whose digest we stamped, and refuses them over other data.
func TestOpenSSLVerifiesOurTokens(t *testing.T) {
	bin := needOpenSSL(t)
	p := newPKI(t)
	dir := t.TempDir()
	root := writePEM(t, filepath.Join(dir, "root.pem"), p.root)

	ours, oursKey := p.issue(t, certSpec{cn: "Go TSA"})
	goClient, _ := startTSA(t, p, &testTSA{cert: ours, key: oursKey, chain: []*x509.Certificate{p.root}})
	o, _ := newOpenSSLTSA(t, p, "sha256")
	srv := httptest.NewServer(o)
	defer srv.Close()
	osslClient := &Client{URL: srv.URL, HTTP: srv.Client(), Trust: PoolVerifier{Roots: p.roots}}

	data := []byte(`<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sv">AAAA</ds:SignatureValue>`)
	dataFile := filepath.Join(dir, "data.bin")
	otherFile := filepath.Join(dir, "other.bin")
	if err := os.WriteFile(dataFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherFile, append(data, ' '), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Client{"go-tsa": goClient, "openssl-tsa": osslClient} {
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
			t.Run(fmt.Sprintf("%s/%v", name, h), func(t *testing.T) {
				c := *c
				c.Hash = h
				tok, err := c.StampData(context.Background(), data)
				if err != nil {
					t.Fatalf("Stamp: %v", err)
				}
				tokFile := filepath.Join(dir, "token.der")
				if err := os.WriteFile(tokFile, tok.DER, 0o600); err != nil {
					t.Fatal(err)
				}
				tsaFile := writePEM(t, filepath.Join(dir, "tsa.pem"), tok.TSA)
				verify := func(file string) (string, error) {
					out, err := exec.Command(bin, "ts", "-verify", "-data", file, "-in", tokFile, "-token_in",
						"-CAfile", root, "-untrusted", tsaFile).CombinedOutput()
					return string(out), err
				}
				if out, err := verify(dataFile); err != nil || !strings.Contains(out, "Verification: OK") {
					t.Fatalf("openssl ts -verify refused our token: %v\n%s", err, out)
				}
				if out, err := verify(otherFile); err == nil || strings.Contains(out, "Verification: OK") {
					t.Fatalf("openssl ts -verify accepted the token over other data:\n%s", out)
				}
			})
		}
	}
}
