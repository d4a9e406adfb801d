package receiver_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// deadline is how long a test waits for a condition that should hold within a fraction of it: CI is a
// loaded 2-core machine, so waits are generous and end as soon as the condition holds.
const deadline = 45 * time.Second

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("gave up after %s waiting for %s", deadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func jsonLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// attachment is the Content-Disposition header carrying a file name.
func attachment(name string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}

// codes lists a receipt's finding codes.
func codes(r *receipt.Receipt) []errcode.Code {
	var out []errcode.Code
	for _, f := range r.Errors {
		out = append(out, f.Code)
	}
	return out
}

// mustReceipt checks that a response carries a receipt package and that it verifies, and returns it.
func mustReceipt(t *testing.T, s *receivertest.Stack, resp *http.Response, body []byte, wantCode int) *receipt.Receipt {
	t.Helper()
	if resp.StatusCode != wantCode {
		t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, wantCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != receiver.MediaType {
		t.Fatalf("Content-Type %q, want %q: %.300s", ct, receiver.MediaType, body)
	}
	r := s.VerifyReceipt(t, body)
	if id := resp.Header.Get("X-Tagdij-Receipt-Id"); id != r.ID {
		t.Errorf("X-Tagdij-Receipt-Id %q, receipt %q", id, r.ID)
	}
	return r
}

// bilingual checks a plain-text answer: "Hungarian / English", containing both words given.
func bilingual(t *testing.T, resp *http.Response, body []byte, hu, en string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	s := string(body)
	if !strings.Contains(s, " / ") || !strings.Contains(s, hu) || !strings.Contains(s, en) {
		t.Errorf("answer not bilingual (want %q and %q): %q", hu, en, s)
	}
}

// metric reads one sample of the admin /metrics text: name{labels} (labels as the exposition format
// writes them, e.g. `outcome="accepted"`, or "" for none); -1 when absent.
func metric(t *testing.T, h *receivertest.HTTP, name, labels string) float64 {
	t.Helper()
	_, body, err := h.Get(context.Background(), h.AdminURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return metricIn(string(body), name, labels)
}

func metricIn(text, name, labels string) float64 {
	series := name
	if labels != "" {
		series += "{" + labels + "}"
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// h1Dial opens a raw TLS connection speaking HTTP/1.1 to the API.
func h1Dial(t *testing.T, h *receivertest.HTTP, proto string) *tls.Conn {
	t.Helper()
	tc := h.TLS.Clone()
	tc.NextProtos = []string{proto}
	c, err := tls.Dial("tcp", h.Server.Listener.Addr().String(), tc)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ConnectionState().NegotiatedProtocol; got != proto {
		t.Fatalf("negotiated %q, want %q", got, proto)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// requestHead is an HTTP/1.1 upload's head for a body of n bytes.
func requestHead(name string, n int) string {
	return fmt.Sprintf("POST /v1/packages HTTP/1.1\r\nHost: localhost\r\nContent-Type: %s\r\nContent-Disposition: %s\r\nContent-Length: %d\r\n\r\n",
		receiver.MediaType, attachment(name), n)
}

// readResponse reads an HTTP/1.1 response (if any) and then the connection to its end, in the
// background; the result says what came back and how the connection ended.
type connEnd struct {
	resp *http.Response
	body []byte
	err  error // the error that ended the connection (nil: EOF)
}

func readToEnd(c io.Reader) <-chan connEnd {
	ch := make(chan connEnd, 1)
	go func() {
		br := bufio.NewReader(c)
		var e connEnd
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			e.resp = resp
			e.body, _ = io.ReadAll(resp.Body)
		}
		_, err = io.Copy(io.Discard, br)
		e.err = err
		ch <- e
	}()
	return ch
}

// awaitEnd waits for the connection to end; a client-side deadline means the server never closed it.
func awaitEnd(t *testing.T, ch <-chan connEnd) connEnd {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(deadline):
		t.Fatalf("the server did not close the connection within %s", deadline)
		return connEnd{}
	}
}

// files lists the regular files under root, relative to it.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

func hexSum(b []byte) string { s := sha(b); return hex.EncodeToString(s[:]) }

// zipBomb builds a valid ZIP with one entry, bevallas.xml, that inflates to chunks MiB of zeros while
// the ZIP itself is about chunks KiB: the deflate stream of one MiB of zeros following zeros is
// repeated (valid wherever the 32 KiB window before it is zeros), ended by an empty final block.
func zipBomb(t testing.TB, chunks int) []byte { return receivertest.ZipBomb(t, chunks) }

// inflated is the size a ZIP's only entry really inflates to (its CRC checked).
func inflated(t testing.TB, z []byte) int64 {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		t.Fatalf("bomb does not inflate: %v", err)
	}
	return n
}
