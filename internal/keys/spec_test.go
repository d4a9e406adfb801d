package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKeySpec(t *testing.T) {
	slot := func(n uint) *uint { return &n }
	const mod = "/usr/lib/softhsm/libsofthsm2.so"
	for _, c := range []struct {
		in   string
		want KeySpec
	}{
		{"p12:/home/anna/kulcs.p12", KeySpec{Kind: KindPKCS12, Path: "/home/anna/kulcs.p12"}},
		{"PKCS12:rel/k;ey=1.p12", KeySpec{Kind: KindPKCS12, Path: "rel/k;ey=1.p12"}}, // path taken literally
		{"pkcs11:module=" + mod, KeySpec{Kind: KindPKCS11, Module: mod}},
		{"pkcs11:module=" + mod + ";token=Anna kártyája;slot=3;key=aláíró;id=0a:FF:10;subject=Kovács Anna;serial=0x1f",
			KeySpec{Kind: KindPKCS11, Module: mod, Token: "Anna kártyája", Slot: slot(3), KeyLabel: "aláíró",
				KeyID: []byte{0x0a, 0xff, 0x10}, Subject: "Kovács Anna", Serial: big.NewInt(31)}},
		// RFC 7512 names, percent-encoding, '=' inside a value, trailing ';', case of names.
		{"pkcs11:module-path=/opt/p%2511.so;slot-id=0;object=a%3Bb;Token-Serial=99;subject=CN=Kiss Anna,O=Példa Kft.,C=HU;",
			KeySpec{Kind: KindPKCS11, Module: "/opt/p%11.so", Slot: slot(0), KeyLabel: "a;b", TokenSerial: "99",
				Subject: "CN=Kiss Anna,O=Példa Kft.,C=HU"}},
		{"pkcs11:serial=01:00;module=" + mod, KeySpec{Kind: KindPKCS11, Module: mod, Serial: big.NewInt(256)}},
		{"pkcs11:serial=4096;module=" + mod, KeySpec{Kind: KindPKCS11, Module: mod, Serial: big.NewInt(4096)}},
	} {
		got, err := ParseKeySpec(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("%q: got %+v, want %+v", c.in, got, c.want)
		}
		// The canonical text reads back to the same spec.
		again, err := ParseKeySpec(got.String())
		if err != nil || !again.Equal(got) {
			t.Errorf("%q: String %q does not round-trip: %+v, %v", c.in, got.String(), again, err)
		}
	}
}

func TestParseKeySpecMalformed(t *testing.T) {
	const secret = "Titok-1234"
	for _, c := range []struct {
		in, wantMsg string
	}{
		{"", "p12: or pkcs11:"},
		{secret, "p12: or pkcs11:"}, // a password typed where the spec belongs
		{"/path/to/key.p12", "p12: or pkcs11:"},
		{"p12:", "needs a file path"},
		{"p12:a\x00b", "NUL"},
		{"file:" + secret, "unknown scheme"},
		{"pkcs11:", "module=PATH is required"},
		{"pkcs11:token=x", "module=PATH is required"},
		{"pkcs11:module=/m.so;;token=x", "empty attribute"},
		{"pkcs11:module=/m.so;token", "needs a value"},
		{"pkcs11:module=/m.so;token=", "is empty"},
		{"pkcs11:module=/m.so;token=a;token=b", "given twice"},
		{"pkcs11:module=/m.so;object=a;key=b", "given twice"}, // alias and name are the same attribute
		{"pkcs11:module=/m.so;slot=-1", "decimal"},
		{"pkcs11:module=/m.so;slot=x", "decimal"},
		{"pkcs11:module=/m.so;slot=99999999999", "decimal"},
		{"pkcs11:module=/m.so;id=xyz", "hexadecimal"},
		{"pkcs11:module=/m.so;id=", "is empty"},
		{"pkcs11:module=/m.so;serial=-5", "serial"},
		{"pkcs11:module=/m.so;serial=0xZZ", "serial"},
		{"pkcs11:module=/m.so;token=%zz", "percent"},
		{"pkcs11:module=/m.so;token=a%00b", "NUL"},
		{"pkcs11:module=/m.so;pin-value=" + secret, "PIN never"},
		{"pkcs11:module=/m.so;pin-source=file:" + secret, "PIN never"},
		{"pkcs11:module=/m.so;PIN=" + secret, "PIN never"},
		{"pkcs11:module=/m.so;jelszo=" + secret, "unknown attribute"},
	} {
		_, err := ParseKeySpec(c.in)
		if err == nil {
			t.Errorf("%q: accepted", c.in)
			continue
		}
		if !errors.Is(err, ErrKeySpec) {
			t.Errorf("%q: error %v does not wrap ErrKeySpec", c.in, err)
		}
		if !strings.Contains(err.Error(), c.wantMsg) {
			t.Errorf("%q: error %q lacks %q", c.in, err, c.wantMsg)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q: error repeats the secret: %v", c.in, err)
		}
	}
}

func TestKeySpecPKCS11Config(t *testing.T) {
	s, err := ParseKeySpec("pkcs11:module=/m.so;slot=2;token=T;token-serial=S;key=K;id=01;subject=CN;serial=7")
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.PKCS11Config(SecretBytes("pin"))
	if cfg.Module != "/m.so" || cfg.Slot == nil || *cfg.Slot != 2 || cfg.TokenLabel != "T" || cfg.TokenSerial != "S" ||
		cfg.KeyLabel != "K" || !bytes.Equal(cfg.KeyID, []byte{1}) || cfg.CertSubject != "CN" ||
		cfg.CertSerial.Cmp(big.NewInt(7)) != 0 || cfg.PIN == nil {
		t.Errorf("config %+v", cfg)
	}
	// The config does not alias the spec.
	*cfg.Slot = 9
	cfg.KeyID[0] = 9
	if *s.Slot != 2 || s.KeyID[0] != 1 {
		t.Error("PKCS11Config shares memory with the spec")
	}
	p12, _ := ParseKeySpec("p12:x.p12")
	if c := p12.PKCS11Config(nil); c.Module != "" {
		t.Errorf("p12 spec gave a PKCS#11 config %+v", c)
	}
}

// OpenKey opens the same key from a PKCS#12 file and from a token, each named by a spec.
func TestOpenKey(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t)
	key := testKey(t, "rsa2048")
	cert := ca.issue(t, key.Public(), "Kovács Anna", x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment)
	path := filepath.Join(t.TempDir(), "anna.p12")
	if err := WritePKCS12(path, key, cert, []*x509.Certificate{ca.cert}, []byte("jelszó")); err != nil {
		t.Fatal(err)
	}
	spec, err := ParseKeySpec("p12:" + path)
	if err != nil {
		t.Fatal(err)
	}
	soft, err := OpenKey(ctx, spec, SecretBytes("jelszó"))
	if err != nil {
		t.Fatal(err)
	}
	defer soft.Close()
	if !soft.Certificate().Equal(cert) {
		t.Fatal("wrong certificate")
	}
	if _, err := OpenKey(ctx, spec, SecretBytes("rossz")); !errors.Is(err, ErrIncorrectPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := OpenKey(ctx, spec, nil); err == nil {
		t.Error("nil secret accepted")
	}
	if _, err := OpenKey(ctx, KeySpec{Kind: "x"}, SecretBytes("a")); !errors.Is(err, ErrKeySpec) {
		t.Errorf("unknown kind: %v", err)
	}

	tok, cfg := newToken(t)
	if _, err := ImportToPKCS11(ctx, cfg, "anna", key, cert, ca.cert); err != nil {
		t.Fatal(err)
	}
	// A second key on the token, so the selection in the spec matters.
	other := testKey(t, "p256")
	otherCert := ca.issue(t, other.Public(), "Nagy Béla", x509.KeyUsageDigitalSignature)
	if _, err := ImportToPKCS11(ctx, cfg, "bela", other, otherCert); err != nil {
		t.Fatal(err)
	}
	p11 := KeySpec{Kind: KindPKCS11, Module: tok.ModulePath, Token: tok.Label, KeyLabel: "anna"}
	p11, err = ParseKeySpec(p11.String())
	if err != nil {
		t.Fatal(err)
	}
	hk, err := OpenKey(ctx, p11, SecretBytes(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	d := sha256Of("bevallás")
	s1, err := soft.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := hk.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1, s2) || verify(cert.PublicKey, d, s2, crypto.SHA256) != nil {
		t.Error("token and PKCS#12 signatures differ or do not verify")
	}
	hk.Close()

	// Without a key selector the two keys are ambiguous.
	amb := KeySpec{Kind: KindPKCS11, Module: tok.ModulePath, Token: tok.Label}
	if _, err := OpenKey(ctx, amb, SecretBytes(testPIN)); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("ambiguous selection: %v", err)
	}
	bySubject := KeySpec{Kind: KindPKCS11, Module: tok.ModulePath, Token: tok.Label, Subject: "Nagy Béla"}
	bk, err := OpenKey(ctx, bySubject, SecretBytes(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	if !bk.Certificate().Equal(otherCert) {
		t.Error("subject selected the wrong key")
	}
	bk.Close()
	checkRegistryEmpty(t)
}

func FuzzParseKeySpec(f *testing.F) {
	for _, s := range []string{"p12:a.p12", "pkcs11:module=/m.so;token=T;key=K;id=0102;serial=0x10;slot=1",
		"pkcs11:module=/m%3B.so;subject=CN=A,O=B", "pkcs11:pin-value=1", "pkcs11:;", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseKeySpec(in)
		if err != nil {
			return
		}
		again, err := ParseKeySpec(s.String())
		if err != nil {
			t.Fatalf("%q: canonical form %q rejected: %v", in, s.String(), err)
		}
		if !again.Equal(s) {
			t.Fatalf("%q: %+v ≠ %+v after %q", in, s, again, s.String())
		}
	})
}
