package xades

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
)

// The benchmarks report, per payload size and signer count:
//
//	ns/op                  wall time of the operation in this process
//	peak-go-MB             peak Go heap in use (objects and fragmentation) above the start, sampled
//	peak-c-MB              peak C heap in use (libxml2's documents and buffers) above the start, sampled
//	peak-go+c-MB           peak of the two together, sampled at the same instants
//	peak-RSS-MB            peak resident set of a child process (this test binary, TestMain below)
//	                       that reads the input file and does the same operation once: the whole
//	                       process, runtime, input and all, as ru_maxrss reports it
//	base-RSS-MB            that child's RSS just before the operation (runtime, sandbox, input read)
//	x-raw-RSA-sign/verify  ns/op divided by one raw RSA-2048 PKCS#1 v1.5 signature/verification
//	xmlsec1-verify-ms      `xmlsec1 --verify` on the same (signed) document, one process per signature
//	xmlsec1-RSS-MB         the largest peak RSS of those xmlsec1 processes
//	x-xmlsec1, x-xmlsec1-RSS  Verify's time and child peak RSS divided by xmlsec1's
//
// Sampling can miss a peak shorter than the 2 ms interval; the child's ru_maxrss cannot.

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

// memPeak is what peakMem measured, in bytes above the values at its start.
type memPeak struct {
	goHeap, cHeap, both uint64
}

// peakMem samples the Go heap in use (runtime/metrics: no stop-the-world, unlike ReadMemStats) and
// libxml.CHeapInUse every 2 ms until stop is called.
func peakMem() (stop func() memPeak) {
	runtime.GC()
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	read := func() (g, c uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64(), libxml.CHeapInUse()
	}
	baseG, baseC := read()
	var peak memPeak
	sample := func() {
		g, c := read()
		g, c = sub(g, baseG), sub(c, baseC)
		peak.goHeap, peak.cHeap, peak.both = max(peak.goHeap, g), max(peak.cHeap, c), max(peak.both, g+c)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() memPeak {
		close(done)
		wg.Wait()
		sample()
		return peak
	}
}

func sub(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}

func reportMem(b *testing.B, p memPeak) {
	b.ReportMetric(float64(p.goHeap)/(1<<20), "peak-go-MB")
	b.ReportMetric(float64(p.cHeap)/(1<<20), "peak-c-MB")
	b.ReportMetric(float64(p.both)/(1<<20), "peak-go+c-MB")
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
				now := f.sb.Clock.Now()
				var out []byte
				var ids []string
				stop := peakMem()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					out, ids = data, nil
					for _, s := range signers[:n] {
						var id string
						var err error
						if out, id, err = Sign(context.Background(), out, SignOptions{Signer: s.Key, Certificate: s.Cert, Chain: s.Chain,
							Policy: f.pol, Kind: policy.KindPackage, SigningTime: now}); err != nil {
							b.Fatal(err)
						}
						ids = append(ids, id)
					}
				}
				b.StopTimer()
				reportMem(b, stop())
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(rawSign), "x-raw-RSA-sign")
				b.SetBytes(int64(sz.size))

				in := writeBenchFile(b, "in.es3", data)
				rss, base := childPeakRSS(b, "sign", in, f.sb.Dir, n, now)
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(base)/(1<<20), "base-RSS-MB")
				// xmlsec1 verifying what was signed: the reference for memory on a document of this size.
				if d, xrss := xmlsecVerify(b, f, out, ids); d > 0 {
					b.ReportMetric(float64(d.Milliseconds()), "xmlsec1-verify-ms")
					b.ReportMetric(float64(xrss)/(1<<20), "xmlsec1-RSS-MB")
				}
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
			data = nil
			offline := *f.env
			offline.Online = nil
			b.Run(fmt.Sprintf("%s/signers=%d", sz.name, n), func(b *testing.B) {
				now := f.sb.Clock.Now()
				stop := peakMem()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					d, err := Verify(context.Background(), ext, VerifyOptions{Env: &offline, Kind: policy.KindPackage, Now: now})
					if err != nil || d.Verdict.Indication != "TOTAL-PASSED" {
						b.Fatalf("%v %+v", err, d.Verdict)
					}
				}
				b.StopTimer()
				perOp := float64(b.Elapsed()) / float64(b.N)
				reportMem(b, stop())
				b.ReportMetric(perOp/float64(rawVerify), "x-raw-RSA-verify")
				b.SetBytes(int64(sz.size))

				in := writeBenchFile(b, "ext.es3", ext)
				rss, base := childPeakRSS(b, "verify", in, f.sb.Dir, n, now)
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(base)/(1<<20), "base-RSS-MB")
				if d, xrss := xmlsecVerify(b, f, ext, ids); d > 0 {
					b.ReportMetric(float64(d.Milliseconds()), "xmlsec1-verify-ms")
					b.ReportMetric(float64(xrss)/(1<<20), "xmlsec1-RSS-MB")
					b.ReportMetric(perOp/float64(d), "x-xmlsec1")
					b.ReportMetric(float64(rss)/float64(xrss), "x-xmlsec1-RSS")
				}
			})
		}
	}
}

func writeBenchFile(b *testing.B, name string, data []byte) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// maxRSS is the peak resident set size of a finished process in bytes (Linux reports KiB). Read it
// only for a process started by a small one (runRSS): Go starts children with vfork semantics (the
// child shares its parent's memory until exec), and Linux carries the high-water mark of that memory
// into the child's ru_maxrss, so a child of the benchmark process reports at least the benchmark's
// own peak.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}

// xmlsecVerify runs `xmlsec1 --verify` over every signature of data (one process each) and returns the
// total wall time and the largest peak RSS, or zeros when xmlsec1 is missing.
func xmlsecVerify(b *testing.B, f *fixture, data []byte, ids []string) (time.Duration, int64) {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		return 0, 0
	}
	dir := b.TempDir()
	root := filepath.Join(dir, "root.pem")
	doc := filepath.Join(dir, "d.es3")
	_ = os.WriteFile(doc, data, 0o600)
	_ = os.WriteFile(root, pemCert(f), 0o600)
	var total time.Duration
	var peak int64
	for _, id := range ids {
		start := time.Now()
		rss, out, err := runRSS(nil, bin, "--verify", "--trusted-pem", root, "--enabled-reference-uris", "same-doc",
			"--id-attr:Id", "Signature", "--id-attr:Id", "DossierProfile", "--id-attr:Id", "Documents",
			"--id-attr:Id", "Object", "--id-attr:Id", "SignedProperties", "--node-id", id, doc)
		total += time.Since(start)
		if err != nil {
			b.Logf("xmlsec1: %v\n%s", err, out)
			return 0, 0
		}
		peak = max(peak, rss)
	}
	return total, peak
}

// Environment of the child processes (this test binary; TestMain acts on it instead of running
// the tests).
const (
	envChildOp      = "XADES_BENCH_CHILD" // "rss": run the command line (with XADES_BENCH_CHILD=$XADES_BENCH_CHILD_NEXT), report its peak RSS; "sign", "verify": do that
	envChildIn      = "XADES_BENCH_IN"
	envChildSandbox = "XADES_BENCH_SANDBOX"
	envChildSigners = "XADES_BENCH_SIGNERS"
	envChildNow     = "XADES_BENCH_NOW"
	rssLine         = "bench-child maxrss="
)

// runRSS runs argv under a fresh process of this test binary that starts it and reports its
// ru_maxrss. That process is small (the Go runtime, no benchmark data), and ru_maxrss is the larger of
// its high-water mark and the command's own, so the command's peak RSS is exact once it exceeds a few
// MB. It returns the peak RSS in bytes and the command's combined output (without the report line).
func runRSS(env []string, argv ...string) (int64, string, error) {
	cmd := exec.Command(os.Args[0], argv...)
	cmd.Env = append(append(os.Environ(), envChildOp+"=rss"), env...)
	out, err := cmd.CombinedOutput()
	var rss int64
	var rest strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), rssLine); ok {
			rss, _ = strconv.ParseInt(v, 10, 64)
			continue
		}
		rest.WriteString(sc.Text() + "\n")
	}
	if err == nil && rss == 0 {
		err = fmt.Errorf("no peak RSS reported")
	}
	return rss, rest.String(), err
}

// childPeakRSS runs op ("sign" or "verify") once on the file in, in a fresh process of this test
// binary, and returns its peak RSS and the RSS it had just before the operation (runtime, sandbox and
// input loaded), both in bytes.
func childPeakRSS(b *testing.B, op, in, sandboxDir string, signers int, now time.Time) (peak, before int64) {
	b.Helper()
	peak, out, err := runRSS([]string{envChildOp + "_NEXT=" + op, envChildIn + "=" + in, envChildSandbox + "=" + sandboxDir,
		envChildSigners + "=" + strconv.Itoa(signers), envChildNow + "=" + now.Format(time.RFC3339Nano)},
		os.Args[0], "-test.run=^$")
	if err != nil {
		b.Fatalf("bench child %s: %v\n%s", op, err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "bench-child rss-before="); ok {
			before, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return peak, before
}

// TestMain runs a benchmark child's work when the environment asks for it, else the tests.
func TestMain(m *testing.M) {
	switch op := os.Getenv(envChildOp); op {
	case "":
		os.Exit(m.Run())
	case "rss":
		// The command must not act as a wrapper itself.
		os.Unsetenv(envChildOp)
		if next, ok := os.LookupEnv(envChildOp + "_NEXT"); ok {
			os.Setenv(envChildOp, next)
		}
		cmd := exec.Command(os.Args[1], os.Args[2:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		err := cmd.Run()
		if cmd.ProcessState != nil {
			fmt.Printf("%s%d\n", rssLine, maxRSS(cmd.ProcessState))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	default:
		if err := benchChild(op); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// benchChild loads what the operation needs, reads the input, and does the operation once, as the
// benchmark loop does it.
func benchChild(op string) error {
	w, err := sandbox.Load(os.Getenv(envChildSandbox))
	if err != nil {
		return err
	}
	pol, err := policy.Sandbox()
	if err != nil {
		return err
	}
	now, err := time.Parse(time.RFC3339Nano, os.Getenv(envChildNow))
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(os.Getenv(envChildSigners))
	if err != nil {
		return err
	}
	data, err := os.ReadFile(os.Getenv(envChildIn))
	if err != nil {
		return err
	}
	runtime.GC()
	fmt.Printf("bench-child rss-before=%d\n", currentRSS())
	switch op {
	case "sign":
		signers, err := w.Signers("pelda")
		if err != nil {
			return err
		}
		for _, s := range signers[:n] {
			if data, _, err = Sign(context.Background(), data, SignOptions{Signer: s.Key, Certificate: s.Cert, Chain: s.Chain,
				Policy: pol, Kind: policy.KindPackage, SigningTime: now}); err != nil {
				return err
			}
		}
	case "verify":
		root := w.MustEntity(sandbox.RootCA)
		env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}, Offline: true}, w.Dir, pol)
		if err != nil {
			return err
		}
		env.Online = nil
		d, err := Verify(context.Background(), data, VerifyOptions{Env: env, Kind: policy.KindPackage, Now: now})
		if err != nil {
			return err
		}
		if d.Verdict.Indication != "TOTAL-PASSED" {
			return fmt.Errorf("verdict %+v", d.Verdict)
		}
	default:
		return fmt.Errorf("unknown operation %q", op)
	}
	return nil
}

// currentRSS is the resident set size of this process in bytes (VmRSS), or 0 if unreadable.
func currentRSS() int64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
