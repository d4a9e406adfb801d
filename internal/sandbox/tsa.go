package sandbox

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// Media types of RFC 3161 §3.4.
const (
	ContentTypeTSQuery = "application/timestamp-query"
	ContentTypeTSReply = "application/timestamp-reply"
)

var (
	oidTSTInfo              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
)

// tsReq is RFC 3161 TimeStampReq, decoded here (besides timestamp.ParseRequest)
// to keep the raw MessageImprint — the token must repeat it byte for byte —
// and to see the criticality of request extensions.
type tsReq struct {
	Version        int
	MessageImprint asn1.RawValue
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional,default:false"`
	Extensions     []pkix.Extension      `asn1:"optional,tag:0"`
}

type tsAccuracy struct {
	Seconds int64 `asn1:"optional"`
	Millis  int64 `asn1:"optional,tag:0"`
	Micros  int64 `asn1:"optional,tag:1"`
}

// tstInfo is RFC 3161 TSTInfo. It is built here rather than by
// timestamp.CreateResponseWithOpts because that function draws a random
// serial number and ignores the caller's; the sandbox TSA issues increasing
// serials, as the brief of a real TSA's audit log expects.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint asn1.RawValue
	SerialNumber   *big.Int
	GenTime        time.Time        `asn1:"generalized"`
	Accuracy       tsAccuracy       `asn1:"optional"`
	Ordering       bool             `asn1:"optional,default:false"`
	Nonce          *big.Int         `asn1:"optional"`
	TSA            asn1.RawValue    `asn1:"optional"`
	Extensions     []pkix.Extension `asn1:"optional,tag:1"`
}

type pkiStatusInfo struct {
	Status       int
	StatusString []asn1.RawValue `asn1:"optional"`
	FailInfo     asn1.BitString  `asn1:"optional"`
}

type tsResp struct {
	Status pkiStatusInfo
	Token  asn1.RawValue `asn1:"optional"`
}

// tsaError is a refusal of a time-stamp request: RFC 3161 failure info,
// a text for the statusString, and the HTTP status to send it with.
type tsaError struct {
	fail timestamp.FailureInfo
	text string
	http int
}

func (e *tsaError) Error() string { return "tsa: " + e.text }

// tsaErrorResponse encodes a rejection TimeStampResp.
func tsaErrorResponse(fail timestamp.FailureInfo, text string) []byte {
	st := pkiStatusInfo{Status: int(timestamp.Rejection)}
	if text != "" {
		if s, err := asn1.MarshalWithParams(text, "utf8"); err == nil {
			st.StatusString = []asn1.RawValue{{FullBytes: s}}
		}
	}
	if fail >= 0 {
		n := int(fail)
		b := make([]byte, n/8+1)
		b[n/8] = 0x80 >> (n % 8)
		st.FailInfo = asn1.BitString{Bytes: b, BitLength: n + 1}
	}
	der, err := asn1.Marshal(tsResp{Status: st})
	if err != nil {
		// Cannot happen with these types; fall back to the library's encoder.
		der, _ = timestamp.CreateErrorResponse(timestamp.Rejection, fail)
	}
	return der
}

// acceptedTSAHashes are the imprint hashes the sandbox TSA stamps; SHA-1 is
// refused (badAlg) as SPEC §2 accepts SHA-256/384/512 only.
var acceptedTSAHashes = map[crypto.Hash]bool{crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true}

// stamp answers one DER TimeStampReq.
func (s *server) stamp(der []byte, now time.Time) ([]byte, *tsaError) {
	req, err := timestamp.ParseRequest(der)
	if err != nil {
		// The library reports an unknown imprint hash as a parse error;
		// tell the client it is the algorithm when the structure is fine.
		var raw tsReq
		if rest, err2 := asn1.Unmarshal(der, &raw); err2 == nil && len(rest) == 0 && raw.Version == 1 {
			var mi struct {
				Alg    pkix.AlgorithmIdentifier
				Hashed []byte
			}
			if r2, err3 := asn1.Unmarshal(raw.MessageImprint.FullBytes, &mi); err3 == nil && len(r2) == 0 && len(mi.Hashed) > 0 {
				return nil, &tsaError{timestamp.BadAlgorithm, "unsupported hash algorithm " + mi.Alg.Algorithm.String(), 200}
			}
		}
		return nil, &tsaError{timestamp.BadDataFormat, "malformed TimeStampReq: " + err.Error(), 400}
	}
	var raw tsReq
	if rest, err := asn1.Unmarshal(der, &raw); err != nil || len(rest) != 0 {
		return nil, &tsaError{timestamp.BadDataFormat, "malformed TimeStampReq", 400}
	}
	if raw.Version != 1 {
		return nil, &tsaError{timestamp.BadRequest, fmt.Sprintf("unsupported TimeStampReq version %d", raw.Version), 200}
	}
	if !acceptedTSAHashes[req.HashAlgorithm] {
		return nil, &tsaError{timestamp.BadAlgorithm, "hash algorithm not accepted: " + req.HashAlgorithm.String(), 200}
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return nil, &tsaError{timestamp.BadDataFormat, "hashed message length does not match the hash algorithm", 200}
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(OIDSandboxTSAPolicy) {
		return nil, &tsaError{timestamp.UnacceptedPolicy, "policy " + req.TSAPolicyOID.String() + " not offered; the sandbox TSA policy is " + OIDSandboxTSAPolicy.String(), 200}
	}
	for _, ext := range raw.Extensions {
		if ext.Critical {
			return nil, &tsaError{timestamp.UnacceptedExtension, "critical extension " + ext.Id.String() + " not supported", 200}
		}
	}
	if req.Nonce != nil && (req.Nonce.Sign() < 0 || req.Nonce.BitLen() > 512) {
		return nil, &tsaError{timestamp.BadDataFormat, "nonce must be a non-negative integer of at most 512 bits", 200}
	}

	token, err := s.tsaToken(raw.MessageImprint.FullBytes, req.Nonce, raw.CertReq, now)
	if err != nil {
		s.log.Error("tsa: signing failed", "err", err)
		return nil, &tsaError{timestamp.SystemFailure, "internal error", 500}
	}
	resp, err := asn1.Marshal(tsResp{Status: pkiStatusInfo{Status: int(timestamp.Granted)}, Token: asn1.RawValue{FullBytes: token}})
	if err != nil {
		return nil, &tsaError{timestamp.SystemFailure, "internal error", 500}
	}
	return resp, nil
}

// tsaToken builds and signs the TimeStampToken (CMS SignedData over TSTInfo).
func (s *server) tsaToken(imprint []byte, nonce *big.Int, certReq bool, now time.Time) ([]byte, error) {
	unit := s.tsa
	gen := now.UTC().Truncate(time.Second)
	acc := s.opts.TSAAccuracy
	info := tstInfo{
		Version:        1,
		Policy:         OIDSandboxTSAPolicy,
		MessageImprint: asn1.RawValue{FullBytes: imprint},
		SerialNumber:   s.seq.next(),
		GenTime:        gen,
		Accuracy: tsAccuracy{
			Seconds: int64(acc / time.Second),
			Millis:  int64(acc % time.Second / time.Millisecond),
			Micros:  int64(acc % time.Millisecond / time.Microsecond),
		},
		Nonce: nonce,
	}
	name, err := directoryName(unit.Cert.RawSubject)
	if err != nil {
		return nil, err
	}
	tsaField, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: name})
	if err != nil {
		return nil, err
	}
	info.TSA = asn1.RawValue{FullBytes: tsaField}
	infoDER, err := asn1.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encoding TSTInfo: %w", err)
	}

	sd, err := pkcs7.NewSignedData(infoDER)
	if err != nil {
		return nil, err
	}
	digest := pkcs7.OIDDigestAlgorithmSHA256
	if k, ok := unit.Key.Public().(*ecdsa.PublicKey); ok && k.Curve == elliptic.P384() {
		digest = pkcs7.OIDDigestAlgorithmSHA384
	}
	sd.SetDigestAlgorithm(digest)
	sd.SetContentType(oidTSTInfo)
	sd.GetSignedData().Version = 3
	essAttr, err := signingCertificateV2(unit.Cert)
	if err != nil {
		return nil, err
	}
	cfg := pkcs7.SignerInfoConfig{
		ExtraSignedAttributes: []pkcs7.Attribute{
			{Type: oidSigningCertificateV2, Value: asn1.RawValue{FullBytes: essAttr}},
			{Type: pkcs7.OIDAttributeSigningTime, Value: gen},
		},
		SkipCertificates: !certReq,
	}
	if err := sd.AddSigner(unit.Cert, s.tsaKey, cfg); err != nil {
		return nil, err
	}
	// The chain below the root goes into the token when certReq is set, so a verifier that trusts only
	// the root can build the path (the server checked the chain once when it started).
	if certReq {
		for _, c := range tsaParents(unit) {
			sd.AddCertificate(c)
		}
	}
	return sd.Finish()
}

// tsaParents is the TSA unit's chain above its own certificate, without the self-signed root.
func tsaParents(unit *Entity) []*x509.Certificate {
	var parents []*x509.Certificate
	for _, c := range unit.Chain {
		if string(c.RawSubject) != string(c.RawIssuer) {
			parents = append(parents, c)
		}
	}
	return parents
}

// directoryName encodes a GeneralName directoryName ([4] EXPLICIT Name).
func directoryName(rawName []byte) ([]byte, error) {
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: rawName})
}

// signingCertificateV2 encodes the ESS SigningCertificateV2 attribute value
// (RFC 5035) for cert with SHA-256 (the default hashAlgorithm, so omitted)
// and issuerSerial, which RFC 3161 verifiers such as OpenSSL check.
func signingCertificateV2(cert *x509.Certificate) ([]byte, error) {
	dn, err := directoryName(cert.RawIssuer)
	if err != nil {
		return nil, err
	}
	type issuerSerial struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	type essCertIDv2 struct {
		CertHash     []byte
		IssuerSerial issuerSerial
	}
	sum := sha256.Sum256(cert.Raw)
	v := struct{ Certs []essCertIDv2 }{[]essCertIDv2{{
		CertHash: sum[:],
		IssuerSerial: issuerSerial{
			Issuer: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: dn},
			Serial: cert.SerialNumber,
		},
	}}}
	der, err := asn1.Marshal(v)
	if err != nil {
		return nil, errors.New("encoding SigningCertificateV2")
	}
	return der, nil
}
