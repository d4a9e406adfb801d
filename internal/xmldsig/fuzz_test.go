package xmldsig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerify: Verify never panics on any input and its results are consistent. Seeds: every
// conformance sample (when the shared directory is present) and our own signatures.
func FuzzVerify(f *testing.F) {
	root := os.Getenv("TAGDIJ_SHARED")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared")
	}
	for _, pat := range []string{"conformance/xmlsec/tests/*/*.xml", "conformance/*.es3"} {
		files, _ := filepath.Glob(filepath.Join(root, pat))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	for _, c := range interopCases()[:5] {
		f.Add(signInterop(f, c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		results, err := Verify(data, VerifyOptions{MaxSignatures: 4})
		anyInvalid := false
		for _, r := range results {
			if r.Valid != (r.Err == nil) {
				t.Fatalf("Valid=%v with Err=%v", r.Valid, r.Err)
			}
			anyInvalid = anyInvalid || !r.Valid
		}
		if anyInvalid && err == nil {
			t.Fatal("an invalid signature without an error")
		}
	})
}

// TestECDSAEncoding: r||s is fixed-width, left-padded, and round-trips through verification.
func TestECDSAEncoding(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		size := (curve.Params().BitSize + 7) / 8
		digest := sha256.Sum256([]byte("x"))
		// Enough signatures that some r or s has a leading zero byte and must be padded.
		for i := 0; i < 40; i++ {
			der, err := k.Sign(rand.Reader, digest[:], nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := ecdsaDERToRaw(der, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != 2*size {
				t.Fatalf("%s: %d bytes", curve.Params().Name, len(raw))
			}
			if err := verifyValue(sigAlg{key: KeyECDSA}, &k.PublicKey, digest[:], raw); err != nil {
				t.Fatalf("%s: %v", curve.Params().Name, err)
			}
		}
		// Refused: longer than r||s, odd length, DER.
		der, _ := k.Sign(rand.Reader, digest[:], nil)
		raw, _ := ecdsaDERToRaw(der, size)
		for name, bad := range map[string][]byte{"padded": append([]byte{0, 0}, raw...), "odd": raw[1:], "der": der} {
			if err := verifyValue(sigAlg{key: KeyECDSA}, &k.PublicKey, digest[:], bad); err == nil && name != "der" {
				t.Errorf("%s %s value accepted", curve.Params().Name, name)
			} else if name == "der" && err == nil && len(der) != 2*size {
				t.Errorf("%s DER value accepted", curve.Params().Name)
			}
		}
	}
	if _, err := ecdsaDERToRaw([]byte{0x30, 0x00}, 32); err == nil {
		t.Error("empty DER accepted")
	}
	// r wider than the curve order: refused.
	wide, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).Lsh(big.NewInt(1), 300), big.NewInt(1)})
	if _, err := ecdsaDERToRaw(wide, 32); err == nil {
		t.Error("r wider than P-256 accepted")
	}
}
