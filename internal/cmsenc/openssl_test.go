package cmsenc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runOpenSSL(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestOpenSSLDecryptsOurs: every recipient recovers the exact plaintext with `openssl cms -decrypt`,
// whatever key transport and recipient identifier we wrote, and also through a RecipientInfo added
// later with WrapKeyFor (the tax-authority export).
func TestOpenSSLDecryptsOurs(t *testing.T) {
	bin := requireOpenSSL(t)
	p := pki(t)
	dir := t.TempDir()
	pt := randomBytes(t, 70_001) // binary, so any text-mode conversion would show
	modes := map[string]*Options{
		"oaep":      nil,
		"pkcs1v15":  {KeyTransport: PKCS1v15},
		"oaep-ski":  {SubjectKeyID: true},
		"pkcs1-ski": {KeyTransport: PKCS1v15, SubjectKeyID: true},
	}
	for name, opts := range modes {
		t.Run(name, func(t *testing.T) {
			der, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, opts)
			if err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(dir, name+".p7m")
			if err := os.WriteFile(in, der, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, who := range []*party{p.fund, p.sender} {
				out := filepath.Join(dir, name+"."+who.name+".out")
				runOpenSSL(t, bin, "cms", "-decrypt", "-inform", "DER", "-in", in, "-recip", who.certPath,
					"-inkey", who.keyPath, "-out", out)
				got, _ := os.ReadFile(out)
				if !bytes.Equal(got, pt) {
					t.Fatalf("%s: openssl recovered %d bytes, not the %d-byte plaintext", who.name, len(got), len(pt))
				}
			}
			// A stranger's key must not decrypt it: the interop check can fail.
			cmd := exec.Command(bin, "cms", "-decrypt", "-inform", "DER", "-in", in, "-recip", p.stranger.certPath,
				"-inkey", p.stranger.keyPath, "-out", filepath.Join(dir, "stranger.out"))
			if err := cmd.Run(); err == nil {
				t.Fatal("openssl decrypted with a stranger's key")
			}
		})
	}
	t.Run("export RecipientInfo", func(t *testing.T) {
		der, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := ContentKey(der, p.fund.cert, p.fund.key)
		if err != nil {
			t.Fatal(err)
		}
		ri, err := WrapKeyFor(ck, p.authority.cert, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(dir, "export.p7m")
		os.WriteFile(in, addRecipient(t, der, ri), 0o600)
		out := filepath.Join(dir, "export.out")
		runOpenSSL(t, bin, "cms", "-decrypt", "-inform", "DER", "-in", in, "-recip", p.authority.certPath,
			"-inkey", p.authority.keyPath, "-out", out)
		if got, _ := os.ReadFile(out); !bytes.Equal(got, pt) {
			t.Fatal("openssl could not use the RecipientInfo from WrapKeyFor")
		}
	})
}

// TestWeDecryptOpenSSL: what `openssl cms -encrypt` writes, with OAEP (SHA-256 and its SHA-1 default),
// PKCS#1 v1.5, SKI identifiers, streaming BER, other AES key sizes and AES-GCM, decrypts with either
// recipient's key through an opaque crypto.Decrypter; triple DES is refused as an algorithm.
func TestWeDecryptOpenSSL(t *testing.T) {
	bin := requireOpenSSL(t)
	p := pki(t)
	dir := t.TempDir()
	pt := randomBytes(t, 50_000)
	in := filepath.Join(dir, "plain.bin")
	if err := os.WriteFile(in, pt, 0o600); err != nil {
		t.Fatal(err)
	}
	oaep256 := []string{"-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"}
	recips := func(extra ...string) []string {
		var a []string
		for _, who := range []*party{p.fund, p.sender} {
			a = append(a, "-recip", who.certPath)
			a = append(a, extra...)
		}
		return a
	}
	cases := []struct {
		name   string
		args   []string
		alg    string // expected KeyEncryption of the recipients
		refuse error
	}{
		{"aes256 oaep-sha256", append([]string{"-aes256"}, recips(oaep256...)...), "RSAES-OAEP SHA-256", nil},
		{"aes256 pkcs1v15", append([]string{"-aes256"}, recips()...), "RSA PKCS#1 v1.5", nil},
		{"aes256 oaep-sha1 default", append([]string{"-aes256"}, recips("-keyopt", "rsa_padding_mode:oaep")...), "RSAES-OAEP SHA-1", nil},
		{"aes256 oaep keyid", append([]string{"-aes256", "-keyid"}, recips(oaep256...)...), "RSAES-OAEP SHA-256", nil},
		{"aes256 oaep stream (BER)", append([]string{"-aes256", "-stream"}, recips(oaep256...)...), "RSAES-OAEP SHA-256", nil},
		{"aes128", append([]string{"-aes128"}, recips(oaep256...)...), "RSAES-OAEP SHA-256", nil},
		{"aes192", append([]string{"-aes192"}, recips()...), "RSA PKCS#1 v1.5", nil},
		{"aes-256-gcm (AuthEnvelopedData)", append([]string{"-aes-256-gcm"}, recips(oaep256...)...), "RSAES-OAEP SHA-256", nil},
		{"des3", append([]string{"-des3"}, recips()...), "RSA PKCS#1 v1.5", ErrAlgorithm},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".der")
			args := append([]string{"cms", "-encrypt", "-binary", "-in", in, "-outform", "DER", "-out", out}, c.args...)
			runOpenSSL(t, bin, args...)
			der, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := Recipients(der)
			if err != nil || len(ids) != 2 {
				t.Fatalf("Recipients: %v %v", ids, err)
			}
			for _, id := range ids {
				if id.KeyEncryption != c.alg {
					t.Errorf("recipient %v: want %s", id, c.alg)
				}
				if strings.Contains(c.name, "keyid") != (id.SubjectKeyID != nil) {
					t.Errorf("recipient %v: unexpected identifier kind", id)
				}
			}
			// The variants really exercise what they are named for.
			env, err := parseEnvelope(der)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(c.name, "BER") != (der[1] == 0x80) || strings.Contains(c.name, "gcm") != env.auth {
				t.Fatalf("openssl output is not of the expected shape (indefinite %v, auth %v)", der[1] == 0x80, env.auth)
			}
			for _, who := range []*party{p.fund, p.sender} {
				got, err := Decrypt(der, who.cert, opaqueDecrypter{k: who.key})
				if c.refuse != nil {
					wantCode(t, err, c.refuse)
					if !strings.Contains(err.Error(), "not accepted") {
						t.Fatalf("unclear refusal: %v", err)
					}
					continue
				}
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%s: %v", who.name, err)
				}
			}
			if c.refuse == nil && i == 0 {
				_, err := Decrypt(der, p.stranger.cert, p.stranger.key)
				wantCode(t, err, ErrDecrypt)
			}
		})
	}
}
