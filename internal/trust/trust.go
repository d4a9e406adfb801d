// Package trust turns a program's trust configuration and the signature policy into verdicts about
// certificate chains at a point in time. It is where SPEC §3's grace-period rule lives: a chain is
// finally valid at the timestamp time T only on revocation evidence issued after T plus the policy's
// grace period (OCSP producedAt ≥ T + 4 h, CRL thisUpdate ≥ T + 24 h in production), for the end
// certificate and every CA certificate of its chain; before that the answer is INDETERMINATE /
// TRY_LATER, unless evidence already shows a revocation at or before T, which is final at once.
//
// Evidence comes from the signature itself (XAdES RevocationValues, for offline and later checks) and,
// unless the environment is offline, from the network through a revocation.Checker with its cache.
package trust

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/internal/boundedio"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/policy"
)

// Config is the trust section of a program's configuration file. Paths are relative to the file.
type Config struct {
	// SignerAnchors are the roots signer certificates (of packages, receipts, exports) must chain to.
	SignerAnchors []string `json:"signerAnchors"`
	// TSAAnchors are the roots time-stamping units must chain to.
	TSAAnchors []string `json:"tsaAnchors"`
	// Intermediates are CA certificates offered for path building besides those in signatures.
	Intermediates []string `json:"intermediates,omitempty"`
	// RevocationCache is a directory for fetched OCSP responses and CRLs; empty: no persistent cache.
	RevocationCache string `json:"revocationCache,omitempty"`
	// Offline forbids every network fetch: only evidence embedded in signatures is used.
	Offline bool `json:"offline,omitempty"`
}

// Env is a loaded trust configuration bound to one policy. It is safe for concurrent use.
type Env struct {
	Policy        *policy.Policy
	Signers       *pathval.Anchors
	TSAs          *pathval.Anchors
	Intermediates []*x509.Certificate
	// Online fetches revocation evidence; nil means offline.
	Online *revocation.Checker
}

// Load reads the certificates cfg names (PEM, several per file allowed, or DER) relative to baseDir
// and builds an Env for pol. Unless cfg.Offline, revocation evidence is fetched in the order the
// policy prefers, through a cache in cfg.RevocationCache when set.
func Load(cfg Config, baseDir string, pol *policy.Policy) (*Env, error) {
	if pol == nil {
		return nil, errors.New("trust: no policy")
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) || baseDir == "" {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	read := func(what string, paths []string) ([]*x509.Certificate, error) {
		var out []*x509.Certificate
		for _, p := range paths {
			cs, err := ReadCertificates(abs(p))
			if err != nil {
				return nil, fmt.Errorf("trust: %s: %w", what, err)
			}
			out = append(out, cs...)
		}
		return out, nil
	}
	signers, err := read("signer anchors", cfg.SignerAnchors)
	if err != nil {
		return nil, err
	}
	tsas, err := read("TSA anchors", cfg.TSAAnchors)
	if err != nil {
		return nil, err
	}
	inter, err := read("intermediates", cfg.Intermediates)
	if err != nil {
		return nil, err
	}
	if len(signers) == 0 || len(tsas) == 0 {
		return nil, errors.New("trust: signer and TSA anchors are both required")
	}
	env := &Env{Policy: pol, Signers: pathval.NewAnchors(pathval.PurposeSigner, signers...),
		TSAs: pathval.NewAnchors(pathval.PurposeTSA, tsas...), Intermediates: inter}
	if !cfg.Offline {
		chk := &revocation.Checker{Methods: Methods(pol)}
		if cfg.RevocationCache != "" {
			if chk.Cache, err = revocation.NewDirCache(abs(cfg.RevocationCache)); err != nil {
				return nil, fmt.Errorf("trust: revocation cache: %w", err)
			}
		}
		env.Online = chk
	}
	return env, nil
}

// ReadCertificates reads every certificate of a PEM file (or one DER certificate).
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if c, err := x509.ParseCertificate(data); err == nil {
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return out, nil
}

// Methods is the policy's order of revocation sources.
func Methods(pol *policy.Policy) []revocation.Method {
	var out []revocation.Method
	for _, r := range pol.Revocation.Methods {
		switch r.Method {
		case policy.OCSP:
			out = append(out, revocation.MethodOCSP)
		case policy.CRL:
			out = append(out, revocation.MethodCRL)
		}
	}
	return out
}

// Algorithms maps the policy's algorithm rules onto path-validation constraints.
func (e *Env) Algorithms() pathval.Algorithms {
	a := pathval.Algorithms{MinRSABits: e.Policy.Algorithms.MinRSABits}
	for _, c := range e.Policy.Algorithms.Curves {
		a.AllowedCurves = append(a.AllowedCurves, c.Params().Name)
	}
	return a
}

// Embedded is revocation evidence carried by a signature (XAdES RevocationValues, or the
// TimeStampValidationData of a timestamp): raw OCSPResponse and CertificateList DER.
type Embedded struct {
	OCSP [][]byte
	CRL  [][]byte
}

// ChainQuery asks whether Leaf is valid for Purpose at T, judged at Now.
type ChainQuery struct {
	Purpose       pathval.Purpose
	Leaf          *x509.Certificate
	Intermediates []*x509.Certificate
	// T is the time the signature is proven to exist: the genTime of its timestamp.
	T time.Time
	// Now is when the check runs; it decides whether the grace period is over.
	Now time.Time
	// Embedded evidence from the signature, used before any network source.
	Embedded Embedded
	// AllowNonQualified accepts an advanced (non-qualified) signer: the fund's receipt key (DEF-07).
	AllowNonQualified bool
}

// ChainResult is the verdict on a chain, what it rests on, and when to try again if incomplete.
type ChainResult struct {
	Verdict report.Verdict
	Path    *pathval.Result // nil when no chain was built
	// EarliestFinal is T plus the shortest grace period of the policy's methods: the first moment a
	// final check can succeed.
	EarliestFinal time.Time
}

// errGraceNotOver marks evidence that exists but was issued before T + grace: usable only to show a
// revocation at or before T, never to show the certificate was good.
var errGraceNotOver = errors.New("trust: revocation evidence issued before the grace period ended")

// errAfterExpiry marks network evidence fetched after the certificate expired: CAs need not keep
// status information for expired certificates, so such evidence cannot prove it was good (PRC-05).
var errAfterExpiry = errors.New("trust: certificate expired before the final check and the signature carries no evidence")

// CheckChain validates q.Leaf for q.Purpose at q.T with revocation under the grace-period rule.
func (e *Env) CheckChain(ctx context.Context, q ChainQuery) ChainResult {
	res := ChainResult{Verdict: report.Passed()}
	ocspAfter, crlAfter, earliest := e.graceEnds(q.T)
	res.EarliestFinal = earliest
	anchors := e.Signers
	if q.Purpose == pathval.PurposeTSA {
		anchors = e.TSAs
	}
	chk := &graceChecker{env: e, q: q, ocspAfter: ocspAfter, crlAfter: crlAfter}
	path, err := pathval.Validate(ctx, q.Leaf, q.Intermediates, pathval.Options{
		Purpose:            q.Purpose,
		Anchors:            anchors,
		ExtraIntermediates: e.Intermediates,
		Time:               q.T,
		Algorithms:         e.Algorithms(),
		AllowNonQualified:  q.AllowNonQualified,
		Revocation:         chk,
	})
	res.Path = path
	if err == nil {
		return res
	}
	detail := err.Error()
	loc := q.Purpose.String()
	switch {
	case errors.Is(err, pathval.ErrRevoked):
		res.Verdict.Fail(report.RevokedNoPOE, errcode.New(errcode.A005, loc, detail))
	case errors.Is(err, pathval.ErrNotValidAtT) && q.T.Before(q.Leaf.NotBefore):
		// The certificate did not exist yet at T (EN 319 102-1: NOT_YET_VALID).
		res.Verdict.Fail(report.NotYetValid, errcode.New(errcode.A006, loc, detail))
	case errors.Is(err, pathval.ErrNotValidAtT):
		res.Verdict.Fail(report.OutOfBoundsNoPOE, errcode.New(errcode.A006, loc, detail))
	case errors.Is(err, pathval.ErrNotQualified):
		res.Verdict.Fail(report.ChainConstraintsFailure, errcode.New(errcode.A004, loc, detail))
	case errors.Is(err, pathval.ErrAlgorithm):
		res.Verdict.Fail(report.CryptoConstraintsFailure, errcode.New(errcode.A013, loc, detail))
	case errors.Is(err, pathval.ErrUsage):
		res.Verdict.Fail(report.ChainConstraintsFailure, errcode.New(errcode.A003, loc, detail))
	case errors.Is(err, pathval.ErrNoChain), errors.Is(err, pathval.ErrNotCA), errors.Is(err, pathval.ErrPathLen),
		errors.Is(err, pathval.ErrAnchorPurpose):
		res.Verdict.Incomplete(report.NoCertificateChainFound, errcode.New(errcode.A003, loc, detail))
	case errors.Is(err, errAfterExpiry):
		res.Verdict.Incomplete(report.OutOfBoundsNoPOE, errcode.New(errcode.A011, loc, detail))
	case errors.Is(err, errGraceNotOver), q.Now.Before(earliest) && errors.Is(err, pathval.ErrRevocationUnavailable):
		res.Verdict.Incomplete(report.TryLater, errcode.New(errcode.A012, loc, detail))
	case errors.Is(err, pathval.ErrRevocationUnknown), errors.Is(err, pathval.ErrRevocationUnavailable),
		errors.Is(err, pathval.ErrRevocationInvalid):
		res.Verdict.Incomplete(report.TryLater, errcode.New(errcode.A011, loc, detail))
	default:
		// An error of no known class proves nothing about the certificate.
		res.Verdict.Incomplete(report.CertificateChainGeneralFailure, errcode.New(errcode.A010, loc, detail))
	}
	return res
}

// graceEnds returns T + the OCSP and CRL grace periods of the policy (zero for a method the policy
// does not use) and the earliest of them.
func (e *Env) graceEnds(T time.Time) (ocspAfter, crlAfter, earliest time.Time) {
	for _, r := range e.Policy.Revocation.Methods {
		end := T.Add(r.Grace)
		switch r.Method {
		case policy.OCSP:
			ocspAfter = end
		case policy.CRL:
			crlAfter = end
		default:
			continue
		}
		if earliest.IsZero() || end.Before(earliest) {
			earliest = end
		}
	}
	return ocspAfter, crlAfter, earliest
}

// graceChecker is the revocation source path validation uses: embedded evidence first, then the
// network, each piece accepted only if issued after its method's grace end, or if it shows a
// revocation at or before T (which no later evidence can undo).
type graceChecker struct {
	env                 *Env
	q                   ChainQuery
	ocspAfter, crlAfter time.Time
}

// forever disables freshness checks on stored evidence: evidence kept in a signature is judged by when
// it was issued (against the grace end), not by whether it is still current. The two add up to 200
// years, inside time.Duration's range of about 292.
const century = 100 * 365 * 24 * time.Hour

var forever = revocation.Freshness{MaxAge: century, Skew: century}

func (g *graceChecker) usable(ev *revocation.Evidence) error {
	if ev.Status == revocation.StatusRevoked && ev.RevokedAtOrBefore(g.q.T) {
		return nil
	}
	after := g.ocspAfter
	if ev.Method == revocation.MethodCRL {
		after = g.crlAfter
	}
	if after.IsZero() {
		return fmt.Errorf("%w: the policy does not accept %s", errGraceNotOver, ev.Method)
	}
	if ev.ProducedAt().Before(after) {
		return fmt.Errorf("%w: %s issued %s, usable from %s", errGraceNotOver, ev.Method,
			ev.ProducedAt().UTC().Format(time.RFC3339), after.UTC().Format(time.RFC3339))
	}
	return nil
}

// Check implements pathval.RevocationChecker.
func (g *graceChecker) Check(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (*revocation.Evidence, error) {
	var firstErr error
	note := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	for _, der := range g.q.Embedded.OCSP {
		ev, err := revocation.VerifyOCSP(der, cert, issuer, revocation.OCSPVerifyOptions{Now: at, Freshness: forever, URL: "embedded"})
		if err != nil {
			continue // evidence about another certificate of the chain, or not verifiable
		}
		if err := g.usable(ev); err != nil {
			note(err)
			continue
		}
		return ev, nil
	}
	for _, der := range g.q.Embedded.CRL {
		ev, err := revocation.VerifyCRL(der, cert, issuer, revocation.CRLVerifyOptions{Now: at, Freshness: forever, URL: "embedded"})
		if err != nil {
			continue
		}
		if err := g.usable(ev); err != nil {
			note(err)
			continue
		}
		return ev, nil
	}
	if g.env.Online == nil {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, fmt.Errorf("trust: offline and the signature carries no evidence for %q", cert.Subject)
	}
	ev, err := g.env.Online.CheckQuery(ctx, revocation.Query{Cert: cert, Issuer: issuer, At: at,
		OCSPProducedAfter: g.ocspAfter, CRLIssuedAfter: g.crlAfter})
	if err != nil {
		return nil, err
	}
	if uerr := g.usable(ev); uerr != nil {
		return nil, uerr
	}
	if g.q.Now.After(cert.NotAfter) && !(ev.Status == revocation.StatusRevoked && ev.RevokedAtOrBefore(g.q.T)) {
		return nil, fmt.Errorf("%w: %q expired %s", errAfterExpiry, cert.Subject, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return ev, nil
}

// MaxConfigFile bounds a trust configuration file.
const MaxConfigFile = 1 << 20

// LoadFile reads a trust configuration file (Config as JSON, unknown fields refused, paths relative to
// the file) and loads it for pol. offline forces an offline environment whatever the file says (the
// auditor's default); now, when set, is the clock fetched evidence is judged by, so a command's "now"
// decides T, the grace period and freshness alike.
func LoadFile(path string, pol *policy.Policy, offline bool, now func() time.Time) (*Env, error) {
	data, err := boundedio.ReadFile(path, MaxConfigFile)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%s: hibás bizalmi beállítás / bad trust configuration: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: hibás bizalmi beállítás / bad trust configuration: trailing data", path)
	}
	cfg.Offline = cfg.Offline || offline
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	env, err := Load(cfg, dir, pol)
	if err != nil {
		return nil, err
	}
	if env.Online != nil && now != nil {
		env.Online.Now = now
	}
	return env, nil
}
