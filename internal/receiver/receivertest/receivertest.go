// Package receivertest builds a whole fund receiver in a test: the sandbox trust services (TSA, OCSP,
// CRLs) on loopback, a SQLite store and a blob store in a temporary directory, the sandbox's
// registration sheets imported, the fund's receipt key, the intake pipeline and, on request, the HTTPS
// API on a loopback TLS listener with its admin endpoints. Everything is real; only the clock is the
// sandbox's injectable one.
//
// A Builder alone (NewBuilder) builds signed packages and verifies receipts against a bare sandbox,
// for tests that run the receiver some other way (the receiver binary).
package receivertest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"hash/crc32"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/cmsenc"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

// Options configure Start.
type Options struct {
	// MaxBytes is the package size limit; zero: 8 MiB.
	MaxBytes int64
	// ReceiptKey and ReceiptCert replace the sandbox's fund-receipt key (e.g. an RSA key for a
	// benchmark); nil: the sandbox's.
	ReceiptKey   crypto.Signer
	ReceiptCert  *x509.Certificate
	ReceiptChain []*x509.Certificate
	// Receipt replaces the receipt signer altogether (e.g. one whose TSA is down).
	Receipt intake.ReceiptSigner
	// Limits are the API's limits (StartHTTP).
	Limits receiver.Limits
	// Timeouts are the public server's connection limits (StartHTTP); zero fields take
	// receiver.DefaultServerTimeouts' values.
	Timeouts receiver.ServerTimeouts
	// Submitter replaces the intake pipeline behind the API (StartHTTP), for tests of the HTTP layer
	// itself (e.g. one that panics); nil: the stack's Service.
	Submitter receiver.Submitter
	// Logger receives the receiver's logs; nil discards.
	Logger *slog.Logger
}

// Builder builds signed packages the way a sender does and verifies receipt packages, against a
// sandbox: its policy, trust environment, TSA client and schemas.
type Builder struct {
	SB      *sandboxtest.Env
	Policy  *policy.Policy
	Env     *trust.Env
	TSA     *tsp.Client
	Schemas *schema.Set
	Fund    receipt.Fund
	seqMu   sync.Mutex
	seqDir  string
	seed    uint64
}

// NewBuilder prepares a Builder over a running sandbox; the schemas are closed at the end of the test.
func NewBuilder(t testing.TB, sb *sandboxtest.Env) *Builder {
	t.Helper()
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	dir := t.TempDir()
	// Revocation evidence is cached on disk (memory in front), as the sandbox's receiver.json has it.
	env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert},
		RevocationCache: filepath.Join(dir, sandbox.TrustCacheDir)}, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	env.Online.Now = sb.Clock.Now
	tsa := &tsp.Client{URL: sb.TSAURL, HTTP: tsp.NewHTTPClient(receiver.DefaultLimits().MaxConcurrentUploads), Trust: pathval.TSAVerifier{Anchors: env.TSAs, Algorithms: env.Algorithms(), SigCache: env.SigCache}, Now: sb.Clock.Now,
		ParseCertificates: env.SigCache.ParseCertificates}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	fund := receipt.Fund{Code: sb.World.Manifest.Fund.FundCode, Name: sb.World.Manifest.Fund.Name}
	return &Builder{SB: sb, Policy: pol, Env: env, TSA: tsa, Schemas: set, Fund: fund, seqDir: t.TempDir()}
}

// Stack is a running receiver.
type Stack struct {
	*Builder
	DB      *sqlite.DB
	Blobs   *blob.Store
	Service *intake.Service
	DataDir string
	Signer  *intake.KeySigner
}

// Start builds the stack; everything is closed at the end of the test.
func Start(t testing.TB, o Options) *Stack {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	b := NewBuilder(t, sb)
	pol, set, env, tsa := b.Policy, b.Schemas, b.Env, b.TSA
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "receiver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, emp := range sb.World.Manifest.Employers {
		data, err := os.ReadFile(filepath.Join(sb.Dir, sandbox.RegistrationFile(emp.Key)))
		if err != nil {
			t.Fatal(err)
		}
		sh, err := registry.Decode(data, set)
		if err != nil {
			t.Fatalf("registration of %s: %v", emp.Key, err)
		}
		if err := db.Registry().Put(context.Background(), sh); err != nil {
			t.Fatal(err)
		}
	}
	rk := sb.World.MustEntity(sandbox.FundReceipt)
	key, cert, chain := rk.Key, rk.Cert, rk.Chain
	if o.ReceiptKey != nil {
		key, cert, chain = o.ReceiptKey, o.ReceiptCert, o.ReceiptChain
	}
	fund := b.Fund
	signer := &intake.KeySigner{Options: receiptpkg.BuildOptions{Signer: key, Certificate: cert, Chain: chain, Policy: pol, TSA: tsa,
		TLSCertificates: []*x509.Certificate{sb.World.MustEntity(sandbox.FundTLS).Cert}}, Clock: sb.Clock.Now}
	var rs intake.ReceiptSigner = signer
	if o.Receipt != nil {
		rs = o.Receipt
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 8 << 20
	}
	svc, err := intake.New(intake.Config{Fund: fund, Env: env, Schemas: set, Blobs: blobs, Store: db, Signers: &intake.RegistrySigners{Store: db.Registry()},
		Receipt: rs, MaxBytes: o.MaxBytes, Clock: sb.Clock.Now, Logger: o.Logger})
	if err != nil {
		t.Fatal(err)
	}
	return &Stack{Builder: b, DB: db, Blobs: blobs, Service: svc, DataDir: dir, Signer: signer}
}

// PackageOptions describe a package to build.
type PackageOptions struct {
	// Employer is the sandbox employer ("pelda" when empty).
	Employer string
	// Signers are indexes into the employer's signers (default: {0}).
	Signers []int
	// SignerEntities, when set, sign instead (any sandbox entities with keys).
	SignerEntities []*sandbox.Entity
	// Members is the declaration's item count (default 3).
	Members int
	// NoTimestamp leaves the signatures without SignatureTimeStamp.
	NoTimestamp bool
	// Seed varies the declaration and its submission id; 0: a new one each call.
	Seed uint64
	// Period is the declaration period (default: the month before the sandbox clock's month).
	Period declaration.Period
	// Type is the declaration type (default B); Predecessor, for O and H, the predecessor's submission
	// id (default: one derived from the seed, which names no real submission).
	Type        declaration.Type
	Predecessor string
	// Zip, when set, replaces the compressed declaration inside the encrypted document: the package
	// carries these bytes, encrypted to the fund and the employer, under the declaration's signed
	// metadata and name, signed and time-stamped like any other (e.g. a decompression bomb).
	Zip []byte
	// Content, when set, is given the generated declaration (the one the signed metadata and name are
	// made from) and returns the declaration bytes the package carries instead, zipped, encrypted and
	// with their own es:SourceSize (e.g. a declaration that breaks the schema, or whose declarant
	// differs from the metadata). Zip wins over it.
	Content func(d *declaration.Declaration) []byte
	// Recipient, when set, replaces the fund's encryption certificate as the package's first recipient
	// (a package the fund cannot decrypt: D001).
	Recipient *x509.Certificate
	// KeyTransport is how the content key is encrypted to the recipients (default RSA-OAEP-SHA-256;
	// cmsenc.PKCS1v15 for a token without OAEP-SHA-256, such as SoftHSM 2.6).
	KeyTransport cmsenc.KeyTransport
}

// ZipBomb returns a ZIP archive with one bevallas.xml entry that inflates to chunks MiB of zeros from
// a few KiB (each MiB a copy of the same deflate blocks), with a correct CRC and sizes: it passes
// every check but the decompression limits.
func ZipBomb(t testing.TB, chunks int) []byte {
	t.Helper()
	const chunk = 1 << 20
	zeros := make([]byte, chunk)
	var def bytes.Buffer
	fw, err := flate.NewWriter(&def, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(zeros)
	fw.Flush() // byte-aligned: the next chunk's blocks start on a byte
	first := def.Len()
	fw.Write(zeros)
	fw.Flush()
	repeat := bytes.Clone(def.Bytes()[first:])
	def.Truncate(first)
	crc := crc32.Update(0, crc32.IEEETable, zeros)
	for i := 1; i < chunks; i++ {
		def.Write(repeat)
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	def.Write([]byte{0x01, 0x00, 0x00, 0xff, 0xff}) // final empty stored block
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "bevallas.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(def.Len()), UncompressedSize64: uint64(chunks) * chunk, Modified: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(def.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Package builds a signed, time-stamped package and returns its bytes and file name. It is safe for
// concurrent use.
func (s *Builder) Package(t testing.TB, o PackageOptions) ([]byte, string) {
	t.Helper()
	ctx := context.Background()
	if o.Employer == "" {
		o.Employer = "pelda"
	}
	if o.Members == 0 {
		o.Members = 3
	}
	if o.Seed == 0 {
		s.seqMu.Lock()
		s.seed++
		o.Seed = s.seed
		s.seqMu.Unlock()
	}
	emp, err := s.SB.World.Employer(o.Employer)
	if err != nil {
		t.Fatal(err)
	}
	signers, _ := s.SB.World.Signers(o.Employer)
	period := o.Period
	if period == (declaration.Period{}) {
		period = declaration.PeriodOf(s.SB.Clock.Now().UTC()).Prev()
	}
	d := synth.Generate(synth.Options{Members: o.Members, Seed: o.Seed, Period: period,
		Declarant: declaration.Declarant{Name: emp.Name, ID: declaration.DeclarantID{Type: declaration.IDAdoszam, Value: emp.TaxNumber},
			Address: declaration.Address{PostalCode: "1111", City: "Budapest", Street: "Minta utca 1."}},
		Fund: declaration.Fund{Code: s.Fund.Code, Name: s.Fund.Name}, Type: o.Type})
	if o.Predecessor != "" {
		d.Header.PredecessorID = o.Predecessor
	}
	var decl bytes.Buffer
	d.WriteTo(&decl)
	now := s.SB.Clock.Now().UTC().Truncate(time.Second)
	fundCert, ownCert := s.SB.World.MustEntity(sandbox.FundEncryption).Cert, s.SB.World.MustEntity(emp.Encryption).Cert
	s.seqMu.Lock()
	res, err := pack.Pack(ctx, decl.Bytes(), pack.Options{Schemas: s.Schemas, Contact: es3.Contact{Name: "Kovács Anna", Phone: "+36 1 555 0101", Address: "1111 Budapest, Minta utca 1."},
		FundCert: fundCert, OwnCert: ownCert, Now: now, Sequence: pack.FileSequence{Path: filepath.Join(s.seqDir, "seq.json")}})
	s.seqMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if o.Recipient != nil {
		fundCert = o.Recipient
	}
	switch {
	case o.Zip != nil:
		res.Bytes = s.rebuild(t, res, o.Zip, int64(decl.Len()), now, fundCert, ownCert, o.KeyTransport)
	case o.Content != nil:
		content := o.Content(d)
		var z bytes.Buffer
		if err := payload.Zip(&z, pack.DocumentTitle, bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		res.Bytes = s.rebuild(t, res, z.Bytes(), int64(len(content)), now, fundCert, ownCert, o.KeyTransport)
	case o.Recipient != nil || o.KeyTransport != cmsenc.OAEPSHA256:
		var z bytes.Buffer
		if err := payload.Zip(&z, pack.DocumentTitle, bytes.NewReader(decl.Bytes())); err != nil {
			t.Fatal(err)
		}
		res.Bytes = s.rebuild(t, res, z.Bytes(), int64(decl.Len()), now, fundCert, ownCert, o.KeyTransport)
	}
	who := o.SignerEntities
	if who == nil {
		idx := o.Signers
		if idx == nil {
			idx = []int{0}
		}
		for _, i := range idx {
			who = append(who, signers[i])
		}
	}
	data := res.Bytes
	for _, e := range who {
		if data, _, err = xades.Sign(ctx, data, xades.SignOptions{Signer: e.Key, Certificate: e.Cert, Chain: e.Chain, Policy: s.Policy,
			Kind: policy.KindPackage, SigningTime: s.SB.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if !o.NoTimestamp {
		if data, _, err = xades.Timestamp(ctx, data, xades.TimestampOptions{TSA: s.TSA}); err != nil {
			t.Fatal(err)
		}
	}
	return data, res.Name.String()
}

// rebuild builds the dossier of res again around zip in place of the declaration's ZIP.
func (s *Builder) rebuild(t testing.TB, res *pack.Result, zip []byte, sourceSize int64, now time.Time, fundCert, ownCert *x509.Certificate,
	kt cmsenc.KeyTransport) []byte {
	t.Helper()
	der, err := cmsenc.Encrypt(zip, []*x509.Certificate{fundCert, ownCert}, &cmsenc.Options{KeyTransport: kt})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := es3.Build(es3.DossierSpec{Title: res.Name.String(), Created: now, Metadata: &res.Metadata, Schemas: s.Schemas,
		Documents: []es3.DocumentSpec{{Title: pack.DocumentTitle, MIMEType: es3.MIMEXML, SourceSize: sourceSize,
			Transforms: es3.EncryptedTransforms(), Content: der}}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := es3.Write(&out, tree); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// SubmitMany builds n packages, the i-th with opts(i) (each with its own seed and submission id), and
// submits them through the intake pipeline with workers goroutines; every one must be accepted. It
// returns their hashes in no particular order. A declarant has 999 sequence numbers per period (SPEC
// §4): more packages need several employers or periods (Spread).
func (s *Stack) SubmitMany(t testing.TB, n, workers int, opts func(i int) PackageOptions) [][32]byte {
	t.Helper()
	var mu sync.Mutex
	var sums [][32]byte
	var problems []string
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				data, name := s.Package(t, opts(i))
				out, err := s.Service.Submit(context.Background(), intake.Upload{FileName: name, Body: bytes.NewReader(data), SizeHint: int64(len(data))})
				mu.Lock()
				switch {
				case err != nil:
					problems = append(problems, err.Error())
				case out.Kind != intake.Accepted:
					problems = append(problems, fmt.Sprintf("%s: %s %v", name, out.Kind, out.Codes))
				default:
					sums = append(sums, out.SHA256)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("%d of %d packages not accepted, first: %s", len(problems), n, problems[0])
	}
	return sums
}

// Spread returns package options that take turns between the sandbox's employers and the two
// months before the sandbox clock's month, so that many packages never run out of sequence numbers.
func (s *Builder) Spread(base PackageOptions) func(i int) PackageOptions {
	prev := declaration.PeriodOf(s.SB.Clock.Now().UTC()).Prev()
	var emps []string
	for _, e := range s.SB.World.Manifest.Employers {
		emps = append(emps, e.Key)
	}
	return func(i int) PackageOptions {
		o := base
		o.Employer = emps[i%len(emps)]
		o.Period = prev
		if i/len(emps)%2 == 1 {
			o.Period = prev.Prev()
		}
		return o
	}
}

// Submit runs one upload through the intake pipeline (no HTTP).
func (s *Stack) Submit(t testing.TB, data []byte, name string) *intake.Outcome {
	t.Helper()
	out, err := s.Service.Submit(context.Background(), intake.Upload{FileName: name, Body: bytes.NewReader(data), SizeHint: int64(len(data))})
	if err != nil {
		t.Fatalf("submit %s: %v", name, err)
	}
	return out
}

// VerifyReceipt checks a receipt package's signature and time-stamp (receiptpkg.Verify, judged an hour
// later) and returns the decoded receipt. The verdict must be TOTAL-PASSED, or INDETERMINATE/TRY_LATER
// only: the sandbox's revocation evidence is issued on its own clock, so unless the test advances
// that clock the grace period is not over yet.
func (s *Builder) VerifyReceipt(t testing.TB, pkg []byte) *receipt.Receipt {
	t.Helper()
	r, err := s.CheckReceipt(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// CheckReceipt is VerifyReceipt returning an error instead of failing the test (for goroutines).
func (s *Builder) CheckReceipt(pkg []byte) (*receipt.Receipt, error) {
	r, rep, err := receiptpkg.Verify(context.Background(), pkg, receiptpkg.VerifyOptions{Env: s.Env, Now: s.SB.Clock.Now().Add(time.Hour), Schemas: s.Schemas})
	if err != nil {
		return nil, fmt.Errorf("receipt does not verify: %w (%+v)", err, rep)
	}
	if rep.Verdict.Indication != report.TotalPassed && (rep.Verdict.Indication != report.Indeterminate || rep.Verdict.Sub != report.TryLater) {
		return nil, fmt.Errorf("receipt verdict %s/%s: %+v", rep.Verdict.Indication, rep.Verdict.Sub, rep.Verdict.Findings)
	}
	return r, nil
}

// HTTP is the API served over loopback TLS (HTTP/2 and HTTP/1.1) with the sandbox's fund TLS
// certificate, and its admin endpoints (/healthz, /readyz, /metrics) on a plain loopback listener.
type HTTP struct {
	URL string
	// Client speaks HTTP/2, Client1 HTTP/1.1; both trust the sandbox's TLS CA.
	Client  *http.Client
	Client1 *http.Client
	Server  *httptest.Server
	API     *receiver.API
	// AdminURL serves receiver.Admin over the API's metrics.
	AdminURL string
	Admin    *httptest.Server
	// TLS is a client configuration for raw connections (tls.Dial) to Server.
	TLS *tls.Config
}

// StartHTTP serves the stack's API on a loopback TLS listener, with o's Limits, Timeouts, Submitter
// and Logger, and the admin handler on another listener. A recovered panic is answered with an R001
// receipt signed (unstamped) by the stack's receipt signer, as the receiver binary does.
func (s *Stack) StartHTTP(t testing.TB, o Options) *HTTP {
	t.Helper()
	var in receiver.Submitter = s.Service
	if o.Submitter != nil {
		in = o.Submitter
	}
	reg := prometheus.NewRegistry()
	api := receiver.New(in, s.DB, receiver.Options{Limits: o.Limits, Logger: o.Logger, Clock: time.Now, Metrics: receiver.NewMetrics(reg),
		PanicReceipt: func(ctx context.Context) []byte {
			r := receipt.NewRejection(receipt.ReceivedPackage{}, time.Now(), s.Fund, []errcode.Finding{errcode.New(errcode.R001, "", "belső hiba / internal error")})
			if b, _, err := s.Signer.SignUnstamped(ctx, r); err == nil {
				return b
			}
			return nil
		}})
	mux := http.NewServeMux()
	api.Route(mux)
	srv := httptest.NewUnstartedServer(mux)
	srvLog := o.Logger
	if srvLog == nil {
		srvLog = slog.New(slog.DiscardHandler)
	}
	base := receiver.Server(mux, []tls.Certificate{s.SB.World.TLSCertificate()}, o.Timeouts, srvLog)
	srv.Config = base
	srv.TLS = base.TLSConfig
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	admin := httptest.NewServer(receiver.Admin(reg, []receiver.Check{
		{Name: "store", Run: func(ctx context.Context) error { return s.DB.Ping(ctx) }},
		{Name: "blobs", Run: func(ctx context.Context) error { return s.Blobs.Writable() }},
	}, o.Logger))
	t.Cleanup(admin.Close)
	tc := &tls.Config{RootCAs: s.SB.World.TLSRootPool(), ServerName: "localhost"}
	h2 := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: tc.Clone()}
	// A non-nil, empty TLSNextProto turns HTTP/2 off.
	h1 := &http.Transport{TLSClientConfig: tc.Clone(), TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	t.Cleanup(h2.CloseIdleConnections)
	t.Cleanup(h1.CloseIdleConnections)
	return &HTTP{URL: srv.URL, Client: &http.Client{Timeout: time.Minute, Transport: h2}, Client1: &http.Client{Timeout: time.Minute, Transport: h1},
		Server: srv, API: api, AdminURL: admin.URL, Admin: admin, TLS: tc}
}

// Upload posts a package with its file name in Content-Disposition over HTTP/2.
func (h *HTTP) Upload(ctx context.Context, data []byte, name string) (*http.Response, []byte, error) {
	return h.Post(ctx, h.Client, data, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
}

// Post posts data to /v1/packages with client, with the Content-Disposition header cd (none when
// empty), and returns the response and its whole body.
func (h *HTTP) Post(ctx context.Context, client *http.Client, data []byte, cd string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/v1/packages", bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", receiver.MediaType)
	if cd != "" {
		req.Header.Set("Content-Disposition", cd)
	}
	return do(client, req)
}

// Get fetches url (relative to the API unless absolute) with the HTTP/2 client.
func (h *HTTP) Get(ctx context.Context, url string) (*http.Response, []byte, error) {
	if !strings.HasPrefix(url, "http") {
		url = h.URL + url
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	return do(h.Client, req)
}

func do(client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp, buf.Bytes(), err
}
