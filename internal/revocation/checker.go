package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/url"
	"time"
)

// Checker finds revocation evidence for a certificate: it tries the configured methods in order
// (OCSP first, then CRL, unless Methods says otherwise, as the signature policy decides) at the
// locations the certificate names, then at the Sources configured for its issuer, serving from the
// Cache when fresh evidence is there and storing what it fetched. The zero value is usable (OCSP
// then CRL, default clients, no cache, no configured sources, time.Now).
type Checker struct {
	// Methods is the order of sources to try; nil means OCSP then CRL. A method left out is not used.
	Methods []Method
	OCSP    OCSPClient
	CRL     CRLClient
	// Cache, when set, serves and keeps evidence.
	Cache *Cache
	// Sources are revocation sources configured per issuing CA. They are tried, method by method in
	// the order of Methods, after the certificate's own locations gave no evidence (it names none, or
	// none answered with evidence that verified). Local CRL files and directories are read at every
	// check and never cached.
	Sources []IssuerSource
	// Now is the clock evidence must be fresh at; time.Now when nil.
	Now func() time.Time
	// Logger receives one debug line per attempt; nil discards.
	Logger *slog.Logger
}

// Query is a revocation question: the status of Cert (issued by Issuer) as it bears on time At.
type Query struct {
	Cert, Issuer *x509.Certificate
	// At is the time of interest (the signature's timestamp time T). Cached evidence whose
	// nextUpdate is before At is not served.
	At time.Time
	// OCSPProducedAfter and CRLIssuedAfter, when set, make the cache skip evidence produced earlier
	// (OCSP producedAt, CRL thisUpdate): the final check after the grace period needs evidence for
	// the signer certificate from after T + grace (SPEC §3) and must not be handed the response
	// cached at the initial check. (CA certificates need only current evidence: leave them zero.)
	// Fetched evidence is returned whatever its time; judging it is the policy's job.
	OCSPProducedAfter time.Time
	CRLIssuedAfter    time.Time
}

// Check returns verified evidence of cert's status (Good, Revoked or Unknown; a revocation time is
// in the evidence, the caller compares it with at). Errors are *CheckError; errors.Is(err,
// ErrUnavailable) means no source answered (SPEC §7 A011), errors.Is(err, ErrInvalidEvidence) means a
// source answered with evidence that failed verification.
func (c *Checker) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (*Evidence, error) {
	return c.CheckQuery(ctx, Query{Cert: cert, Issuer: issuer, At: at})
}

// CheckQuery is Check with the full set of constraints.
func (c *Checker) CheckQuery(ctx context.Context, q Query) (*Evidence, error) {
	if q.Cert == nil || q.Issuer == nil {
		return nil, &CheckError{Attempts: []error{invalid(0, "", ErrMalformed, "certificate or issuer missing")}}
	}
	if !bytes.Equal(q.Cert.RawIssuer, q.Issuer.RawSubject) {
		return nil, &CheckError{Attempts: []error{invalid(0, "", ErrWrongIssuer, "%q is not the issuer of %q", q.Issuer.Subject, q.Cert.Subject)}}
	}
	methods := c.Methods
	if methods == nil {
		methods = []Method{MethodOCSP, MethodCRL}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	var attempts []error
	own := map[Method]bool{}
	for _, m := range methods {
		var urls []string
		switch m {
		case MethodOCSP:
			urls = q.Cert.OCSPServer
		case MethodCRL:
			urls = q.Cert.CRLDistributionPoints
		default:
			continue
		}
		for _, u := range urls {
			if !usableURL(m, u) {
				continue
			}
			own[m] = true
			ev, err := c.one(ctx, m, u, q, now)
			c.log(ctx, m, u, q, ev, err)
			if err == nil {
				return ev, nil
			}
			attempts = append(attempts, err)
			if ctx.Err() != nil {
				return nil, &CheckError{Attempts: attempts}
			}
		}
	}
	// The certificate's own locations gave nothing: the sources configured for its issuer.
	for _, m := range methods {
		configured := false
		for _, l := range c.sourceLocations(m, q.Issuer) {
			var ev *Evidence
			var err error
			switch l.kind {
			case "url":
				if !usableURL(m, l.loc) {
					continue
				}
				ev, err = c.one(ctx, m, l.loc, q, now)
			case "file":
				ev, err = c.fileCRL(l.loc, q, now())
			case "dir":
				ev, err = c.dirCRL(l.loc, q, now())
			}
			configured = true
			c.log(ctx, m, l.String(), q, ev, err)
			if err == nil {
				return ev, nil
			}
			attempts = append(attempts, err)
			if ctx.Err() != nil {
				return nil, &CheckError{Attempts: attempts}
			}
		}
		if !own[m] && !configured && (m == MethodOCSP || m == MethodCRL) {
			attempts = append(attempts, unavailable(m, "", ErrNoSource,
				"certificate %q names no usable %s location and none is configured for its issuer %q", q.Cert.Subject, m, q.Issuer.Subject))
		}
	}
	return nil, &CheckError{Attempts: attempts}
}

func usableURL(m Method, u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return false
	}
	if m == MethodCRL {
		return pu.Scheme == "http"
	}
	return pu.Scheme == "http" || pu.Scheme == "https"
}

// one obtains evidence by method m from u: from the cache if it holds evidence acceptable for q,
// otherwise from the network (then cached).
func (c *Checker) one(ctx context.Context, m Method, u string, q Query, now func() time.Time) (*Evidence, error) {
	var key string
	if c.Cache != nil {
		switch m {
		case MethodOCSP:
			key = OCSPCacheKey(q.Issuer, q.Cert.SerialNumber)
		case MethodCRL:
			key = CRLCacheKey(q.Issuer, u)
		}
		// A required nonce cannot be proved by a stored response, so such lookups skip the cache.
		if !(m == MethodOCSP && c.OCSP.Nonce == NonceRequired) {
			if ev := c.Cache.lookup(key, func(storedURL string, der []byte) (*Evidence, bool) {
				ev, err := c.verifyStored(m, storedURL, der, q, now())
				return ev, err == nil
			}); ev != nil {
				return ev, nil
			}
		}
	}
	var ev *Evidence
	var err error
	switch m {
	case MethodOCSP:
		ev, err = c.OCSP.Query(ctx, u, q.Cert, q.Issuer, now())
	case MethodCRL:
		ev, err = c.CRL.Query(ctx, u, q.Cert, q.Issuer, now())
	}
	if err != nil {
		return nil, err
	}
	if c.Cache != nil && !ev.NextUpdate().IsZero() {
		if perr := c.Cache.put(key, ev); perr != nil && c.Logger != nil {
			c.Logger.WarnContext(ctx, "revocation cache write failed", "key", key, "err", perr)
		}
	}
	return ev, nil
}

// errNotAcceptable marks cached evidence that verifies but does not answer the query.
var errNotAcceptable = errors.New("cached evidence does not answer the query")

func (c *Checker) verifyStored(m Method, u string, der []byte, q Query, now time.Time) (*Evidence, error) {
	k := verifiedKey(m, der, q.Cert, q.Issuer)
	ev := c.Cache.memoGet(k)
	switch {
	case ev != nil:
		// Verified before; only the time-dependent checks are repeated.
		fresh := c.OCSP.Freshness
		if m == MethodCRL {
			fresh = c.CRL.Freshness
		}
		if ev.OCSP != nil && ev.OCSP.ProducedAt.After(now.Add(fresh.skew())) {
			return nil, errNotAcceptable
		}
		if why := fresh.check(now, ev.ThisUpdate(), ev.NextUpdate()); why != "" {
			return nil, errNotAcceptable
		}
		ev.URL = u
	case m == MethodOCSP:
		var err error
		if ev, err = VerifyOCSP(der, q.Cert, q.Issuer, OCSPVerifyOptions{Now: now, Freshness: c.OCSP.Freshness, URL: u, SigCache: c.OCSP.SigCache}); err != nil {
			return nil, err
		}
		c.Cache.memoPut(k, ev)
	case m == MethodCRL:
		var err error
		if ev, err = VerifyCRL(der, q.Cert, q.Issuer, CRLVerifyOptions{Now: now, Freshness: c.CRL.Freshness, URL: u, SigCache: c.CRL.SigCache}); err != nil {
			return nil, err
		}
		c.Cache.memoPut(k, ev)
	default:
		return nil, errNotAcceptable
	}
	if nu := ev.NextUpdate(); nu.IsZero() || (!q.At.IsZero() && nu.Before(q.At)) {
		return nil, errNotAcceptable
	}
	min := q.OCSPProducedAfter
	if m == MethodCRL {
		min = q.CRLIssuedAfter
	}
	if !min.IsZero() && ev.ProducedAt().Before(min) {
		return nil, errNotAcceptable
	}
	return ev, nil
}

func (c *Checker) log(ctx context.Context, m Method, u string, q Query, ev *Evidence, err error) {
	if c.Logger == nil {
		return
	}
	if err != nil {
		c.Logger.DebugContext(ctx, "revocation attempt failed", "method", m.String(), "url", u,
			"serial", q.Cert.SerialNumber.Text(16), "err", err)
		return
	}
	c.Logger.DebugContext(ctx, "revocation evidence", "method", m.String(), "url", u,
		"serial", q.Cert.SerialNumber.Text(16), "status", ev.Status.String(), "cached", ev.FromCache,
		"produced_at", ev.ProducedAt())
}
