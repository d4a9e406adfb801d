package revocation

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tagdij/tagdij/internal/sigcache"
)

// Why a second OCSP parser beside golang.org/x/crypto/ocsp: x/crypto parses a response into one
// SingleResponse chosen by serial only, does not expose the CertID hashes (needed to check the
// response is about this issuer, RFC 6960 §3.2 item 1), drops responseExtensions (where the nonce
// is) and keeps only the first embedded certificate. We use x/crypto for what it offers (status and
// reason constants, response status errors, CreateResponse in tests) and parse the structures here.

// ASN.1 of RFC 6960 §4.1 and §4.2.1 (explicit tags as in the module, which is EXPLICIT TAGS).
type certIDASN1 struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	IssuerKeyHash []byte
	SerialNumber  *big.Int
}

type ocspRequestASN1 struct {
	TBSRequest tbsRequestASN1
}

type tbsRequestASN1 struct {
	Version           int `asn1:"explicit,tag:0,default:0,optional"`
	RequestList       []singleRequestASN1
	RequestExtensions []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type singleRequestASN1 struct {
	ReqCert certIDASN1
}

type responseASN1 struct {
	Status   asn1.Enumerated
	Response responseBytesASN1 `asn1:"explicit,tag:0,optional"`
}

type responseBytesASN1 struct {
	ResponseType asn1.ObjectIdentifier
	Response     []byte
}

type basicResponseASN1 struct {
	TBSResponseData    responseDataASN1
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          asn1.BitString
	Certificates       []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type responseDataASN1 struct {
	Raw                asn1.RawContent
	Version            int `asn1:"optional,default:0,explicit,tag:0"`
	RawResponderID     asn1.RawValue
	ProducedAt         time.Time `asn1:"generalized"`
	Responses          []singleResponseASN1
	ResponseExtensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type singleResponseASN1 struct {
	CertID           certIDASN1
	CertStatus       asn1.RawValue
	ThisUpdate       time.Time        `asn1:"generalized"`
	NextUpdate       time.Time        `asn1:"generalized,explicit,tag:0,optional"`
	SingleExtensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type revokedInfoASN1 struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional,default:-1"`
}

// Object identifiers used by OCSP.
var (
	oidOCSPBasic   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

var certIDHashes = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{{oidSHA1, crypto.SHA1}, {oidSHA256, crypto.SHA256}, {oidSHA384, crypto.SHA384}, {oidSHA512, crypto.SHA512}}

func certIDHash(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, h := range certIDHashes {
		if h.oid.Equal(oid) {
			return h.hash
		}
	}
	return 0
}

func certIDHashOID(h crypto.Hash) asn1.ObjectIdentifier {
	for _, x := range certIDHashes {
		if x.hash == h {
			return x.oid
		}
	}
	return nil
}

// publicKeyBits returns the subjectPublicKey BIT STRING content of a certificate: what OCSP's
// issuerKeyHash and responder KeyHash are computed over.
func publicKeyBits(c *x509.Certificate) ([]byte, error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("parsing subjectPublicKeyInfo: %v", err)
	}
	return spki.PublicKey.RightAlign(), nil
}

// expectedCertID computes the CertID of cert under issuer with hash h.
func expectedCertID(cert, issuer *x509.Certificate, h crypto.Hash) (certIDASN1, error) {
	oid := certIDHashOID(h)
	if oid == nil || !h.Available() {
		return certIDASN1{}, fmt.Errorf("unsupported CertID hash %v", h)
	}
	keyBits, err := publicKeyBits(issuer)
	if err != nil {
		return certIDASN1{}, err
	}
	hh := h.New()
	hh.Write(issuer.RawSubject)
	nameHash := hh.Sum(nil)
	hh.Reset()
	hh.Write(keyBits)
	keyHash := hh.Sum(nil)
	return certIDASN1{
		HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue},
		NameHash:      nameHash,
		IssuerKeyHash: keyHash,
		SerialNumber:  cert.SerialNumber,
	}, nil
}

// NewNonce returns a random 32-byte nonce (RFC 8954 allows 1 to 32 octets; 32 is the recommended size).
func NewNonce() ([]byte, error) {
	n := make([]byte, 32)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("revocation: generating OCSP nonce: %w", err)
	}
	return n, nil
}

// CreateOCSPRequest builds a DER OCSPRequest for cert under issuer with CertID hash h (crypto.SHA1,
// what virtually all responders index by, when zero) and, when nonce is non-empty, the nonce
// extension (RFC 8954: extnValue is the DER OCTET STRING holding the nonce). x/crypto's
// ocsp.CreateRequest cannot add extensions, hence this function.
func CreateOCSPRequest(cert, issuer *x509.Certificate, h crypto.Hash, nonce []byte) ([]byte, error) {
	if cert == nil || issuer == nil || cert.SerialNumber == nil {
		return nil, errors.New("revocation: OCSP request needs the certificate and its issuer")
	}
	if h == 0 {
		h = crypto.SHA1
	}
	id, err := expectedCertID(cert, issuer, h)
	if err != nil {
		return nil, fmt.Errorf("revocation: OCSP request: %w", err)
	}
	tbs := tbsRequestASN1{RequestList: []singleRequestASN1{{ReqCert: id}}}
	if len(nonce) > 0 {
		val, err := asn1.Marshal(nonce)
		if err != nil {
			return nil, fmt.Errorf("revocation: OCSP nonce: %w", err)
		}
		tbs.RequestExtensions = []pkix.Extension{{Id: oidOCSPNonce, Value: val}}
	}
	der, err := asn1.Marshal(ocspRequestASN1{TBSRequest: tbs})
	if err != nil {
		return nil, fmt.Errorf("revocation: OCSP request: %w", err)
	}
	return der, nil
}

// NonceMode says what the client does with the OCSP nonce.
type NonceMode int

const (
	// NonceOptional (the default) sends a nonce, rejects a response carrying a different one and
	// accepts a response without one: many responders (RFC 5019 style, pre-signed) never echo it.
	NonceOptional NonceMode = iota
	// NonceRequired sends a nonce and rejects responses that do not echo it.
	NonceRequired
	// NonceOff sends no nonce (responses then stay cacheable by HTTP intermediaries).
	NonceOff
)

// Freshness bounds how old evidence may be at the validation time.
type Freshness struct {
	// MaxAge, when positive, rejects evidence whose thisUpdate is more than MaxAge before the
	// validation time, even if its nextUpdate has not passed. When the evidence has no nextUpdate,
	// MaxAge (or DefaultMaxAgeWithoutNextUpdate when MaxAge is zero) is the only bound.
	MaxAge time.Duration
	// Skew is the tolerated clock difference between us and the evidence issuer: DefaultSkew when
	// zero, none when negative.
	Skew time.Duration
}

func (f Freshness) skew() time.Duration {
	switch {
	case f.Skew == 0:
		return DefaultSkew
	case f.Skew < 0:
		return 0
	}
	return f.Skew
}

// DefaultMaxAgeWithoutNextUpdate bounds evidence that gives no nextUpdate when Freshness.MaxAge is
// zero. RFC 6960 §4.2.2.1: without nextUpdate, newer information is always available.
const DefaultMaxAgeWithoutNextUpdate = time.Hour

// DefaultSkew is the clock skew tolerated when Freshness.Skew is zero.
const DefaultSkew = 5 * time.Minute

// check returns a description of why evidence with these times is not fresh at now, or "".
func (f Freshness) check(now, thisUpdate, nextUpdate time.Time) string {
	skew := f.skew()
	switch {
	case thisUpdate.After(now.Add(skew)):
		return fmt.Sprintf("thisUpdate %s is in the future at %s", thisUpdate.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case !nextUpdate.IsZero() && nextUpdate.Before(thisUpdate):
		return "nextUpdate is before thisUpdate"
	case !nextUpdate.IsZero() && now.After(nextUpdate.Add(skew)):
		return fmt.Sprintf("nextUpdate %s has passed at %s", nextUpdate.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	maxAge := f.MaxAge
	if maxAge <= 0 && nextUpdate.IsZero() {
		maxAge = DefaultMaxAgeWithoutNextUpdate
	}
	if maxAge > 0 && now.Sub(thisUpdate) > maxAge+skew {
		return fmt.Sprintf("thisUpdate %s is older than %s at %s", thisUpdate.UTC().Format(time.RFC3339), maxAge, now.UTC().Format(time.RFC3339))
	}
	return ""
}

// OCSPVerifyOptions configures VerifyOCSP.
type OCSPVerifyOptions struct {
	// Now is the validation time the response must be fresh at (required).
	Now time.Time
	Freshness
	// Nonce is the nonce sent in the request, nil when none was sent or when verifying a stored
	// response. RequireNonce rejects a response that does not echo it.
	Nonce        []byte
	RequireNonce bool
	// URL is recorded in the evidence and in errors.
	URL string
	// SigCache, when set, remembers verified signatures (the response's, the delegated responder
	// certificate's), so the same response or responder verifies without a public-key operation.
	SigCache *sigcache.Cache
}

// parsedOCSP is a decoded response before any verification.
type parsedOCSP struct {
	tbs     responseDataASN1
	alg     x509.SignatureAlgorithm
	sig     []byte
	info    *OCSPInfo // ProducedAt, ResponderName/KeyHash, Certificates
	ridTag  int
	singles []parsedSingle
	nonce   []byte // responseExtensions nonce extnValue; nil when absent
}

type parsedSingle struct {
	raw       *singleResponseASN1
	status    Status
	revokedAt time.Time
	reason    int
}

// parseOCSP decodes a DER OCSPResponse. A non-successful response status is unavailable evidence;
// every other failure is malformed (invalid) evidence.
func parseOCSP(der []byte, url string) (*parsedOCSP, error) {
	bad := func(reason error, format string, args ...any) (*parsedOCSP, error) {
		return nil, invalid(MethodOCSP, url, reason, format, args...)
	}
	var resp responseASN1
	if rest, err := asn1.Unmarshal(der, &resp); err != nil {
		return bad(ErrMalformed, "%v", err)
	} else if len(rest) != 0 {
		return bad(ErrMalformed, "trailing data after OCSPResponse")
	}
	if st := ocsp.ResponseStatus(resp.Status); st != ocsp.Success {
		return nil, unavailable(MethodOCSP, url, ErrResponderStatus, "%s", st.String())
	}
	if !resp.Response.ResponseType.Equal(oidOCSPBasic) {
		return bad(ErrMalformed, "response type %v is not id-pkix-ocsp-basic", resp.Response.ResponseType)
	}
	var basic basicResponseASN1
	if rest, err := asn1.Unmarshal(resp.Response.Response, &basic); err != nil {
		return bad(ErrMalformed, "BasicOCSPResponse: %v", err)
	} else if len(rest) != 0 {
		return bad(ErrMalformed, "trailing data after BasicOCSPResponse")
	}
	p := &parsedOCSP{tbs: basic.TBSResponseData, sig: basic.Signature.RightAlign()}
	tbs := &p.tbs
	if tbs.Version != 0 {
		return bad(ErrMalformed, "unsupported version %d", tbs.Version)
	}
	if len(tbs.Responses) == 0 {
		return bad(ErrMalformed, "no single responses")
	}
	p.info = &OCSPInfo{ProducedAt: tbs.ProducedAt}
	for _, raw := range basic.Certificates {
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return bad(ErrMalformed, "embedded certificate: %v", err)
		}
		p.info.Certificates = append(p.info.Certificates, c)
	}
	if p.alg = signatureAlgorithm(basic.SignatureAlgorithm); p.alg == x509.UnknownSignatureAlgorithm {
		return bad(ErrBadSignature, "unsupported signature algorithm %v", basic.SignatureAlgorithm.Algorithm)
	}

	// Responder ID: byName [1] Name, byKey [2] KeyHash (OCTET STRING, SHA-1 of the key bits).
	rid := tbs.RawResponderID
	if rid.Class != asn1.ClassContextSpecific {
		return bad(ErrMalformed, "responder ID has class %d", rid.Class)
	}
	p.ridTag = rid.Tag
	switch rid.Tag {
	case 1:
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(rid.Bytes, &rdn); err != nil || len(rest) != 0 {
			return bad(ErrMalformed, "responder ID by name")
		}
		p.info.ResponderName = rid.Bytes
	case 2:
		if rest, err := asn1.Unmarshal(rid.Bytes, &p.info.ResponderKeyHash); err != nil || len(rest) != 0 {
			return bad(ErrMalformed, "responder ID by key")
		}
	default:
		return bad(ErrMalformed, "responder ID tag %d", rid.Tag)
	}

	for _, e := range tbs.ResponseExtensions {
		switch {
		case e.Id.Equal(oidOCSPNonce):
			p.nonce = e.Value
			if p.nonce == nil {
				p.nonce = []byte{}
			}
		case e.Critical:
			return bad(ErrUnsupported, "response extension %v", e.Id)
		}
	}

	for i := range tbs.Responses {
		r := &tbs.Responses[i]
		s := parsedSingle{raw: r, reason: NoReason}
		for _, e := range r.SingleExtensions {
			if e.Critical {
				return bad(ErrUnsupported, "single extension %v", e.Id)
			}
		}
		st := r.CertStatus
		if st.Class != asn1.ClassContextSpecific {
			return bad(ErrMalformed, "certStatus class %d", st.Class)
		}
		switch st.Tag {
		case 0:
			if len(st.Bytes) != 0 || st.IsCompound {
				return bad(ErrMalformed, "certStatus good is not NULL")
			}
			s.status = StatusGood
		case 1:
			var ri revokedInfoASN1
			if rest, err := asn1.UnmarshalWithParams(st.FullBytes, &ri, "tag:1"); err != nil || len(rest) != 0 {
				return bad(ErrMalformed, "revokedInfo: %v", err)
			}
			s.status = StatusRevoked
			s.revokedAt = ri.RevocationTime
			s.reason = int(ri.Reason)
		case 2:
			if len(st.Bytes) != 0 || st.IsCompound {
				return bad(ErrMalformed, "certStatus unknown is not NULL")
			}
			s.status = StatusUnknown
		default:
			return bad(ErrMalformed, "certStatus tag %d", st.Tag)
		}
		p.singles = append(p.singles, s)
	}
	return p, nil
}

// VerifyOCSP parses and verifies a DER OCSPResponse about cert, issued by issuer: the response
// status, the signature by the issuer or its authorized responder (RFC 6960 §4.2.2.2), the CertID
// (issuer name hash, issuer key hash, serial), the nonce, critical extensions and freshness at
// opts.Now. It never panics on any input.
func VerifyOCSP(der []byte, cert, issuer *x509.Certificate, opts OCSPVerifyOptions) (*Evidence, error) {
	url := opts.URL
	bad := func(reason error, format string, args ...any) (*Evidence, error) {
		return nil, invalid(MethodOCSP, url, reason, format, args...)
	}
	if cert == nil || issuer == nil || cert.SerialNumber == nil {
		return bad(ErrMalformed, "certificate or issuer missing")
	}
	p, err := parseOCSP(der, url)
	if err != nil {
		return nil, err
	}
	info := p.info
	info.NonceSent = opts.Nonce

	// Who signed: the issuer itself, or a delegated responder it certified. The responder ID names
	// the signer; the signature must verify with that signer's key; a delegated signer must be
	// authorized. Anything else is an unauthorized responder.
	var signer *x509.Certificate
	if responderIs(p.ridTag, info, issuer) {
		signer = issuer
		info.CASigned = true
	} else {
		for _, c := range info.Certificates {
			if responderIs(p.ridTag, info, c) {
				signer = c
				break
			}
		}
	}
	if signer == nil {
		return bad(ErrUnauthorizedResponder, "the responder ID names neither the issuer nor an embedded certificate")
	}
	if err := opts.SigCache.CheckSignature(signer, p.alg, p.tbs.Raw, p.sig); err != nil {
		return bad(ErrBadSignature, "%v", err)
	}
	if !info.CASigned {
		if bytes.Equal(signer.Raw, issuer.Raw) {
			info.CASigned = true
		} else if reason := authorizeResponder(signer, issuer, info.ProducedAt, opts.skew(), opts.SigCache); reason != "" {
			return bad(ErrUnauthorizedResponder, "%s", reason)
		} else {
			info.NoCheck = hasExtension(signer.Extensions, oidOCSPNoCheck)
		}
	}
	info.Signer = signer

	// The single response about our certificate, matched on the whole CertID under its own hash.
	var single *parsedSingle
	for i := range p.singles {
		id := p.singles[i].raw.CertID
		h := certIDHash(id.HashAlgorithm.Algorithm)
		if h == 0 || !h.Available() {
			continue
		}
		want, err := expectedCertID(cert, issuer, h)
		if err != nil {
			return bad(ErrMalformed, "%v", err)
		}
		if id.SerialNumber != nil && id.SerialNumber.Cmp(want.SerialNumber) == 0 &&
			bytes.Equal(id.NameHash, want.NameHash) && bytes.Equal(id.IssuerKeyHash, want.IssuerKeyHash) {
			single = &p.singles[i]
			break
		}
	}
	if single == nil {
		return bad(ErrCertIDMismatch, "serial %s", cert.SerialNumber.Text(16))
	}

	// Nonce (RFC 8954). Some responders put the raw nonce in extnValue instead of the DER OCTET
	// STRING; both forms of our nonce are accepted, anything else is a mismatch.
	if len(opts.Nonce) > 0 {
		switch {
		case p.nonce == nil && opts.RequireNonce:
			return bad(ErrNonceMismatch, "the response carries no nonce")
		case p.nonce != nil:
			wrapped, _ := asn1.Marshal(opts.Nonce)
			if !bytes.Equal(p.nonce, wrapped) && !bytes.Equal(p.nonce, opts.Nonce) {
				return bad(ErrNonceMismatch, "the response carries a different nonce")
			}
			info.NonceEchoed = true
		}
	}

	if opts.Now.IsZero() {
		return bad(ErrStale, "no validation time given")
	}
	if info.ProducedAt.After(opts.Now.Add(opts.skew())) {
		return bad(ErrStale, "producedAt %s is in the future", info.ProducedAt.UTC().Format(time.RFC3339))
	}
	if why := opts.Freshness.check(opts.Now, single.raw.ThisUpdate, single.raw.NextUpdate); why != "" {
		return bad(ErrStale, "%s", why)
	}
	info.ThisUpdate = single.raw.ThisUpdate
	info.NextUpdate = single.raw.NextUpdate
	return &Evidence{Method: MethodOCSP, Status: single.status, RevocationTime: single.revokedAt, RevocationReason: single.reason,
		Serial: cert.SerialNumber, URL: url, Raw: der, OCSP: info}, nil
}

// responderIs reports whether the responder ID in info names c.
func responderIs(tag int, info *OCSPInfo, c *x509.Certificate) bool {
	if tag == 1 {
		return bytes.Equal(info.ResponderName, c.RawSubject)
	}
	bits, err := publicKeyBits(c)
	if err != nil {
		return false
	}
	sum := sha1.Sum(bits)
	return bytes.Equal(info.ResponderKeyHash, sum[:])
}

// authorizeResponder applies RFC 6960 §4.2.2.2 to a delegated responder certificate: issued directly
// by the CA that issued the certificate in question, carrying id-kp-OCSPSigning, valid when the
// response was produced. It returns why not, or "".
func authorizeResponder(r, issuer *x509.Certificate, producedAt time.Time, skew time.Duration, sc *sigcache.Cache) string {
	if !bytes.Equal(r.RawIssuer, issuer.RawSubject) {
		return fmt.Sprintf("responder certificate %q is not issued by %q", r.Subject, issuer.Subject)
	}
	if err := sc.CheckSignatureFrom(r, issuer); err != nil {
		return fmt.Sprintf("responder certificate %q is not signed by the issuer: %v", r.Subject, err)
	}
	ok := false
	for _, u := range r.ExtKeyUsage {
		if u == x509.ExtKeyUsageOCSPSigning {
			ok = true
		}
	}
	if !ok {
		return fmt.Sprintf("responder certificate %q lacks EKU OCSPSigning", r.Subject)
	}
	if producedAt.Before(r.NotBefore.Add(-skew)) || producedAt.After(r.NotAfter.Add(skew)) {
		return fmt.Sprintf("responder certificate %q is not valid at producedAt %s", r.Subject, producedAt.UTC().Format(time.RFC3339))
	}
	return ""
}

func hasExtension(exts []pkix.Extension, oid asn1.ObjectIdentifier) bool {
	for _, e := range exts {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

// Signature algorithm identifiers of responses (RFC 4055, RFC 5758, RFC 8410).
var (
	oidSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// signatureAlgorithm maps an AlgorithmIdentifier to crypto/x509's constant. SHA-1 algorithms are
// mapped so that x509's CheckSignature reports them as insecure instead of "unknown".
func signatureAlgorithm(ai pkix.AlgorithmIdentifier) x509.SignatureAlgorithm {
	switch o := ai.Algorithm; {
	case o.Equal(oidSHA256WithRSA):
		return x509.SHA256WithRSA
	case o.Equal(oidSHA384WithRSA):
		return x509.SHA384WithRSA
	case o.Equal(oidSHA512WithRSA):
		return x509.SHA512WithRSA
	case o.Equal(oidSHA1WithRSA):
		return x509.SHA1WithRSA
	case o.Equal(oidECDSAWithSHA256):
		return x509.ECDSAWithSHA256
	case o.Equal(oidECDSAWithSHA384):
		return x509.ECDSAWithSHA384
	case o.Equal(oidECDSAWithSHA512):
		return x509.ECDSAWithSHA512
	case o.Equal(oidECDSAWithSHA1):
		return x509.ECDSAWithSHA1
	case o.Equal(oidEd25519):
		return x509.PureEd25519
	case o.Equal(oidRSAPSS):
		var params struct {
			Hash pkix.AlgorithmIdentifier `asn1:"explicit,tag:0"`
		}
		if _, err := asn1.Unmarshal(ai.Parameters.FullBytes, &params); err != nil {
			return x509.UnknownSignatureAlgorithm
		}
		switch h := params.Hash.Algorithm; {
		case h.Equal(oidSHA256):
			return x509.SHA256WithRSAPSS
		case h.Equal(oidSHA384):
			return x509.SHA384WithRSAPSS
		case h.Equal(oidSHA512):
			return x509.SHA512WithRSAPSS
		}
	}
	return x509.UnknownSignatureAlgorithm
}
