package loadgen

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestRun: every upload is posted once with its file name, by at most Clients at a time, each client
// on its own kept-alive TLS connection; rejections and server errors are counted, not accepted.
func TestRun(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	conns := map[string]bool{}
	inFlight, peak := 0, 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen[params["filename"]]++
		conns[r.RemoteAddr] = true
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		switch string(body) {
		case "reject":
			w.Header().Set("X-Tagdij-Result", "rejected")
		case "fail":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		default:
			w.Header().Set("X-Tagdij-Result", "accepted")
		}
		w.Write([]byte("receipt"))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	var ups []Upload
	for i := range 40 {
		body := "ok"
		switch i {
		case 7:
			body = "reject"
		case 9:
			body = "fail"
		}
		ups = append(ups, Upload{Data: []byte(body), Name: fmt.Sprintf("p%02d.es3", i)})
	}
	newClient := func() *http.Client {
		return &http.Client{Transport: srv.Client().Transport.(*http.Transport).Clone(), Timeout: 10 * time.Second}
	}
	r, err := Run(context.Background(), Options{URL: srv.URL, NewClient: newClient, Clients: 4, Uploads: ups, WarmupPath: "/healthz"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 40 || r.Accepted != 38 || r.Errors != 0 || r.Status[200] != 39 || r.Status[503] != 1 || r.FirstError == "" {
		t.Errorf("result %s (first error %q)", r, r.FirstError)
	}
	for _, u := range ups {
		if seen[u.Name] != 1 {
			t.Errorf("%s posted %d times", u.Name, seen[u.Name])
		}
	}
	if peak > 4 {
		t.Errorf("%d uploads in flight, want at most 4", peak)
	}
	if len(conns) != 4 {
		t.Errorf("%d connections, want one per client (4)", len(conns))
	}
	if len(r.Latencies) != 40 || r.Percentile(0.5) < 2*time.Millisecond || r.Percentile(0.99) < r.Percentile(0.5) ||
		r.Percentile(0.99) != r.Latencies[39] || r.AcceptedPerSecond() <= 0 {
		t.Errorf("latencies p50 %s p99 %s, %.1f/s", r.Percentile(0.5), r.Percentile(0.99), r.AcceptedPerSecond())
	}

	// A server that is gone: transport errors, nothing accepted.
	srv.Close()
	r, err = Run(context.Background(), Options{URL: srv.URL, NewClient: newClient, Clients: 2, Uploads: ups[:3]})
	if err != nil || r.Errors != 3 || r.Accepted != 0 || len(r.Latencies) != 0 {
		t.Errorf("dead server: %v %+v", err, r)
	}
	if _, err := Run(context.Background(), Options{URL: srv.URL, NewClient: newClient}); err == nil {
		t.Error("zero clients accepted")
	}
}

func TestPercentile(t *testing.T) {
	r := &Result{}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	if r.Percentile(0.5) != 50*time.Millisecond || r.Percentile(0.99) != 99*time.Millisecond || r.Percentile(1) != 100*time.Millisecond {
		t.Errorf("p50 %s p99 %s p100 %s", r.Percentile(0.5), r.Percentile(0.99), r.Percentile(1))
	}
	if (&Result{}).Percentile(0.5) != 0 {
		t.Error("empty result")
	}
	a := &Result{Clients: 4, Requests: 2, Accepted: 1, Status: map[int]int{200: 2}, Elapsed: time.Second, Latencies: []time.Duration{3, 5}}
	b := &Result{Clients: 4, Requests: 1, Accepted: 1, Errors: 1, Status: map[int]int{200: 1}, Elapsed: time.Second, Latencies: []time.Duration{4}, FirstError: "x"}
	m := Merge(a, b)
	if m.Clients != 4 || m.Requests != 3 || m.Accepted != 2 || m.Errors != 1 || m.Status[200] != 3 || m.Elapsed != 2*time.Second ||
		m.AcceptedPerSecond() != 1 || m.FirstError != "x" || fmt.Sprint(m.Latencies) != "[3ns 4ns 5ns]" {
		t.Errorf("merged %+v", m)
	}
}
