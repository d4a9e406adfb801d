package sandbox_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// The sandbox's keys imported into a SoftHSM2 token sign exactly like their PKCS#12 copies.
func TestImportToSoftHSM(t *testing.T) {
	if err := softhsm.Available(); err != nil {
		t.Skipf("SoftHSM2 is not installed (softhsm2 package): %v", err)
	}
	ctx := context.Background()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	w := sb.World
	conf := sandbox.SoftHSMConfPath(w)

	// SOFTHSM2_CONF not set to the sandbox's configuration: refused before anything is created.
	t.Setenv(softhsm.ConfEnv, filepath.Join(t.TempDir(), "other.conf"))
	if _, err := sandbox.ImportToSoftHSM(ctx, w, sandbox.SoftHSMOptions{}); !errors.Is(err, sandbox.ErrSoftHSMConf) ||
		!strings.Contains(err.Error(), "export SOFTHSM2_CONF="+conf) {
		t.Fatalf("wrong SOFTHSM2_CONF: %v", err)
	}
	if _, err := os.Stat(w.Path(sandbox.SoftHSMDir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused import created %s", sandbox.SoftHSMDir)
	}

	t.Setenv(softhsm.ConfEnv, conf)
	info, err := sandbox.ImportToSoftHSM(ctx, w, sandbox.SoftHSMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every employer signer (8, expired and not-yet-valid included), the receipt and decryption keys.
	if len(info.Keys) != 10 {
		t.Errorf("%d keys imported, want 10: %+v", len(info.Keys), info.Keys)
	}
	for _, name := range []string{"signer-pelda-1", "signer-minta-3", sandbox.ExpiredSigner, sandbox.FundReceipt, sandbox.FundEncryption} {
		if _, err := info.Key(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := info.Key(sandbox.TSAUnit); err == nil {
		t.Error("the TSA key was imported though not asked for")
	}
	loaded, err := sandbox.LoadSoftHSM(w)
	if err != nil || !reflect.DeepEqual(loaded, info) {
		t.Fatalf("softhsm.json: %+v, %v", loaded, err)
	}
	pin, err := os.ReadFile(w.Path(info.PINFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{info.PINFile, info.SOPINFile} {
		if st, err := os.Stat(w.Path(f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", f, err, st.Mode())
		}
	}
	if js, _ := os.ReadFile(w.Path(sandbox.SoftHSMFile)); bytes.Contains(js, bytes.TrimSpace(pin)) {
		t.Error("softhsm.json contains the PIN")
	}
	if _, err := sandbox.ImportToSoftHSM(ctx, w, sandbox.SoftHSMOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second import: %v", err)
	}

	pinSrc, err := keys.ParseSecretSource("file:" + w.Path(info.PINFile))
	if err != nil {
		t.Fatal(err)
	}
	p12Src, err := keys.ParseSecretSource("file:" + w.PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	open := func(spec string, secret keys.Secret) keys.Key {
		t.Helper()
		s, err := keys.ParseKeySpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		k, err := keys.OpenKey(ctx, s, secret)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}
	digest := sha256.Sum256([]byte("tagdíjbevallás 2026-10"))

	// RSA signer: PKCS#1 v1.5 is deterministic, so token and file give the same bytes.
	e := w.MustEntity("signer-pelda-1")
	hk := open(mustKey(t, info, e.Name).Spec, pinSrc)
	sk := open("p12:"+w.Path(e.Files.PKCS12), p12Src)
	if !hk.Certificate().Equal(e.Cert) || len(hk.Chain()) != 2 || !hk.Chain()[0].Equal(e.Chain[0]) {
		t.Fatalf("token key: certificate or chain differ from the manifest's")
	}
	s1, err := hk.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := sk.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1, s2) {
		t.Fatal("token and PKCS#12 signatures differ")
	}
	if err := rsa.VerifyPKCS1v15(e.Cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], s1); err != nil {
		t.Fatal(err)
	}

	// ECDSA signer: randomised, but verifies with the certificate.
	ee := w.MustEntity("signer-pelda-2")
	ek := open(mustKey(t, info, ee.Name).Spec, pinSrc)
	es, err := ek.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(ee.Cert.PublicKey.(*ecdsa.PublicKey), digest[:], es) {
		t.Fatalf("ECDSA token signature: %v", err)
	}

	// The fund's decryption key decrypts on the token and does not sign.
	dk := open(mustKey(t, info, sandbox.FundEncryption).Spec, pinSrc)
	if _, err := dk.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
		t.Error("the decryption key signed")
	}
	dec, ok := keys.Decrypter(dk)
	if !ok {
		t.Fatal("the decryption key offers no Decrypter")
	}
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, dk.Public().(*rsa.PublicKey), []byte("munkamenetkulcs"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := dec.Decrypt(rand.Reader, ct, nil); err != nil || string(pt) != "munkamenetkulcs" {
		t.Errorf("decrypt: %q, %v", pt, err)
	}

	// A wrong PIN is refused.
	bad := keys.SecretBytes("nem-ez-a-pin")
	s, _ := keys.ParseKeySpec(mustKey(t, info, sandbox.FundReceipt).Spec)
	if _, err := keys.OpenKey(ctx, s, bad); err == nil {
		t.Error("wrong PIN accepted")
	}
}

func mustKey(t *testing.T, info *sandbox.SoftHSMInfo, name string) sandbox.SoftHSMKey {
	t.Helper()
	k, err := info.Key(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
