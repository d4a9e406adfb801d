// Package tsp obtains and verifies RFC 3161 time-stamp tokens for Tagdíj
// (SPEC §2 SignatureTimeStamp, REQUIREMENTS SND-24, SND-25, SIG-25).
//
// Client.Stamp asks a TSA over HTTP for a token and accepts it only after
// checking the whole answer against the request and the TSA's trust.
// Verifier.Verify checks a token found inside a signature. Request encoding
// uses github.com/digitorus/timestamp; the token checks (CMS signature,
// ESSCertID binding, EKU, TSTInfo) are done here, because that library's
// Parse establishes no trust and skips checks a verifier needs.
//
// Every failure wraps one of the Err* sentinels; Code maps them to the
// Tagdíj error codes (A007, A013, R001).
package tsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// Defaults for the zero values of Client's fields.
const (
	DefaultMaxResponseSize = 1 << 20
	DefaultTimeout         = 30 * time.Second
	DefaultMaxSkew         = 5 * time.Minute
)

// Media types of RFC 3161 §3.4.
const (
	ContentTypeQuery = "application/timestamp-query"
	ContentTypeReply = "application/timestamp-reply"
)

// NewHTTPClient returns an HTTP client for a Client that up to conns goroutines use at once (a
// receiver stamps one receipt per upload in progress). It keeps up to conns idle connections to the
// TSA, where http.DefaultClient keeps two: beyond two concurrent stamps, every other request would
// open a new connection, and for an https TSA that is a TLS handshake per receipt on deadline day.
// conns below 2 count as 2. It honours the environment's HTTP(S)_PROXY, as the default client does.
func NewHTTPClient(conns int) *http.Client {
	conns = max(conns, 2)
	t := &http.Transport{Proxy: http.ProxyFromEnvironment}
	if d, ok := http.DefaultTransport.(*http.Transport); ok {
		t = d.Clone()
	}
	t.MaxIdleConns = max(t.MaxIdleConns, conns)
	t.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: t}
}

// Client requests time-stamp tokens from one TSA over HTTP (RFC 3161 §3.4).
// A Client is safe for concurrent use once configured.
type Client struct {
	// URL of the TSA. Required.
	URL string
	// HTTP is the client used for the POST; nil means http.DefaultClient
	// (the deadline comes from Timeout and the context). A client used
	// concurrently wants NewHTTPClient's connection reuse.
	HTTP *http.Client
	// Hash is the imprint hash used when Stamp is given h == 0 and by
	// StampData; zero means SHA-256.
	Hash crypto.Hash
	// Policy, if set, is sent as reqPolicy and the token must carry it.
	Policy asn1.ObjectIdentifier
	// Trust decides whether the TSA is trusted at genTime. Required: a token
	// from an untrusted TSA is worthless for SND-24.
	Trust ChainVerifier
	// Header holds extra request headers (e.g. Authorization).
	Header http.Header
	// MaxResponseSize bounds the response body; zero means 1 MiB.
	MaxResponseSize int64
	// Timeout bounds one round trip on top of ctx; zero means 30 s.
	Timeout time.Duration
	// MaxSkew bounds |genTime − local clock| beyond the token's accuracy;
	// zero means 5 minutes, negative disables the check.
	MaxSkew time.Duration
	// AllowNoAccuracy accepts tokens without the accuracy field.
	AllowNoAccuracy bool
	// MaxAccuracy, if positive, is the coarsest accuracy accepted.
	MaxAccuracy time.Duration
	// Now is the local clock; nil means time.Now.
	Now func() time.Time
	// ParseCertificates parses the token's certificates; nil: x509.ParseCertificates.
	ParseCertificates CertificateParser
}

// request is what Stamp sent, for checking the answer.
type request struct {
	hash   crypto.Hash
	digest []byte
	nonce  *big.Int
	policy asn1.ObjectIdentifier
}

// StampData hashes data with c.Hash and stamps the digest.
func (c *Client) StampData(ctx context.Context, data []byte) (*Token, error) {
	h := c.hash(0)
	if !acceptedHash(h) {
		return nil, errorf(ErrWeakAlgorithm, "hash %v not accepted", h)
	}
	hh := h.New()
	hh.Write(data)
	return c.Stamp(ctx, hh.Sum(nil), h)
}

// Stamp requests a token over digest, computed with h (h == 0 means c.Hash).
// The request carries a fresh 128-bit random nonce, certReq = true and
// c.Policy if set. Stamp returns a token only if all of these hold:
//   - the TSA answered HTTP 200 with Content-Type application/timestamp-reply
//     and a body of at most MaxResponseSize bytes;
//   - the TimeStampResp is well-formed DER with PKIStatus granted or
//     grantedWithMods and a token (otherwise *RejectedError / ErrMalformed);
//   - everything ParseToken guarantees, with the TSA certificate embedded in
//     the token (certReq was set, so it must be there);
//   - the token's nonce equals the request's, its imprint algorithm and value
//     equal h and digest, and its policy equals c.Policy when set;
//   - accuracy is present (unless AllowNoAccuracy) and within MaxAccuracy;
//   - genTime is within MaxSkew (+ accuracy) of the local clock;
//   - c.Trust accepts the TSA chain at genTime.
func (c *Client) Stamp(ctx context.Context, digest []byte, h crypto.Hash) (*Token, error) {
	if c.URL == "" || c.Trust == nil {
		return nil, errors.New("tsp: Client needs URL and Trust")
	}
	h = c.hash(h)
	if !acceptedHash(h) {
		return nil, errorf(ErrWeakAlgorithm, "hash %v not accepted", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("tsp: digest of %d bytes for %v", len(digest), h)
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	req := request{hash: h, digest: append([]byte(nil), digest...), nonce: nonce, policy: c.Policy}
	der, err := (&timestamp.Request{
		HashAlgorithm: h,
		HashedMessage: req.digest,
		Certificates:  true,
		TSAPolicyOID:  c.Policy,
		Nonce:         nonce,
	}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsp: encoding request: %w", err)
	}
	body, err := c.post(ctx, der)
	if err != nil {
		return nil, err
	}
	return c.checkResponse(ctx, body, req)
}

func (c *Client) hash(h crypto.Hash) crypto.Hash {
	switch {
	case h != 0:
		return h
	case c.Hash != 0:
		return c.Hash
	}
	return crypto.SHA256
}

// newNonce returns a random positive nonce of 128 bits (RFC 3161 §2.4.1
// wants one large enough to be unique; 64 bits is the common minimum).
func newNonce() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("tsp: nonce: %w", err)
	}
	b[0] |= 0x80 // full length, so the nonce always has 128 bits
	return new(big.Int).SetBytes(b), nil
}

// post sends the query and returns the bounded body of a 200
// application/timestamp-reply answer.
func (c *Client) post(ctx context.Context, query []byte) ([]byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(query))
	if err != nil {
		return nil, fmt.Errorf("tsp: building HTTP request: %w", err)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	hreq.Header.Set("Content-Type", ContentTypeQuery)
	hreq.Header.Set("Accept", ContentTypeReply)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, c.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPStatusError{StatusCode: resp.StatusCode}
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != ContentTypeReply {
		return nil, errorf(ErrContentType, "got %q", resp.Header.Get("Content-Type"))
	}
	limit := c.MaxResponseSize
	if limit <= 0 {
		limit = DefaultMaxResponseSize
	}
	if resp.ContentLength > limit {
		return nil, errorf(ErrTooLarge, "Content-Length %d exceeds %d", resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading response: %w", ErrUnavailable, err)
	}
	if int64(len(body)) > limit {
		return nil, errorf(ErrTooLarge, "response exceeds %d bytes", limit)
	}
	return body, nil
}

// parseResponse decodes a TimeStampResp and returns its token, or a
// *RejectedError for a status without one.
func parseResponse(body []byte) ([]byte, error) {
	var resp timeStampResp
	rest, err := asn1.Unmarshal(body, &resp)
	if err != nil {
		return nil, fmt.Errorf("%w: TimeStampResp: %w", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return nil, errorf(ErrMalformed, "trailing data after TimeStampResp")
	}
	st := resp.Status
	if st.Status != 0 && st.Status != 1 {
		re := &RejectedError{Status: st.Status, StatusText: st.StatusString}
		for bit := 0; bit < st.FailInfo.BitLength; bit++ {
			if st.FailInfo.At(bit) == 1 {
				name, ok := failureNames[bit]
				if !ok {
					name = fmt.Sprintf("bit%d", bit)
				}
				re.FailInfo = append(re.FailInfo, name)
			}
		}
		return nil, re
	}
	if len(resp.TimeStampToken.FullBytes) == 0 {
		return nil, errorf(ErrMalformed, "status granted but no token")
	}
	return resp.TimeStampToken.FullBytes, nil
}

// checkResponse applies Stamp's guarantees to a response body.
func (c *Client) checkResponse(ctx context.Context, body []byte, req request) (*Token, error) {
	tokenDER, err := parseResponse(body)
	if err != nil {
		return nil, err
	}
	t, err := parseToken(tokenDER, c.ParseCertificates, nil) // no extra certificates: certReq demands it embedded
	if err != nil {
		return nil, err
	}
	if t.Nonce == nil || t.Nonce.Cmp(req.nonce) != 0 {
		return nil, errorf(ErrNonceMismatch, "sent %x, got %x", req.nonce, t.Nonce)
	}
	if err := checkImprint(t, req.digest, req.hash); err != nil {
		return nil, err
	}
	if len(req.policy) > 0 && !t.Policy.Equal(req.policy) {
		return nil, errorf(ErrPolicyMismatch, "requested %v, got %v", req.policy, t.Policy)
	}
	if t.Accuracy == 0 && !c.AllowNoAccuracy {
		return nil, errorf(ErrAccuracy, "token has no accuracy")
	}
	if c.MaxAccuracy > 0 && t.Accuracy > c.MaxAccuracy {
		return nil, errorf(ErrAccuracy, "accuracy %v exceeds %v", t.Accuracy, c.MaxAccuracy)
	}
	if skew := c.MaxSkew; skew >= 0 {
		if skew == 0 {
			skew = DefaultMaxSkew
		}
		now := time.Now()
		if c.Now != nil {
			now = c.Now()
		}
		if d := t.GenTime.Sub(now).Abs(); d > skew+t.Accuracy {
			return nil, errorf(ErrTimeSkew, "genTime %s is %v from the local clock", t.GenTime.Format(time.RFC3339), d)
		}
	}
	if err := c.Trust.VerifyTSA(ctx, t.TSA, t.intermediates(nil), t.GenTime); err != nil {
		return nil, fmt.Errorf("%w: at %s: %w", ErrTSAUntrusted, t.GenTime.Format(time.RFC3339), err)
	}
	return t, nil
}
