// Package loadgen is the receiver's load generator (issue 8, `make bench`): N concurrent clients,
// each with its own keep-alive connection, post a list of uploads to POST /v1/packages and the run
// reports how many were accepted, how fast, and the latency percentiles. It is plain Go with no test
// dependencies, so a benchmark, a test or a command can drive any receiver with it.
//
// Every upload is sent exactly once, by whichever client takes it next: the receiver answers a
// byte-identical re-upload from its store (a replay), which would measure something else.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Upload is one package to post: its bytes and its file name (sent in Content-Disposition).
type Upload struct {
	Data []byte
	Name string
}

// Options configure Run.
type Options struct {
	// URL is the receiver's base URL (https://host:port); uploads go to URL + "/v1/packages".
	URL string
	// NewClient returns the HTTP client of one simulated client. Run calls it once per client; to model
	// distinct clients each call should return a client with its own Transport (its own TLS
	// connection, kept alive between that client's uploads). Required.
	NewClient func() *http.Client
	// Clients is the number of concurrent clients (at least 1).
	Clients int
	// Uploads are posted once each.
	Uploads []Upload
	// WarmupPath, when set, is fetched (GET URL + WarmupPath) once by every client before the clock
	// starts, so the TLS handshakes are not in the measured latencies. Its status does not matter.
	WarmupPath string
	// Accepted decides whether a response counts as accepted; nil: status 200 and the header
	// X-Tagdij-Result: accepted (the receiver's answer for BEFOGADVA).
	Accepted func(resp *http.Response) bool
	// ContentType is sent with every upload; empty: application/vnd.eszigno3+xml.
	ContentType string
}

// Result is what a run measured.
type Result struct {
	Clients  int
	Requests int // uploads posted (responses received plus transport errors)
	Accepted int // responses Accepted approved
	Errors   int // transport errors (no response)
	// Status counts the responses by status code.
	Status map[int]int
	// FirstError is the first transport error or unexpected answer, for the log ("" when none).
	FirstError string
	// Elapsed is the wall time from the first upload's start to the last response's end.
	Elapsed time.Duration
	// Latencies of the responses (request start to body read), in ascending order.
	Latencies []time.Duration
}

// AcceptedPerSecond is the throughput of accepted uploads.
func (r *Result) AcceptedPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Accepted) / r.Elapsed.Seconds()
}

// Percentile returns the q-quantile (0 < q ≤ 1) of the latencies by the nearest-rank method; zero
// when there are none.
func (r *Result) Percentile(q float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(float64(n)*q)) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}

// String is a one-line summary.
func (r *Result) String() string {
	return fmt.Sprintf("clients=%d requests=%d accepted=%d errors=%d elapsed=%s accepted/s=%.1f p50=%s p99=%s status=%v",
		r.Clients, r.Requests, r.Accepted, r.Errors, r.Elapsed.Round(time.Millisecond), r.AcceptedPerSecond(),
		r.Percentile(0.50).Round(time.Millisecond), r.Percentile(0.99).Round(time.Millisecond), r.Status)
}

// Merge combines the results of runs made one after the other (e.g. a reference measured before and
// after the run it is the reference for): counts and elapsed times add up, latencies merge.
func Merge(rs ...*Result) *Result {
	out := &Result{Status: map[int]int{}}
	for _, r := range rs {
		out.Clients = max(out.Clients, r.Clients)
		out.Requests += r.Requests
		out.Accepted += r.Accepted
		out.Errors += r.Errors
		for c, n := range r.Status {
			out.Status[c] += n
		}
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
		out.Elapsed += r.Elapsed
		out.Latencies = append(out.Latencies, r.Latencies...)
	}
	slices.Sort(out.Latencies)
	return out
}

// defaultAccepted is the receiver's acceptance: 200 with X-Tagdij-Result: accepted.
func defaultAccepted(resp *http.Response) bool {
	return resp.StatusCode == http.StatusOK && resp.Header.Get("X-Tagdij-Result") == "accepted"
}

// Run posts every upload once with o.Clients concurrent clients and measures. The error is for a run
// that could not start (bad options) or was cancelled; failed uploads are counted in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	switch {
	case o.URL == "":
		return nil, errors.New("loadgen: no URL")
	case o.NewClient == nil:
		return nil, errors.New("loadgen: no NewClient")
	case o.Clients < 1:
		return nil, errors.New("loadgen: at least one client")
	}
	if o.Accepted == nil {
		o.Accepted = defaultAccepted
	}
	if o.ContentType == "" {
		o.ContentType = "application/vnd.eszigno3+xml"
	}
	clients := make([]*http.Client, o.Clients)
	for i := range clients {
		clients[i] = o.NewClient()
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	if o.WarmupPath != "" {
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Go(func() {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL+o.WarmupPath, nil)
				if err != nil {
					return
				}
				if resp, err := c.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	type sample struct {
		latency  time.Duration
		status   int // 0: transport error
		accepted bool
		problem  string
	}
	samples := make([]sample, len(o.Uploads))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(o.Uploads) || ctx.Err() != nil {
					return
				}
				samples[i] = func() sample {
					t0 := time.Now()
					resp, err := post(ctx, c, o.URL+"/v1/packages", o.ContentType, o.Uploads[i])
					if err != nil {
						return sample{latency: time.Since(t0), problem: err.Error()}
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					s := sample{latency: time.Since(t0), status: resp.StatusCode, accepted: err == nil && o.Accepted(resp)}
					if err != nil {
						s.status, s.problem = 0, "reading the response: "+err.Error()
					} else if !s.accepted {
						s.problem = fmt.Sprintf("%s: %s %s", o.Uploads[i].Name, resp.Status, resp.Header.Get("X-Tagdij-Result"))
					}
					return s
				}()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Result{Clients: o.Clients, Requests: len(samples), Status: map[int]int{}, Elapsed: elapsed,
		Latencies: make([]time.Duration, 0, len(samples))}
	for _, s := range samples {
		if s.status == 0 {
			r.Errors++
		} else {
			r.Status[s.status]++
			r.Latencies = append(r.Latencies, s.latency)
		}
		if s.accepted {
			r.Accepted++
		}
		if s.problem != "" && r.FirstError == "" {
			r.FirstError = s.problem
		}
	}
	slices.Sort(r.Latencies)
	return r, nil
}

func post(ctx context.Context, c *http.Client, url, contentType string, up Upload) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(up.Data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": up.Name}))
	return c.Do(req)
}
