package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/sigcache"
)

// Default limits. An OCSP response is a few kilobytes; national CAs publish CRLs of some megabytes.
const (
	DefaultMaxOCSPResponseBytes = 256 << 10
	DefaultMaxCRLBytes          = 32 << 20
	DefaultTimeout              = 15 * time.Second
	maxRedirects                = 3
)

// defaultHTTPClient is built per use (it is cheap: it shares http.DefaultTransport) so the package
// has no mutable global.
func defaultHTTPClient() *http.Client { return NewHTTPClient(nil) }

// NewHTTPClient returns the HTTP client revocation fetches use: at most maxRedirects redirects, and
// only to http(s) URLs. With proxy nil it uses http.DefaultTransport (which honours the HTTP_PROXY
// family of environment variables, except for loopback addresses); with a proxy URL (http or https)
// every request, loopback included, goes through that proxy (SEC-15: a fund whose network reaches
// the certificates' OCSP and CRL locations only through a proxy). Give one client to both the
// OCSPClient and the CRLClient of a Checker so they share connections.
func NewHTTPClient(proxy *url.URL) *http.Client {
	c := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errors.New("too many redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to scheme %q refused", req.URL.Scheme)
		}
		return nil
	}}
	if proxy != nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyURL(proxy)
		c.Transport = t
	}
	return c
}

// fetch performs req and returns the body of a 200 answer, reading at most limit bytes. Every
// failure is unavailable evidence: nothing was asserted by the issuer.
func fetch(ctx context.Context, client *http.Client, req *http.Request, limit int64, timeout time.Duration, m Method, u string) ([]byte, error) {
	if client == nil {
		client = defaultHTTPClient()
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, unavailable(m, u, ErrHTTP, "%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused; the body is of no interest.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, unavailable(m, u, ErrHTTP, "status %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, unavailable(m, u, ErrTooLarge, "Content-Length %d > %d", resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, unavailable(m, u, ErrHTTP, "reading body: %v", err)
	}
	if int64(len(body)) > limit {
		return nil, unavailable(m, u, ErrTooLarge, "more than %d bytes", limit)
	}
	return body, nil
}

// OCSPClient queries OCSP responders (RFC 6960) over HTTP. The zero value is usable: POST, SHA-1
// CertIDs, an optional nonce, default limits.
type OCSPClient struct {
	// HTTP is the client used; nil means a default client (http.DefaultTransport, ≤3 redirects).
	HTTP *http.Client
	// MaxResponseBytes limits the response size (DefaultMaxOCSPResponseBytes when zero).
	MaxResponseBytes int64
	// Timeout bounds one request (DefaultTimeout when zero); the caller's context bounds it too.
	Timeout time.Duration
	// UseGET sends requests whose base64 encoding is shorter than 255 bytes with GET (RFC 6960
	// A.1), which HTTP caches can serve; larger requests still go by POST.
	UseGET bool
	// Hash is the CertID hash; SHA-1 when zero (RFC 5019 responders only index by SHA-1).
	Hash crypto.Hash
	// Nonce selects nonce handling (NonceOptional by default).
	Nonce NonceMode
	// Freshness bounds the age of responses.
	Freshness
	// SigCache, when set, remembers verified signatures (OCSPVerifyOptions.SigCache).
	SigCache *sigcache.Cache
}

// Query asks the responder at u for the status of cert, issued by issuer, and verifies the answer
// at validation time now (see VerifyOCSP).
func (c *OCSPClient) Query(ctx context.Context, u string, cert, issuer *x509.Certificate, now time.Time) (*Evidence, error) {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, unavailable(MethodOCSP, u, ErrNoSource, "not an http(s) URL")
	}
	var nonce []byte
	if c.Nonce != NonceOff {
		if nonce, err = NewNonce(); err != nil {
			return nil, unavailable(MethodOCSP, u, ErrHTTP, "%v", err)
		}
	}
	reqDER, err := CreateOCSPRequest(cert, issuer, c.Hash, nonce)
	if err != nil {
		return nil, invalid(MethodOCSP, u, ErrMalformed, "%v", err)
	}
	var req *http.Request
	if enc := base64.StdEncoding.EncodeToString(reqDER); c.UseGET && len(enc) < 255 {
		getURL := strings.TrimSuffix(u, "/") + "/" + url.PathEscape(enc)
		req, err = http.NewRequest(http.MethodGet, getURL, nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, u, bytes.NewReader(reqDER))
		if req != nil {
			req.Header.Set("Content-Type", "application/ocsp-request")
		}
	}
	if err != nil {
		return nil, unavailable(MethodOCSP, u, ErrNoSource, "%v", err)
	}
	req.Header.Set("Accept", "application/ocsp-response")
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxOCSPResponseBytes
	}
	body, err := fetch(ctx, c.HTTP, req, limit, c.Timeout, MethodOCSP, u)
	if err != nil {
		return nil, err
	}
	return VerifyOCSP(body, cert, issuer, OCSPVerifyOptions{
		Now: now, Freshness: c.Freshness, Nonce: nonce, RequireNonce: c.Nonce == NonceRequired, URL: u, SigCache: c.SigCache,
	})
}

// CRLClient downloads CRLs over plain HTTP (RFC 5280 §4.2.1.13: CRLs are signed objects, TLS adds
// nothing and would make CRL retrieval depend on certificate validation). The zero value is usable.
type CRLClient struct {
	HTTP *http.Client
	// MaxBytes limits the CRL size (DefaultMaxCRLBytes when zero).
	MaxBytes int64
	// Timeout bounds one download (DefaultTimeout when zero).
	Timeout time.Duration
	// Freshness bounds the age of CRLs.
	Freshness
	// SigCache, when set, remembers verified CRL signatures (CRLVerifyOptions.SigCache).
	SigCache *sigcache.Cache
}

// Fetch downloads the CRL at u without verifying it.
func (c *CRLClient) Fetch(ctx context.Context, u string) ([]byte, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "http" || pu.Host == "" {
		return nil, unavailable(MethodCRL, u, ErrNoSource, "not an http URL")
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, unavailable(MethodCRL, u, ErrNoSource, "%v", err)
	}
	limit := c.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxCRLBytes
	}
	return fetch(ctx, c.HTTP, req, limit, c.Timeout, MethodCRL, u)
}

// Query downloads the CRL at u and verifies it as evidence about cert at validation time now
// (see VerifyCRL).
func (c *CRLClient) Query(ctx context.Context, u string, cert, issuer *x509.Certificate, now time.Time) (*Evidence, error) {
	der, err := c.Fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	return VerifyCRL(der, cert, issuer, CRLVerifyOptions{Now: now, Freshness: c.Freshness, URL: u, SigCache: c.SigCache})
}
