package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var keyKinds = []string{"rsa2048", "rsa3072", "p256", "p384"}

// exerciseKey signs with every scheme the key type supports and checks the
// signatures against the certificate's public key.
func exerciseKey(t *testing.T, k Key) {
	t.Helper()
	pub := k.Certificate().PublicKey
	if !samePublicKey(k.Public(), pub) {
		t.Fatal("Public() is not the certificate's public key")
	}
	opts := []crypto.SignerOpts{crypto.SHA256, crypto.SHA384, crypto.SHA512}
	if _, ok := pub.(*rsa.PublicKey); ok {
		opts = append(opts,
			&rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash},
			&rsa.PSSOptions{Hash: crypto.SHA384, SaltLength: rsa.PSSSaltLengthAuto})
	}
	for _, o := range opts {
		d := digestOf(o.HashFunc(), "bevallás")
		sig, err := k.Sign(rand.Reader, d, o)
		if err != nil {
			t.Fatalf("Sign(%T %v): %v", o, o.HashFunc(), err)
		}
		if err := verify(pub, d, sig, o); err != nil {
			t.Fatalf("Sign(%T %v): %v", o, o.HashFunc(), err)
		}
		// A signature over another digest must not verify: the check above
		// is not vacuous.
		if verify(pub, digestOf(o.HashFunc(), "más"), sig, o) == nil {
			t.Fatal("signature verifies for a different digest")
		}
	}
}

func TestPKCS12WriteOpen(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t)
	for _, kind := range keyKinds {
		t.Run(kind, func(t *testing.T) {
			key := testKey(t, kind)
			cert := ca.issue(t, key.Public(), "Kiss Anna "+kind, x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment)
			path := filepath.Join(t.TempDir(), "k.p12")
			pw := []byte("jó jelszó ő")
			if err := WritePKCS12(path, key, cert, []*x509.Certificate{ca.cert}, pw); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
			k, err := OpenPKCS12(ctx, path, SecretBytes(pw))
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			if !k.Certificate().Equal(cert) {
				t.Error("wrong certificate")
			}
			if ch := k.Chain(); len(ch) != 1 || !ch[0].Equal(ca.cert) {
				t.Errorf("chain = %d certs, want the CA", len(ch))
			}
			if !strings.Contains(k.Description(), path) || !strings.Contains(k.Description(), "Kiss Anna") {
				t.Errorf("description %q lacks path or subject", k.Description())
			}
			exerciseKey(t, k)

			dec, ok := Decrypter(k)
			_, isRSA := key.(*rsa.PrivateKey)
			if ok != isRSA {
				t.Fatalf("Decrypter ok = %v for %s", ok, kind)
			}
			if isRSA {
				pub := key.Public().(*rsa.PublicKey)
				ct, err := rsa.EncryptOAEP(crypto.SHA256.New(), rand.Reader, pub, []byte("titok"), nil)
				if err != nil {
					t.Fatal(err)
				}
				pt, err := dec.Decrypt(rand.Reader, ct, &rsa.OAEPOptions{Hash: crypto.SHA256})
				if err != nil || string(pt) != "titok" {
					t.Fatalf("OAEP decrypt = %q, %v", pt, err)
				}
			}

			if _, err := OpenPKCS12(ctx, path, SecretBytes("rossz")); !errors.Is(err, ErrIncorrectPassword) {
				t.Errorf("wrong password: err = %v, want ErrIncorrectPassword", err)
			}
			if err := k.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := k.Sign(rand.Reader, sha256Of("x"), crypto.SHA256); !errors.Is(err, ErrClosed) {
				t.Errorf("Sign after Close: %v, want ErrClosed", err)
			}
			if err := k.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestPKCS12OpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed: skipping interoperability with OpenSSL-made PKCS#12 files")
	}
	ctx := context.Background()
	ca := newTestCA(t)
	variants := []struct {
		name string
		args []string
		info string // expected in `openssl pkcs12 -info` output, to prove the variant
	}{
		{"openssl3-default", nil, "AES-256-CBC"},
		{"3des-sha1mac", []string{"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"}, "pbeWithSHA1And3-KeyTripleDES-CBC"},
		{"legacy", []string{"-legacy"}, "pbeWithSHA1And40BitRC2-CBC"},
	}
	for _, kind := range keyKinds {
		key := testKey(t, kind)
		cert := ca.issue(t, key.Public(), "OpenSSL "+kind, x509.KeyUsageDigitalSignature)
		for _, v := range variants {
			t.Run(kind+"/"+v.name, func(t *testing.T) {
				dir := t.TempDir()
				keyPath := writeKeyPEM(t, dir, key)
				certPath := filepath.Join(dir, "cert.pem")
				caPath := filepath.Join(dir, "ca.pem")
				writePEM(t, certPath, "CERTIFICATE", cert.Raw)
				writePEM(t, caPath, "CERTIFICATE", ca.cert.Raw)
				pwPath := filepath.Join(dir, "pw")
				if err := os.WriteFile(pwPath, []byte("openssl-jelszó\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				p12 := filepath.Join(dir, "k.p12")
				args := append([]string{"pkcs12", "-export", "-inkey", keyPath, "-in", certPath, "-certfile", caPath,
					"-passout", "file:" + pwPath, "-out", p12}, v.args...)
				if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
					if v.name == "legacy" {
						t.Skipf("openssl -legacy unavailable (legacy provider missing?): %s", out)
					}
					t.Fatalf("openssl: %v: %s", err, out)
				}
				info := []string{"pkcs12", "-info", "-noout", "-in", p12, "-passin", "file:" + pwPath}
				if v.name == "legacy" {
					info = append(info, "-legacy")
				}
				if out, err := exec.Command("openssl", info...).CombinedOutput(); err != nil || !strings.Contains(string(out), v.info) {
					t.Fatalf("file is not the intended variant (%s): %v: %s", v.info, err, out)
				}
				// The password file source strips the trailing newline
				// exactly as openssl's file: does.
				src, err := ParseSecretSource("file:" + pwPath)
				if err != nil {
					t.Fatal(err)
				}
				k, err := OpenPKCS12(ctx, p12, src)
				if err != nil {
					t.Fatal(err)
				}
				defer k.Close()
				if !k.Certificate().Equal(cert) {
					t.Error("wrong leaf certificate")
				}
				if ch := k.Chain(); len(ch) != 1 || !ch[0].Equal(ca.cert) {
					t.Errorf("chain has %d certificates, want the CA", len(ch))
				}
				exerciseKey(t, k)
				if _, err := OpenPKCS12(ctx, p12, SecretBytes("openssl-jelszó\n")); !errors.Is(err, ErrIncorrectPassword) {
					t.Errorf("password with newline: err = %v, want ErrIncorrectPassword", err)
				}
			})
		}
	}
}

// OpenSSL 3 without the legacy provider must read what WritePKCS12 writes.
func TestPKCS12ReadableByOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	ca := newTestCA(t)
	key := testKey(t, "p256")
	cert := ca.issue(t, key.Public(), "Írás Teszt", x509.KeyUsageDigitalSignature)
	dir := t.TempDir()
	p12 := filepath.Join(dir, "w.p12")
	if err := WritePKCS12(p12, key, cert, []*x509.Certificate{ca.cert}, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "pkcs12", "-in", p12, "-passin", "pass:pw", "-nodes").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cannot read our PKCS#12: %v: %s", err, out)
	}
	if strings.Count(string(out), "BEGIN CERTIFICATE") != 2 || !strings.Contains(string(out), "BEGIN PRIVATE KEY") {
		t.Errorf("openssl output lacks key or certificates:\n%s", out)
	}
	if out, err := exec.Command("openssl", "pkcs12", "-in", p12, "-passin", "pass:bad", "-nodes").CombinedOutput(); err == nil {
		t.Errorf("openssl accepted a wrong password: %s", out)
	}
}

func TestSoftwareKeyChecks(t *testing.T) {
	ca := newTestCA(t)
	rsaKey := testKey(t, "rsa2048")
	other := testKey(t, "p256b")
	cert := ca.issue(t, rsaKey.Public(), "Kulcs", 0)
	otherCert := ca.issue(t, other.Public(), "Másik", 0)
	small := testKey(t, "rsa1024")
	smallCert := ca.issue(t, small.Public(), "Kicsi", 0)

	tests := []struct {
		name  string
		priv  crypto.PrivateKey
		certs []*x509.Certificate
		want  error // nil: success
	}{
		{"leaf after CA", rsaKey, []*x509.Certificate{ca.cert, cert}, nil},
		{"no matching certificate", rsaKey, []*x509.Certificate{otherCert, ca.cert}, errAny},
		{"no certificates", rsaKey, nil, errAny},
		{"RSA-1024 refused", small, []*x509.Certificate{smallCert}, ErrUnsupportedKey},
		{"not a key", "key", []*x509.Certificate{cert}, ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := NewSoftwareKey(tc.priv, tc.certs, "test")
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !k.Certificate().Equal(cert) || len(k.Chain()) != 1 {
					t.Errorf("leaf/chain not sorted out: chain %d", len(k.Chain()))
				}
				return
			}
			if err == nil {
				t.Fatal("expected an error")
			}
			if tc.want != errAny && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := EncodePKCS12(rsaKey, otherCert, nil, []byte("x")); err == nil {
		t.Error("EncodePKCS12 accepted a certificate of another key")
	}
}

var errAny = errors.New("any error")

// Sign requests are validated identically for every key type.
func TestSignRequestValidation(t *testing.T) {
	ca := newTestCA(t)
	for _, kind := range []string{"rsa2048", "p256"} {
		key := testKey(t, kind)
		k, err := NewSoftwareKey(key, []*x509.Certificate{ca.issue(t, key.Public(), kind, 0)}, kind)
		if err != nil {
			t.Fatal(err)
		}
		testSignRequestValidation(t, kind, k)
	}
}

func testSignRequestValidation(t *testing.T, name string, k Key) {
	t.Helper()
	_, isRSA := k.Public().(*rsa.PublicKey)
	tests := []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
		ok     bool
	}{
		{"SHA-256", sha256Of("x"), crypto.SHA256, true},
		{"nil opts", sha256Of("x"), nil, false},
		{"raw (hash 0)", sha256Of("x"), crypto.Hash(0), false},
		{"SHA-1", make([]byte, 20), crypto.SHA1, false},
		{"short digest", sha256Of("x")[:31], crypto.SHA256, false},
		{"digest of other hash", sha256Of("x"), crypto.SHA384, false},
		{"PSS", sha256Of("x"), &rsa.PSSOptions{Hash: crypto.SHA256}, isRSA},
		{"PSS bad salt", sha256Of("x"), &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: 100000}, false},
	}
	for _, tc := range tests {
		t.Run(name+"/"+tc.name, func(t *testing.T) {
			sig, err := k.Sign(rand.Reader, tc.digest, tc.opts)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if err := verify(k.Public(), tc.digest, sig, tc.opts); err != nil {
					t.Fatal(err)
				}
			} else if err == nil {
				t.Fatal("expected an error")
			}
		})
	}
}

// A key certified for signing only does not decrypt, one certified for
// encipherment only does not sign (the receipt key and the decryption key
// are separate, SPEC §9).
func TestKeyUsageSeparation(t *testing.T) {
	ca := newTestCA(t)
	key := testKey(t, "rsa2048")
	sigCert := ca.issue(t, key.Public(), "Aláíró", x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment)
	encCert := ca.issue(t, key.Public(), "Titkosító", x509.KeyUsageKeyEncipherment)

	sk, err := NewSoftwareKey(key, []*x509.Certificate{sigCert}, "sig")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Decrypter(sk); ok {
		t.Error("signing-only key offers a Decrypter")
	}
	if _, err := sk.Sign(rand.Reader, sha256Of("x"), crypto.SHA256); err != nil {
		t.Errorf("signing-only key cannot sign: %v", err)
	}
	ek, err := NewSoftwareKey(key, []*x509.Certificate{encCert}, "enc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ek.Sign(rand.Reader, sha256Of("x"), crypto.SHA256); !errors.Is(err, ErrKeyUsage) {
		t.Errorf("encryption-only key signs: err = %v", err)
	}
	if _, ok := Decrypter(ek); !ok {
		t.Error("encryption key offers no Decrypter")
	}
}

func FuzzDecodePKCS12(f *testing.F) {
	ca := newTestCA(f)
	key := testKey(f, "p256")
	cert := ca.issue(f, key.Public(), "Fuzz", 0)
	der, err := EncodePKCS12(key, cert, []*x509.Certificate{ca.cert}, []byte("pw"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der, []byte("pw"))
	f.Add(der[:len(der)/2], []byte("pw"))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03}, []byte(""))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		k, err := decodePKCS12(data, pw, "fuzz")
		if err != nil {
			return
		}
		// Whatever decodes must be a consistent key.
		if !samePublicKey(k.Public(), k.priv.Public()) {
			t.Fatal("decoded key does not match its certificate")
		}
	})
}
