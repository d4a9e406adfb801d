package receiver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the receiver's Prometheus metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	uploads  *prometheus.CounterVec
	inFlight prometheus.Gauge
	panics   prometheus.Counter
}

// NewMetrics registers the receiver's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tagdij_receiver_requests_total",
			Help: "HTTP requests by endpoint and status code."}, []string{"endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tagdij_receiver_request_duration_seconds",
			Help: "HTTP request duration by endpoint.", Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"endpoint"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tagdij_receiver_uploads_total",
			Help: "Uploads by outcome: accepted, rejected, too-large, replayed, unavailable, busy, rate-limited, no-file-name, body-aborted, error."}, []string{"outcome"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tagdij_receiver_uploads_in_flight", Help: "Uploads being processed."}),
		panics:   prometheus.NewCounter(prometheus.CounterOpts{Name: "tagdij_receiver_panics_total", Help: "Recovered panics."}),
	}
	reg.MustRegister(m.requests, m.duration, m.uploads, m.inFlight, m.panics)
	return m
}

// Check is one readiness check: nil when ready.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Admin serves /healthz (the process answers), /readyz (every check passes) and /metrics.
func Admin(gatherer prometheus.Gatherer, checks []Check, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		results := map[string]string{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		ready := true
		for _, c := range checks {
			wg.Add(1)
			go func(c Check) {
				defer wg.Done()
				err := c.Run(ctx)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					ready = false
					results[c.Name] = err.Error()
					if log != nil {
						log.Warn("not ready", slog.String("event", "readyz"), slog.String("check", c.Name), slog.String("error", err.Error()))
					}
				} else {
					results[c.Name] = "ok"
				}
			}(c)
		}
		wg.Wait()
		w.Header().Set("Content-Type", "application/json")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(map[string]any{"ready": ready, "checks": results})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	return mux
}

// ServerTimeouts are the public server's connection limits (slowloris and friends).
type ServerTimeouts struct {
	ReadHeader time.Duration // whole request header
	Idle       time.Duration // keep-alive between requests
	// Write bounds writing one response (receipts are small). It is applied per response, from when
	// the handler starts writing, not as http.Server.WriteTimeout: that one runs from the end of the
	// request header, so it would also bound reading a large, legitimately slow upload and processing
	// it, and the stored receipt could then never be sent.
	Write     time.Duration
	MaxHeader int // header bytes
}

// DefaultServerTimeouts are conservative for uploads of up to tens of megabytes: the body itself is
// guarded by Limits.MinBodyRate and BodyIdle, not by a whole-request timeout.
func DefaultServerTimeouts() ServerTimeouts {
	return ServerTimeouts{ReadHeader: 10 * time.Second, Idle: 120 * time.Second, Write: 60 * time.Second, MaxHeader: 16 << 10}
}

// writeDeadline gives every response d to be written, counted from its first write.
func writeDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: d}, r)
	})
}

// deadlineWriter sets the connection's write deadline when the response starts.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	d       time.Duration
	started bool
}

func (w *deadlineWriter) start() {
	if !w.started {
		w.started = true
		w.rc.SetWriteDeadline(time.Now().Add(w.d))
	}
}

func (w *deadlineWriter) WriteHeader(code int) {
	w.start()
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	w.start()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Server builds the public HTTPS server: TLS 1.2 or later, HTTP/2, the timeouts, and handler.
func Server(handler http.Handler, certs []tls.Certificate, t ServerTimeouts, log *slog.Logger) *http.Server {
	d := DefaultServerTimeouts()
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	if t.MaxHeader <= 0 {
		t.MaxHeader = d.MaxHeader
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeader,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: certs,
			NextProtos:   []string{"h2", "http/1.1"},
		},
	}
	handler = writeDeadline(handler, t.Write)
	srv.Handler = handler
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return srv
}
