// Package trust turns a program's trust configuration and the signature policy into verdicts about
// certificate chains at a point in time. It is where SPEC §3's grace-period rule lives, in its revised
// form. Let T be the time the signature is proven to exist (its time-stamp's genTime):
//
//   - The signer certificate (the end certificate of a PurposeSigner chain) is finally valid only on
//     revocation evidence issued after T plus the policy's grace period: an OCSP response with
//     producedAt ≥ T + 4 h or a CRL with thisUpdate ≥ T + 24 h in production. Before such evidence
//     exists the answer is INDETERMINATE / TRY_LATER (A012).
//   - Every other certificate — the CA certificates of the signer's chain, and the time-stamping
//     unit's certificate and its CA certificates — needs evidence that is current at the validation
//     time (an OCSP response, or a CRL/ARL fresh at the checker's clock: thisUpdate ≤ now ≤
//     nextUpdate) and no post-grace issue date: CA revocation lists are published rarely (an ARL may
//     live for months), and waiting for the next one would hold every declaration for months.
//   - For every certificate, evidence of a revocation at or before T is final at once (TOTAL-FAILED,
//     A005), grace period or not; a revocation after T does not invalidate the signature (it is
//     reported in pathval.Result.RevokedAfterT).
//
// Evidence comes first from the signature itself (XAdES RevocationValues and the time-stamps'
// validation data, for offline and later checks) and then, unless the environment is offline, from
// the network through a revocation.Checker with its cache: the locations each certificate names,
// then the per-issuer sources of the configuration (Config.RevocationSources: an OCSP URL, a CRL URL,
// a local CRL file or a directory of CRLs kept current by the fund) for certificates that name none
// or whose own locations cannot be reached. Evidence from a configured source is verified exactly
// like any other: signed by the issuer (or its authorised OCSP responder), fresh, in scope.
//
// Embedded evidence is judged by when it was issued, never by whether it is still current: a package
// extended with validation data (XAdES-X-L/A) must still verify offline years later, when every CRL it
// carries is long past its nextUpdate. For the signer certificate that is the post-grace rule above.
// For CA and TSA certificates, embedded evidence is accepted when it was current at some moment at or
// after T — issued at or after T, or with a nextUpdate at or after T — which is exactly the evidence
// a check after T could have found current and embedded (an ARL issued months before T and valid for
// months after it included); evidence that had expired before T says nothing about T and is not
// accepted. Embedded evidence showing a revocation at or before T wins over any that does not. The
// residual risk, accepted with SPEC §3's revised rule: a CA revoked between the issue of a still-valid
// ARL and T shows up only in a newer ARL, and whoever adds unsigned properties to a signature can
// embed the older one instead; the signer certificate's own evidence, which must postdate T + grace,
// is not exposed to this.
//
// When a certificate has no usable evidence, ChainResult.Missing says which one and why (no
// revocation location and none configured, source unreachable, evidence not current, invalid,
// issued inside the grace period, offline), and the verdict's findings name the certificate.
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
	"slices"
	"time"

	"github.com/tagdij/tagdij/internal/boundedio"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/sigcache"
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
	// RevocationCache is a directory for fetched OCSP responses and CRLs; empty: no persistent cache
	// (fetched evidence is then kept in memory only, for the life of the process).
	RevocationCache string `json:"revocationCache,omitempty"`
	// Offline forbids every network fetch: only evidence embedded in signatures is used (configured
	// revocation sources, local files included, are then not consulted).
	Offline bool `json:"offline,omitempty"`
	// RevocationSources name where revocation evidence for the certificates of a given issuing CA
	// can be found, for certificates that name no revocation location or whose own locations the
	// fund's network cannot reach (SPEC §3).
	RevocationSources []RevocationSource `json:"revocationSources,omitempty"`
	// Proxy is an HTTP proxy (http or https URL, without user info) through which every OCSP and CRL
	// request goes, the certificates' own locations and the configured sources alike (SEC-15: a fund
	// whose network reaches them only through a proxy). Empty: direct, or the HTTP_PROXY environment
	// variables, which Go ignores for loopback addresses.
	Proxy string `json:"proxy,omitempty"`

	// RevocationStore, set by a program (never from the file), is where fetched evidence is kept
	// instead of RevocationCache: the processor passes its database's table (internal/store/sqlite
	// RevocationStore) so that processors share what any of them fetched. Load puts a memory layer in
	// front of it; RevocationCache is then not used.
	RevocationStore revocation.Store `json:"-"`
}

// RevocationSource is an operator-configured revocation source for the certificates one CA issued.
// At least one of OCSPURL, CRLURL, CRLFile and CRLDir must be given; several entries may name the
// same issuer. Example, for a foreign hierarchy whose root publishes an ARL the issuing CA
// certificate does not point to, and whose issuing CA's responder is reached through a proxy:
//
//	"revocationSources": [
//	  {"issuer": "certs/foreign-root.pem", "crlFile": "crl/foreign-root.arl"},
//	  {"issuer": "certs/foreign-issuing-ca.pem", "ocspURL": "http://ocsp-proxy.fund.local/foreign"},
//	  {"issuer": "certs/other-ca.pem", "crlDir": "/var/lib/tagdij/crls"}
//	]
type RevocationSource struct {
	// Issuer is the file (PEM or DER, exactly one certificate) of the issuing CA's certificate,
	// relative to the configuration file. The source covers the certificates that CA issued
	// (matched by the CA's name and public key), not the CA certificate itself: evidence about an
	// issuing CA comes from the source of the root above it.
	Issuer string `json:"issuer"`
	// OCSPURL is an OCSP responder (http or https) answering for the issuer's certificates.
	OCSPURL string `json:"ocspURL,omitempty"`
	// CRLURL is where a complete CRL (or ARL) of the issuer is published, over http (CRLs are
	// signed; RFC 5280 fetches them without TLS).
	CRLURL string `json:"crlURL,omitempty"`
	// CRLFile is a local copy of a CRL of the issuer (PEM or DER). It is checked when the
	// configuration loads (a CRL signed by the issuer) and read again at every check, so the fund
	// can replace it with a newer one at any time.
	CRLFile string `json:"crlFile,omitempty"`
	// CRLDir is a local directory of CRLs kept current by the fund, one per file (PEM or DER); of the
	// files issued by Issuer, the valid one with the latest thisUpdate is used.
	CRLDir string `json:"crlDir,omitempty"`
}

// Env is a loaded trust configuration bound to one policy. It is safe for concurrent use.
type Env struct {
	Policy        *policy.Policy
	Signers       *pathval.Anchors
	TSAs          *pathval.Anchors
	Intermediates []*x509.Certificate
	// Online fetches revocation evidence, from the certificates' own locations and then from the
	// configured per-issuer sources (Online.Sources); nil means offline.
	Online *revocation.Checker
	// SigCache remembers the certificate signatures, certificate paths and revocation evidence
	// signatures verified under this environment, so repeated validations of the same chains (every
	// upload of a receiver) need no public-key operation for them. It never changes a verdict
	// (package sigcache). Load creates it; nil caches nothing.
	SigCache *sigcache.Cache
}

// TSAVerifier is the time-stamping unit verifier of the environment: its TSA anchors, configured
// intermediates and extra ones, its algorithms and its signature cache; no revocation (CheckChain
// judges the TSA's chain with revocation where a signature needs it).
func (e *Env) TSAVerifier(extra ...*x509.Certificate) pathval.TSAVerifier {
	return pathval.TSAVerifier{Anchors: e.TSAs, ExtraIntermediates: append(slices.Clone(e.Intermediates), extra...),
		Algorithms: e.Algorithms(), SigCache: e.SigCache}
}

// Load reads the certificates cfg names (PEM, several per file allowed, or DER) relative to baseDir
// and builds an Env for pol. Unless cfg.Offline, revocation evidence is fetched in the order the
// policy prefers (through cfg.Proxy when set), through a cache with a memory layer in front of
// cfg.RevocationStore or, without one, of the directory cfg.RevocationCache (in memory only when
// neither is set), with cfg.RevocationSources as per-issuer fallbacks. The Env's SigCache is
// new: one per loaded environment. Every revocation source is checked here (issuer certificate readable, URL
// schemes, CRL file signed by the issuer, directory present); errors name the entry, bilingually.
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
	sources, err := loadSources(cfg.RevocationSources, abs)
	if err != nil {
		return nil, err
	}
	proxy, err := parseProxy(cfg.Proxy)
	if err != nil {
		return nil, err
	}
	env := &Env{Policy: pol, Signers: pathval.NewAnchors(pathval.PurposeSigner, signers...),
		TSAs: pathval.NewAnchors(pathval.PurposeTSA, tsas...), Intermediates: inter, SigCache: sigcache.New(0)}
	if !cfg.Offline {
		chk := &revocation.Checker{Methods: Methods(pol), Sources: sources}
		chk.OCSP.SigCache, chk.CRL.SigCache = env.SigCache, env.SigCache
		if proxy != nil {
			hc := revocation.NewHTTPClient(proxy)
			chk.OCSP.HTTP, chk.CRL.HTTP = hc, hc
		}
		switch {
		case cfg.RevocationStore != nil:
			chk.Cache = revocation.NewCache(revocation.NewLayeredStore(revocation.NewMemoryStore(0, 0), cfg.RevocationStore))
		case cfg.RevocationCache != "":
			if chk.Cache, err = revocation.NewLayeredDirCache(abs(cfg.RevocationCache)); err != nil {
				return nil, fmt.Errorf("trust: revocation cache: %w", err)
			}
		default:
			chk.Cache = revocation.NewMemoryCache()
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
	// Missing lists the certificates of the chain for which no usable revocation evidence was found,
	// nearest the end certificate first, each with the reason. Every entry also has a finding in
	// Verdict whose location names the certificate (A011; A012 for the signer certificate while its
	// evidence predates the grace end), unless the verdict failed (TOTAL-FAILED) for another reason.
	Missing []MissingEvidence
}

// CheckChain validates q.Leaf for q.Purpose at q.T with revocation under the grace-period rule of
// the package documentation. It never panics on the certificates it is given: every failure is a
// finding in the verdict.
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
		SigCache:           e.SigCache,
	})
	res.Path = path
	res.Missing = chk.missing
	if err == nil {
		return res
	}
	detail := err.Error()
	loc := q.Purpose.String()
	var me *missingError
	reported := -1 // the call index of the missing evidence the first finding is about
	switch {
	case errors.Is(err, pathval.ErrRevoked):
		res.Verdict.Fail(report.RevokedNoPOE, errcode.New(errcode.A005, chainLocation(q.Purpose, path, func(ev *revocation.Evidence) bool {
			return ev.RevokedAtOrBefore(q.T)
		}), detail))
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
	case errors.Is(err, pathval.ErrRevocationUnknown):
		res.Verdict.Incomplete(report.TryLater, errcode.New(errcode.A011, chainLocation(q.Purpose, path, func(ev *revocation.Evidence) bool {
			return ev.Status == revocation.StatusUnknown
		}), detail))
	case errors.As(err, &me):
		sub, f := missingFinding(me.m, q, earliest)
		res.Verdict.Incomplete(sub, f)
		reported = me.m.index
	case errors.Is(err, pathval.ErrRevocationUnavailable), errors.Is(err, pathval.ErrRevocationInvalid):
		res.Verdict.Incomplete(report.TryLater, errcode.New(errcode.A011, loc, detail))
	default:
		// An error of no known class proves nothing about the certificate.
		res.Verdict.Incomplete(report.CertificateChainGeneralFailure, errcode.New(errcode.A010, loc, detail))
	}
	// Every other certificate without evidence too: the user learns at once everything that stands
	// between the chain and a final verdict.
	if res.Verdict.Indication == report.Indeterminate {
		for _, m := range res.Missing {
			if m.index != reported {
				sub, f := missingFinding(m, q, earliest)
				res.Verdict.Incomplete(sub, f)
			}
		}
	}
	return res
}

// chainLocation is the finding location of the first certificate of path whose evidence matches:
// the purpose alone for the end certificate, "<purpose> CA <subject>" for a CA certificate.
func chainLocation(p pathval.Purpose, path *pathval.Result, match func(*revocation.Evidence) bool) string {
	if path != nil {
		for i, ev := range path.Revocation {
			if ev != nil && match(ev) && i < len(path.Chain) {
				return certLocation(p, i > 0, path.Chain[i])
			}
		}
	}
	return p.String()
}

func certLocation(p pathval.Purpose, ca bool, c *x509.Certificate) string {
	if !ca {
		return p.String()
	}
	return p.String() + " CA " + c.Subject.String()
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
