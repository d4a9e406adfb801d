package sandbox

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Media types of RFC 6960 appendix A.
const (
	ContentTypeOCSPRequest  = "application/ocsp-request"
	ContentTypeOCSPResponse = "application/ocsp-response"
)

var (
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// ocspRequest is RFC 6960 OCSPRequest, decoded here in addition to
// ocsp.ParseRequest because that function drops the request extensions (the
// nonce) and the raw CertID, both of which the response must echo.
type ocspRequest struct {
	TBS       ocspTBSRequest
	Signature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type ocspTBSRequest struct {
	Version       int              `asn1:"explicit,tag:0,default:0,optional"`
	RequestorName asn1.RawValue    `asn1:"explicit,tag:1,optional"`
	RequestList   []ocspOneRequest // SEQUENCE OF Request
	Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type ocspOneRequest struct {
	CertID     asn1.RawValue
	Extensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

// The response side is encoded here rather than with ocsp.CreateResponse:
// that function stamps producedAt with the real clock truncated to the
// minute (the sandbox needs second precision and a shiftable clock for
// grace-period tests), puts extensions only into singleExtensions (the nonce
// belongs in responseExtensions) and cannot echo a CertID of an issuer it
// does not hold.
type ocspResponseASN1 struct {
	Status   asn1.Enumerated
	Response ocspResponseBytes `asn1:"explicit,tag:0,optional"`
}

type ocspResponseBytes struct {
	Type     asn1.ObjectIdentifier
	Response []byte
}

type ocspBasicResponse struct {
	TBS          asn1.RawValue
	SignatureAlg pkix.AlgorithmIdentifier
	Signature    asn1.BitString
	Certs        []asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type ocspResponseData struct {
	ResponderID asn1.RawValue // [1] EXPLICIT Name
	ProducedAt  time.Time     `asn1:"generalized"`
	Responses   []ocspSingleResponse
	Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

type ocspSingleResponse struct {
	CertID     asn1.RawValue
	Good       asn1.Flag       `asn1:"tag:0,optional"`
	Revoked    ocspRevokedInfo `asn1:"tag:1,optional"`
	Unknown    asn1.Flag       `asn1:"tag:2,optional"`
	ThisUpdate time.Time       `asn1:"generalized"`
	NextUpdate time.Time       `asn1:"generalized,explicit,tag:0,optional"`
}

type ocspRevokedInfo struct {
	RevocationTime time.Time       `asn1:"generalized"`
	Reason         asn1.Enumerated `asn1:"explicit,tag:0,optional"`
}

// ocspError is an OCSP refusal: the responseStatus and the HTTP status.
type ocspError struct {
	status ocsp.ResponseStatus
	text   string
	http   int
}

func (e *ocspError) Error() string { return "ocsp: " + e.text }

// ocspErrorResponse encodes an OCSPResponse without responseBytes.
func ocspErrorResponse(st ocsp.ResponseStatus) []byte {
	der, err := asn1.Marshal(struct{ Status asn1.Enumerated }{asn1.Enumerated(st)})
	if err != nil {
		return nil
	}
	return der
}

// ocspAnswer is what the responder decided for one request.
type ocspAnswer struct {
	status     int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
	revokedAt  time.Time
	reason     int
	ca         *caInfo // nil for an unknown issuer
	entityName string
}

// respond answers one DER OCSPRequest.
func (s *server) respond(der []byte, now time.Time) ([]byte, *ocspAnswer, *ocspError) {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return nil, nil, &ocspError{ocsp.Malformed, "malformed request: " + err.Error(), 400}
	}
	var raw ocspRequest
	if rest, err := asn1.Unmarshal(der, &raw); err != nil || len(rest) != 0 {
		return nil, nil, &ocspError{ocsp.Malformed, "malformed request", 400}
	}
	if len(raw.TBS.RequestList) != 1 {
		// golang.org/x/crypto/ocsp reads only the first CertID; answering it
		// alone would silently drop the others.
		return nil, nil, &ocspError{ocsp.Malformed, fmt.Sprintf("%d certificates in one request; the sandbox answers exactly one", len(raw.TBS.RequestList)), 400}
	}
	var nonce *pkix.Extension
	for i, ext := range raw.TBS.Extensions {
		if ext.Id.Equal(oidOCSPNonce) {
			// RFC 8954: the nonce is 1..32 octets; refuse absurd ones.
			if len(ext.Value) > 64 {
				return nil, nil, &ocspError{ocsp.Malformed, "nonce too long", 400}
			}
			nonce = &raw.TBS.Extensions[i]
		}
	}

	ans := &ocspAnswer{status: ocsp.Unknown}
	for _, ca := range s.cas {
		if ca.matches(req) {
			ans.ca = ca
			break
		}
	}
	if ans.ca != nil {
		if e := ans.ca.issued[serialKey(req.SerialNumber)]; e != nil {
			ans.status, ans.entityName = ocsp.Good, e.Name
			revs, err := s.revocations()
			if err != nil {
				s.log.Error("ocsp: reading revocations", "err", err)
				return nil, nil, &ocspError{ocsp.InternalError, "revocation data unavailable", 500}
			}
			if r, ok := revs[e.Name]; ok && !r.RevokedAt.After(now) {
				ans.status, ans.revokedAt, ans.reason = ocsp.Revoked, r.RevokedAt, r.Reason
			}
		}
	}

	// Who signs: the delegated responder of the CA if it has one and the
	// server is not in CA-signed mode, else the CA itself. A request for an
	// unknown issuer is answered "unknown" (RFC 6960 §2.2) by the qualified
	// CA's signer, the sandbox's default responder.
	signerCA := ans.ca
	if signerCA == nil {
		signerCA = s.defaultCA
	}
	signer, signerCert, includeCert := signerCA.entity.Key, signerCA.entity.Cert, false
	if signerCA.responder != nil && !s.opts.OCSPSignedByCA {
		signer, signerCert, includeCert = signerCA.responder.Key, signerCA.responder.Cert, true
	}

	now = now.UTC().Truncate(time.Second)
	single := ocspSingleResponse{
		CertID:     asn1.RawValue{FullBytes: raw.TBS.RequestList[0].CertID.FullBytes},
		ThisUpdate: now,
		NextUpdate: now.Add(s.opts.OCSPValidity),
	}
	switch ans.status {
	case ocsp.Good:
		single.Good = true
	case ocsp.Revoked:
		single.Revoked = ocspRevokedInfo{RevocationTime: ans.revokedAt.UTC(), Reason: asn1.Enumerated(ans.reason)}
	default:
		single.Unknown = true
	}
	var exts []pkix.Extension
	if nonce != nil {
		exts = append(exts, pkix.Extension{Id: oidOCSPNonce, Value: nonce.Value})
	}
	out, err := signOCSP(single, exts, now, signer, signerCert, includeCert)
	if err != nil {
		s.log.Error("ocsp: signing failed", "err", err)
		return nil, nil, &ocspError{ocsp.InternalError, "internal error", 500}
	}
	return out, ans, nil
}

// signOCSP encodes and signs a BasicOCSPResponse with one SingleResponse
// and wraps it in a successful OCSPResponse. The responder is identified by
// name. A revocation reason of unspecified (0) is left out, as RFC 5280
// §5.3.1 asks for CRL entries.
func signOCSP(single ocspSingleResponse, exts []pkix.Extension, producedAt time.Time, key crypto.Signer, cert *x509.Certificate, includeCert bool) ([]byte, error) {
	rid, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: cert.RawSubject})
	if err != nil {
		return nil, err
	}
	tbs, err := asn1.Marshal(ocspResponseData{
		ResponderID: asn1.RawValue{FullBytes: rid},
		ProducedAt:  producedAt,
		Responses:   []ocspSingleResponse{single},
		Extensions:  exts,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding ResponseData: %w", err)
	}
	hash, algID, err := signatureAlgorithm(key.Public())
	if err != nil {
		return nil, err
	}
	h := hash.New()
	h.Write(tbs)
	sig, err := key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		return nil, err
	}
	basic := ocspBasicResponse{
		TBS:          asn1.RawValue{FullBytes: tbs},
		SignatureAlg: algID,
		Signature:    asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	}
	if includeCert {
		basic.Certs = []asn1.RawValue{{FullBytes: cert.Raw}}
	}
	basicDER, err := asn1.Marshal(basic)
	if err != nil {
		return nil, fmt.Errorf("encoding BasicOCSPResponse: %w", err)
	}
	return asn1.Marshal(ocspResponseASN1{
		Status:   asn1.Enumerated(ocsp.Success),
		Response: ocspResponseBytes{Type: oidOCSPBasic, Response: basicDER},
	})
}

// signatureAlgorithm picks the hash and AlgorithmIdentifier for signing
// with pub: SHA-256 with RSA (PKCS#1 v1.5) and P-256, SHA-384 with P-384.
func signatureAlgorithm(pub crypto.PublicKey) (crypto.Hash, pkix.AlgorithmIdentifier, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return crypto.SHA256, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, Parameters: asn1.NullRawValue}, nil
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return crypto.SHA256, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, nil
		case elliptic.P384():
			return crypto.SHA384, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}}, nil
		}
	}
	return 0, pkix.AlgorithmIdentifier{}, errors.New("unsupported signing key")
}

// caInfo is what the OCSP responder knows about one CA.
type caInfo struct {
	entity    *Entity
	keyBits   []byte             // subjectPublicKey content, for issuerKeyHash
	responder *Entity            // delegated responder, or nil
	issued    map[string]*Entity // serial bytes -> entity issued by this CA
}

// matches reports whether req's issuerNameHash and issuerKeyHash identify ca.
func (ca *caInfo) matches(req *ocsp.Request) bool {
	if !req.HashAlgorithm.Available() {
		return false
	}
	h := req.HashAlgorithm.New()
	h.Write(ca.entity.Cert.RawSubject)
	if !bytes.Equal(h.Sum(nil), req.IssuerNameHash) {
		return false
	}
	h.Reset()
	h.Write(ca.keyBits)
	return bytes.Equal(h.Sum(nil), req.IssuerKeyHash)
}

// serialKey is the map key for a serial number.
func serialKey(n *big.Int) string { return string(n.Bytes()) }
