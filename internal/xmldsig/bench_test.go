package xmldsig

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/libxml"
)

var benchSizes = []struct {
	name string
	n    int
}{{"1KB", 1 << 10}, {"1MB", 1 << 20}, {"50MB", 50 << 20}}

// benchTemplate is an enveloping signature whose ds:Object holds about n bytes of base64 text in
// 76-character lines (the shape of an e-akta payload object), referenced as "#obj" with exclusive
// c14n, plus a small "#props" object.
func benchTemplate(b *testing.B, n int) []byte {
	b.Helper()
	raw := make([]byte, n*3/4)
	if _, err := rand.Read(raw); err != nil {
		b.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	var sb strings.Builder
	sb.Grow(len(enc) + len(enc)/76 + 1)
	for i := 0; i < len(enc); i += 76 {
		sb.WriteString(enc[i:min(i+76, len(enc))])
		sb.WriteByte('\n')
	}
	k := key(b, "rsa2048")
	ts := tSig{ID: "s", C14N: libxml.URIExcC14N, Method: RSASHA256, Certs: []*x509.Certificate{k.cert},
		Objects:   []string{"PAYLOAD", `<p>props</p>`},
		ObjectIDs: []string{"obj", "props"},
		Refs:      []tRef{{URI: "#obj", Transforms: []string{libxml.URIExcC14N}}, {URI: "#props", Transforms: []string{libxml.URIExcC14N}}}}
	tmpl := envelopingTemplate(b, ts)
	return []byte(strings.Replace(string(tmpl), "PAYLOAD", sb.String(), 1))
}

// baselines measures, on this machine and in this run, one raw RSA-2048 PKCS#1 v1.5 signature, one
// raw verification, and SHA-256 over data.
func baselines(b *testing.B, data []byte) (rsaSign, rsaVerify, sha time.Duration) {
	b.Helper()
	k := key(b, "rsa2048")
	d := sha256.Sum256([]byte("x"))
	const n = 20
	start := time.Now()
	var sig []byte
	for i := 0; i < n; i++ {
		sig, _ = k.signer.Sign(rand.Reader, d[:], crypto.SHA256)
	}
	rsaSign = time.Since(start) / n
	start = time.Now()
	for i := 0; i < n; i++ {
		if err := verifyValue(sigAlgs[RSASHA256], k.signer.Public(), d[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	rsaVerify = time.Since(start) / n
	reps := max(1, (8<<20)/len(data))
	start = time.Now()
	for i := 0; i < reps; i++ {
		sha256.Sum256(data)
	}
	sha = time.Since(start) / time.Duration(reps)
	return
}

func report(b *testing.B, raw, sha time.Duration, rawName string) {
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/float64(raw.Nanoseconds()), "x-"+rawName)
	b.ReportMetric(per/float64(sha.Nanoseconds()), "x-sha256")
	b.ReportMetric(float64(sha.Nanoseconds()), "sha256-ns")
}

// BenchmarkSign: Sign over 1 KB, 1 MB and 50 MB documents, with the cost relative to one raw RSA-2048
// signature and to SHA-256 over the same bytes.
func BenchmarkSign(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			tmpl := benchTemplate(b, sz.n)
			rsaSign, _, sha := baselines(b, tmpl)
			k := key(b, "rsa2048")
			b.SetBytes(int64(len(tmpl)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Sign(tmpl, "s", k.signer, SignOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			report(b, rsaSign, sha, "rsa-sign")
		})
	}
}

// BenchmarkVerify: Verify of the same documents, relative to one raw RSA-2048 verification and to
// SHA-256 over the same bytes.
func BenchmarkVerify(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			k := key(b, "rsa2048")
			signed, err := Sign(benchTemplate(b, sz.n), "s", k.signer, SignOptions{})
			if err != nil {
				b.Fatal(err)
			}
			_, rsaVerify, sha := baselines(b, signed)
			b.SetBytes(int64(len(signed)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Verify(signed, VerifyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			report(b, rsaVerify, sha, "rsa-verify")
		})
	}
}

// BenchmarkXmlsec1Verify times the reference verifier (a process per operation, as a user would run
// it) on the same documents.
func BenchmarkXmlsec1Verify(b *testing.B) {
	bin := xmlsec1Path(b)
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			k := key(b, "rsa2048")
			signed, err := Sign(benchTemplate(b, sz.n), "s", k.signer, SignOptions{})
			if err != nil {
				b.Fatal(err)
			}
			dir := writeTemp(b, map[string][]byte{"doc.xml": signed, "root.pem": k.certPEM()})
			_, rsaVerify, sha := baselines(b, signed)
			b.SetBytes(int64(len(signed)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(bin, "--verify", "--trusted-pem", "root.pem", "--enabled-reference-uris", "same-doc", "doc.xml")
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("xmlsec1: %v\n%s", err, out)
				}
			}
			b.StopTimer()
			report(b, rsaVerify, sha, "rsa-verify")
		})
	}
}
