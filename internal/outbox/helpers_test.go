package outbox_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/upload"
	"github.com/tagdij/tagdij/internal/workspace"
)

// fixture is a real fund receiver on loopback TLS (receivertest: the sandbox's TSA, OCSP and CRLs,
// SQLite, the intake pipeline), a fault-injecting front (front) that wraps the receiver's own handler,
// a sender workspace in t.TempDir() and an outbox.Sender over the real HTTPS client (internal/upload).
// The sender runs on the sandbox's clock, frozen; its waits advance that clock instead of sleeping.
type fixture struct {
	stack  *receivertest.Stack
	http   *receivertest.HTTP
	front  *front
	ws     *workspace.Workspace
	sender *outbox.Sender
	// waits are the waits the sender asked for, in order; onWait runs at each (after the clock moved).
	waits  []time.Duration
	onWait func(time.Duration)
}

func newFixture(t *testing.T, o receivertest.Options) *fixture {
	t.Helper()
	stack := receivertest.Start(t, o)
	// Time moves only when the test (or a wait of the sender) moves it: whether a check is final
	// (the sandbox's grace periods are seconds) never depends on the machine's speed.
	stack.SB.Clock.Freeze()
	h := stack.StartHTTP(t, o)
	f := &fixture{stack: stack, http: h}
	f.front = startFront(t, h)
	ws, err := workspace.Open(context.Background(), filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	f.ws = ws
	// The sender has its own trust environment (its own revocation cache) over the same sandbox.
	own := receivertest.NewBuilder(t, stack.SB)
	emp, err := stack.SB.World.Employer("pelda")
	if err != nil {
		t.Fatal(err)
	}
	f.sender = &outbox.Sender{WS: ws, Transport: f.client(t, f.front.srv.URL), Env: own.Env, Schemas: own.Schemas,
		Clock: stack.SB.Clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			f.waits = append(f.waits, d)
			stack.SB.Clock.Advance(d)
			if f.onWait != nil {
				f.onWait(d)
			}
			return ctx.Err()
		},
		Retry: outbox.Retry{Backoff: 10 * time.Millisecond},
		Parties: outbox.Parties{Employer: emp.Name, FundCode: stack.Fund.Code, FundName: stack.Fund.Name,
			FundAddress: "penztar@example.test", SupervisorAddress: "felugyelet@example.test"}}
	return f
}

// client is the real HTTPS transport to url, trusting the sandbox's TLS CA, recording what it sends.
func (f *fixture) client(t *testing.T, url string) *sentTransport {
	t.Helper()
	c, err := upload.New(upload.Options{BaseURL: url, Roots: f.stack.SB.World.TLSRootPool(), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &sentTransport{Transport: c}
}

// pkg builds a signed, time-stamped package of the employer pelda and moves the clock past its grace
// period, so that its initial check is final.
func (f *fixture) pkg(t *testing.T, o receivertest.PackageOptions) ([]byte, string) {
	t.Helper()
	data, name := f.stack.Package(t, o)
	f.stack.SB.Clock.Advance(3 * time.Second)
	return data, name
}

// sent is what the sender's transport was given to upload, in order.
func (f *fixture) sent() [][]byte { return f.sender.Transport.(*sentTransport).all() }

// receiverHas reports whether the receiver recorded a package with these bytes.
func (f *fixture) receiverHas(t *testing.T, data []byte) bool {
	t.Helper()
	_, err := f.stack.DB.PackageStatus(context.Background(), sha256.Sum256(data))
	if err != nil && !errors.Is(err, intake.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// sentTransport is the real transport, remembering every body it was handed.
type sentTransport struct {
	outbox.Transport
	mu    sync.Mutex
	sends [][]byte
}

func (s *sentTransport) Upload(ctx context.Context, name string, data []byte) (*outbox.Answer, error) {
	s.mu.Lock()
	s.sends = append(s.sends, bytes.Clone(data))
	s.mu.Unlock()
	return s.Transport.Upload(ctx, name, data)
}

func (s *sentTransport) all() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.sends...)
}

// fault is what the front does to one upload (POST /v1/packages). The zero fault passes it through.
type fault struct {
	// cutAfter > 0: read that many bytes of the upload, then cut the connection (no answer); the
	// receiver never sees the upload.
	cutAfter int
	// dropAnswer: the receiver takes the whole upload and answers, and the answer is lost with the
	// connection.
	dropAnswer bool
	// status > 0: the front answers this itself (with body and retryAfter); the receiver never sees
	// the upload.
	status     int
	body       []byte
	retryAfter string
	// edit changes the receiver's answer on its way back.
	edit func([]byte) []byte
	// swap is uploaded to the receiver instead of the sender's bytes.
	swap []byte
}

// seen is one upload as the front saw it.
type seen struct {
	body       []byte // what arrived from the sender (a prefix when cut)
	status     int    // the status the sender got; 0: none
	retryAfter string
	answer     []byte // the answer the sender got
}

// front is a TLS server on loopback with the receiver's own certificate and handler behind it, which
// applies a scripted fault to each upload.
type front struct {
	srv    *httptest.Server
	next   http.Handler
	mu     sync.Mutex
	script []fault // the i-th upload gets script[i]; later ones pass
	log    []seen
}

func startFront(t *testing.T, h *receivertest.HTTP) *front {
	t.Helper()
	fr := &front{next: h.Server.Config.Handler}
	fr.srv = httptest.NewUnstartedServer(fr)
	fr.srv.TLS = h.Server.TLS.Clone()
	fr.srv.EnableHTTP2 = true
	fr.srv.Config.ErrorLog = nil
	fr.srv.StartTLS()
	t.Cleanup(fr.srv.Close)
	return fr
}

// plan replaces the script; the upload count starts again at zero.
func (fr *front) plan(fs ...fault) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.script, fr.log = fs, nil
}

func (fr *front) uploads() []seen {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return append([]seen(nil), fr.log...)
}

func (fr *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		fr.next.ServeHTTP(w, r)
		return
	}
	fr.mu.Lock()
	i := len(fr.log)
	fr.log = append(fr.log, seen{})
	var f fault
	if i < len(fr.script) {
		f = fr.script[i]
	}
	fr.mu.Unlock()
	record := func(s seen) {
		fr.mu.Lock()
		fr.log[i] = s
		fr.mu.Unlock()
	}
	if f.cutAfter > 0 {
		b, _ := io.ReadAll(io.LimitReader(r.Body, int64(f.cutAfter)))
		record(seen{body: b})
		panic(http.ErrAbortHandler) // the connection (HTTP/1.1) or the stream (HTTP/2) is reset
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		record(seen{body: body})
		panic(http.ErrAbortHandler)
	}
	if f.status > 0 {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.WriteHeader(f.status)
		w.Write(f.body)
		record(seen{body: body, status: f.status, retryAfter: f.retryAfter, answer: f.body})
		return
	}
	up := body
	if f.swap != nil {
		up = f.swap
	}
	r.Body = io.NopCloser(bytes.NewReader(up))
	r.ContentLength = int64(len(up))
	c := &capture{real: w, h: http.Header{}}
	fr.next.ServeHTTP(c, r)
	if f.dropAnswer {
		record(seen{body: body})
		panic(http.ErrAbortHandler)
	}
	answer := c.buf.Bytes()
	if f.edit != nil {
		answer = f.edit(bytes.Clone(answer))
	}
	for k, v := range c.h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(answer)
	record(seen{body: body, status: status, retryAfter: c.h.Get("Retry-After"), answer: answer})
}

// capture keeps the receiver's answer; Unwrap lets the receiver's http.ResponseController reach the
// connection's deadlines.
type capture struct {
	real   http.ResponseWriter
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (c *capture) Header() http.Header { return c.h }
func (c *capture) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}
func (c *capture) Write(b []byte) (int, error) { return c.buf.Write(b) }
func (c *capture) Unwrap() http.ResponseWriter { return c.real }

// copyState copies the workspace's state directory (SQLite and blobs) to a new directory, runs the
// SQL statements tamper on the copy's database (as a doctored backup would have it) and opens it, for
// a test that changes the records without touching the original.
func copyState(t *testing.T, ws *workspace.Workspace, tamper ...string) *workspace.Workspace {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.CopyFS(dir, os.DirFS(ws.Dir())); err != nil {
		t.Fatal(err)
	}
	if len(tamper) > 0 {
		db, err := sql.Open("sqlite", filepath.Join(dir, workspace.DBFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range tamper {
			if res, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			} else if n, _ := res.RowsAffected(); n == 0 {
				t.Fatalf("%s: no row changed", q)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	c, err := workspace.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
