package processor_test

import (
	"context"
	"testing"

	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// TestDecryptionKeyOnSoftHSM: the fund's decryption key on a PKCS#11 token (SoftHSM2) opens packages
// like the PKCS#12 one; a package not encrypted to the fund is D001. When the token stops answering (the key closed), decryption fails but no
// package is rejected with D001: the key's self-test fails too, so it is a failure of the fund's side,
// retried later; with the key back the package is processed.
func TestDecryptionKeyOnSoftHSM(t *testing.T) {
	if err := softhsm.Available(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	tok, err := softhsm.NewToken(ctx, t.TempDir(), "fund-enc", "so-pin-1234", "user-pin-1234")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(softhsm.ConfEnv, tok.ConfPath)
	open := func(t *testing.T) keys.Key {
		cfg := keys.PKCS11Config{Module: tok.ModulePath, TokenLabel: tok.Label, PIN: keys.SecretBytes("user-pin-1234"), KeyLabel: "enc"}
		k, err := keys.OpenPKCS11(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}
	r := newRig(t)
	enc := r.SB.World.MustEntity(sandbox.FundEncryption)
	cfg := keys.PKCS11Config{Module: tok.ModulePath, TokenLabel: tok.Label, PIN: keys.SecretBytes("user-pin-1234")}
	if _, err := keys.ImportToPKCS11(ctx, cfg, "enc", enc.Key, enc.Cert, enc.Chain...); err != nil {
		t.Fatal(err)
	}
	hk := open(t)
	dec, ok := keys.Decrypter(hk)
	if !ok || !hk.Certificate().Equal(enc.Cert) {
		t.Fatal("the token key cannot decrypt, or is not the fund's encryption key")
	}
	// SoftHSM 2.6 decrypts RSA-OAEP only with SHA-1: these packages' content keys travel with PKCS#1
	// v1.5 (accepted on read, SPEC §2), and the key's self-test is not needed to decrypt them.
	viaToken := cmsenc.PKCS1v15
	proc, err := processor.New(withConfig(r.Cfg, func(c *processor.Config) { c.Decrypter = dec }))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.submit(t, receivertest.PackageOptions{KeyTransport: viaToken})
	notOurs, _ := r.submit(t, receivertest.PackageOptions{KeyTransport: viaToken, Recipient: r.SB.World.MustEntity(sandbox.TaxEncryption).Cert})
	r.afterGrace()
	if s, err := proc.RunOnce(ctx); err != nil || s.Processed != 1 || s.ContentRejected != 1 {
		t.Fatalf("with the token key: %+v %v", s, err)
	}
	if st := r.status(t, first); st.Status != string(processor.Processed) {
		t.Errorf("status %q", st.Status)
	}
	if st := r.status(t, notOurs); st.Status != string(processor.ContentRejected) || !hasCode(codesOf(st), errcode.D001) {
		t.Errorf("a package not encrypted to the fund: %q %v", st.Status, codesOf(st))
	}

	second, _ := r.submit(t, receivertest.PackageOptions{KeyTransport: viaToken})
	r.afterGrace()
	hk.Close() // the token stops answering
	if s, err := proc.RunOnce(ctx); err != nil || s.Errors != 1 || s.ContentRejected != 0 {
		t.Fatalf("with the token gone: %+v %v", s, err)
	}
	st := r.status(t, second)
	if st.Status != "awaiting-final-check" || st.Processing.Done || r.archived(t, second) {
		t.Fatalf("a key failure decided the package: %+v %+v", st, st.Processing)
	}
	dec2, _ := keys.Decrypter(open(t))
	proc2, err := processor.New(withConfig(r.Cfg, func(c *processor.Config) { c.Decrypter = dec2 }))
	if err != nil {
		t.Fatal(err)
	}
	r.SB.Clock.Advance(r.Cfg.Backoff.Max)
	if s, err := proc2.RunOnce(ctx); err != nil || s.Processed != 1 {
		t.Fatalf("with the token back: %+v %v", s, err)
	}
}
