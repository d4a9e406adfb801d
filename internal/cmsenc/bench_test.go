package cmsenc

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

var benchSizes = []int{1 << 20, 50 << 20}

// rawCBC is the cost floor: AES-256-CBC over n bytes into a preallocated buffer, per operation.
func rawCBC(b *testing.B, n int, decrypt bool) time.Duration {
	b.Helper()
	key, iv := make([]byte, 32), make([]byte, 16)
	buf := make([]byte, n/16*16+16)
	block, _ := aes.NewCipher(key)
	const rounds = 3
	start := time.Now()
	for range rounds {
		if decrypt {
			cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, buf)
		} else {
			cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
		}
	}
	return time.Since(start) / rounds
}

// rawOAEP is one RSA-OAEP-SHA-256 decryption of a 32-byte key with the fund's RSA-3072 key.
func rawOAEP(b *testing.B, p *testPKI) time.Duration {
	b.Helper()
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &p.fund.key.PublicKey, make([]byte, 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	const rounds = 5
	start := time.Now()
	for range rounds {
		if _, err := p.fund.key.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: crypto.SHA256}); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / rounds
}

func perOp(b *testing.B) float64 { return float64(b.Elapsed()) / float64(b.N) }

// BenchmarkEncrypt: two recipients (fund RSA-3072, sender RSA-2048), OAEP. x-raw-aes is the time
// relative to bare AES-256-CBC over the same bytes.
func BenchmarkEncrypt(b *testing.B) {
	p := pki(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dMB", n>>20), func(b *testing.B) {
			pt := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encrypt(pt, []*x509Cert{p.fund.cert, p.sender.cert}, nil); err != nil {
					b.Fatal(err)
				}
			}
			op := perOp(b)
			b.ReportMetric(op/float64(rawCBC(b, n, false)), "x-raw-aes")
		})
	}
}

// BenchmarkDecrypt: the fund's RSA-3072 key unwraps (OAEP) and the content is decrypted. x-raw-aes
// compares with bare AES-256-CBC, x-raw-rsa with one bare RSA-OAEP decryption.
func BenchmarkDecrypt(b *testing.B) {
	p := pki(b)
	rsaOp := rawOAEP(b, p)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dMB", n>>20), func(b *testing.B) {
			der, err := Encrypt(make([]byte, n), []*x509Cert{p.fund.cert, p.sender.cert}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decrypt(der, p.fund.cert, p.fund.key); err != nil {
					b.Fatal(err)
				}
			}
			op := perOp(b)
			b.ReportMetric(op/float64(rawCBC(b, n, true)), "x-raw-aes")
			b.ReportMetric(op/float64(rsaOp), "x-raw-rsa")
		})
	}
}

// BenchmarkRawAES256CBC is the floor the ratios above refer to.
func BenchmarkRawAES256CBC(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("%dMB", n>>20), func(b *testing.B) {
			key, iv := make([]byte, 32), make([]byte, 16)
			buf := make([]byte, n)
			block, _ := aes.NewCipher(key)
			b.SetBytes(int64(n))
			for b.Loop() {
				cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, buf)
			}
		})
	}
}

// BenchmarkRawRSAOAEPDecrypt is one RSA-3072 OAEP-SHA-256 decryption of a content key.
func BenchmarkRawRSAOAEPDecrypt(b *testing.B) {
	p := pki(b)
	ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &p.fund.key.PublicKey, make([]byte, 32), nil)
	for b.Loop() {
		if _, err := p.fund.key.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: crypto.SHA256}); err != nil {
			b.Fatal(err)
		}
	}
}
