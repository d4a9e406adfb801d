package xmldsig

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPSSAgainstOpenSSL: xmlsec1 1.2.37 has no RSA-PSS, so our RSA-PSS verdicts (the aleksey
// enveloping-rsa-pss-* samples and our own PSS signatures) are checked by openssl instead: it
// verifies the SignatureValue over the canonical SignedInfo we produce, with PSS, MGF1 of the same
// hash and salt length = hash length. (Our SignedInfo canonicalization is checked against xmlsec1 by
// TestConformance.)
func TestPSSAgainstOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	docs := map[string][]byte{}
	for _, c := range interopCases() {
		if strings.Contains(c.alg, "rsa-MGF1") {
			docs["ours/"+c.shape] = signInterop(t, c)
		}
	}
	dir := filepath.Join(sharedDir(t), "conformance", "xmlsec", "tests", "aleksey-xmldsig-01")
	for _, h := range []string{"sha1", "sha224", "sha256", "sha384", "sha512"} {
		data, err := os.ReadFile(filepath.Join(dir, "enveloping-rsa-pss-"+h+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		docs["aleksey/"+h] = data
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			res, err := Verify(doc, VerifyOptions{})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			r := res[0]
			hash := map[string]string{RSAPSSSHA1: "sha1", RSAPSSSHA224: "sha224", RSAPSSSHA256: "sha256", RSAPSSSHA384: "sha384", RSAPSSSHA512: "sha512"}[r.SignatureMethod]
			pubDER, err := x509.MarshalPKIXPublicKey(r.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			sv := reSigValueAny.FindSubmatch(doc)
			sig, err := decodeBase64(string(sv[1]))
			if err != nil {
				t.Fatal(err)
			}
			dir := writeTemp(t, map[string][]byte{
				"pub.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
				"si.bin":  r.SignedInfo, "sig.bin": sig,
			})
			check := func(data string) bool {
				cmd := exec.Command("openssl", "dgst", "-"+hash, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest",
					"-sigopt", "rsa_mgf1_md:"+hash, "-verify", "pub.pem", "-signature", "sig.bin", data)
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				return err == nil && bytes.Contains(out, []byte("Verified OK"))
			}
			if !check("si.bin") {
				t.Fatalf("openssl rejects the signature over our canonical SignedInfo")
			}
			// Negative control: openssl must reject a changed SignedInfo.
			if err := os.WriteFile(filepath.Join(dir, "bad.bin"), append(append([]byte{}, r.SignedInfo...), ' '), 0o600); err != nil {
				t.Fatal(err)
			}
			if check("bad.bin") {
				t.Fatal("openssl accepts a changed SignedInfo")
			}
		})
	}
}
