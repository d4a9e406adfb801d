// Package sandboxtest starts a sandbox PKI with its trust services (TSA,
// OCSP, CRL) for one test: a fresh directory under t.TempDir(), a server on
// a 127.0.0.1:0 listener whose URL is in the certificates, shut down by
// t.Cleanup. Env.Stop takes one service down (its requests get 503) and
// Env.Resume brings it back, for tests of what happens when the OCSP
// responder, the CRL distribution points or the TSA are unreachable.
//
//	env := sandboxtest.Start(t)
//	signer := env.World.MustEntity("signer-pelda-1")
//	client := tsp.Client{URL: env.TSAURL, ...}
//
// Key pool trade-off: generating the 21 keys of a sandbox (12 of them RSA)
// takes 2 s on an idle 2-core machine and up to 10 s on a loaded one. With
// [SharedKeys] every sandbox of the test binary draws its keys from one pool
// that is generated on first use and kept for the life of the test binary
// (the only package-level state, guarded by a mutex, in this test-only
// package); a second sandbox then starts in about 0.4 s. Certificates,
// serials, passwords and directories stay unique per sandbox, but two
// sandboxes in the same binary have the same key pairs for the same
// entities. Tests that compare keys across sandboxes or need key
// independence must use the default, [FreshKeys].
package sandboxtest

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/sandbox"
)

// Env is a running sandbox.
type Env struct {
	// Dir is the sandbox directory.
	Dir string
	// URL is the base URL of the server (also in the certificates).
	URL string
	// World is the loaded sandbox.
	World *sandbox.World
	// TSAURL and OCSPURL are the service endpoints.
	TSAURL  string
	OCSPURL string
	// Clock is the server's clock; Advance it to simulate time passing
	// (grace periods) without sleeping.
	Clock *Clock

	gate *gate
}

// Service is one of the sandbox's trust services, for Env.Stop, Env.Resume
// and Env.Requests.
type Service string

// The services, by the paths they answer on.
const (
	OCSP Service = "ocsp" // POST /ocsp, GET /ocsp/{request}
	CRL  Service = "crl"  // GET /crl/{name}.crl
	TSA  Service = "tsa"  // POST /tsa
)

// gate stands in front of the sandbox handler: it refuses the requests of
// stopped services and counts every service's requests.
type gate struct {
	next     http.Handler
	mu       sync.Mutex
	stopped  map[Service]bool
	requests map[Service]int64
}

func serviceOf(path string) Service {
	for _, s := range []Service{OCSP, CRL, TSA} {
		if p := "/" + string(s); path == p || strings.HasPrefix(path, p+"/") {
			return s
		}
	}
	return ""
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := serviceOf(r.URL.Path)
	g.mu.Lock()
	g.requests[s]++
	down := g.stopped[s]
	g.mu.Unlock()
	if down && s != "" {
		http.Error(w, "sandboxtest: "+string(s)+" stopped", http.StatusServiceUnavailable)
		return
	}
	g.next.ServeHTTP(w, r)
}

// Stop makes service s unavailable, as a responder or distribution point
// that is down: its requests get 503 Service Unavailable and no content,
// until Resume. The other services keep answering.
func (e *Env) Stop(s Service) {
	e.gate.mu.Lock()
	defer e.gate.mu.Unlock()
	e.gate.stopped[s] = true
}

// Resume makes a stopped service answer again.
func (e *Env) Resume(s Service) {
	e.gate.mu.Lock()
	defer e.gate.mu.Unlock()
	delete(e.gate.stopped, s)
}

// Requests is the number of requests service s received so far, answered
// or refused.
func (e *Env) Requests(s Service) int64 {
	e.gate.mu.Lock()
	defer e.gate.mu.Unlock()
	return e.gate.requests[s]
}

// CRLURL returns the URL of the CRL of CA name (e.g. sandbox.QualifiedCA).
func (e *Env) CRLURL(name string) string { return e.URL + "/crl/" + name + ".crl" }

// CAURL returns the URL of the certificate of CA name.
func (e *Env) CAURL(name string) string { return e.URL + "/ca/" + name + ".crt" }

// Revoke revokes the certificate ref (manifest name or serial) at `at`
// (zero: the server clock's now), failing the test on error.
func (e *Env) Revoke(t testing.TB, ref string, reason int, at time.Time) {
	t.Helper()
	if at.IsZero() {
		at = e.Clock.Now()
	}
	if err := sandbox.Revoke(e.Dir, ref, reason, at); err != nil {
		t.Fatalf("sandboxtest: revoke %s: %v", ref, err)
	}
}

// Clock is a real-time clock with an adjustable offset; safe for
// concurrent use. Frozen, it stands still but for Advance.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen time.Time // the real time it was frozen at; zero: running
}

// Now returns time.Now() plus the accumulated offset; once frozen, the real
// time of Freeze plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen.IsZero() {
		return c.frozen.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Freeze stops the clock where it stands: from then on only Advance moves
// it, so that a test whose outcome depends on time (a grace period of
// seconds) does not depend on how fast the machine runs. It cannot be
// undone; freezing a frozen clock does nothing.
func (c *Clock) Freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen.IsZero() {
		c.frozen = time.Now()
	}
}

// Advance moves the clock forward by d (backward for negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Option configures Start.
type Option func(*config)

type config struct {
	init   sandbox.InitOptions
	serve  sandbox.ServeOptions
	shared bool
}

// WithInit adjusts the InitOptions (BaseURL is always set by Start).
func WithInit(f func(*sandbox.InitOptions)) Option { return func(c *config) { f(&c.init) } }

// WithServe adjusts the ServeOptions (Now is always the Env's Clock).
func WithServe(f func(*sandbox.ServeOptions)) Option { return func(c *config) { f(&c.serve) } }

// WithLogger sends the server's request log to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.serve.Logger = l } }

// SharedKeys draws the keys from the per-test-binary key pool (see the
// package documentation for the trade-off).
func SharedKeys() Option { return func(c *config) { c.shared = true } }

// FreshKeys generates fresh keys for this sandbox (the default).
func FreshKeys() Option { return func(c *config) { c.shared = false } }

// Start initialises a sandbox in t.TempDir(), serves it on 127.0.0.1 and
// registers the shutdown with t.Cleanup.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := sandbox.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	url := "http://" + ln.Addr().String()
	dir := t.TempDir()
	cfg.init.BaseURL = url
	if cfg.shared && cfg.init.Keys == nil && cfg.init.RankedKeys == nil {
		cfg.init.RankedKeys = poolKey
	}
	if err := sandbox.Init(dir, cfg.init); err != nil {
		ln.Close()
		t.Fatalf("sandboxtest: %v", err)
	}
	w, err := sandbox.Load(dir)
	if err != nil {
		ln.Close()
		t.Fatalf("sandboxtest: %v", err)
	}
	clock := &Clock{}
	cfg.serve.Now = clock.Now
	if cfg.serve.Logger == nil {
		cfg.serve.Logger = slog.New(slog.DiscardHandler)
	}
	g := &gate{next: w.Handler(cfg.serve), stopped: map[Service]bool{}, requests: map[Service]int64{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sandbox.Serve(ctx, ln, g) }()
	t.Cleanup(func() {
		cancel()
		switch err := <-done; {
		case errors.Is(err, context.DeadlineExceeded):
			// A connection was still busy after the graceful-shutdown grace (a loaded CI machine):
			// the server closed it. The test's own assertions are over; this is not its failure.
			t.Logf("sandboxtest: %v (connections closed)", err)
		case err != nil:
			t.Errorf("sandboxtest: %v", err)
		}
		http.DefaultClient.CloseIdleConnections()
	})
	return &Env{Dir: dir, URL: url, World: w, TSAURL: url + "/tsa", OCSPURL: url + "/ocsp", Clock: clock, gate: g}
}

// pool holds keys generated once per test binary.
var pool struct {
	mu   sync.Mutex
	keys map[sandbox.KeyAlg][]crypto.Signer
}

// poolKey returns the pool's key of rank i for alg (sandbox.InitOptions.RankedKeys), growing the pool
// as needed: every sandbox of the test binary gets the same key for the same entity.
func poolKey(alg sandbox.KeyAlg, i int) (crypto.Signer, error) {
	pool.mu.Lock()
	if pool.keys == nil {
		pool.keys = map[sandbox.KeyAlg][]crypto.Signer{}
	}
	have := len(pool.keys[alg])
	pool.mu.Unlock()
	for have <= i {
		k, err := sandbox.GenerateKey(alg)
		if err != nil {
			return nil, fmt.Errorf("sandboxtest: key pool: %w", err)
		}
		pool.mu.Lock()
		pool.keys[alg] = append(pool.keys[alg], k)
		have = len(pool.keys[alg])
		pool.mu.Unlock()
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	return pool.keys[alg][i], nil
}
