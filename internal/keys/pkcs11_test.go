package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tagdij/tagdij/internal/keys/softhsm"
)

// softhsmDir is the directory of this test binary's SoftHSM2 configuration
// and tokens; empty when SoftHSM2 is not installed. The library reads
// SOFTHSM2_CONF at C_Initialize, so TestMain sets it once for the process
// and every test creates its own uniquely labelled token there.
var softhsmDir string

func TestMain(m *testing.M) {
	code := func() int {
		if softhsm.Available() == nil {
			dir, err := os.MkdirTemp("", "keys-softhsm-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			softhsmDir = dir
			os.Setenv(softhsm.ConfEnv, filepath.Join(dir, "softhsm2.conf"))
		}
		return m.Run()
	}()
	os.Exit(code)
}

var tokenCounter struct {
	sync.Mutex
	n int
}

const testPIN = "1234-felhasználó"

// newToken creates a fresh SoftHSM2 token, or skips the test when SoftHSM2
// is missing.
func newToken(t *testing.T) (*softhsm.Token, PKCS11Config) {
	t.Helper()
	if softhsmDir == "" {
		t.Skip("SoftHSM2 is not installed (softhsm2 package): skipping PKCS#11 tests")
	}
	tokenCounter.Lock()
	tokenCounter.n++
	label := fmt.Sprintf("t%d-%s", tokenCounter.n, t.Name())
	tokenCounter.Unlock()
	if len(label) > 32 {
		label = label[:32]
	}
	tok, err := softhsm.NewToken(context.Background(), softhsmDir, label, "so-pin-5678", testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv(softhsm.ConfEnv); got != tok.ConfPath {
		t.Fatalf("SOFTHSM2_CONF = %q, token config is %q", got, tok.ConfPath)
	}
	return tok, PKCS11Config{Module: tok.ModulePath, TokenLabel: tok.Label, PIN: SecretBytes(testPIN)}
}

// checkRegistryEmpty asserts that every session was released and the
// module finalised.
func checkRegistryEmpty(t *testing.T) {
	t.Helper()
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for p, m := range registry.modules {
		t.Errorf("module %s still loaded with %d references", p, m.refs)
	}
}

// A key imported into the token behaves exactly like its PKCS#12 copy.
func TestPKCS11MatchesPKCS12(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t)
	for _, kind := range keyKinds {
		t.Run(kind, func(t *testing.T) {
			_, cfg := newToken(t)
			key := testKey(t, kind)
			cert := ca.issue(t, key.Public(), "Pénztár "+kind, 0)
			p12 := filepath.Join(t.TempDir(), "k.p12")
			if err := WritePKCS12(p12, key, cert, []*x509.Certificate{ca.cert}, []byte("pw")); err != nil {
				t.Fatal(err)
			}
			soft, err := OpenPKCS12(ctx, p12, SecretBytes("pw"))
			if err != nil {
				t.Fatal(err)
			}
			defer soft.Close()
			id, err := ImportToPKCS11(ctx, cfg, "kulcs-"+kind, key, cert, ca.cert)
			if err != nil {
				t.Fatal(err)
			}
			if len(id) != 20 {
				t.Errorf("CKA_ID is %d bytes, want 20 (SHA-1)", len(id))
			}
			hk, err := OpenPKCS11(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := hk.Close(); err != nil {
					t.Error(err)
				}
				checkRegistryEmpty(t)
			}()
			if !hk.Certificate().Equal(cert) {
				t.Fatal("token key has the wrong certificate")
			}
			if ch := hk.Chain(); len(ch) != 1 || !ch[0].Equal(ca.cert) {
				t.Errorf("token chain has %d certificates, want the CA", len(ch))
			}
			if d := hk.Description(); !strings.Contains(d, "kulcs-"+kind) || !strings.Contains(d, cfg.TokenLabel) {
				t.Errorf("description %q lacks key or token label", d)
			}
			exerciseKey(t, hk)
			testSignRequestValidation(t, kind, hk)

			d := sha256Of("nyugta")
			if _, isRSA := key.(*rsa.PrivateKey); isRSA {
				// PKCS#1 v1.5 is deterministic: same key, same bytes.
				s1, err := soft.Sign(rand.Reader, d, crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				s2, err := hk.Sign(rand.Reader, d, crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(s1, s2) {
					t.Fatal("token and PKCS#12 PKCS#1 v1.5 signatures differ")
				}
				compareDecryption(t, key.Public().(*rsa.PublicKey), soft, hk)
			} else {
				if _, ok := Decrypter(hk); ok {
					t.Error("ECDSA token key offers a Decrypter")
				}
				// ECDSA is randomised: each side's signature verifies
				// with the one certificate.
				for _, k := range []Key{soft, hk} {
					s, err := k.Sign(rand.Reader, d, crypto.SHA256)
					if err != nil {
						t.Fatal(err)
					}
					if err := verify(cert.PublicKey, d, s, crypto.SHA256); err != nil {
						t.Fatalf("%s: %v", k.Description(), err)
					}
				}
			}
		})
	}
}

func compareDecryption(t *testing.T, pub *rsa.PublicKey, soft, hk Key) {
	t.Helper()
	sd, ok1 := Decrypter(soft)
	hd, ok2 := Decrypter(hk)
	if !ok1 || !ok2 {
		t.Fatalf("Decrypter: soft %v token %v", ok1, ok2)
	}
	msg := []byte("munkáltatói befizetés 2026-01")
	type scheme struct {
		name string
		ct   func() ([]byte, error)
		opts crypto.DecrypterOpts
	}
	schemes := []scheme{
		{"PKCS1v15 nil opts", func() ([]byte, error) { return rsa.EncryptPKCS1v15(rand.Reader, pub, msg) }, nil},
		{"PKCS1v15 opts", func() ([]byte, error) { return rsa.EncryptPKCS1v15(rand.Reader, pub, msg) }, &rsa.PKCS1v15DecryptOptions{}},
		{"OAEP SHA-256", func() ([]byte, error) { return rsa.EncryptOAEP(crypto.SHA256.New(), rand.Reader, pub, msg, nil) },
			&rsa.OAEPOptions{Hash: crypto.SHA256}},
		{"OAEP SHA-1", func() ([]byte, error) { return rsa.EncryptOAEP(crypto.SHA1.New(), rand.Reader, pub, msg, nil) },
			&rsa.OAEPOptions{Hash: crypto.SHA1}},
		{"OAEP SHA-256 label", func() ([]byte, error) {
			return rsa.EncryptOAEP(crypto.SHA256.New(), rand.Reader, pub, msg, []byte("címke"))
		}, &rsa.OAEPOptions{Hash: crypto.SHA256, Label: []byte("címke")}},
	}
	for _, s := range schemes {
		ct, err := s.ct()
		if err != nil {
			t.Fatal(err)
		}
		p1, err1 := sd.Decrypt(rand.Reader, ct, s.opts)
		p2, err2 := hd.Decrypt(rand.Reader, ct, s.opts)
		if o, ok := s.opts.(*rsa.OAEPOptions); ok && o.Hash != crypto.SHA1 && errors.Is(err2, ErrUnsupportedMechanism) {
			// SoftHSM 2.6 implements OAEP only with SHA-1; a newer
			// token must decrypt. The software key must work regardless.
			t.Logf("%s: token lacks the mechanism: %v", s.name, err2)
			if err1 != nil || !bytes.Equal(p1, msg) {
				t.Fatalf("%s: soft %q, %v", s.name, p1, err1)
			}
			continue
		}
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: soft err %v, token err %v", s.name, err1, err2)
		}
		if !bytes.Equal(p1, msg) || !bytes.Equal(p2, msg) {
			t.Fatalf("%s: soft %q token %q", s.name, p1, p2)
		}
	}
	// Negative cases: a wrong OAEP label, a tampered ciphertext.
	ct, _ := rsa.EncryptOAEP(crypto.SHA1.New(), rand.Reader, pub, msg, []byte("a"))
	if _, err := hd.Decrypt(rand.Reader, ct, &rsa.OAEPOptions{Hash: crypto.SHA1, Label: []byte("b")}); err == nil {
		t.Error("token decrypted with the wrong OAEP label")
	}
	ct[len(ct)-1] ^= 1
	if _, err := hd.Decrypt(rand.Reader, ct, &rsa.OAEPOptions{Hash: crypto.SHA1, Label: []byte("a")}); err == nil {
		t.Error("token decrypted a tampered ciphertext")
	}
	if _, err := hd.Decrypt(rand.Reader, ct[1:], nil); err == nil {
		t.Error("token accepted a short ciphertext")
	}
	// The SessionKeyLen countermeasure: random key instead of an error.
	got, err := hd.Decrypt(rand.Reader, ct, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 16})
	if err != nil || len(got) != 16 {
		t.Errorf("SessionKeyLen on bad ciphertext: %d bytes, %v", len(got), err)
	}
	good, _ := rsa.EncryptPKCS1v15(rand.Reader, pub, msg[:16])
	if got, err := hd.Decrypt(rand.Reader, good, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 16}); err != nil || !bytes.Equal(got, msg[:16]) {
		t.Errorf("SessionKeyLen on good ciphertext: %q, %v", got, err)
	}
}

// fixture: a token with a signing key, a decryption key whose certificate
// was renewed (two certificates, one key), and a second signing key.
type selectionFixture struct {
	cfg                   PKCS11Config
	sig, enc1, enc2, sig2 *x509.Certificate
	sigID                 []byte
}

func newSelectionFixture(t *testing.T) *selectionFixture {
	t.Helper()
	ctx := context.Background()
	_, cfg := newToken(t)
	ca := newTestCA(t)
	f := &selectionFixture{cfg: cfg}
	sigKey, encKey, sig2Key := testKey(t, "p256"), testKey(t, "rsa2048"), testKey(t, "rsa2048b")
	f.sig = ca.issue(t, sigKey.Public(), "Nyugta Aláíró", x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment)
	f.enc1 = ca.issue(t, encKey.Public(), "Pénztár Titkosító", x509.KeyUsageKeyEncipherment)
	f.enc2 = ca.issue(t, encKey.Public(), "Pénztár Titkosító", x509.KeyUsageKeyEncipherment)
	f.sig2 = ca.issue(t, sig2Key.Public(), "Második Aláíró", x509.KeyUsageDigitalSignature)
	var err error
	if f.sigID, err = ImportToPKCS11(ctx, cfg, "receipt", sigKey, f.sig, ca.cert); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportToPKCS11(ctx, cfg, "decrypt", encKey, f.enc1, ca.cert); err != nil {
		t.Fatal(err)
	}
	// The renewed certificate for the same key: store just the certificate
	// by importing it with the same key (a second key object would be a
	// second candidate; we want one key, two certificates).
	if err := importCertOnly(ctx, cfg, "decrypt", f.enc2); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportToPKCS11(ctx, cfg, "receipt-2", sig2Key, f.sig2); err != nil {
		t.Fatal(err)
	}
	return f
}

// importCertOnly stores a certificate object with the CKA_ID of its key.
func importCertOnly(ctx context.Context, cfg PKCS11Config, label string, cert *x509.Certificate) error {
	s, err := registry.openSession(ctx, &cfg, true)
	if err != nil {
		return err
	}
	defer s.close()
	keys, _, err := s.enumerate()
	if err != nil {
		return err
	}
	for _, k := range keys {
		if samePublicKey(k.pub, cert.PublicKey) {
			_, err := s.ctx().CreateObject(s.h, certTemplate(cert, k.id, label))
			return err
		}
	}
	return errors.New("no key for certificate")
}

func TestPKCS11Selection(t *testing.T) {
	ctx := context.Background()
	f := newSelectionFixture(t)
	defer checkRegistryEmpty(t)

	tests := []struct {
		name  string
		sel   func(*PKCS11Config)
		want  *x509.Certificate // nil: error
		err   error
		nCand int // candidates listed in the SelectionError
	}{
		{"no selector, several keys", func(c *PKCS11Config) {}, nil, ErrAmbiguous, 4},
		{"by label", func(c *PKCS11Config) { c.KeyLabel = "receipt" }, f.sig, nil, 0},
		{"by label of renewed key", func(c *PKCS11Config) { c.KeyLabel = "decrypt" }, nil, ErrAmbiguous, 2},
		{"by label and serial", func(c *PKCS11Config) { c.KeyLabel = "decrypt"; c.CertSerial = f.enc2.SerialNumber }, f.enc2, nil, 0},
		{"by serial only", func(c *PKCS11Config) { c.CertSerial = f.enc1.SerialNumber }, f.enc1, nil, 0},
		{"by subject CN", func(c *PKCS11Config) { c.CertSubject = "Második Aláíró" }, f.sig2, nil, 0},
		{"by full subject DN", func(c *PKCS11Config) { c.CertSubject = f.sig.Subject.String() }, f.sig, nil, 0},
		{"by ID", func(c *PKCS11Config) { c.KeyID = f.sigID }, f.sig, nil, 0},
		{"subject prefix is not a match", func(c *PKCS11Config) { c.CertSubject = "Nyugta" }, nil, ErrNoKey, 5},
		{"unknown label", func(c *PKCS11Config) { c.KeyLabel = "nincs" }, nil, ErrNoKey, 5},
		{"label and subject disagree", func(c *PKCS11Config) { c.KeyLabel = "receipt"; c.CertSubject = "Második Aláíró" }, nil, ErrNoKey, 5},
		{"external certificate", func(c *PKCS11Config) { c.Certificate = f.sig2 }, f.sig2, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.cfg
			tc.sel(&cfg)
			k, err := OpenPKCS11(ctx, cfg)
			if tc.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				defer k.Close()
				if !k.Certificate().Equal(tc.want) {
					t.Fatalf("selected %s, want %s", certSummary(k.Certificate()), certSummary(tc.want))
				}
				return
			}
			if err == nil {
				k.Close()
				t.Fatalf("selected %s, want error %v", certSummary(k.Certificate()), tc.err)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var se *SelectionError
			if !errors.As(err, &se) {
				t.Fatalf("err %T is not a *SelectionError", err)
			}
			if len(se.Candidates) != tc.nCand {
				t.Errorf("%d candidates listed, want %d:\n%v", len(se.Candidates), tc.nCand, err)
			}
		})
	}

	t.Run("list with PIN", func(t *testing.T) {
		infos, err := ListPKCS11(ctx, f.cfg)
		if err != nil {
			t.Fatal(err)
		}
		// 4 key/certificate pairs and the CA certificate.
		if len(infos) != 5 {
			t.Fatalf("%d entries, want 5: %v", len(infos), infos)
		}
		bySerial := map[string]KeyInfo{}
		for _, i := range infos {
			if i.Serial != nil {
				bySerial[i.Serial.String()] = i
			}
		}
		i := bySerial[f.enc2.SerialNumber.String()]
		if i.Label != "decrypt" || !i.HasPrivateKey || i.KeyType != "RSA-2048" || i.KeyUsage != x509.KeyUsageKeyEncipherment ||
			!i.NotAfter.Equal(f.enc2.NotAfter) || i.Subject != f.enc2.Subject.String() || i.CanSign || !i.CanDecrypt {
			t.Errorf("renewed decryption certificate entry wrong: %+v", i)
		}
		i = bySerial[f.sig.SerialNumber.String()]
		if i.Label != "receipt" || !i.CanSign || i.CanDecrypt || i.KeyType != "ECDSA P-256" || !bytes.Equal(i.ID, f.sigID) {
			t.Errorf("signing key entry wrong: %+v", i)
		}
	})
	t.Run("list without PIN", func(t *testing.T) {
		cfg := f.cfg
		cfg.PIN = nil
		infos, err := ListPKCS11(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 5 {
			t.Fatalf("%d entries, want the 5 certificates", len(infos))
		}
		for _, i := range infos {
			if i.HasPrivateKey || i.Certificate == nil {
				t.Errorf("without login an entry claims a private key or lacks a certificate: %v", i)
			}
		}
	})
}

// The token enforces CKA_DECRYPT even when the certificate would allow it.
func TestPKCS11TokenEnforcesUsage(t *testing.T) {
	ctx := context.Background()
	_, cfg := newToken(t)
	defer checkRegistryEmpty(t)
	ca := newTestCA(t)
	key := testKey(t, "rsa2048c")
	sigOnly := ca.issue(t, key.Public(), "Csak aláír", x509.KeyUsageDigitalSignature)
	anyUse := ca.issue(t, key.Public(), "Bármire", 0)
	if _, err := ImportToPKCS11(ctx, cfg, "s", key, sigOnly); err != nil {
		t.Fatal(err)
	}
	k, err := OpenPKCS11(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Decrypter(k); ok {
		t.Error("signing-only certificate yields a Decrypter")
	}
	k.Close()

	cfg.Certificate = anyUse
	k, err = OpenPKCS11(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	d, ok := Decrypter(k)
	if !ok {
		t.Fatal("certificate without key usage yields no Decrypter")
	}
	ct, _ := rsa.EncryptPKCS1v15(rand.Reader, key.Public().(*rsa.PublicKey), []byte("x"))
	if _, err := d.Decrypt(rand.Reader, ct, nil); !errors.Is(err, ErrKeyUsage) {
		t.Errorf("decrypt with CKA_DECRYPT=false: err = %v, want ErrKeyUsage", err)
	}
}

func TestPKCS11PIN(t *testing.T) {
	ctx := context.Background()
	_, cfg := newToken(t)
	defer checkRegistryEmpty(t)
	ca := newTestCA(t)
	key := testKey(t, "p256")
	if _, err := ImportToPKCS11(ctx, cfg, "k", key, ca.issue(t, key.Public(), "PIN", 0)); err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.PIN = SecretBytes("0000")
	if _, err := OpenPKCS11(ctx, bad); !errors.Is(err, ErrIncorrectPIN) {
		t.Fatalf("wrong PIN: err = %v, want ErrIncorrectPIN", err)
	}
	noPIN := cfg
	noPIN.PIN = nil
	if _, err := OpenPKCS11(ctx, noPIN); err == nil {
		t.Fatal("opened without a PIN")
	}
	k, err := OpenPKCS11(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	// The token is now logged in for the process; C_Login would not check
	// a PIN any more, the registry must.
	if k2, err := OpenPKCS11(ctx, bad); !errors.Is(err, ErrIncorrectPIN) {
		if k2 != nil {
			k2.Close()
		}
		t.Fatalf("wrong PIN while logged in: err = %v, want ErrIncorrectPIN", err)
	}
	k2, err := OpenPKCS11(ctx, cfg)
	if err != nil {
		t.Fatalf("right PIN while logged in: %v", err)
	}
	// Two keys on one token work independently and concurrently.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kk := k
			if i%2 == 1 {
				kk = k2
			}
			d := sha256Of(fmt.Sprint(i))
			s, err := kk.Sign(rand.Reader, d, crypto.SHA256)
			if err == nil {
				err = verify(key.Public(), d, s, crypto.SHA256)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	k2.Close()
	if _, err := k.Sign(rand.Reader, sha256Of("x"), crypto.SHA256); err != nil {
		t.Errorf("closing one key broke the other: %v", err)
	}
}

func TestPKCS11ModuleAndToken(t *testing.T) {
	ctx := context.Background()
	tok, cfg := newToken(t)
	defer checkRegistryEmpty(t)
	notLib := filepath.Join(t.TempDir(), "not-a-library.so")
	if err := os.WriteFile(notLib, []byte("nem könyvtár"), 0o600); err != nil {
		t.Fatal(err)
	}
	slot := tok.Slot
	wrongSlot := tok.Slot + 1
	tests := []struct {
		name string
		mod  func(*PKCS11Config)
		err  error
	}{
		{"missing module", func(c *PKCS11Config) { c.Module = "/nonexistent/libpkcs11.so" }, ErrModule},
		{"empty module", func(c *PKCS11Config) { c.Module = "" }, ErrModule},
		{"not a library", func(c *PKCS11Config) { c.Module = notLib }, ErrModule},
		{"unknown token label", func(c *PKCS11Config) { c.TokenLabel = "nincs-ilyen" }, ErrModule},
		{"wrong slot", func(c *PKCS11Config) { c.TokenLabel = ""; c.Slot = &wrongSlot }, ErrModule},
		{"several tokens", func(c *PKCS11Config) { c.TokenLabel = "" }, ErrAmbiguous},
		{"empty token by slot", func(c *PKCS11Config) { c.TokenLabel = ""; c.Slot = &slot }, ErrNoKey},
		{"empty token by label", func(c *PKCS11Config) {}, ErrNoKey},
	}
	// A second token makes "several tokens" true even when this test runs
	// alone.
	newToken(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			tc.mod(&c)
			k, err := OpenPKCS11(ctx, c)
			if err == nil {
				k.Close()
				t.Fatal("expected an error")
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestParseSerial(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1234", 1234, true},
		{"0x4d2", 1234, true},
		{"04:d2", 1234, true},
		{" 1234 ", 1234, true},
		{"", 0, false},
		{"-5", 0, false},
		{"0xzz", 0, false},
		{"4d2", 0, false},
	}
	for _, tc := range tests {
		n, err := ParseSerial(tc.in)
		if tc.ok != (err == nil) {
			t.Errorf("ParseSerial(%q) err = %v", tc.in, err)
			continue
		}
		if tc.ok && n.Int64() != tc.want {
			t.Errorf("ParseSerial(%q) = %v, want %d", tc.in, n, tc.want)
		}
	}
}

func FuzzParseSerial(f *testing.F) {
	for _, s := range []string{"1", "0x1f", "01:ff", "", "-1", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSerial(s)
		if err == nil && n.Sign() < 0 {
			t.Fatalf("negative serial from %q", s)
		}
	})
}

// Keys marked CKA_ALWAYS_AUTHENTICATE (qualified-signature cards) need the
// PIN again for every operation; the Key reads it from the PIN source.
func TestPKCS11AlwaysAuthenticate(t *testing.T) {
	ctx := context.Background()
	_, cfg := newToken(t)
	defer checkRegistryEmpty(t)
	ca := newTestCA(t)
	key := testKey(t, "p256")
	if _, err := importToPKCS11(ctx, cfg, "qes", key, ca.issue(t, key.Public(), "Minősített", 0), true, nil); err != nil {
		t.Skipf("token does not accept CKA_ALWAYS_AUTHENTICATE: %v", err)
	}
	infos, err := ListPKCS11(ctx, cfg)
	if err != nil || len(infos) != 1 {
		t.Fatalf("list: %v %v", infos, err)
	}

	pin := &countingSecret{pin: testPIN}
	cfg.PIN = pin
	k, err := OpenPKCS11(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	for i := range 2 {
		d := sha256Of(fmt.Sprint(i))
		sig, err := k.Sign(rand.Reader, d, crypto.SHA256)
		if err != nil {
			t.Fatalf("sign %d: %v", i, err)
		}
		if err := verify(key.Public(), d, sig, crypto.SHA256); err != nil {
			t.Fatal(err)
		}
	}
	if pin.reads != 3 { // login + one per signature
		t.Errorf("PIN read %d times, want 3", pin.reads)
	}
	// A wrong PIN at signing time fails that signature, and the session
	// stays usable.
	pin.pin = "0000"
	if _, err := k.Sign(rand.Reader, sha256Of("x"), crypto.SHA256); !errors.Is(err, ErrIncorrectPIN) {
		t.Errorf("wrong context PIN: err = %v, want ErrIncorrectPIN", err)
	}
	pin.pin = testPIN
	if _, err := k.Sign(rand.Reader, sha256Of("y"), crypto.SHA256); err != nil {
		t.Errorf("sign after a failed context login: %v", err)
	}
}

type countingSecret struct {
	mu    sync.Mutex
	pin   string
	reads int
}

func (c *countingSecret) Read(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return []byte(c.pin), nil
}
