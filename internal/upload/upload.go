// Package upload is the sender's HTTPS client of the fund's receiver API (SPEC §9, SND-26): POST
// /v1/packages, GET /v1/packages/{sha256}/status and GET /v1/receipts/{id}. TLS 1.2 or later only;
// the receiver's certificate must chain to the configured roots (the fund's TLS CA) and name the
// host, and nothing asks the user anything (SND-26: automatic, no interaction). HTTP/2 is used when
// the receiver offers it. The proxy comes from the environment (HTTPS_PROXY, NO_PROXY), as an
// employer's network usually needs.
//
// It decides nothing: internal/outbox classifies answers and retries.
package upload

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tagdij/tagdij/internal/receiver/wire"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/trust"
)

// MediaType is the media type of packages and receipt packages (SPEC §2).
const MediaType = "application/vnd.eszigno3+xml"

// Limits of what the client reads.
const (
	MaxAnswerBytes = receipt.MaxBytes + receipt.MaxBytes/2 // a receipt package: the receipt in base64 and its signature
	MaxStatusBytes = 64 << 10
)

// Options configure New.
type Options struct {
	// BaseURL is the receiver's https URL (fund.receiverURL).
	BaseURL string
	// Roots are the CAs the receiver's TLS certificate must chain to; nil: the system's roots.
	Roots *x509.CertPool
	// Timeout bounds one request, the upload of the body included (zero: 2 minutes).
	Timeout time.Duration
	// UserAgent goes into every request.
	UserAgent string
}

// Client talks to one receiver. It is safe for concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
	ua   string
}

// RootsFromFile reads the CA certificates (PEM, several allowed, or DER) the receiver's TLS
// certificate must chain to.
func RootsFromFile(path string) (*x509.CertPool, error) {
	certs, err := trust.ReadCertificates(path)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("upload: %s: nincs benne tanúsítvány / holds no certificate", path)
	}
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p, nil
}

// New builds a client.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("upload: a fogadó címe https URL kell legyen / the receiver URL must be an https URL: %q", o.BaseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.Roots},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 30 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConns:        4,
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "tagdij-sender"
	}
	return &Client{base: u, hc: &http.Client{Transport: tr, Timeout: o.Timeout,
		// A redirect would send the package somewhere the configuration does not name.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, ua: ua}, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// URL is the upload endpoint.
func (c *Client) URL() string { return c.base.JoinPath("v1", "packages").String() }

var _ outbox.Transport = (*Client)(nil)

// Upload posts the package with its file name in Content-Disposition. Every HTTP response is an
// Answer (its body read up to MaxAnswerBytes); the error is for no response at all.
func (c *Client) Upload(ctx context.Context, fileName string, data []byte) (*outbox.Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(), bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", MediaType)
	req.Header.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName}))
	req.Header.Set("User-Agent", c.ua)
	// A retry sends the same bytes: the body can be replayed by the transport itself (HTTP/2 GOAWAY).
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		// The answer was cut off: as good as none.
		return nil, fmt.Errorf("upload: reading the answer: %w", err)
	}
	if len(body) > MaxAnswerBytes {
		body = body[:MaxAnswerBytes]
	}
	return &outbox.Answer{Status: resp.StatusCode, Body: body, ContentType: resp.Header.Get("Content-Type"), RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}, nil
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date (relative to now).
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, int(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

// maxRetryAfter bounds what a Retry-After may ask for, in either form: a week.
const maxRetryAfter = 7 * 24 * time.Hour

// Status is the receiver's answer to GET /v1/packages/{sha256}/status (the receiver's own wire type).
type Status = wire.Status

// FinalCheck is the processor's part of the status.
type FinalCheck = wire.FinalCheck

// ErrUnknown is the receiver's 404: it holds no package with that SHA-256.
var ErrUnknown = errors.New("upload: a fogadó nem ismeri a csomagot / the receiver does not know the package")

// HTTPError is an HTTP answer other than the expected one.
type HTTPError struct {
	Status int
	Text   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Text) }

// Status asks the receiver what became of the package with this SHA-256.
func (c *Client) Status(ctx context.Context, sum [32]byte) (*Status, error) {
	body, err := c.get(ctx, c.base.JoinPath("v1", "packages", hex.EncodeToString(sum[:]), "status").String(), MaxStatusBytes)
	if err != nil {
		return nil, err
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("upload: status: %w", err)
	}
	if st.SHA256 != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("upload: status: answer about another package (%.64q)", st.SHA256)
	}
	return &st, nil
}

// Receipt fetches a stored receipt package again by its id.
func (c *Client) Receipt(ctx context.Context, id string) ([]byte, error) {
	return c.get(ctx, c.base.JoinPath("v1", "receipts", id).String(), MaxAnswerBytes)
}

func (c *Client) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ErrUnknown
	case resp.StatusCode != http.StatusOK:
		return nil, &HTTPError{Status: resp.StatusCode, Text: strings.TrimSpace(strings.ToValidUTF8(string(body[:min(len(body), 300)]), "?"))}
	case int64(len(body)) > limit:
		return nil, fmt.Errorf("upload: answer larger than %d bytes", limit)
	}
	return body, nil
}
