package sandbox_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// These tests check that a foreign implementation (OpenSSL) accepts what
// the sandbox serves: TSA tokens, OCSP responses, CRLs, PKCS#12 files.

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (make deps installs it); skipping interop test")
	}
}

func openssl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestOpenSSLTimestampVerify(t *testing.T) {
	needOpenSSL(t)
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	dir := t.TempDir()
	data := filepath.Join(dir, "f")
	os.WriteFile(data, []byte("bevallas tartalma\n"), 0o600)
	for _, hash := range []string{"-sha256", "-sha512"} {
		t.Run(hash, func(t *testing.T) {
			q := filepath.Join(dir, "q"+hash+".tsq")
			if out, err := openssl(t, "ts", "-query", "-data", data, hash, "-cert", "-out", q); err != nil {
				t.Fatalf("ts -query: %v\n%s", err, out)
			}
			query, _ := os.ReadFile(q)
			resp, body := post(t, env.TSAURL, sandbox.ContentTypeTSQuery, query)
			if resp.StatusCode != 200 {
				t.Fatalf("HTTP %d", resp.StatusCode)
			}
			r := filepath.Join(dir, "r"+hash+".tsr")
			os.WriteFile(r, body, 0o600)
			root := env.World.Path(env.World.MustEntity(sandbox.RootCA).Files.Cert)
			out, err := openssl(t, "ts", "-verify", "-data", data, "-in", r, "-CAfile", root)
			if err != nil || !strings.Contains(out, "Verification: OK") {
				t.Fatalf("ts -verify: %v\n%s", err, out)
			}
			// Matching the query too (nonce, imprint).
			out, err = openssl(t, "ts", "-verify", "-queryfile", q, "-in", r, "-CAfile", root)
			if err != nil || !strings.Contains(out, "Verification: OK") {
				t.Fatalf("ts -verify -queryfile: %v\n%s", err, out)
			}
			// Negative: other data, and another trust anchor, are refused.
			other := filepath.Join(dir, "other")
			os.WriteFile(other, []byte("mas tartalom\n"), 0o600)
			if out, err := openssl(t, "ts", "-verify", "-data", other, "-in", r, "-CAfile", root); err == nil {
				t.Errorf("ts -verify accepted other data:\n%s", out)
			}
			tlsRoot := env.World.Path(env.World.MustEntity(sandbox.TLSCA).Files.Cert)
			if out, err := openssl(t, "ts", "-verify", "-data", data, "-in", r, "-CAfile", tlsRoot); err == nil {
				t.Errorf("ts -verify accepted an untrusted chain:\n%s", out)
			}
		})
	}
}

func TestOpenSSLOCSP(t *testing.T) {
	needOpenSSL(t)
	for _, caSigned := range []bool{false, true} {
		name := "delegated"
		if caSigned {
			name = "ca-signed"
		}
		t.Run(name, func(t *testing.T) {
			env := sandboxtest.Start(t, sandboxtest.SharedKeys(), sandboxtest.WithServe(func(o *sandbox.ServeOptions) { o.OCSPSignedByCA = caSigned }))
			w := env.World
			issuer := w.Path(w.MustEntity(sandbox.QualifiedCA).Files.Cert)
			root := w.Path(w.MustEntity(sandbox.RootCA).Files.Cert)
			query := func(certPath string) string {
				t.Helper()
				out, err := openssl(t, "ocsp", "-issuer", issuer, "-cert", certPath, "-url", env.OCSPURL, "-CAfile", root)
				if err != nil {
					t.Fatalf("openssl ocsp: %v\n%s", err, out)
				}
				if !strings.Contains(out, "Response verify OK") {
					t.Fatalf("response not verified:\n%s", out)
				}
				return out
			}
			signer := w.MustEntity("signer-pelda-1")
			certPath := w.Path(signer.Files.Cert)
			if out := query(certPath); !strings.Contains(out, ": good") {
				t.Fatalf("want good:\n%s", out)
			}
			if err := sandbox.Revoke(env.Dir, signer.Name, sandbox.ReasonKeyCompromise, time.Now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			out := query(certPath)
			if !strings.Contains(out, ": revoked") || !strings.Contains(out, "keyCompromise") {
				t.Fatalf("want revoked keyCompromise:\n%s", out)
			}

			// A certificate the qualified CA never issued: unknown.
			dir := t.TempDir()
			fake := filepath.Join(dir, "fake.pem")
			forgeSameIssuer(t, w, fake)
			if out := query(fake); !strings.Contains(out, ": unknown") {
				t.Fatalf("want unknown:\n%s", out)
			}
		})
	}
}

func TestOpenSSLCRL(t *testing.T) {
	needOpenSSL(t)
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	s := w.MustEntity("signer-minta-3")
	if err := sandbox.Revoke(env.Dir, s.Name, sandbox.ReasonSuperseded, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, der := get(t, env.CRLURL(sandbox.QualifiedCA))
	path := filepath.Join(t.TempDir(), "q.crl")
	os.WriteFile(path, der, 0o600)
	chain := w.Path(w.MustEntity(sandbox.QualifiedCA).Files.Chain)
	out, err := openssl(t, "crl", "-in", path, "-inform", "DER", "-CAfile", chain, "-noout", "-text")
	if err != nil || !strings.Contains(out, "verify OK") {
		t.Fatalf("openssl crl: %v\n%s", err, out)
	}
	if !strings.Contains(strings.ToUpper(out), strings.ToUpper(s.Serial)) || !strings.Contains(out, "Superseded") {
		t.Errorf("revoked serial %s / reason not listed:\n%s", s.Serial, out)
	}
	// Negative: verified against the wrong CA it fails.
	wrong := w.Path(w.MustEntity(sandbox.AdvancedCA).Files.Chain)
	if out, err := openssl(t, "crl", "-in", path, "-inform", "DER", "-CAfile", wrong, "-noout"); err == nil && strings.Contains(out, "verify OK") {
		t.Errorf("CRL verified against the wrong CA:\n%s", out)
	}
}

func TestOpenSSLReadsPKCS12(t *testing.T) {
	needOpenSSL(t)
	env := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := env.World
	for _, name := range []string{"signer-pelda-1", "signer-pelda-2", sandbox.FundReceipt} {
		e := w.MustEntity(name)
		out, err := openssl(t, "pkcs12", "-in", w.Path(e.Files.PKCS12), "-passin", "file:"+w.PasswordFile(), "-nokeys", "-clcerts")
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		pemCert, _ := os.ReadFile(w.Path(e.Files.Cert))
		if !bytes.Contains([]byte(out), bytes.TrimSpace(pemCert)) {
			t.Errorf("%s: PKCS#12 certificate differs from %s", name, e.Files.Cert)
		}
		if out, err := openssl(t, "pkcs12", "-in", w.Path(e.Files.PKCS12), "-passin", "pass:wrong", "-noout"); err == nil {
			t.Errorf("%s: wrong password accepted:\n%s", name, out)
		}
	}
}
