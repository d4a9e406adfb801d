package receiver_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/tsp"
)

// slowReader yields data in small pieces, pausing between them, so that the whole body takes about total.
type slowReader struct {
	data  []byte
	piece int
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p[:min(len(p), r.piece)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestSlowLegalUploadGetsItsReceipt: an upload that is slow but above the minimum body rate, taking
// several times the response write limit to arrive, still gets its receipt: the write limit counts
// from the response's first byte, not from the request header (net/http's WriteTimeout would have
// cut the response of every upload longer than it).
func TestSlowLegalUploadGetsItsReceipt(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	const write = 500 * time.Millisecond
	h := s.StartHTTP(t, receivertest.Options{Timeouts: receiver.ServerTimeouts{Write: write},
		Limits: receiver.Limits{MinBodyRate: 1, BodyGrace: time.Hour, PerAddressRate: 100, PerAddressBurst: 100}})
	data, name := s.Package(t, receivertest.PackageOptions{})
	for _, c := range []struct {
		proto  string
		client *http.Client
	}{{"HTTP/2", h.Client}, {"HTTP/1.1", h.Client1}} {
		t.Run(c.proto, func(t *testing.T) {
			// 40 pieces 50 ms apart: about 2 s, four times the write limit.
			body := &slowReader{data: bytes.Clone(data), piece: len(data)/40 + 1, pause: 50 * time.Millisecond}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, h.URL+"/v1/packages", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Disposition", attachment(name))
			start := time.Now()
			resp, err := c.client.Do(req)
			if err != nil {
				t.Fatalf("after %v: %v", time.Since(start), err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, %v after %v", resp.StatusCode, err, time.Since(start))
			}
			if elapsed := time.Since(start); elapsed < 2*write {
				t.Fatalf("the upload took only %v: it did not outlast the write limit, the test proves nothing", elapsed)
			}
			if r := s.VerifyReceipt(t, got); r.Result != receipt.Accepted {
				t.Errorf("result %s", r.Result)
			}
		})
	}
}

// TestInFlightByteBudget: the bodies in processing are bounded in bytes, not only in number: with one
// large upload holding most of the budget, another that would exceed it is answered 503 at once (the
// service answers, nothing is read of it), a small one still fits, and the held upload completes.
func TestInFlightByteBudget(t *testing.T) {
	s := receivertest.Start(t, receivertest.Options{})
	data, name := s.Package(t, receivertest.PackageOptions{})
	h := s.StartHTTP(t, receivertest.Options{Limits: receiver.Limits{MaxInFlightBytes: int64(len(data)) + int64(len(data))/2,
		PerAddressRate: 100, PerAddressBurst: 100, MinBodyRate: 1, BodyGrace: time.Hour, BodyIdle: time.Hour}})
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/v1/packages", pr)
		req.ContentLength = int64(len(data))
		req.Header.Set("Content-Disposition", attachment(name))
		resp, err := h.Client.Do(req)
		if err != nil {
			done <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	go pw.Write(data[:len(data)/2])
	waitFor(t, "the large upload to be in flight", func() bool { return metric(t, h, "tagdij_receiver_uploads_in_flight", "") == 1 })

	other, otherName := s.Package(t, receivertest.PackageOptions{})
	resp, body, err := h.Upload(t.Context(), other, otherName)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the byte budget: %v %v %s", err, resp, body)
	}
	small, smallName := []byte("<kicsi/>"), otherName
	resp, _, err = h.Upload(t.Context(), small, smallName)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("a small upload within the budget: %v %v", err, resp)
	}
	pw.Write(data[len(data)/2:])
	pw.Close()
	if code := <-done; code != http.StatusOK {
		t.Errorf("the held upload: %d", code)
	}
	resp, _, err = h.Upload(t.Context(), other, otherName)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after the budget was given back: %v %v", err, resp)
	}
}

// lazySigner forwards to a receipt signer chosen after the stack exists (both real KeySigners; one
// with an unreachable TSA).
type lazySigner struct{ current *intake.KeySigner }

func (l *lazySigner) Sign(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	return l.current.Sign(ctx, r)
}

func (l *lazySigner) SignUnstamped(ctx context.Context, r *receipt.Receipt) ([]byte, string, error) {
	return l.current.SignUnstamped(ctx, r)
}

// TestTSADownIs503: with the TSA unreachable the upload is not acknowledged: 503 with Retry-After and a
// signed R001 receipt (unstamped, never stored); the status endpoint knows nothing of the package.
func TestTSADownIs503(t *testing.T) {
	lazy := &lazySigner{}
	s := receivertest.Start(t, receivertest.Options{Receipt: lazy})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String() + "/tsa"
	ln.Close()
	broken := *s.Signer
	broken.Options.TSA = &tsp.Client{URL: deadURL, Trust: s.TSA.Trust}
	lazy.current = &broken
	h := s.StartHTTP(t, receivertest.Options{})
	data, name := s.Package(t, receivertest.PackageOptions{})
	resp, body, err := h.Upload(t.Context(), data, name)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%v %v", err, resp)
	}
	if resp.Header.Get("Content-Type") != receiver.MediaType || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("<?xml")) {
		t.Errorf("no R001 receipt package in the 503: %s", resp.Header.Get("Content-Type"))
	}
	resp, _, err = h.Get(t.Context(), "/v1/packages/"+hexSum(data)+"/status")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("status of an unacknowledged upload: %v %v", err, resp)
	}
	lazy.current = s.Signer
	resp, body, err = h.Upload(t.Context(), data, name)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("retry with the TSA back: %v %v", err, resp)
	}
	if r := s.VerifyReceipt(t, body); r.Result != receipt.Accepted {
		t.Errorf("retry: %s", r.Result)
	}
}
