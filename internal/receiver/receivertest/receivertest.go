// Package receivertest builds a whole fund receiver in a test: the sandbox trust services (TSA, OCSP,
// CRLs) on loopback, a SQLite store and a blob store in a temporary directory, the sandbox's
// registration sheets imported, the fund's receipt key, the intake pipeline and, on request, the HTTPS
// API on a loopback TLS listener. Everything is real; only the clock is the sandbox's injectable one.
package receivertest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/registry"
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
	// Logger receives the receiver's logs; nil discards.
	Logger *slog.Logger
}

// Stack is a running receiver.
type Stack struct {
	SB      *sandboxtest.Env
	Policy  *policy.Policy
	Env     *trust.Env
	TSA     *tsp.Client
	Schemas *schema.Set
	DB      *sqlite.DB
	Blobs   *blob.Store
	Service *intake.Service
	Fund    receipt.Fund
	DataDir string
	Signer  *intake.KeySigner
	seqMu   sync.Mutex
	seqDir  string
	seed    uint64
}

// Start builds the stack; everything is closed at the end of the test.
func Start(t testing.TB, o Options) *Stack {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	root := sb.World.MustEntity(sandbox.RootCA)
	dir := t.TempDir()
	// Revocation evidence is cached in the data directory, as the sandbox's receiver.json has it.
	env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert},
		RevocationCache: filepath.Join(dir, sandbox.TrustCacheDir)}, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	env.Online.Now = sb.Clock.Now
	tsa := &tsp.Client{URL: sb.TSAURL, Trust: pathval.TSAVerifier{Anchors: env.TSAs, Algorithms: env.Algorithms(), SigCache: env.SigCache}, Now: sb.Clock.Now}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
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
	fund := receipt.Fund{Code: sb.World.Manifest.Fund.FundCode, Name: sb.World.Manifest.Fund.Name}
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
	return &Stack{SB: sb, Policy: pol, Env: env, TSA: tsa, Schemas: set, DB: db, Blobs: blobs, Service: svc, Fund: fund, DataDir: dir,
		Signer: signer, seqDir: t.TempDir()}
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
}

// Package builds a signed, time-stamped package and returns its bytes and file name.
func (s *Stack) Package(t testing.TB, o PackageOptions) ([]byte, string) {
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
		Fund: declaration.Fund{Code: s.Fund.Code, Name: s.Fund.Name}})
	var decl bytes.Buffer
	d.WriteTo(&decl)
	s.seqMu.Lock()
	res, err := pack.Pack(ctx, decl.Bytes(), pack.Options{Schemas: s.Schemas, Contact: es3.Contact{Name: "Kovács Anna", Phone: "+36 1 555 0101", Address: "1111 Budapest, Minta utca 1."},
		FundCert: s.SB.World.MustEntity(sandbox.FundEncryption).Cert, OwnCert: s.SB.World.MustEntity(emp.Encryption).Cert,
		Now: s.SB.Clock.Now(), Sequence: pack.FileSequence{Path: filepath.Join(s.seqDir, "seq.json")}})
	s.seqMu.Unlock()
	if err != nil {
		t.Fatal(err)
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

// Submit runs one upload through the intake pipeline (no HTTP).
func (s *Stack) Submit(t testing.TB, data []byte, name string) *intake.Outcome {
	t.Helper()
	out, err := s.Service.Submit(context.Background(), intake.Upload{FileName: name, Body: bytes.NewReader(data), SizeHint: int64(len(data))})
	if err != nil {
		t.Fatalf("submit %s: %v", name, err)
	}
	return out
}

// VerifyReceipt checks a receipt package's signature and time-stamp (receiptpkg.Verify, judged after
// the receipt's grace period) and returns the decoded receipt.
func (s *Stack) VerifyReceipt(t testing.TB, pkg []byte) *receipt.Receipt {
	t.Helper()
	r, rep, err := receiptpkg.Verify(context.Background(), pkg, receiptpkg.VerifyOptions{Env: s.Env, Now: s.SB.Clock.Now().Add(time.Hour), Schemas: s.Schemas})
	if err != nil {
		t.Fatalf("receipt does not verify: %v (%+v)", err, rep)
	}
	return r
}

// HTTP is the API served over loopback TLS (HTTP/2) with the sandbox's fund TLS certificate.
type HTTP struct {
	URL    string
	Client *http.Client
	Server *httptest.Server
	API    *receiver.API
}

// StartHTTP serves the stack's API on a loopback TLS listener.
func (s *Stack) StartHTTP(t testing.TB, o Options) *HTTP {
	t.Helper()
	api := receiver.New(s.Service, s.DB, receiver.Options{Limits: o.Limits, Logger: o.Logger, Clock: time.Now})
	mux := http.NewServeMux()
	api.Route(mux)
	srv := httptest.NewUnstartedServer(mux)
	base := receiver.Server(mux, []tls.Certificate{s.SB.World.TLSCertificate()}, receiver.ServerTimeouts{}, nil)
	srv.Config = base
	srv.TLS = base.TLSConfig
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: s.SB.World.TLSRootPool(), ServerName: "localhost"}}}
	return &HTTP{URL: srv.URL, Client: client, Server: srv, API: api}
}

// Upload posts a package with its file name in Content-Disposition.
func (h *HTTP) Upload(ctx context.Context, data []byte, name string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/v1/packages", bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", receiver.MediaType)
	req.Header.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	resp, err := h.Client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp, buf.Bytes(), err
}
