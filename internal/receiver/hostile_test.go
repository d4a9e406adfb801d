package receiver_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// TestOversizeBody: a body beyond the size limit is answered 413 with a signed T003 rejection receipt
// that verifies, over HTTP/2 and HTTP/1.1 alike, without the receiver reading the rest; the service
// answers normally afterwards.
func TestOversizeBody(t *testing.T) {
	const limit = 64 << 10
	s := receivertest.Start(t, receivertest.Options{MaxBytes: limit})
	h := s.StartHTTP(t, receivertest.Options{})
	ctx := t.Context()
	data, name := s.Package(t, receivertest.PackageOptions{})
	for _, c := range []struct {
		name   string
		client *http.Client
	}{{"HTTP/2", h.Client}, {"HTTP/1.1", h.Client1}} {
		t.Run(c.name, func(t *testing.T) {
			body := make([]byte, 4*limit)
			rand.Read(body)
			resp, rb, err := h.Post(ctx, c.client, body, attachment(name))
			if err != nil {
				t.Fatal(err)
			}
			r := mustReceipt(t, s, resp, rb, http.StatusRequestEntityTooLarge)
			if r.Result != receipt.Rejected || !slices.Contains(codes(r), errcode.T003) {
				t.Errorf("receipt %s %v, want ELUTASITVA with T003", r.Result, codes(r))
			}
			if got := resp.Header.Get("X-Tagdij-Result"); got != string(intake.TooLarge) {
				t.Errorf("X-Tagdij-Result %q", got)
			}
			// Only limit+1 bytes were read: the receipt describes those.
			if r.Package.Size != limit+1 || r.Package.SHA256 != sha(body[:limit+1]) {
				t.Errorf("receipt describes %d bytes %x, want the first %d", r.Package.Size, r.Package.SHA256[:4], limit+1)
			}
			// Sent again: the same answer, still 413 (the rest of the body is again not read).
			resp2, rb2, err := h.Post(ctx, c.client, body, attachment(name))
			if err != nil {
				t.Fatal(err)
			}
			if resp2.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Equal(rb2, rb) || resp2.Header.Get("X-Tagdij-Result") != string(intake.Replayed) {
				t.Errorf("re-sent: %d %s, identical %v", resp2.StatusCode, resp2.Header.Get("X-Tagdij-Result"), bytes.Equal(rb2, rb))
			}
		})
	}
	// Still serving: a good package is accepted.
	resp, rb, err := h.Upload(ctx, data, name)
	if err != nil {
		t.Fatal(err)
	}
	if r := mustReceipt(t, s, resp, rb, http.StatusOK); r.Result != receipt.Accepted {
		t.Errorf("after the 413s: %s %v", r.Result, codes(r))
	}
}

// TestSlowHeaders: a client that never completes its request header is cut off once the header
// timeout passes — before the TLS handshake, in the middle of an HTTP/1.1 header, and in the middle
// of an HTTP/2 header block (where the connection's idle timeout applies: no stream is open yet).
func TestSlowHeaders(t *testing.T) {
	t.Parallel()
	s := receivertest.Start(t, receivertest.Options{})
	// Short enough for a test, long enough for a TLS handshake on a loaded machine (the handshake
	// counts against ReadHeader too).
	to := receiver.ServerTimeouts{ReadHeader: 2 * time.Second, Idle: 2 * time.Second}
	h := s.StartHTTP(t, receivertest.Options{Timeouts: to})
	addr := h.Server.Listener.Addr().String()
	cases := []struct {
		name    string
		atLeast time.Duration
		open    func(t *testing.T) net.Conn
	}{
		{"no TLS handshake", to.ReadHeader, func(t *testing.T) net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"HTTP/1.1 half a header", to.ReadHeader, func(t *testing.T) net.Conn {
			c := h1Dial(t, h, "http/1.1")
			head := requestHead("x.es3", 100)
			if _, err := io.WriteString(c, head[:len(head)/2]); err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"HTTP/2 half a header block", to.Idle, func(t *testing.T) net.Conn {
			c := h1Dial(t, h, "h2")
			var b bytes.Buffer
			b.WriteString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
			b.Write([]byte{0, 0, 0, 0x4, 0, 0, 0, 0, 0}) // empty SETTINGS
			// HEADERS on stream 1 without END_HEADERS: :method POST, :scheme https; the
			// CONTINUATION never comes.
			b.Write([]byte{0, 0, 2, 0x1, 0, 0, 0, 0, 1, 0x83, 0x87})
			if _, err := c.Write(b.Bytes()); err != nil {
				t.Fatal(err)
			}
			return c
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			conn := c.open(t)
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(deadline))
			_, err := io.Copy(io.Discard, conn)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the server kept the connection open for %s", deadline)
			}
			if el := time.Since(start); el < c.atLeast {
				t.Errorf("closed after %s, before the %s timeout", el, c.atLeast)
			}
		})
	}
	t.Cleanup(func() {
		// The server still answers.
		resp, _, err := h.Get(context.Background(), "/v1/packages/"+strings.Repeat("0", 64)+"/status")
		if err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("after the slow clients: %v %v", resp, err)
		}
	})
}

// trickle is a request body that sends n bytes at a time with a pause between (far below the
// receiver's minimum rate), or, with stall, its first n bytes and then nothing until it is closed
// (the HTTP/2 transport closes it once the response is in) or done closes.
type trickle struct {
	data   []byte
	n      int
	pause  time.Duration
	stall  bool
	done   <-chan struct{}
	sent   int
	once   sync.Once
	closed chan struct{}
}

func newTrickle(data []byte, n int, pause time.Duration, stall bool, done <-chan struct{}) *trickle {
	return &trickle{data: data, n: n, pause: pause, stall: stall, done: done, closed: make(chan struct{})}
}

func (r *trickle) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}

func (r *trickle) Read(p []byte) (int, error) {
	if r.sent >= len(r.data) {
		return 0, io.EOF
	}
	if r.sent > 0 {
		var wait <-chan time.Time
		if !r.stall {
			wait = time.After(r.pause)
		}
		select {
		case <-r.done:
			return 0, errors.New("test over")
		case <-r.closed:
			return 0, errors.New("body closed")
		case <-wait:
		}
	}
	k := copy(p, r.data[r.sent:min(len(r.data), r.sent+r.n)])
	r.sent += k
	return k, nil
}

// TestSlowBody: a body sent far below the minimum rate, or one that stalls longer than the idle
// limit, is cut off (HTTP/1.1: the connection is closed; HTTP/2: the stream ends) without a 200, and
// nothing of it is recorded: no row, no blob, no temporary file. The same package sent normally
// afterwards is accepted as new.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{MinBodyRate: 64 << 10, BodyGrace: 300 * time.Millisecond,
		BodyIdle: 700 * time.Millisecond, PerAddressRate: 100, PerAddressBurst: 100}})
	data, name := s.Package(t, receivertest.PackageOptions{})
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	for _, c := range []struct {
		name  string
		h2    bool
		stall bool
	}{{"HTTP/1.1 trickle", false, false}, {"HTTP/1.1 stall", false, true}, {"HTTP/2 trickle", true, false}, {"HTTP/2 stall", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			n := 16
			if c.stall {
				n = 100
			}
			body := newTrickle(data, n, 20*time.Millisecond, c.stall, done)
			var code int
			if c.h2 {
				ctx, cancel := context.WithTimeout(t.Context(), deadline)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/v1/packages", body)
				req.ContentLength = int64(len(data))
				req.Header.Set("Content-Disposition", attachment(name))
				resp, err := h.Client.Do(req)
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					t.Fatalf("not cut off within %s", deadline)
				}
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				t.Logf("HTTP/2: %v %d", err, code)
			} else {
				conn := h1Dial(t, h, "http/1.1")
				ended := readToEnd(conn)
				go func() {
					io.WriteString(conn, requestHead(name, len(data)))
					io.Copy(conn, body)
				}()
				e := awaitEnd(t, ended)
				if e.resp != nil {
					code = e.resp.StatusCode
				}
				t.Logf("HTTP/1.1: %d %q, connection ended with %v", code, e.body, e.err)
			}
			// HTTP/1.1 always sees the 408 (the connection is then closed); an HTTP/2 client may
			// see its stream reset instead.
			if code != http.StatusRequestTimeout && (!c.h2 || code != 0) {
				t.Fatalf("a cut-off body was answered %d, want 408", code)
			}
			if _, err := s.DB.PackageStatus(t.Context(), sha(data)); !errors.Is(err, intake.ErrNotFound) {
				t.Errorf("a cut-off body left a row: %v", err)
			}
			waitFor(t, "the temporary file to go", func() bool {
				return len(files(t, filepath.Join(s.DataDir, "blobs"))) == 0
			})
		})
	}
	if v := metric(t, h, "tagdij_receiver_uploads_total", `outcome="body-aborted"`); v != 4 {
		t.Errorf("body-aborted uploads counted %v, want 4", v)
	}
	// Sent normally (to the same store through an API with the default limits, so that a scheduling
	// hiccup cannot make a fast body look slow), the package is new: nothing of it was recorded.
	normal := s.StartHTTP(t, receivertest.Options{})
	resp, rb, err := normal.Upload(t.Context(), data, name)
	if err != nil {
		t.Fatal(err)
	}
	if r := mustReceipt(t, s, resp, rb, http.StatusOK); r.Result != receipt.Accepted || resp.Header.Get("X-Tagdij-Result") != string(intake.Accepted) {
		t.Errorf("the package sent normally: %s %s %v", resp.Header.Get("X-Tagdij-Result"), r.Result, codes(r))
	}
}

// TestConcurrencyCap: with two upload slots held by slow but legal uploads, further uploads are
// refused at once with 503 and Retry-After (nothing acknowledged), the admin /healthz and /readyz
// still answer, and the held uploads then complete normally with receipts.
func TestConcurrencyCap(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{MaxConcurrentUploads: 2, PerAddressRate: 1000, PerAddressBurst: 1000,
		MinBodyRate: 1, BodyGrace: time.Hour, BodyIdle: time.Hour}})
	ctx := t.Context()
	type held struct {
		data []byte
		pw   *io.PipeWriter
		done chan error
		resp *http.Response
		body []byte
	}
	var holds []*held
	for i := range 2 {
		data, name := s.Package(t, receivertest.PackageOptions{})
		pr, pw := io.Pipe()
		u := &held{data: data, pw: pw, done: make(chan error, 1)}
		holds = append(holds, u)
		client := h.Client
		if i == 1 {
			client = h.Client1
		}
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.URL+"/v1/packages", pr)
			req.ContentLength = int64(len(data))
			req.Header.Set("Content-Disposition", attachment(name))
			resp, err := client.Do(req)
			if err == nil {
				u.resp = resp
				u.body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			u.done <- err
		}()
		go pw.Write(data[:len(data)/2])
	}
	waitFor(t, "both slots to be taken", func() bool { return metric(t, h, "tagdij_receiver_uploads_in_flight", "") == 2 })

	const flood = 12
	var wg sync.WaitGroup
	errs := make(chan string, flood)
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := h.Client
			if i%2 == 1 {
				client = h.Client1
			}
			resp, body, err := h.Post(ctx, client, []byte("excess upload"), attachment("x.es3"))
			switch {
			case err != nil:
				errs <- err.Error()
			case resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "":
				errs <- resp.Status + " Retry-After " + resp.Header.Get("Retry-After")
			case !strings.Contains(string(body), "NINCS") && !strings.Contains(string(body), "túlterhelt"):
				errs <- "body " + string(body)
			}
		}()
	}
	// While the slots are full, the admin listener answers.
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, body, err := h.Get(ctx, h.AdminURL+p)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s during the flood: %v %v %s", p, resp, err, body)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error("excess upload:", e)
	}
	if v := metric(t, h, "tagdij_receiver_uploads_total", `outcome="busy"`); v != flood {
		t.Errorf("busy uploads counted %v, want %d", v, flood)
	}
	for i, u := range holds {
		go func() {
			u.pw.Write(u.data[len(u.data)/2:])
			u.pw.Close()
		}()
		select {
		case err := <-u.done:
			if err != nil {
				t.Fatalf("held upload %d: %v", i, err)
			}
		case <-time.After(deadline):
			t.Fatalf("held upload %d not answered", i)
		}
		if r := mustReceipt(t, s, u.resp, u.body, http.StatusOK); r.Result != receipt.Accepted || r.Package.SHA256 != sha(u.data) {
			t.Errorf("held upload %d: %s %v", i, r.Result, codes(r))
		}
	}
	waitFor(t, "the slots to be free", func() bool { return metric(t, h, "tagdij_receiver_uploads_in_flight", "") == 0 })
	resp, _, err := h.Post(ctx, h.Client, []byte("after the flood"), attachment("x.es3"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after the flood: %v %v", resp, err)
	}
}

// TestPerAddressRate: beyond the burst, an address is refused 429 with Retry-After and a bilingual
// text, whichever protocol it uses.
func TestPerAddressRate(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{PerAddressRate: 0.01, PerAddressBurst: 2}})
	for range 2 {
		resp, body, err := h.Post(t.Context(), h.Client, []byte("not a package"), attachment("x.es3"))
		if err != nil {
			t.Fatal(err)
		}
		mustReceipt(t, s, resp, body, http.StatusOK)
	}
	for _, client := range []*http.Client{h.Client, h.Client1} {
		resp, body, err := h.Post(t.Context(), client, []byte("not a package"), attachment("x.es3"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", resp.StatusCode)
		}
		// One token at 0.01/s: about 100 s to wait.
		if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" || len(ra) > 3 {
			t.Errorf("Retry-After %q", ra)
		}
		bilingual(t, resp, body, "Túl sok", "Too many")
	}
	if v := metric(t, h, "tagdij_receiver_uploads_total", `outcome="rate-limited"`); v != 2 {
		t.Errorf("rate-limited uploads counted %v, want 2", v)
	}
}

// TestSlowProcessingAfterBody: the body guard's idle limit is about the client, not the fund: once the
// whole body is in, verifying and signing may take longer than BodyIdle without the request being
// cancelled. The receipt's time-stamp goes through a relay in front of the sandbox TSA that holds each
// request well past BodyIdle and notes whether the receiver gave up on it meanwhile.
func TestSlowProcessingAfterBody(t *testing.T) {
	t.Parallel()
	s := receivertest.Start(t, receivertest.Options{})
	const idle = 400 * time.Millisecond
	var mu sync.Mutex
	var cancelled int
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
			mu.Lock()
			cancelled++
			mu.Unlock()
			return
		case <-time.After(4 * idle): // pacing only: a cancellation that comes later goes unseen, it cannot fail the test
		}
		resp, err := http.Post(s.SB.TSAURL, r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(relay.Close)
	tsa := *s.TSA
	tsa.URL = relay.URL
	s.Signer.Options.TSA = &tsa
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{BodyIdle: idle}})
	for _, c := range []struct {
		name   string
		client *http.Client
	}{{"HTTP/1.1", h.Client1}, {"HTTP/2", h.Client}} {
		t.Run(c.name, func(t *testing.T) {
			data, name := s.Package(t, receivertest.PackageOptions{})
			resp, body, err := h.Post(t.Context(), c.client, data, attachment(name))
			if err != nil {
				t.Fatal(err)
			}
			if r := mustReceipt(t, s, resp, body, http.StatusOK); r.Result != receipt.Accepted {
				t.Errorf("%s %v", r.Result, codes(r))
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if cancelled != 0 {
		t.Errorf("the receiver abandoned %d time-stamp requests", cancelled)
	}
}
