package sandbox

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/ossl"
)

// ServeOptions configure the sandbox's HTTP handler.
type ServeOptions struct {
	// Logger receives one record per request; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for genTime, producedAt/thisUpdate and CRL
	// thisUpdate; nil means time.Now. Tests shift it to simulate the passing
	// of a grace period. Revocations dated after Now are not yet in effect.
	Now func() time.Time
	// OCSPSignedByCA makes the qualified CA sign its OCSP responses itself
	// instead of the delegated responder (the other CAs always sign their
	// own).
	OCSPSignedByCA bool
	// OCSPValidity is nextUpdate − thisUpdate of OCSP responses; zero means
	// one hour.
	OCSPValidity time.Duration
	// CRLValidity is nextUpdate − thisUpdate of CRLs; zero means 24 hours.
	CRLValidity time.Duration
	// TSAAccuracy is the accuracy stated in time-stamp tokens; zero means
	// one second.
	TSAAccuracy time.Duration
	// MaxRequestBytes bounds a TSA or OCSP request body; zero means 64 KiB.
	MaxRequestBytes int64
}

// server is the state behind World.Handler.
type server struct {
	w    *World
	opts ServeOptions
	log  *slog.Logger
	tsa  *Entity
	// tsaKey signs the tokens: the unit's key, through OpenSSL when it is RSA (ossl), as a TSA's HSM
	// would; a token costs a third of the CPU that crypto/rsa takes, on cores the services under test
	// share with it.
	tsaKey    crypto.Signer
	cas       []*caInfo
	defaultCA *caInfo
	seq       sequence

	revMu   sync.Mutex
	revStat os.FileInfo
	revs    map[string]Revocation // by entity name
}

// Handler returns the HTTP handler of the sandbox trust services:
//
//	POST /tsa             RFC 3161 time-stamping (application/timestamp-query)
//	POST /ocsp            RFC 6960 OCSP (application/ocsp-request)
//	GET  /ocsp/{base64}   RFC 6960 appendix A.1 GET form
//	GET  /crl/NAME.crl    a fresh CRL of CA NAME (DER), signed by the CA
//	GET  /ca/NAME.crt     the certificate of CA NAME (DER)
//	GET  /healthz         "ok"
//
// Revocations are reread from the sandbox directory whenever the file
// changes. Malformed requests get a protocol error response (TSA rejection,
// OCSP malformedRequest) with HTTP 400; oversized bodies get 413. The
// handler never panics on input. A World from Load always has the entities
// the handler needs; for a hand-assembled World that lacks them the handler
// answers every request with 500 and logs why.
func (w *World) Handler(opts ServeOptions) http.Handler {
	h, err := w.newHandler(opts)
	if err != nil {
		log := opts.Logger
		if log == nil {
			log = slog.Default()
		}
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			log.Error("sandbox: handler unavailable", "err", err)
			http.Error(rw, "sandbox misconfigured", http.StatusInternalServerError)
		})
	}
	return h
}

func (w *World) newHandler(opts ServeOptions) (http.Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OCSPValidity <= 0 {
		opts.OCSPValidity = time.Hour
	}
	if opts.CRLValidity <= 0 {
		opts.CRLValidity = 24 * time.Hour
	}
	if opts.TSAAccuracy <= 0 {
		opts.TSAAccuracy = time.Second
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = 64 << 10
	}
	s := &server{w: w, opts: opts, log: opts.Logger}
	var err error
	if s.tsa, err = w.Entity(TSAUnit); err != nil {
		return nil, fmt.Errorf("sandbox: handler: %w", err)
	}
	s.tsaKey = ossl.Signer(s.tsa.Key)
	// The unit's chain is fixed for the server's life: check once here that each certificate is signed
	// by the next, instead of per token (pkcs7's AddSignerChain re-verifies it on every signature,
	// which cost a third of the TSA's time under load).
	if parents := tsaParents(s.tsa); len(parents) > 0 {
		chain := append([]*x509.Certificate{s.tsa.Cert}, parents...)
		for i := 0; i+1 < len(chain); i++ {
			if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
				return nil, fmt.Errorf("sandbox: handler: the TSA unit's chain is broken at %q: %w", chain[i].Subject, err)
			}
		}
	}
	for _, e := range w.Manifest.Entities {
		if !e.IsCA() {
			continue
		}
		bits, err := spkiBits(e.Cert.RawSubjectPublicKeyInfo)
		if err != nil {
			return nil, fmt.Errorf("sandbox: handler: %s: %w", e.Name, err)
		}
		ca := &caInfo{entity: e, keyBits: bits, issued: map[string]*Entity{}}
		for _, x := range w.Manifest.Entities {
			if x.Issuer == e.Name && x != e {
				ca.issued[serialKey(x.Cert.SerialNumber)] = x
				if x.Role == RoleOCSPResponder {
					ca.responder = x
				}
			}
		}
		if e.Name == QualifiedCA {
			s.defaultCA = ca
		}
		s.cas = append(s.cas, ca)
	}
	if s.defaultCA == nil {
		return nil, fmt.Errorf("sandbox: handler: %w: %s", ErrNotFound, QualifiedCA)
	}
	if s.defaultCA.responder == nil {
		return nil, fmt.Errorf("sandbox: handler: %w: OCSP responder of %s", ErrNotFound, QualifiedCA)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /tsa", s.handleTSA)
	mux.HandleFunc("POST /ocsp", s.handleOCSPPost)
	mux.HandleFunc("GET /ocsp/{req...}", s.handleOCSPGet)
	mux.HandleFunc("GET /crl/{file}", s.handleCRL)
	mux.HandleFunc("GET /ca/{file}", s.handleCA)
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(rw, "ok\n")
	})
	return recoverer(s.log, mux), nil
}

// recoverer turns a panic in a handler into a 500 and a log record; the
// handlers are written not to panic, this is the belt to those braces.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("sandbox: handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(rw, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// readBody reads a size-limited request body; tooLarge reports an oversized
// body.
func (s *server) readBody(rw http.ResponseWriter, r *http.Request) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > s.opts.MaxRequestBytes {
		return nil, true, nil
	}
	body, err = io.ReadAll(http.MaxBytesReader(rw, r.Body, s.opts.MaxRequestBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, nil
	}
	return body, false, err
}

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

func (s *server) handleTSA(rw http.ResponseWriter, r *http.Request) {
	reply := func(code int, body []byte, msg string, args ...any) {
		rw.Header().Set("Content-Type", ContentTypeTSReply)
		rw.WriteHeader(code)
		rw.Write(body)
		s.log.Info("tsa: "+msg, append([]any{"remote", r.RemoteAddr, "http", code}, args...)...)
	}
	if mt := mediaType(r); mt != ContentTypeTSQuery {
		reply(http.StatusUnsupportedMediaType, tsaErrorResponse(timestamp.BadRequest, "Content-Type must be "+ContentTypeTSQuery), "refused", "contentType", r.Header.Get("Content-Type"))
		return
	}
	body, tooLarge, err := s.readBody(rw, r)
	if tooLarge {
		reply(http.StatusRequestEntityTooLarge, tsaErrorResponse(timestamp.BadRequest, "request too large"), "refused: body too large")
		return
	}
	if err != nil {
		reply(http.StatusBadRequest, tsaErrorResponse(timestamp.BadRequest, "cannot read request"), "refused: reading body", "err", err)
		return
	}
	resp, terr := s.stamp(body, s.opts.Now())
	if terr != nil {
		reply(terr.http, tsaErrorResponse(terr.fail, terr.text), "rejected", "reason", terr.text)
		return
	}
	reply(http.StatusOK, resp, "granted")
}

func (s *server) handleOCSPPost(rw http.ResponseWriter, r *http.Request) {
	if mt := mediaType(r); mt != "" && mt != ContentTypeOCSPRequest {
		s.ocspReply(rw, r, nil, nil, &ocspError{ocsp.Malformed, "Content-Type must be " + ContentTypeOCSPRequest, http.StatusUnsupportedMediaType})
		return
	}
	body, tooLarge, err := s.readBody(rw, r)
	if tooLarge {
		s.ocspReply(rw, r, nil, nil, &ocspError{ocsp.Malformed, "request too large", http.StatusRequestEntityTooLarge})
		return
	}
	if err != nil {
		s.ocspReply(rw, r, nil, nil, &ocspError{ocsp.Malformed, "cannot read request", http.StatusBadRequest})
		return
	}
	resp, ans, oerr := s.respond(body, s.opts.Now())
	s.ocspReply(rw, r, resp, ans, oerr)
}

func (s *server) handleOCSPGet(rw http.ResponseWriter, r *http.Request) {
	// Use the escaped path: base64 contains '/', '+' and '=' which clients
	// percent-encode to varying degrees.
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/ocsp/")
	if int64(len(p)) > s.opts.MaxRequestBytes {
		s.ocspReply(rw, r, nil, nil, &ocspError{ocsp.Malformed, "request too large", http.StatusRequestURITooLong})
		return
	}
	dec, err := url.PathUnescape(p)
	if err == nil {
		var der []byte
		if der, err = base64.StdEncoding.DecodeString(dec); err == nil {
			resp, ans, oerr := s.respond(der, s.opts.Now())
			if oerr == nil {
				rw.Header().Set("Cache-Control", fmt.Sprintf("max-age=%d, public, no-transform, must-revalidate", int(s.opts.OCSPValidity/time.Second)))
			}
			s.ocspReply(rw, r, resp, ans, oerr)
			return
		}
	}
	s.ocspReply(rw, r, nil, nil, &ocspError{ocsp.Malformed, "GET request is not base64 DER", http.StatusBadRequest})
}

func (s *server) ocspReply(rw http.ResponseWriter, r *http.Request, resp []byte, ans *ocspAnswer, oerr *ocspError) {
	rw.Header().Set("Content-Type", ContentTypeOCSPResponse)
	if oerr != nil {
		rw.WriteHeader(oerr.http)
		rw.Write(ocspErrorResponse(oerr.status))
		s.log.Info("ocsp: refused", "remote", r.RemoteAddr, "http", oerr.http, "reason", oerr.text)
		return
	}
	rw.WriteHeader(http.StatusOK)
	rw.Write(resp)
	status := map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[ans.status]
	ca := "(unknown issuer)"
	if ans.ca != nil {
		ca = ans.ca.entity.Name
	}
	s.log.Info("ocsp: answered", "remote", r.RemoteAddr, "status", status, "ca", ca, "cert", ans.entityName)
}

// caByFile resolves NAME.ext to a CA entity.
func (s *server) caByFile(file, ext string) *caInfo {
	name, ok := strings.CutSuffix(file, ext)
	if !ok {
		return nil
	}
	for _, ca := range s.cas {
		if ca.entity.Name == name {
			return ca
		}
	}
	return nil
}

func (s *server) handleCA(rw http.ResponseWriter, r *http.Request) {
	ca := s.caByFile(r.PathValue("file"), ".crt")
	if ca == nil {
		http.NotFound(rw, r)
		return
	}
	rw.Header().Set("Content-Type", "application/pkix-cert")
	rw.Write(ca.entity.Cert.Raw)
}

func (s *server) handleCRL(rw http.ResponseWriter, r *http.Request) {
	ca := s.caByFile(r.PathValue("file"), ".crl")
	if ca == nil {
		http.NotFound(rw, r)
		return
	}
	der, n, err := s.crl(ca, s.opts.Now())
	if err != nil {
		s.log.Error("crl: failed", "ca", ca.entity.Name, "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "application/pkix-crl")
	rw.Write(der)
	s.log.Info("crl: issued", "remote", r.RemoteAddr, "ca", ca.entity.Name, "revoked", n)
}

// crl issues a fresh CRL for ca: thisUpdate now, nextUpdate now +
// CRLValidity, a CRL number larger than any issued before, and every
// revocation of a certificate of ca that is in effect at now.
func (s *server) crl(ca *caInfo, now time.Time) ([]byte, int, error) {
	revs, err := s.revocations()
	if err != nil {
		return nil, 0, err
	}
	now = now.UTC().Truncate(time.Second)
	tmpl := &x509.RevocationList{
		Number:     s.seq.next(),
		ThisUpdate: now,
		NextUpdate: now.Add(s.opts.CRLValidity),
	}
	for _, e := range ca.issued {
		r, ok := revs[e.Name]
		if !ok || r.RevokedAt.After(now) {
			continue
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   e.Cert.SerialNumber,
			RevocationTime: r.RevokedAt.UTC(),
			ReasonCode:     r.Reason,
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.entity.Cert, ca.entity.Key)
	if err != nil {
		return nil, 0, err
	}
	return der, len(tmpl.RevokedCertificateEntries), nil
}

// revocations returns the current revocations by entity name, rereading
// the file only when it changed (new inode from Revoke's rename, or a
// different size or modification time).
func (s *server) revocations() (map[string]Revocation, error) {
	path := filepath.Join(s.w.Dir, RevocationsFile)
	s.revMu.Lock()
	defer s.revMu.Unlock()
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		s.revStat, s.revs = nil, map[string]Revocation{}
		return s.revs, nil
	}
	if err != nil {
		return nil, err
	}
	if s.revStat != nil && os.SameFile(st, s.revStat) && st.ModTime().Equal(s.revStat.ModTime()) && st.Size() == s.revStat.Size() {
		return s.revs, nil
	}
	list, err := readRevocations(s.w.Dir)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Revocation, len(list))
	for _, r := range list {
		m[r.Name] = r
	}
	s.revStat, s.revs = st, m
	return m, nil
}

// sequence hands out increasing serial numbers (TSA serials, CRL numbers):
// microseconds since the Unix epoch of the real clock, bumped by one when
// two numbers fall in the same microsecond, so numbers also keep increasing
// across restarts of the server.
type sequence struct {
	mu   sync.Mutex
	last int64
}

func (q *sequence) next() *big.Int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := time.Now().UnixMicro()
	if n <= q.last {
		n = q.last + 1
	}
	q.last = n
	return big.NewInt(n)
}

// Listen opens a TCP listener on addr, which must be a loopback address
// ("127.0.0.1:PORT", "[::1]:PORT" or "localhost:PORT"; port 0 picks a free
// one). Any other address is refused: the sandbox's keys are not secret and
// its services must never be reachable from another machine.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen %q: %w", addr, err)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("sandbox: listen %q: only loopback addresses are allowed (csak loopback cím engedélyezett)", addr)
	}
	if host == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", addr[strings.LastIndex(addr, ":")+1:])
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("sandbox: listen %q: bound to a non-loopback address", addr)
	}
	return ln, nil
}

// Serve serves h on ln until ctx is done, then shuts down gracefully
// (waiting up to 5 s for requests in flight). It returns nil after a
// shutdown caused by ctx.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close() // connections still busy after the grace: closed, not left behind
		return fmt.Errorf("sandbox: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: serve: %w", err)
	}
	return nil
}
