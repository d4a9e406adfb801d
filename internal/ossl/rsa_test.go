package ossl

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

func newKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func digest(h crypto.Hash, msg string) []byte {
	w := h.New()
	w.Write([]byte(msg))
	return w.Sum(nil)
}

// PKCS #1 v1.5 signatures are deterministic: OpenSSL's must equal crypto/rsa's byte for byte.
func TestPKCS1v15EqualsGo(t *testing.T) {
	for _, bits := range []int{2048, 3072} {
		k := newKey(t, bits)
		s, err := NewRSASigner(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []crypto.Hash{crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			d := digest(h, "Tagdíj")
			got, err := s.Sign(rand.Reader, d, h)
			if err != nil {
				t.Fatalf("%d/%v: %v", bits, h, err)
			}
			want, err := rsa.SignPKCS1v15(nil, k, h, d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%d/%v: OpenSSL's signature differs from crypto/rsa's", bits, h)
			}
		}
	}
}

func TestPSSVerifies(t *testing.T) {
	k := newKey(t, 2048)
	s, err := NewRSASigner(k)
	if err != nil {
		t.Fatal(err)
	}
	d := digest(crypto.SHA256, "x")
	for _, tc := range []struct {
		name       string
		sign, want int
	}{
		{"equals hash", rsa.PSSSaltLengthEqualsHash, 32},
		{"auto is the maximum", rsa.PSSSaltLengthAuto, 256 - 32 - 2},
		{"explicit", 20, 20},
	} {
		sig, err := s.Sign(rand.Reader, d, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: tc.sign})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// Verifying with the exact salt length proves which one OpenSSL used.
		if err := rsa.VerifyPSS(&k.PublicKey, crypto.SHA256, d, sig, &rsa.PSSOptions{SaltLength: tc.want}); err != nil {
			t.Errorf("%s: salt length %d: %v", tc.name, tc.want, err)
		}
	}
}

// What OpenSSL is not asked to do is still signed, by crypto/rsa.
func TestFallbackToGo(t *testing.T) {
	k := newKey(t, 2048)
	s, err := NewRSASigner(k)
	if err != nil {
		t.Fatal(err)
	}
	d1 := sha1.Sum([]byte("x"))
	sig, err := s.Sign(rand.Reader, d1[:], crypto.SHA1)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA1, d1[:], sig); err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	if _, err := s.Sign(rand.Reader, d[:20], crypto.SHA256); err == nil {
		t.Fatal("a digest of the wrong length was signed")
	}
}

func TestSignerChoosesOpenSSLOnlyForRSA(t *testing.T) {
	if _, ok := Signer(newKey(t, 2048)).(*RSASigner); !ok {
		t.Error("an RSA key is not signed through OpenSSL")
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if Signer(ek) != crypto.Signer(ek) {
		t.Error("an ECDSA key was wrapped")
	}
	if _, err := NewRSASigner(nil); err == nil {
		t.Error("a nil key was accepted")
	}
	bad := newKey(t, 2048)
	bad.D = new(big.Int).Add(bad.D, big.NewInt(2)) // no longer matches E
	bad.Precomputed = rsa.PrecomputedValues{}
	if _, err := NewRSASigner(bad); err == nil {
		t.Error("an inconsistent key was accepted")
	}
}

// The openssl command line verifies what the signer makes (an independent implementation of the check).
func TestOpenSSLCommandVerifies(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (scripts/deps.sh installs it)")
	}
	k := newKey(t, 2048)
	s, err := NewRSASigner(k)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("nyugta / receipt")
	d := sha256.Sum256(msg)
	sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, "pub.pem")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o600))
	must(os.WriteFile(filepath.Join(dir, "msg"), msg, 0o600))
	must(os.WriteFile(filepath.Join(dir, "sig"), sig, 0o600))
	out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pub, "-signature", filepath.Join(dir, "sig"), filepath.Join(dir, "msg")).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl dgst -verify: %v\n%s", err, out)
	}
	sig[10] ^= 1
	must(os.WriteFile(filepath.Join(dir, "sig"), sig, 0o600))
	if out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pub, "-signature", filepath.Join(dir, "sig"), filepath.Join(dir, "msg")).CombinedOutput(); err == nil {
		t.Fatalf("openssl accepted a changed signature:\n%s", out)
	}
}

// One signer shared by many goroutines (run with -race): every signature is right.
func TestConcurrentSigning(t *testing.T) {
	k := newKey(t, 2048)
	s, err := NewRSASigner(k)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				d := digest(crypto.SHA256, string(rune('a'+g))+string(rune('a'+i)))
				sig, err := s.Sign(rand.Reader, d, crypto.SHA256)
				if err == nil {
					err = rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, d, sig)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// go test -bench . ./internal/ossl: OpenSSL beside crypto/rsa on the same key.
func BenchmarkSign(b *testing.B) {
	k := newKey(b, 2048)
	s, err := NewRSASigner(k)
	if err != nil {
		b.Fatal(err)
	}
	d := digest(crypto.SHA256, "x")
	b.Run("openssl", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Sign(rand.Reader, d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.Sign(rand.Reader, d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestSignAfterClose(t *testing.T) {
	s, err := NewRSASigner(newKey(t, 2048))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close() // idempotent
	d := digest(crypto.SHA256, "x")
	if _, err := s.Sign(rand.Reader, d, crypto.SHA256); err != ErrClosed {
		t.Fatalf("Sign after Close: %v, want ErrClosed", err)
	}
}

func BenchmarkSignParallel(b *testing.B) {
	k := newKey(b, 2048)
	s, err := NewRSASigner(k)
	if err != nil {
		b.Fatal(err)
	}
	d := digest(crypto.SHA256, "x")
	b.SetParallelism(8)
	b.Run("openssl", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Sign(rand.Reader, d, crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("go", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := k.Sign(rand.Reader, d, crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// The check after signing: with the Go key swapped for another, OpenSSL still signs with the key it
// was given, crypto/rsa's check fails and no signature leaves — for PKCS #1 v1.5 and for PSS, which
// also proves both are made by OpenSSL (the Go fallback would sign with the swapped key and pass).
func TestSignatureCheckedAfterSigning(t *testing.T) {
	s, err := NewRSASigner(newKey(t, 2048))
	if err != nil {
		t.Fatal(err)
	}
	s.priv = newKey(t, 2048)
	d := digest(crypto.SHA256, "x")
	for _, opts := range []crypto.SignerOpts{crypto.SHA256, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}} {
		if sig, err := s.Sign(rand.Reader, d, opts); err == nil || sig != nil {
			t.Errorf("%T: a signature that does not verify was returned (%v)", opts, err)
		}
	}
}

// After Close nothing is signed, on any path.
func TestEveryPathRefusedAfterClose(t *testing.T) {
	s, err := NewRSASigner(newKey(t, 2048))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	d1 := sha1.Sum([]byte("x"))
	for _, tc := range []struct {
		digest []byte
		opts   crypto.SignerOpts
	}{
		{digest(crypto.SHA256, "x"), crypto.SHA256},
		{digest(crypto.SHA256, "x"), &rsa.PSSOptions{Hash: crypto.SHA256}},
		{d1[:], crypto.SHA1}, // the crypto/rsa fallback
	} {
		if _, err := s.Sign(rand.Reader, tc.digest, tc.opts); err != ErrClosed {
			t.Errorf("%v after Close: %v, want ErrClosed", tc.opts, err)
		}
	}
}
