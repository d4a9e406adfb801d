// Package revocation obtains and verifies certificate revocation evidence: OCSP responses (RFC 6960)
// and CRLs (RFC 5280), with a persistent cache. Every piece of evidence keeps its raw DER bytes, because
// the processor embeds them in the signature (XAdES RevocationValues, PRC-06), and the parsed fields the
// grace-period rule of SPEC §3 needs (OCSP producedAt, CRL thisUpdate, the revocation time).
//
// The package answers "what does the certificate's issuer say about it, in evidence we verified"; it
// does not decide whether a signature is valid. Deciding what a revocation at a given time means for a
// signature (grace period, revoked before or after the timestamp) belongs to the caller.
package revocation

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"time"
)

// Method is a revocation-status source.
type Method int

const (
	// MethodOCSP is an OCSP responder (RFC 6960), found in the certificate's AIA extension.
	MethodOCSP Method = iota + 1
	// MethodCRL is a CRL (RFC 5280), found in the certificate's CRL distribution points.
	MethodCRL
)

func (m Method) String() string {
	switch m {
	case MethodOCSP:
		return "OCSP"
	case MethodCRL:
		return "CRL"
	}
	return "unknown-method"
}

// Status is the revocation status the evidence states.
type Status int

const (
	// StatusGood: the certificate is not revoked according to the evidence.
	StatusGood Status = iota + 1
	// StatusRevoked: the certificate is revoked (or suspended, reason certificateHold) since
	// Evidence.RevocationTime.
	StatusRevoked
	// StatusUnknown: the OCSP responder does not know the certificate. CRLs never say this.
	StatusUnknown
)

func (s Status) String() string {
	switch s {
	case StatusGood:
		return "good"
	case StatusRevoked:
		return "revoked"
	case StatusUnknown:
		return "unknown"
	}
	return "invalid-status"
}

// NoReason is Evidence.RevocationReason when the evidence gives no CRLReason.
const NoReason = -1

// Evidence is one verified piece of revocation evidence about one certificate. Evidence values are
// produced only by VerifyOCSP, VerifyCRL and the Checker, after signature, issuer and freshness checks
// passed; they are never partially verified.
type Evidence struct {
	Method Method
	Status Status
	// RevocationTime and RevocationReason are set when Status is StatusRevoked; the reason is a
	// CRLReason code (RFC 5280 §5.3.1, e.g. 1 keyCompromise, 6 certificateHold) or NoReason.
	RevocationTime   time.Time
	RevocationReason int
	// Serial is the serial number of the certificate the evidence is about.
	Serial *big.Int
	// URL is where the evidence was fetched from (empty when it was handed to VerifyOCSP/VerifyCRL
	// directly).
	URL string
	// Raw is the complete DER: an OCSPResponse (not only the BasicOCSPResponse) or a CertificateList.
	Raw []byte
	// FromCache is true when a Checker served the evidence from its cache.
	FromCache bool

	OCSP *OCSPInfo // set for MethodOCSP
	CRL  *CRLInfo  // set for MethodCRL
}

// OCSPInfo is what a verified OCSP response said besides the status.
type OCSPInfo struct {
	ProducedAt time.Time
	ThisUpdate time.Time
	NextUpdate time.Time // zero when the responder gave none
	// ResponderName is the responder ID by name (DER Name), ResponderKeyHash the responder ID by key
	// (SHA-1 of the responder's public key); exactly one is set.
	ResponderName    []byte
	ResponderKeyHash []byte
	// Signer is the certificate whose key signed the response: the certificate's issuer itself
	// (CASigned) or a delegated responder certificate issued directly by it.
	Signer   *x509.Certificate
	CASigned bool
	// Certificates are all certificates the response carried, in order.
	Certificates []*x509.Certificate
	// NoCheck is true when the delegated responder certificate has the id-pkix-ocsp-nocheck extension
	// (RFC 6960 §4.2.2.2.1): its own revocation status is not to be checked.
	NoCheck bool
	// NonceSent is the nonce of the request; NonceEchoed reports that the response carried it back.
	NonceSent   []byte
	NonceEchoed bool
}

// ResponderSubject returns the responder's name for display: the signer's subject.
func (o *OCSPInfo) ResponderSubject() pkix.Name {
	if o == nil || o.Signer == nil {
		return pkix.Name{}
	}
	return o.Signer.Subject
}

// CRLInfo is what a verified CRL said besides the status.
type CRLInfo struct {
	Issuer     pkix.Name
	RawIssuer  []byte
	ThisUpdate time.Time
	NextUpdate time.Time // zero when the CRL has none
	Number     *big.Int  // nil when the CRL has no cRLNumber
	// Delta reports a delta CRL (deltaCRLIndicator present); BaseCRLNumber is the base it updates.
	Delta         bool
	BaseCRLNumber *big.Int
	// Listed is true when the certificate's serial is on the CRL (Status is then StatusRevoked).
	Listed bool
	// Entries is the number of revoked-certificate entries, for reports.
	Entries int
}

// ProducedAt is the time the issuer produced the evidence, the time SPEC §3's grace period is
// measured against: OCSP producedAt, CRL thisUpdate. Zero for a nil Evidence.
func (e *Evidence) ProducedAt() time.Time {
	switch {
	case e == nil:
		return time.Time{}
	case e.OCSP != nil:
		return e.OCSP.ProducedAt
	case e.CRL != nil:
		return e.CRL.ThisUpdate
	}
	return time.Time{}
}

// ThisUpdate is the time at which the stated status is known to be correct.
func (e *Evidence) ThisUpdate() time.Time {
	switch {
	case e == nil:
		return time.Time{}
	case e.OCSP != nil:
		return e.OCSP.ThisUpdate
	case e.CRL != nil:
		return e.CRL.ThisUpdate
	}
	return time.Time{}
}

// NextUpdate is the time newer evidence will be available; zero when the evidence gives none.
func (e *Evidence) NextUpdate() time.Time {
	switch {
	case e == nil:
		return time.Time{}
	case e.OCSP != nil:
		return e.OCSP.NextUpdate
	case e.CRL != nil:
		return e.CRL.NextUpdate
	}
	return time.Time{}
}

// RevokedAtOrBefore reports whether the evidence says the certificate was revoked at or before t, the
// case that invalidates a signature timestamped at t (SPEC §3). A revocation after t returns false.
func (e *Evidence) RevokedAtOrBefore(t time.Time) bool {
	return e != nil && e.Status == StatusRevoked && !e.RevocationTime.After(t)
}

// clone returns a copy that shares no mutable struct with e (slices and certificates are shared;
// they are never modified after verification).
func (e *Evidence) clone() *Evidence {
	c := *e
	if e.OCSP != nil {
		o := *e.OCSP
		c.OCSP = &o
	}
	if e.CRL != nil {
		r := *e.CRL
		c.CRL = &r
	}
	return &c
}
