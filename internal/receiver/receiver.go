// Package receiver is the fund receiver's HTTP layer (SPEC §9): it maps requests to the intake
// pipeline (internal/intake) and outcomes to responses, and carries the operational limits a service
// facing the internet needs (concurrent uploads, per-address rate, slow bodies, panics). It decides
// nothing about packages itself.
//
//	POST /v1/packages                  body = the .es3, file name in Content-Disposition
//	                                    200 + receipt (accepted or rejected), 413 + T003 receipt,
//	                                    503 + Retry-After (not acknowledged; an R001 receipt when one
//	                                    could be signed), 429 + Retry-After (rate), 400 (no file name),
//	                                    408 (body too slow or cut off; not acknowledged)
//	GET  /v1/receipts/{id}             the stored receipt package
//	GET  /v1/packages/{sha256}/status  JSON: received, pre-check, status, earliest final check, and
//	                                    the processor's final check (attempts, alert, outcome, codes)
//
// The admin listener (Admin) serves /healthz, /readyz and /metrics.
package receiver

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tagdij/tagdij/internal/receiver/wire"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagdij/tagdij/internal/intake"
)

// MediaType is the media type of packages and receipt packages (SPEC §2).
const MediaType = "application/vnd.eszigno3+xml"

// Reads is what the API reads from the store besides intake.
type Reads interface {
	ReceiptByID(ctx context.Context, id string) (*intake.Stored, error)
	PackageStatus(ctx context.Context, sum [32]byte) (*intake.Status, error)
}

// Submitter is the intake pipeline (intake.Service).
type Submitter interface {
	Submit(ctx context.Context, up intake.Upload) (*intake.Outcome, error)
}

// Limits are the API's operational limits. Zero fields take DefaultLimits' values.
type Limits struct {
	// MaxConcurrentUploads bounds uploads in progress; beyond it: 503 at once.
	MaxConcurrentUploads int
	// MaxInFlightBytes bounds the sum of the bodies being processed at once (an upload is charged its
	// Content-Length, or UnknownLengthCharge without one); beyond it: 503 at once. Processing holds
	// about three times a body in memory (the bytes, the parsed base64 text, the canonical forms), so
	// this bounds the receiver's memory under concurrent large uploads, which the count alone does not.
	MaxInFlightBytes    int64
	UnknownLengthCharge int64
	// PerAddressRate is the sustained uploads per second one remote address may make, with bursts of
	// PerAddressBurst; beyond: 429.
	PerAddressRate  float64
	PerAddressBurst int
	// MinBodyRate is the slowest acceptable body, in bytes per second, judged after BodyGrace; a
	// slower client is cut off (slowloris).
	MinBodyRate int64
	BodyGrace   time.Duration
	// BodyIdle is the longest pause between two reads of the body.
	BodyIdle time.Duration
}

// DefaultLimits suit one receiver process on a 2-core machine.
func DefaultLimits() Limits {
	return Limits{MaxConcurrentUploads: 64, MaxInFlightBytes: 512 << 20, UnknownLengthCharge: 96 << 20, PerAddressRate: 5, PerAddressBurst: 20, MinBodyRate: 16 << 10, BodyGrace: 10 * time.Second,
		BodyIdle: 30 * time.Second}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxConcurrentUploads <= 0 {
		l.MaxConcurrentUploads = d.MaxConcurrentUploads
	}
	if l.MaxInFlightBytes <= 0 {
		l.MaxInFlightBytes = d.MaxInFlightBytes
	}
	if l.UnknownLengthCharge <= 0 {
		l.UnknownLengthCharge = d.UnknownLengthCharge
	}
	if l.PerAddressRate <= 0 {
		l.PerAddressRate = d.PerAddressRate
	}
	if l.PerAddressBurst <= 0 {
		l.PerAddressBurst = d.PerAddressBurst
	}
	if l.MinBodyRate <= 0 {
		l.MinBodyRate = d.MinBodyRate
	}
	if l.BodyGrace <= 0 {
		l.BodyGrace = d.BodyGrace
	}
	if l.BodyIdle <= 0 {
		l.BodyIdle = d.BodyIdle
	}
	return l
}

// API serves the receiver's public endpoints.
type API struct {
	intake  Submitter
	reads   Reads
	limits  Limits
	log     *slog.Logger
	clock   func() time.Time
	slots   chan struct{}
	bytes   *budget
	rate    *rateLimiter
	metrics *Metrics
	// panicReceipt signs an R001 receipt for a request that panicked; may be nil.
	panicReceipt func(ctx context.Context) []byte
}

// Options configure New.
type Options struct {
	Limits  Limits
	Logger  *slog.Logger
	Clock   func() time.Time
	Metrics *Metrics
	// PanicReceipt, when set, signs the R001 receipt sent with a 500 after a recovered panic.
	PanicReceipt func(ctx context.Context) []byte
}

// New builds the API over an intake pipeline and the store's reads.
func New(in Submitter, reads Reads, opts Options) *API {
	l := opts.Limits.withDefaults()
	a := &API{intake: in, reads: reads, limits: l, log: opts.Logger, clock: opts.Clock, slots: make(chan struct{}, l.MaxConcurrentUploads),
		bytes:   &budget{left: l.MaxInFlightBytes},
		metrics: opts.Metrics, panicReceipt: opts.PanicReceipt}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	if a.metrics == nil {
		a.metrics = NewMetrics(prometheus.NewRegistry())
	}
	a.rate = newRateLimiter(l.PerAddressRate, l.PerAddressBurst, a.clock)
	return a
}

// Route registers the endpoints on mux.
func (a *API) Route(mux *http.ServeMux) {
	mux.Handle("POST /v1/packages", a.wrap("upload", a.upload))
	mux.Handle("GET /v1/receipts/{id}", a.wrap("receipt", a.receipt))
	mux.Handle("GET /v1/packages/{sha256}/status", a.wrap("status", a.status))
}

// request is one request's context for logging.
type request struct {
	id      string
	remote  string
	start   time.Time
	outcome string
	size    int64
	sha256  string
	status  int
}

type ctxKey struct{}

// wrap adds the request id, the communication log line (RCV-01), metrics and panic recovery.
func (a *API) wrap(name string, h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{id: uuid.NewString(), remote: r.RemoteAddr, start: a.clock(), size: -1}
		w.Header().Set("X-Request-Id", rq.id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("panic", slog.String("event", "http.panic"), slog.String("requestId", rq.id), slog.Any("panic", p))
				a.metrics.panics.Inc()
				if !sw.wrote {
					var body []byte
					if a.panicReceipt != nil {
						body = a.panicReceipt(context.WithoutCancel(r.Context()))
					}
					writeReceiptOrText(sw, http.StatusInternalServerError, body, "", r001Text)
				}
				rq.outcome = "panic"
			}
			rq.status = sw.code()
			d := a.clock().Sub(rq.start)
			a.metrics.requests.WithLabelValues(name, strconv.Itoa(rq.status)).Inc()
			a.metrics.duration.WithLabelValues(name).Observe(d.Seconds())
			a.log.Info("request", slog.String("event", "http.request"), slog.String("requestId", rq.id), slog.String("remote", rq.remote),
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rq.status), slog.Int64("size", rq.size),
				slog.String("sha256", rq.sha256), slog.String("outcome", rq.outcome), slog.Duration("duration", d))
		}()
		h(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, rq)), rq)
	})
}

const bodyAbortedText = "A csomag túl lassan vagy hiányosan érkezett, NINCS befogadva; küldje újra. / The package arrived too slowly or incomplete: it was NOT accepted; send it again."

const r001Text = "Átmeneti hiba a pénztárnál, a csomag NINCS befogadva; küldje újra később. / Temporary failure at the fund: the package was NOT accepted; send it again later.\n"

func (a *API) upload(w http.ResponseWriter, r *http.Request, rq *request) {
	host := remoteHost(r.RemoteAddr)
	if wait, ok := a.rate.allow(host); !ok {
		rq.outcome = "rate-limited"
		a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		http.Error(w, "Túl sok kérés erről a címről; próbálja később. / Too many requests from this address; try later.", http.StatusTooManyRequests)
		return
	}
	charge := r.ContentLength
	if charge < 0 {
		charge = a.limits.UnknownLengthCharge
	}
	charge = min(charge, a.limits.MaxInFlightBytes) // one upload alone always fits
	if !a.bytes.take(charge) {
		rq.outcome = "busy"
		a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "A fogadó túlterhelt; próbálja néhány másodperc múlva. / The receiver is busy; try again in a few seconds.", http.StatusServiceUnavailable)
		return
	}
	defer a.bytes.give(charge)
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	default:
		rq.outcome = "busy"
		a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "A fogadó túlterhelt; próbálja néhány másodperc múlva. / The receiver is busy; try again in a few seconds.", http.StatusServiceUnavailable)
		return
	}
	a.metrics.inFlight.Inc()
	defer a.metrics.inFlight.Dec()
	name, ok := fileName(r.Header.Get("Content-Disposition"))
	if !ok {
		rq.outcome = "no-file-name"
		a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
		http.Error(w, "Hiányzik a fájlnév (Content-Disposition: attachment; filename=…). / The file name is missing (Content-Disposition: attachment; filename=…).", http.StatusBadRequest)
		return
	}
	body := &slowGuard{r: r.Body, rc: http.NewResponseController(w), min: a.limits.MinBodyRate, grace: a.limits.BodyGrace,
		idle: a.limits.BodyIdle, clock: a.clock, start: a.clock()}
	log := a.log.With(slog.String("requestId", rq.id), slog.String("remote", rq.remote))
	out, err := a.intake.Submit(r.Context(), intake.Upload{FileName: name, Body: body, SizeHint: r.ContentLength, Logger: log})
	if out != nil {
		rq.size, rq.sha256 = out.Size, hex.EncodeToString(out.SHA256[:])
	}
	switch {
	case errors.Is(err, intake.ErrUnavailable):
		rq.outcome = "unavailable"
		a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
		retry := time.Minute
		var receipt []byte
		if out != nil {
			retry, receipt = out.RetryAfter, out.Unacknowledged
		}
		log.Warn("upload not acknowledged", slog.String("event", "intake.unavailable"), slog.String("error", err.Error()))
		w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
		writeReceiptOrText(w, http.StatusServiceUnavailable, receipt, "", r001Text)
		return
	case err != nil:
		rq.outcome = "error"
		if body.err != nil {
			// The client was too slow or went away. Say so and close the connection: returning
			// without an answer would let net/http send an empty 200, which a client could take for
			// an acknowledgement.
			rq.outcome = "body-aborted"
			a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
			log.Warn("body aborted", slog.String("event", "http.body"), slog.String("error", body.err.Error()))
			w.Header().Set("Connection", "close")
			http.Error(w, bodyAbortedText, http.StatusRequestTimeout)
			return
		}
		a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
		log.Error("upload failed", slog.String("event", "intake.error"), slog.String("error", err.Error()))
		writeReceiptOrText(w, http.StatusInternalServerError, nil, "", r001Text)
		return
	}
	rq.outcome = string(out.Kind)
	a.metrics.uploads.WithLabelValues(rq.outcome).Inc()
	w.Header().Set("X-Tagdij-Receipt-Id", out.ReceiptID)
	w.Header().Set("X-Tagdij-Result", string(out.Kind))
	code := http.StatusOK
	if out.Truncated {
		code = http.StatusRequestEntityTooLarge
		// The rest of the body is not read: close the connection rather than drain it.
		w.Header().Set("Connection", "close")
	}
	writeReceiptOrText(w, code, out.Receipt, out.ReceiptName, "")
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (a *API) receipt(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	if !uuidRE.MatchString(id) {
		rq.outcome = "bad-id"
		http.Error(w, "Hibás nyugtaazonosító. / Malformed receipt id.", http.StatusBadRequest)
		return
	}
	st, err := a.reads.ReceiptByID(r.Context(), id)
	if errors.Is(err, intake.ErrNotFound) {
		rq.outcome = "not-found"
		http.Error(w, "Nincs ilyen nyugta. / No such receipt.", http.StatusNotFound)
		return
	}
	if err != nil {
		rq.outcome = "error"
		a.log.Error("receipt read", slog.String("error", err.Error()))
		http.Error(w, r001Text, http.StatusServiceUnavailable)
		return
	}
	rq.outcome, rq.sha256 = "found", hex.EncodeToString(st.Package[:])
	writeReceiptOrText(w, http.StatusOK, st.Bytes, st.Name, "")
}

// StatusJSON is the body of GET /v1/packages/{sha256}/status (wire.Status, shared with the client).
type StatusJSON = wire.Status

// FinalCheckJSON is the processor's part of the status (wire.FinalCheck).
type FinalCheckJSON = wire.FinalCheck

func (a *API) status(w http.ResponseWriter, r *http.Request, rq *request) {
	raw := r.PathValue("sha256")
	b, err := hex.DecodeString(strings.ToLower(raw))
	if err != nil || len(b) != 32 {
		rq.outcome = "bad-hash"
		http.Error(w, "Hibás SHA-256 (64 hexadecimális jegy). / Malformed SHA-256 (64 hex digits).", http.StatusBadRequest)
		return
	}
	var sum [32]byte
	copy(sum[:], b)
	st, err := a.reads.PackageStatus(r.Context(), sum)
	if errors.Is(err, intake.ErrNotFound) {
		// Only someone who knows the hash learns anything; an unknown hash reveals nothing.
		rq.outcome = "not-found"
		http.Error(w, "Ismeretlen csomag. / Unknown package.", http.StatusNotFound)
		return
	}
	if err != nil {
		rq.outcome = "error"
		http.Error(w, r001Text, http.StatusServiceUnavailable)
		return
	}
	rq.outcome, rq.sha256 = "found", hex.EncodeToString(sum[:])
	out := StatusJSON{SHA256: rq.sha256, Received: st.Arrival, Result: "ELUTASITVA", PreCheck: string(st.PreCheck), Status: st.Status,
		EarliestFinalCheck: st.EarliestFinal, ReceiptID: st.ReceiptID, SubmissionID: st.SubmissionID}
	if st.Accepted {
		out.Result = "BEFOGADVA"
	}
	for _, c := range st.Codes {
		out.Codes = append(out.Codes, string(c))
	}
	if p := st.Processing; p != nil {
		fc := &FinalCheckJSON{Done: p.Done, Attempts: p.Attempts, NextAttempt: p.NextAttempt, LastError: p.LastError, Alert: p.Alert,
			State: string(p.FinalState), Finished: p.Finished, ArchiveID: p.ArchiveID}
		for _, c := range p.FinalCodes {
			fc.Codes = append(fc.Codes, string(c))
		}
		out.FinalCheck = fc
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// writeReceiptOrText writes a receipt package, or a bilingual text when there is none.
func writeReceiptOrText(w http.ResponseWriter, code int, receipt []byte, name, text string) {
	if receipt == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		io.WriteString(w, text)
		return
	}
	w.Header().Set("Content-Type", MediaType)
	if name != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(receipt)))
	w.WriteHeader(code)
	w.Write(receipt)
}

// fileName takes the file name from a Content-Disposition header. It is returned as given (the
// intake checks it: a directory part is T001); ok is false when there is none.
func fileName(cd string) (string, bool) {
	if cd == "" {
		return "", false
	}
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		return "", false
	}
	name, ok := params["filename"]
	return name, ok && name != ""
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) code() int {
	if !s.wrote {
		return http.StatusOK
	}
	return s.status
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// errTooSlow is the body guard's verdict on a slow client.
var errTooSlow = errors.New("receiver: request body slower than the minimum rate")

// slowGuard cuts off a body that pauses longer than idle between reads, or that after grace has
// averaged less than min bytes per second (slowloris on the body).
type slowGuard struct {
	r     io.Reader
	rc    *http.ResponseController
	min   int64
	grace time.Duration
	idle  time.Duration
	clock func() time.Time
	start time.Time
	n     int64
	err   error
}

func (g *slowGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	// Each read must make progress within idle; the deadline is on the connection, so a stalled client
	// is cut off even while no Read returns.
	g.rc.SetReadDeadline(time.Now().Add(g.idle))
	n, err := g.r.Read(p)
	g.n += int64(n)
	if elapsed := g.clock().Sub(g.start); elapsed > g.grace && float64(g.n) < float64(g.min)*elapsed.Seconds() {
		g.err = fmt.Errorf("%w: %d bytes in %s", errTooSlow, g.n, elapsed.Round(time.Millisecond))
		return n, g.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		g.err = err
	}
	return n, err
}

// budget is a byte budget taken without waiting.
type budget struct {
	mu   sync.Mutex
	left int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left {
		return false
	}
	b.left -= n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.left += n
	b.mu.Unlock()
}

// rateLimiter is a token bucket per remote address, with idle buckets dropped.
type rateLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	clock   func() time.Time
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int, clock func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), clock: clock, buckets: map[string]*bucket{}}
}

// allow takes a token for host; when none is left it says how long until one is.
func (l *rateLimiter) allow(host string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if now.Sub(l.swept) > time.Minute {
		// Buckets full again are the same as none: drop them so the map stays bounded by the
		// addresses active in the last few seconds.
		for h, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, h)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[host]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[host] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}
