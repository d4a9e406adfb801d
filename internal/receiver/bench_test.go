package receiver_test

// The receiver section of `make bench` (issue 8): scripts/bench-receiver.sh runs the two tests below
// with TAGDIJ_BENCH_RECEIVER=1 and turns their "bench-receiver" lines into the summary; `make test`
// skips them. Throughput is only ever reported as a ratio against the bare-intake baseline measured in
// the same run, on both sides of the full run, on the same machine load.
//
//	TAGDIJ_BENCH_RECEIVER=1 TAGDIJ_BENCH_BIN=$PWD/bin go test -count=1 -timeout 30m -v \
//	    -run '^TestBenchReceiver' ./internal/receiver

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/loadgen"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

// The benchmark's environment.
const (
	envBench   = "TAGDIJ_BENCH_RECEIVER" // non-empty: run the benchmark tests
	envUploads = "TAGDIJ_BENCH_UPLOADS"  // uploads per load run (default 400)
	envBin     = "TAGDIJ_BENCH_BIN"      // directory of the built receiver and auditor (the RSS case)
	envBigMB   = "TAGDIJ_BENCH_BIG_MB"   // size of the large upload in MB (default 50)
)

func benchOnly(t *testing.T) {
	t.Helper()
	if os.Getenv(envBench) == "" {
		t.Skipf("a benchmark: set %s=1 (scripts/bench-receiver.sh does)", envBench)
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// TestBenchReceiverLoad drives the receiver's HTTPS API with 16 and 64 concurrent keep-alive TLS
// clients posting small signed packages (3 members, one signer, time-stamped, uploaded after the
// sandbox policy's grace period so the pre-check is complete), once with an ECDSA P-256 and once with
// an RSA-2048 receipt key, and beside each run the bare-intake baseline: the same TLS server and API,
// the same blob store and SQLite store with the same fsyncs, but no validation, no registry and no
// receipt (bareIntake). Every run has a fresh store, so all its uploads are new packages (distinct
// bytes and submission ids), never replays.
//
// Everything runs in this process on the same cores: the receiver, the clients (their TLS) and the
// sandbox's TSA and OCSP responder, which a production receiver does not pay for. The CPU time per
// upload is printed beside the wall-clock figures: it is less sensitive to other tenants' load.
func TestBenchReceiverLoad(t *testing.T) {
	benchOnly(t)
	n := envInt(t, envUploads, 400)
	s := receivertest.Start(t, receivertest.Options{})
	start := time.Now()
	ups := buildPackages(t, s, n)
	size := 0
	for _, u := range ups {
		size += len(u.Data)
	}
	fmt.Printf("bench-receiver packages n=%d avg_bytes=%d build_s=%.1f placeholder_bytes=%d\n", n, size/n, time.Since(start).Seconds(),
		placeholderReceiptBytes)
	// Past the grace period (sandbox policy: OCSP 2 s, CRL 5 s) of every package's time-stamp.
	s.SB.Clock.Advance(10 * time.Second)

	keys := []benchKey{ecdsaReceiptKey(t, s), sandboxReceiptKey(t, s)}
	for _, k := range keys {
		for _, clients := range []int{16, 64} {
			bare := func(dir string) (receiver.Submitter, receiver.Reads) {
				db, blobs := openStores(t, dir)
				return &bareIntake{blobs: blobs, db: db, max: 8 << 20, receipt: bytes.Repeat([]byte("R"), placeholderReceiptBytes)}, db
			}
			// The baseline runs just before and just after the full receiver: the reference sees the
			// machine load the full run saw, on both sides of it.
			before, beforeCPU := loadRun(t, s, ups, clients, bare)
			var db *sqlite.DB
			full, fullCPU := loadRun(t, s, ups, clients, func(dir string) (receiver.Submitter, receiver.Reads) {
				var svc *intake.Service
				svc, db = fullIntake(t, s, k, dir)
				return svc, db
			})
			after, afterCPU := loadRun(t, s, ups, clients, bare)
			reportRun(k.name, "baseline", loadgen.Merge(before, after), beforeCPU+afterCPU)
			reportRun(k.name, "full", full, fullCPU)
			if full.Accepted == 0 {
				t.Fatalf("%s, %d clients: nothing accepted (%s)", k.name, clients, full.FirstError)
			}
			if clients == 16 {
				// One stored receipt verifies (signature, time-stamp, chain of this run's receipt key).
				st, err := db.ReceiptFor(context.Background(), sha256.Sum256(ups[0].Data), ups[0].Name)
				if err != nil {
					t.Fatalf("receipt of the first upload: %v", err)
				}
				r := s.VerifyReceipt(t, st.Bytes)
				fmt.Printf("bench-receiver receipt key=%s bytes=%d result=%s state=%s\n", k.name, len(st.Bytes), r.Result, r.PreCheck.State)
			}
		}
	}
}

// report prints one run as a bench-receiver line; cpu is the test process's CPU time during the run
// (receiver, load generator and sandbox trust services together).
func reportRun(key, mode string, r *loadgen.Result, cpu time.Duration) {
	var codes []string
	for c, n := range r.Status {
		codes = append(codes, fmt.Sprintf("%d:%d", c, n))
	}
	sort.Strings(codes)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("bench-receiver run key=%s clients=%d mode=%s requests=%d accepted=%d errors=%d elapsed_s=%.2f accepted_per_s=%.2f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f cpu_ms_per_upload=%.1f status=%s\n",
		key, r.Clients, mode, r.Requests, r.Accepted, r.Errors, r.Elapsed.Seconds(), r.AcceptedPerSecond(),
		ms(r.Percentile(0.50)), ms(r.Percentile(0.90)), ms(r.Percentile(0.99)), ms(r.Percentile(1)), ms(cpu)/float64(max(r.Requests, 1)), strings.Join(codes, ","))
	if r.FirstError != "" {
		fmt.Printf("bench-receiver first-problem key=%s clients=%d mode=%s %s\n", key, r.Clients, mode, r.FirstError)
	}
}

// loadRun serves what mk builds (on a fresh data directory) with the receiver's API and TLS server,
// and runs the load generator against it. It returns the result and the CPU time the process used
// during the run.
func loadRun(t *testing.T, s *receivertest.Stack, ups []loadgen.Upload, clients int,
	mk func(dir string) (receiver.Submitter, receiver.Reads)) (*loadgen.Result, time.Duration) {
	t.Helper()
	sub, reads := mk(t.TempDir())
	// The API's default limits except the per-address rate: every simulated client connects from
	// 127.0.0.1, which the default (5/s, burst 20) would answer 429.
	limits := receiver.Limits{PerAddressRate: 1e9, PerAddressBurst: 1 << 30}
	api := receiver.New(sub, reads, receiver.Options{Limits: limits, Clock: time.Now})
	mux := http.NewServeMux()
	api.Route(mux)
	srv := httptest.NewUnstartedServer(mux)
	base := receiver.Server(mux, []tls.Certificate{s.SB.World.TLSCertificate()}, receiver.ServerTimeouts{}, nil)
	srv.Config, srv.TLS, srv.EnableHTTP2 = base, base.TLSConfig, true
	srv.StartTLS()
	defer srv.Close()
	pool := s.SB.World.TLSRootPool()
	newClient := func() *http.Client {
		return &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{ForceAttemptHTTP2: true,
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	}
	cpu0 := cpuTime()
	r, err := loadgen.Run(context.Background(), loadgen.Options{URL: srv.URL, NewClient: newClient, Clients: clients, Uploads: ups,
		WarmupPath: "/v1/packages/" + strings.Repeat("0", 64) + "/status"})
	if err != nil {
		t.Fatal(err)
	}
	return r, cpuTime() - cpu0
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildPackages makes n distinct small signed packages (distinct seeds: distinct bytes and
// submission ids), two at a time.
func buildPackages(t *testing.T, s *receivertest.Stack, n int) []loadgen.Upload {
	t.Helper()
	ups := make([]loadgen.Upload, n)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < n; i += 2 {
				if t.Failed() {
					return
				}
				data, name := s.Package(t, receivertest.PackageOptions{Seed: uint64(1000 + i)})
				ups[i] = loadgen.Upload{Data: data, Name: name}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ups
}

// benchKey is a receipt key with its certificate and chain.
type benchKey struct {
	name   string
	signer crypto.Signer
	cert   *x509.Certificate
	chain  []*x509.Certificate
}

// sandboxReceiptKey is the sandbox's fund-receipt key (RSA-2048), held as `receiver serve` holds a
// PKCS#12 receipt key (keys.NewSoftwareKey is OpenPKCS12 after decoding: RSA signs through OpenSSL).
func sandboxReceiptKey(t *testing.T, s *receivertest.Stack) benchKey {
	t.Helper()
	rk := s.SB.World.MustEntity(sandbox.FundReceipt)
	return benchKey{name: "rsa-2048", signer: softwareKey(t, rk.Key, rk.Cert, rk.Chain), cert: rk.Cert, chain: rk.Chain}
}

// softwareKey wraps a private key as the receiver's PKCS#12 key loading does.
func softwareKey(t *testing.T, priv crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate) crypto.Signer {
	t.Helper()
	k, err := keys.NewSoftwareKey(priv, append([]*x509.Certificate{cert}, chain...), "bench receipt key")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// ecdsaReceiptKey is a fresh ECDSA P-256 receipt key with a certificate the sandbox's advanced CA
// issues like the fund-receipt one (same subject, key usage, policies, validity and locations).
func ecdsaReceiptKey(t *testing.T, s *receivertest.Stack) benchKey {
	t.Helper()
	rk := s.SB.World.MustEntity(sandbox.FundReceipt)
	ca := s.SB.World.MustEntity(sandbox.AdvancedCA)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	c := rk.Cert
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: c.Subject, NotBefore: c.NotBefore, NotAfter: c.NotAfter, KeyUsage: c.KeyUsage,
		Policies: c.Policies, CRLDistributionPoints: c.CRLDistributionPoints, OCSPServer: c.OCSPServer, IssuingCertificateURL: c.IssuingCertificateURL}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Policy.CheckReceiptKey(cert, s.SB.World.MustEntity(sandbox.FundTLS).Cert); err != nil {
		t.Fatal(err)
	}
	return benchKey{name: "ecdsa-p256", signer: softwareKey(t, key, cert, rk.Chain), cert: cert, chain: rk.Chain}
}

func openStores(t *testing.T, dir string) (*sqlite.DB, *blob.Store) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "receiver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return db, blobs
}

// fullIntake is the stack's intake pipeline on fresh stores in dir (the sandbox's registration
// sheets imported) with receipt key k.
func fullIntake(t *testing.T, s *receivertest.Stack, k benchKey, dir string) (*intake.Service, *sqlite.DB) {
	t.Helper()
	db, blobs := openStores(t, dir)
	for _, emp := range s.SB.World.Manifest.Employers {
		data, err := os.ReadFile(filepath.Join(s.SB.Dir, sandbox.RegistrationFile(emp.Key)))
		if err != nil {
			t.Fatal(err)
		}
		sh, err := registry.Decode(data, s.Schemas)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Registry().Put(context.Background(), sh); err != nil {
			t.Fatal(err)
		}
	}
	signer := &intake.KeySigner{Options: receiptpkg.BuildOptions{Signer: k.signer, Certificate: k.cert, Chain: k.chain, Policy: s.Policy,
		TSA: s.TSA, TLSCertificates: []*x509.Certificate{s.SB.World.MustEntity(sandbox.FundTLS).Cert}}, Clock: s.SB.Clock.Now}
	svc, err := intake.New(intake.Config{Fund: s.Fund, Env: s.Env, Schemas: s.Schemas, Blobs: blobs, Store: db,
		Signers: &intake.RegistrySigners{Store: db.Registry()}, Receipt: signer, MaxBytes: 8 << 20, Clock: s.SB.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return svc, db
}

// bareIntake is the benchmark's baseline Submitter: what intake does that any upload service must do,
// and nothing it decides. The body is received into the blob store under the size limit (hashed,
// written to a temporary file), committed with fsync, and a row with a placeholder receipt (and, as
// for an accepted package, the processor's job) is recorded in one SQLite transaction with
// synchronous=FULL. No validation, no registry, no receipt signature, no time-stamp.
type bareIntake struct {
	blobs   *blob.Store
	db      *sqlite.DB
	max     int64
	receipt []byte // the placeholder receipt
}

// placeholderReceiptBytes is the size of the baseline's placeholder receipt: about the size of a real
// receipt package (the load test prints the real size), so the row and the response weigh the same.
const placeholderReceiptBytes = 17 << 10

// Submit implements receiver.Submitter.
func (b *bareIntake) Submit(ctx context.Context, up intake.Upload) (*intake.Outcome, error) {
	in, err := b.blobs.Receive(up.Body, b.max, up.SizeHint)
	if in != nil {
		defer in.Abort()
	}
	if err != nil {
		return nil, err
	}
	arrival := time.Now()
	if err := in.Commit(); err != nil {
		return nil, err
	}
	id := uuid.NewString()
	rec := &intake.Record{SHA256: in.Sum, Size: in.Size(), FileName: up.FileName, Arrival: arrival, BlobStored: true, Accepted: true,
		State: receipt.Valid, EarliestFinal: arrival,
		Receipt: intake.Stored{ReceiptID: id, Name: "placeholder.es3", Bytes: b.receipt, Package: in.Sum, Accepted: true}}
	if err := b.db.Record(ctx, rec); err != nil {
		return nil, err
	}
	return &intake.Outcome{Kind: intake.Accepted, Receipt: b.receipt, ReceiptName: "placeholder.es3", ReceiptID: id,
		SHA256: in.Sum, Size: in.Size()}, nil
}

// TestBenchReceiverRSS uploads one large signed package (TAGDIJ_BENCH_BIG_MB, default 50 MB: an
// encrypted-form payload of random bytes, which the receiver never decrypts) to the real receiver
// command (TAGDIJ_BENCH_BIN/receiver serve, on the sandbox) and reports its peak RSS beside the
// auditor's (TAGDIJ_BENCH_BIN/auditor verify --online) on the same file. Goal: receiver ≤ auditor +
// 64 MB.
func TestBenchReceiverRSS(t *testing.T) {
	benchOnly(t)
	bin := os.Getenv(envBin)
	if bin == "" {
		t.Skipf("%s (the directory of the built receiver and auditor) is not set", envBin)
	}
	mb := envInt(t, envBigMB, 50)
	s := receivertest.Start(t, receivertest.Options{})
	// The sandbox policy limits packages to 32 MiB (the production policy to 100 MiB): the 50 MB
	// package is signed under, and the receiver and the auditor run with, a copy of the sandbox policy
	// whose only change is the production limit.
	bigPol, bigPolPath := largePackagePolicy(t)
	s.Policy = bigPol
	data, name := bigPackage(t, s, mb*1_000_000)
	stamped := time.Now()
	dir := t.TempDir()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	size := len(data)
	data = nil

	// The sandbox's receiver.json has no tlsCert, which the receiver requires: add the fund-tls chain.
	cfgPath := filepath.Join(s.SB.Dir, "receiver-bench.json")
	var cfg map[string]any
	raw, err := os.ReadFile(filepath.Join(s.SB.Dir, sandbox.ReceiverConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg["tlsCert"]; !ok {
		cfg["tlsCert"] = s.SB.World.MustEntity(sandbox.FundTLS).Files.Chain
	}
	cfg["policy"] = bigPolPath
	raw, _ = json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TAGDIJ_RECEIVER_LISTEN=127.0.0.1:0", "TAGDIJ_RECEIVER_ADMIN_LISTEN=127.0.0.1:0",
		"TAGDIJ_RECEIVER_DATA_DIR="+filepath.Join(dir, "data"))
	imp := exec.Command(filepath.Join(bin, "receiver"), "registry", "import", filepath.Join(s.SB.Dir, sandbox.RegistrationFile("pelda")), "--config", cfgPath)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("receiver registry import: %v\n%s", err, out)
	}

	// After the grace period, so that the receiver and the auditor both complete the check online.
	time.Sleep(time.Until(stamped.Add(6 * time.Second)))
	rcv, idle, upload, result := receiverPeak(t, bin, cfgPath, env, s, file, name)
	aud, code := auditorPeak(t, bin, s, file, bigPolPath)
	fmt.Printf("bench-receiver rss package_bytes=%d receiver_peak_kb=%d receiver_idle_kb=%d upload_s=%.2f result=%s auditor_peak_kb=%d auditor_exit=%d\n",
		size, rcv, idle, upload.Seconds(), result, aud, code)
	if result != "accepted" {
		t.Errorf("the large package was answered %q, want accepted", result)
	}
}

// largePackagePolicy writes the sandbox policy with the production policy's package size limit
// (100 MiB instead of 32 MiB) and returns it parsed and its path.
func largePackagePolicy(t *testing.T) (*policy.Policy, string) {
	t.Helper()
	doc := policy.SandboxDocument()
	big := bytes.Replace(doc, []byte("<MaxMeret>33554432</MaxMeret>"), []byte("<MaxMeret>104857600</MaxMeret>"), 1)
	if bytes.Equal(big, doc) {
		t.Fatal("the sandbox policy's package limit moved: update largePackagePolicy")
	}
	p := filepath.Join(t.TempDir(), "sandbox-large.xml")
	if err := os.WriteFile(p, big, 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return pol, p
}

// bigPackage builds a signed, time-stamped package of about size bytes: the file name and signed
// metadata of a real small package, its encrypted payload replaced by random bytes (the receiver and
// the auditor never decrypt), then signed by the employer's first signer and time-stamped.
func bigPackage(t *testing.T, s *receivertest.Stack, size int) ([]byte, string) {
	t.Helper()
	ctx := context.Background()
	small, name := s.Package(t, receivertest.PackageOptions{NoTimestamp: true})
	d, err := es3.Parse(small, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		t.Fatal(err)
	}
	meta, findings := d.Metadata(s.Schemas)
	src := d.Documents[0].SourceSize
	d.Close()
	if len(findings) > 0 {
		t.Fatal(findings)
	}
	content := make([]byte, size/4*3) // base64 makes it size
	r := mrand.NewChaCha8([32]byte{8})
	r.Read(content)
	doc, err := es3.Build(es3.DossierSpec{Title: name, Created: s.SB.Clock.Now(), Metadata: meta, Schemas: s.Schemas,
		Documents: []es3.DocumentSpec{{Title: "bevallas.xml", MIMEType: es3.MIMEXML, SourceSize: max(src, int64(len(content))*5),
			Transforms: es3.EncryptedTransforms(), Content: content}}})
	if err != nil {
		t.Fatal(err)
	}
	content = nil
	var buf bytes.Buffer
	if err := es3.Write(&buf, doc); err != nil {
		t.Fatal(err)
	}
	doc = nil
	signers, _ := s.SB.World.Signers("pelda")
	e := signers[0]
	data, _, err := xades.Sign(ctx, buf.Bytes(), xades.SignOptions{Signer: e.Key, Certificate: e.Cert, Chain: e.Chain, Policy: s.Policy,
		Kind: policy.KindPackage, SigningTime: s.SB.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if data, _, err = xades.Timestamp(ctx, data, xades.TimestampOptions{TSA: s.TSA}); err != nil {
		t.Fatal(err)
	}
	return data, name
}

// receiverPeak runs `receiver serve`, uploads file once, stops the receiver with SIGTERM and returns
// its peak RSS (VmHWM, read before it stops) and its RSS before the upload, in KiB, with the upload's
// duration and result.
//
// Not getrusage: Go starts commands with a vfork-style clone that shares this process's memory until
// exec, and Linux carries the high-water mark of that memory into the child's ru_maxrss, so a child
// of a test that built a 50 MB package reports the test's own peak. VmHWM is the exec'd program's.
func receiverPeak(t *testing.T, bin, cfgPath string, env []string, s *receivertest.Stack, file, name string) (peak, idle int64, took time.Duration, result string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "receiver"), "serve", "--config", cfgPath)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	listen := make(chan string, 1)
	var logTail strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Event, Listen string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Event == "receiver.started" {
				listen <- line.Listen
			}
			logMu.Lock()
			if logTail.Len() < 64<<10 {
				logTail.Write(sc.Bytes())
				logTail.WriteByte('\n')
			}
			logMu.Unlock()
		}
	}()
	var addr string
	select {
	case addr = <-listen:
	case <-time.After(time.Minute):
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("the receiver did not start:\n%s", logTail.String())
	}
	idle = statusKB(t, cmd.Process.Pid, "VmRSS")

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	req, err := http.NewRequest(http.MethodPost, "https://"+addr+"/v1/packages", f)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = st.Size()
	req.Header.Set("Content-Type", receiver.MediaType)
	req.Header.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: s.SB.World.TLSRootPool(), ServerName: "localhost"}}}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took = time.Since(t0)
	result = resp.Header.Get("X-Tagdij-Result")
	if result == "" {
		result = fmt.Sprintf("status-%d", resp.StatusCode)
		t.Logf("answer: %s", body[:min(len(body), 400)])
	}
	peak = statusKB(t, cmd.Process.Pid, "VmHWM")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("receiver: %v", err)
	}
	return peak, idle, took, result
}

// auditorPeak runs `auditor verify --online` on file under GNU time (bench.sh's measure: a small
// process forks the auditor, so its maxrss is the auditor's own; see receiverPeak) and returns its
// peak RSS in KiB and its exit status (0 valid and 2 incomplete are both a full verification).
func auditorPeak(t *testing.T, bin string, s *receivertest.Stack, file, policyPath string) (int64, int) {
	t.Helper()
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		t.Skipf("%s (GNU time, Debian package time) is needed to measure the auditor", gnuTime)
	}
	report := filepath.Join(t.TempDir(), "time")
	cmd := exec.Command(gnuTime, "-f", "%M", "-o", report, filepath.Join(bin, "auditor"), "verify", file,
		"--trust", filepath.Join(s.SB.Dir, "trust.json"), "--policy", policyPath, "--online")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 0 && code != 2 {
		t.Fatalf("auditor verify: exit %d\n%s", code, out.String())
	}
	// GNU time writes "Command exited with non-zero status 2" first when the auditor says incomplete.
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.TrimSpace(string(raw)))
	kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		t.Fatalf("GNU time report %q: %v", raw, err)
	}
	return kb, code
}

// statusKB reads a "kB" field of /proc/PID/status (0 when unavailable).
func statusKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
