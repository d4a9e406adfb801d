package xades

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/policy"
)

// benchPackage is an unsigned package whose payload object carries exactly size pseudo-random bytes
// (standing in for the CMS EnvelopedData).
func (f *fixture) benchPackage(b *testing.B, size int) []byte {
	b.Helper()
	content := make([]byte, size)
	_, _ = seeded(7).Read(content)
	return written(b, es3.DossierSpec{
		Title: pkgTitle, Created: f.sb.Clock.Now(), Metadata: metadata(),
		Documents: []es3.DocumentSpec{{Title: "bevallas.xml", MIMEType: es3.MIMEXML, SourceSize: int64(size) * 5,
			Transforms: es3.EncryptedTransforms(), Content: content}},
		Rand: seeded(1),
	})
}

// peakHeap samples HeapInuse while it runs; stop returns the peak above the starting value.
func peakHeap() (stop func() uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		if p := peak.Load(); p > base {
			return p - base
		}
		return 0
	}
}

// rawRSA returns the mean time of one RSA PKCS#1 v1.5 signature and one verification of a SHA-256
// digest with key (the reference the ratios are measured against).
func rawRSA(b *testing.B, key crypto.Signer) (sign, verify time.Duration) {
	b.Helper()
	digest := sha256.Sum256([]byte("tagdij"))
	const n = 20
	start := time.Now()
	var sig []byte
	for i := 0; i < n; i++ {
		var err error
		if sig, err = key.Sign(nil, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	sign = time.Since(start) / n
	pub := key.Public().(*rsa.PublicKey)
	start = time.Now()
	for i := 0; i < n*10; i++ {
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
	return sign, time.Since(start) / (n * 10)
}

var benchSizes = []struct {
	name string
	size int
}{{"1KB", 1 << 10}, {"1MB", 1 << 20}, {"50MB", 50 << 20}}

func BenchmarkSign(b *testing.B) {
	f := newFixture(b)
	signers := f.signers(b, "pelda")
	rawSign, _ := rawRSA(b, signers[0].Key)
	for _, sz := range benchSizes {
		if sz.size > 1<<20 && testing.Short() {
			continue
		}
		data := f.benchPackage(b, sz.size)
		for _, n := range []int{1, 3} {
			b.Run(fmt.Sprintf("%s/signers=%d", sz.name, n), func(b *testing.B) {
				stop := peakHeap()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					out := data
					for _, s := range signers[:n] {
						var err error
						if out, _, err = Sign(context.Background(), out, SignOptions{Signer: s.Key, Certificate: s.Cert, Chain: s.Chain,
							Policy: f.pol, Kind: policy.KindPackage, SigningTime: f.sb.Clock.Now()}); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(rawSign), "x-raw-RSA-sign")
				b.SetBytes(int64(sz.size))
			})
		}
	}
}

// BenchmarkVerify verifies extended packages offline (the auditor's case: every signature, every
// time-stamp, the embedded evidence), and compares with one `xmlsec1 --verify` run per signature when
// xmlsec1 is installed.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	signers := f.signers(b, "pelda")
	_, rawVerify := rawRSA(b, signers[0].Key)
	for _, sz := range benchSizes {
		if sz.size > 1<<20 && testing.Short() {
			continue
		}
		for _, n := range []int{1, 3} {
			data := f.benchPackage(b, sz.size)
			var ids []string
			for _, s := range signers[:n] {
				var id string
				data, id = f.sign(b, data, s, policy.KindPackage, nil)
				ids = append(ids, id)
			}
			data = f.timestamp(b, data)
			f.afterGrace()
			ext, _, err := Extend(context.Background(), data, ExtendOptions{Verify: VerifyOptions{Env: f.env, Kind: policy.KindPackage,
				Now: f.sb.Clock.Now()}, TSA: f.tsa})
			if err != nil {
				b.Fatal(err)
			}
			offline := *f.env
			offline.Online = nil
			b.Run(fmt.Sprintf("%s/signers=%d", sz.name, n), func(b *testing.B) {
				stop := peakHeap()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d, err := Verify(context.Background(), ext, VerifyOptions{Env: &offline, Kind: policy.KindPackage, Now: f.sb.Clock.Now()})
					if err != nil || d.Verdict.Indication != "TOTAL_PASSED" {
						b.Fatalf("%v %+v", err, d.Verdict)
					}
				}
				b.StopTimer()
				perOp := float64(b.Elapsed()) / float64(b.N)
				b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MB")
				b.ReportMetric(perOp/float64(rawVerify), "x-raw-RSA-verify")
				b.SetBytes(int64(sz.size))
				if d := xmlsecTime(b, f, ext, ids); d > 0 {
					b.ReportMetric(float64(d.Milliseconds()), "xmlsec1-ms")
					b.ReportMetric(perOp/float64(d), "x-xmlsec1")
				}
			})
		}
	}
}

// xmlsecTime is the wall time of `xmlsec1 --verify` over every signature (one process each), or 0
// when xmlsec1 is missing.
func xmlsecTime(b *testing.B, f *fixture, data []byte, ids []string) time.Duration {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		return 0
	}
	dir := b.TempDir()
	root := filepath.Join(dir, "root.pem")
	doc := filepath.Join(dir, "d.es3")
	_ = os.WriteFile(doc, data, 0o600)
	rootPEM := pemCert(f)
	_ = os.WriteFile(root, rootPEM, 0o600)
	start := time.Now()
	for _, id := range ids {
		out, err := exec.Command(bin, "--verify", "--trusted-pem", root, "--enabled-reference-uris", "same-doc",
			"--id-attr:Id", "Signature", "--id-attr:Id", "DossierProfile", "--id-attr:Id", "Documents",
			"--id-attr:Id", "Object", "--id-attr:Id", "SignedProperties", "--node-id", id, doc).CombinedOutput()
		if err != nil {
			b.Logf("xmlsec1: %v\n%s", err, out)
			return 0
		}
	}
	return time.Since(start)
}
