package tsp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// MaxTokenSize bounds the DER size of a TimeStampToken this package parses.
// Real tokens with a full chain are a few KiB.
const MaxTokenSize = 256 << 10

// Token is an RFC 3161 TimeStampToken whose structure, CMS signature,
// signing-certificate binding and TSA key usage have been checked. Whether
// the imprint matches and the TSA is trusted depends on how it was obtained:
// see Client.Stamp, Verifier.Verify and ParseToken.
type Token struct {
	// DER is the TimeStampToken (a CMS ContentInfo of SignedData) exactly as
	// the TSA produced it; it is what XAdES EncapsulatedTimeStamp carries.
	DER []byte

	GenTime       time.Time     // TSTInfo genTime (UTC)
	Accuracy      time.Duration // TSTInfo accuracy; 0 if absent
	SerialNumber  *big.Int      // TSTInfo serialNumber
	Policy        asn1.ObjectIdentifier
	HashAlgorithm crypto.Hash // message imprint hash algorithm
	HashedMessage []byte      // message imprint value
	Nonce         *big.Int    // nil if absent
	Ordering      bool

	// TSA is the certificate that signed the token. Certificates are all
	// certificates embedded in the token (TSA included, if embedded).
	TSA          *x509.Certificate
	Certificates []*x509.Certificate

	// TSTInfo is the DER of the signed TSTInfo.
	TSTInfo []byte
}

// intermediates returns the certificates, other than the TSA's, that came
// with the token or were supplied as extra certificates: the candidates for
// building the TSA's chain.
func (t *Token) intermediates(extra []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	seen := func(c *x509.Certificate) bool {
		if c.Equal(t.TSA) {
			return true
		}
		for _, o := range out {
			if o.Equal(c) {
				return true
			}
		}
		return false
	}
	for _, c := range append(append([]*x509.Certificate(nil), t.Certificates...), extra...) {
		if !seen(c) {
			out = append(out, c)
		}
	}
	return out
}

// ParseToken parses a DER TimeStampToken and checks everything that needs no
// outside knowledge. It returns a Token only if all hold:
//   - the DER is a ContentInfo of SignedData with eContentType id-ct-TSTInfo,
//     exactly one SignerInfo with signed attributes, and no trailing data;
//   - the content-type attribute is id-ct-TSTInfo and the message-digest
//     attribute equals the hash of the TSTInfo;
//   - the signer's certificate is embedded in the token or among extra;
//   - the signature over the signed attributes verifies with an accepted
//     algorithm (SHA-256/384/512; RSA ≥ 2048 PKCS#1 v1.5 or PSS, ECDSA
//     P-256/384/521);
//   - a SigningCertificate or SigningCertificateV2 attribute identifies that
//     certificate (hash, and issuer/serial when present), and the TSTInfo tsa
//     name, when a directory name, is its subject;
//   - the certificate's extended key usage is critical and only
//     id-kp-timeStamping (RFC 3161 §2.3);
//   - the TSTInfo is version 1 with an accepted imprint hash, a policy, a
//     serial number, in-range accuracy and no critical extensions.
//
// ParseToken does NOT check the imprint against any data nor whether the
// TSA is trusted: use Verifier.Verify for that.
func ParseToken(der []byte, extra ...*x509.Certificate) (*Token, error) {
	return parseToken(der, nil, extra)
}

// CertificateParser parses the concatenated DER certificates of a token's CertificateSet. It must
// return what x509.ParseCertificates returns; a long-running verifier passes a cache
// (sigcache.Cache.ParseCertificates): a TSA sends the same certificates with every token.
type CertificateParser func(der []byte) ([]*x509.Certificate, error)

func parseToken(der []byte, parse CertificateParser, extra []*x509.Certificate) (*Token, error) {
	d, err := decodeToken(der)
	if err != nil {
		return nil, err
	}
	return d.verify(extra, parse)
}

// decodedToken is a token whose structure has been decoded and checked, but
// none of whose cryptography has been.
type decodedToken struct {
	der        []byte
	content    []byte // DER TSTInfo
	rawCerts   []byte // CertificateSet contents; parsed by verify
	si         signerInfo
	info       *tstInfo
	attrs      signedAttrs
	digestHash crypto.Hash
}

// decodeToken does the structural half of ParseToken: no hashing, no
// signature, no certificate matching.
func decodeToken(der []byte) (*decodedToken, error) {
	if len(der) > MaxTokenSize {
		return nil, errorf(ErrTooLarge, "token of %d bytes exceeds %d", len(der), MaxTokenSize)
	}
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("%w: content info: %w", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return nil, errorf(ErrMalformed, "trailing data after the token")
	}
	if ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 || !ci.Content.IsCompound {
		return nil, errorf(ErrMalformed, "content is not [0] constructed")
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, errorf(ErrMalformed, "content type %v is not signedData", ci.ContentType)
	}
	var sd signedData
	rest, err = asn1.Unmarshal(ci.Content.Bytes, &sd)
	if err != nil {
		return nil, fmt.Errorf("%w: signed data: %w", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return nil, errorf(ErrMalformed, "trailing data after signed data")
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidTSTInfo) {
		return nil, errorf(ErrMalformed, "encapsulated content type %v is not id-ct-TSTInfo", sd.EncapContentInfo.EContentType)
	}
	// encoding/asn1 hands an explicitly tagged RawValue over with its [0]
	// wrapper: unwrap it to the OCTET STRING.
	wrapped := sd.EncapContentInfo.EContent
	var ec asn1.RawValue
	if wrapped.Class != asn1.ClassContextSpecific || wrapped.Tag != 0 || !wrapped.IsCompound {
		return nil, errorf(ErrMalformed, "no encapsulated TSTInfo")
	}
	if rest, err := asn1.Unmarshal(wrapped.Bytes, &ec); err != nil || len(rest) > 0 {
		return nil, errorf(ErrMalformed, "encapsulated content is not one DER value")
	}
	if ec.Class != asn1.ClassUniversal || ec.Tag != asn1.TagOctetString || ec.IsCompound || len(ec.Bytes) == 0 {
		return nil, errorf(ErrMalformed, "TSTInfo is not a primitive OCTET STRING")
	}
	content := ec.Bytes
	if len(sd.SignerInfos) != 1 {
		return nil, errorf(ErrMalformed, "%d signer infos, RFC 3161 requires exactly one", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]

	if len(sd.Certificates.FullBytes) > 0 && !sd.Certificates.IsCompound {
		return nil, errorf(ErrMalformed, "certificates field is not constructed")
	}

	info, err := parseTSTInfo(content)
	if err != nil {
		return nil, err
	}
	attrs, err := parseSignedAttrs(si.SignedAttrs)
	if err != nil {
		return nil, err
	}

	// Signed attributes: content type and message digest (RFC 5652 §11).
	ct, err := attrs.single(oidAttrContentType)
	if err != nil {
		return nil, err
	}
	var ctOID asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(ct, &ctOID); err != nil || len(rest) > 0 {
		return nil, errorf(ErrMalformed, "content-type attribute is not an OID")
	}
	if !ctOID.Equal(oidTSTInfo) {
		return nil, errorf(ErrMalformed, "content-type attribute %v is not id-ct-TSTInfo", ctOID)
	}

	digestHash, ok := hashFromOID(si.DigestAlgorithm.Algorithm)
	if !ok || !paramsAbsentOrNull(si.DigestAlgorithm.Parameters) {
		return nil, errorf(ErrWeakAlgorithm, "signer digest algorithm %v not supported", si.DigestAlgorithm.Algorithm)
	}
	if !acceptedHash(digestHash) {
		return nil, errorf(ErrWeakAlgorithm, "signer digest algorithm %v not accepted", digestHash)
	}

	return &decodedToken{der: der, content: content, rawCerts: sd.Certificates.Bytes, si: si, info: info, attrs: attrs, digestHash: digestHash}, nil
}

// verify does the cryptographic half of ParseToken.
func (d *decodedToken) verify(extra []*x509.Certificate, parse CertificateParser) (*Token, error) {
	content, si, info, attrs, digestHash := d.content, d.si, d.info, d.attrs, d.digestHash
	if parse == nil {
		parse = x509.ParseCertificates
	}
	var certs []*x509.Certificate
	if len(d.rawCerts) > 0 {
		var err error
		if certs, err = parse(d.rawCerts); err != nil {
			return nil, fmt.Errorf("%w: embedded certificates: %w", ErrMalformed, err)
		}
	}
	md, err := attrs.single(oidAttrMessageDigest)
	if err != nil {
		return nil, err
	}
	var mdValue []byte
	if rest, err := asn1.Unmarshal(md, &mdValue); err != nil || len(rest) > 0 {
		return nil, errorf(ErrMalformed, "message-digest attribute is not an OCTET STRING")
	}
	hh := digestHash.New()
	hh.Write(content)
	if subtle.ConstantTimeCompare(hh.Sum(nil), mdValue) != 1 {
		return nil, errorf(ErrBadSignature, "message-digest attribute does not match the TSTInfo")
	}

	all := append(append([]*x509.Certificate(nil), certs...), extra...)
	signer, err := findSigner(si, all)
	if err != nil {
		return nil, err
	}

	// The signature covers the DER of the attributes with the SET tag in
	// place of the implicit [0] (RFC 5652 §5.4).
	signed := append([]byte(nil), si.SignedAttrs.FullBytes...)
	signed[0] = 0x31
	if err := checkSignature(signer, digestHash, si.SignatureAlgorithm, signed, si.Signature); err != nil {
		return nil, err
	}
	if err := checkCertID(attrs, signer); err != nil {
		return nil, err
	}
	if err := checkTSAName(info.TSA, signer); err != nil {
		return nil, err
	}
	if err := checkTimestampEKU(signer); err != nil {
		return nil, err
	}

	imprintHash, _ := hashFromOID(info.MessageImprint.HashAlgorithm.Algorithm)
	t := &Token{
		DER:           append([]byte(nil), d.der...),
		GenTime:       info.GenTime.UTC(),
		Accuracy:      time.Duration(info.Accuracy.Seconds)*time.Second + time.Duration(info.Accuracy.Millis)*time.Millisecond + time.Duration(info.Accuracy.Micros)*time.Microsecond,
		SerialNumber:  info.SerialNumber,
		Policy:        info.Policy,
		HashAlgorithm: imprintHash,
		HashedMessage: info.MessageImprint.HashedMessage,
		Nonce:         info.Nonce,
		Ordering:      info.Ordering,
		TSA:           signer,
		Certificates:  certs,
		TSTInfo:       append([]byte(nil), content...),
	}
	return t, nil
}

// parseTSTInfo decodes and range-checks the TSTInfo (RFC 3161 §2.4.2).
func parseTSTInfo(der []byte) (*tstInfo, error) {
	var info tstInfo
	rest, err := asn1.Unmarshal(der, &info)
	if err != nil {
		return nil, fmt.Errorf("%w: TSTInfo: %w", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return nil, errorf(ErrMalformed, "trailing data after TSTInfo")
	}
	if info.Version != 1 {
		return nil, errorf(ErrMalformed, "TSTInfo version %d, want 1", info.Version)
	}
	if len(info.Policy) == 0 {
		return nil, errorf(ErrMalformed, "TSTInfo has no policy")
	}
	if info.SerialNumber == nil || info.SerialNumber.Sign() < 0 {
		return nil, errorf(ErrMalformed, "TSTInfo serial number missing or negative")
	}
	h, ok := hashFromOID(info.MessageImprint.HashAlgorithm.Algorithm)
	if !ok || !acceptedHash(h) {
		return nil, errorf(ErrWeakAlgorithm, "message imprint algorithm %v not accepted", info.MessageImprint.HashAlgorithm.Algorithm)
	}
	if len(info.MessageImprint.HashedMessage) != h.Size() {
		return nil, errorf(ErrMalformed, "message imprint of %d bytes for %v", len(info.MessageImprint.HashedMessage), h)
	}
	a := info.Accuracy
	if a.Seconds < 0 || a.Seconds > 1<<31 || a.Millis < 0 || a.Millis > 999 || a.Micros < 0 || a.Micros > 999 {
		return nil, errorf(ErrMalformed, "accuracy out of range")
	}
	if info.Nonce != nil && info.Nonce.Sign() < 0 {
		return nil, errorf(ErrMalformed, "negative nonce")
	}
	for _, e := range info.Extensions {
		if e.Critical {
			return nil, errorf(ErrMalformed, "unsupported critical TSTInfo extension %v", e.Id)
		}
	}
	return &info, nil
}

// signedAttrs maps attribute type (dotted OID) to the DER of its values.
type signedAttrs map[string][][]byte

// parseSignedAttrs decodes the [0] IMPLICIT SET OF Attribute; duplicates of an
// attribute type are rejected, so a second, unsigned-looking copy cannot
// shadow the one checked.
func parseSignedAttrs(raw asn1.RawValue) (signedAttrs, error) {
	if len(raw.FullBytes) == 0 {
		return nil, errorf(ErrMalformed, "signer info has no signed attributes")
	}
	if raw.Class != asn1.ClassContextSpecific || raw.Tag != 0 || !raw.IsCompound {
		return nil, errorf(ErrMalformed, "signed attributes are not [0] constructed")
	}
	out := signedAttrs{}
	rest := raw.Bytes
	for len(rest) > 0 {
		var a attribute
		var err error
		rest, err = asn1.Unmarshal(rest, &a)
		if err != nil {
			return nil, fmt.Errorf("%w: signed attribute: %w", ErrMalformed, err)
		}
		if a.Values.Class != asn1.ClassUniversal || a.Values.Tag != asn1.TagSet || !a.Values.IsCompound {
			return nil, errorf(ErrMalformed, "attribute %v values are not a SET", a.Type)
		}
		key := a.Type.String()
		if _, dup := out[key]; dup {
			return nil, errorf(ErrMalformed, "duplicate signed attribute %v", a.Type)
		}
		var values [][]byte
		vr := a.Values.Bytes
		for len(vr) > 0 {
			var v asn1.RawValue
			vr, err = asn1.Unmarshal(vr, &v)
			if err != nil {
				return nil, fmt.Errorf("%w: attribute %v value: %w", ErrMalformed, a.Type, err)
			}
			values = append(values, v.FullBytes)
		}
		out[key] = values
	}
	return out, nil
}

// single returns the only value of attribute oid, or ErrMalformed.
func (a signedAttrs) single(oid asn1.ObjectIdentifier) ([]byte, error) {
	v, ok := a[oid.String()]
	if !ok {
		return nil, errorf(ErrMalformed, "signed attribute %v missing", oid)
	}
	if len(v) != 1 {
		return nil, errorf(ErrMalformed, "signed attribute %v has %d values, want 1", oid, len(v))
	}
	return v[0], nil
}

// findSigner returns the certificate the SignerInfo's sid names.
func findSigner(si signerInfo, certs []*x509.Certificate) (*x509.Certificate, error) {
	sid := si.SID
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerialNumber
		if rest, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || len(rest) > 0 || ias.Serial == nil {
			return nil, errorf(ErrMalformed, "signer identifier is not issuerAndSerialNumber")
		}
		for _, c := range certs {
			if c.SerialNumber.Cmp(ias.Serial) == 0 && bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) {
				return c, nil
			}
		}
		return nil, errorf(ErrNoCertificate, "no certificate with the signer's issuer and serial %x", ias.Serial)
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 && !sid.IsCompound:
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c, nil
			}
		}
		return nil, errorf(ErrNoCertificate, "no certificate with the signer's subject key identifier %x", sid.Bytes)
	}
	return nil, errorf(ErrMalformed, "unknown signer identifier form")
}

// checkSignature verifies sig over signed with cert's key, accepting only the
// algorithms and key sizes of SPEC §2.
func checkSignature(cert *x509.Certificate, digest crypto.Hash, alg pkix.AlgorithmIdentifier, signed, sig []byte) error {
	h := digest.New()
	h.Write(signed)
	hashed := h.Sum(nil)

	// The hash named by a combined algorithm must be the SignerInfo's digest
	// algorithm; otherwise the two disagree about what was signed.
	sameHash := func(oidHash crypto.Hash) error {
		if oidHash != digest {
			return errorf(ErrMalformed, "signature algorithm %v disagrees with digest algorithm %v", alg.Algorithm, digest)
		}
		return nil
	}
	rsaKey := func() (*rsa.PublicKey, error) {
		k, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, errorf(ErrBadSignature, "RSA signature but the certificate key is %T", cert.PublicKey)
		}
		if k.N.BitLen() < 2048 {
			return nil, errorf(ErrWeakAlgorithm, "RSA key of %d bits", k.N.BitLen())
		}
		return k, nil
	}
	ecKey := func() (*ecdsa.PublicKey, error) {
		k, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return nil, errorf(ErrBadSignature, "ECDSA signature but the certificate key is %T", cert.PublicKey)
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, errorf(ErrWeakAlgorithm, "ECDSA curve %s not accepted", k.Curve.Params().Name)
	}

	var err error
	a := alg.Algorithm
	switch {
	case a.Equal(oidRSAEncryption), a.Equal(oidSHA256WithRSA), a.Equal(oidSHA384WithRSA), a.Equal(oidSHA512WithRSA):
		switch {
		case a.Equal(oidSHA256WithRSA):
			err = sameHash(crypto.SHA256)
		case a.Equal(oidSHA384WithRSA):
			err = sameHash(crypto.SHA384)
		case a.Equal(oidSHA512WithRSA):
			err = sameHash(crypto.SHA512)
		}
		if err != nil {
			return err
		}
		k, err := rsaKey()
		if err != nil {
			return err
		}
		if rsa.VerifyPKCS1v15(k, digest, hashed, sig) != nil {
			return errorf(ErrBadSignature, "RSA PKCS#1 v1.5 signature does not verify")
		}
		return nil
	case a.Equal(oidRSAPSS):
		var p pssParameters
		if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) > 0 {
			return errorf(ErrMalformed, "RSASSA-PSS parameters")
		}
		ph, ok := hashFromOID(p.Hash.Algorithm)
		if len(p.Hash.Algorithm) == 0 {
			ph, ok = crypto.SHA1, true // RFC 4055 default
		}
		if !ok {
			return errorf(ErrWeakAlgorithm, "RSASSA-PSS hash %v", p.Hash.Algorithm)
		}
		if err := sameHash(ph); err != nil {
			return err
		}
		var mgfHash pkix.AlgorithmIdentifier
		if !p.MGF.Algorithm.Equal(oidMGF1) {
			return errorf(ErrWeakAlgorithm, "RSASSA-PSS mask generation %v", p.MGF.Algorithm)
		}
		if rest, err := asn1.Unmarshal(p.MGF.Parameters.FullBytes, &mgfHash); err != nil || len(rest) > 0 {
			return errorf(ErrMalformed, "RSASSA-PSS MGF1 parameters")
		}
		if mh, ok := hashFromOID(mgfHash.Algorithm); !ok || mh != ph {
			return errorf(ErrWeakAlgorithm, "RSASSA-PSS MGF1 hash %v differs from %v", mgfHash.Algorithm, ph)
		}
		if p.TrailerField != 1 || p.SaltLength < 0 {
			return errorf(ErrMalformed, "RSASSA-PSS trailer field or salt length")
		}
		k, err := rsaKey()
		if err != nil {
			return err
		}
		if rsa.VerifyPSS(k, digest, hashed, sig, &rsa.PSSOptions{SaltLength: p.SaltLength, Hash: digest}) != nil {
			return errorf(ErrBadSignature, "RSASSA-PSS signature does not verify")
		}
		return nil
	case a.Equal(oidECPublicKey), a.Equal(oidECDSAWithSHA256), a.Equal(oidECDSAWithSHA384), a.Equal(oidECDSAWithSHA512):
		switch {
		case a.Equal(oidECDSAWithSHA256):
			err = sameHash(crypto.SHA256)
		case a.Equal(oidECDSAWithSHA384):
			err = sameHash(crypto.SHA384)
		case a.Equal(oidECDSAWithSHA512):
			err = sameHash(crypto.SHA512)
		}
		if err != nil {
			return err
		}
		k, err := ecKey()
		if err != nil {
			return err
		}
		if !ecdsa.VerifyASN1(k, hashed, sig) {
			return errorf(ErrBadSignature, "ECDSA signature does not verify")
		}
		return nil
	}
	return errorf(ErrWeakAlgorithm, "signature algorithm %v not supported", a)
}

// checkCertID enforces the ESS signing-certificate binding: every
// SigningCertificate(V2) attribute present must name cert as its first
// ESSCertID, and at least one must be present (RFC 3161 §2.4.1, RFC 5816).
func checkCertID(attrs signedAttrs, cert *x509.Certificate) error {
	found := false
	if _, ok := attrs[oidAttrSigningCertV2.String()]; ok {
		found = true
		v, err := attrs.single(oidAttrSigningCertV2)
		if err != nil {
			return err
		}
		var sc signingCertificateV2
		if rest, err := asn1.Unmarshal(v, &sc); err != nil || len(rest) > 0 || len(sc.Certs) == 0 {
			return errorf(ErrMalformed, "SigningCertificateV2 attribute")
		}
		id := sc.Certs[0]
		h := crypto.SHA256
		if len(id.HashAlgorithm.Algorithm) > 0 {
			var ok bool
			if h, ok = hashFromOID(id.HashAlgorithm.Algorithm); !ok {
				return errorf(ErrWeakAlgorithm, "ESSCertIDv2 hash %v not supported", id.HashAlgorithm.Algorithm)
			}
		}
		if err := matchCertID(h, id.CertHash, id.IssuerSerial, cert); err != nil {
			return err
		}
	}
	if _, ok := attrs[oidAttrSigningCert.String()]; ok {
		found = true
		v, err := attrs.single(oidAttrSigningCert)
		if err != nil {
			return err
		}
		var sc signingCertificate
		if rest, err := asn1.Unmarshal(v, &sc); err != nil || len(rest) > 0 || len(sc.Certs) == 0 {
			return errorf(ErrMalformed, "SigningCertificate attribute")
		}
		if err := matchCertID(crypto.SHA1, sc.Certs[0].CertHash, sc.Certs[0].IssuerSerial, cert); err != nil {
			return err
		}
	}
	if !found {
		return errorf(ErrCertIDMismatch, "no SigningCertificate or SigningCertificateV2 attribute")
	}
	return nil
}

// matchCertID compares one ESSCertID(v2) with cert. The SHA-1 of ESSCertID
// v1 only identifies a certificate the signature already commits to, so
// it is accepted here.
func matchCertID(h crypto.Hash, certHash []byte, is issuerSerial, cert *x509.Certificate) error {
	hh := h.New()
	hh.Write(cert.Raw)
	if !bytes.Equal(hh.Sum(nil), certHash) {
		return errorf(ErrCertIDMismatch, "ESSCertID hash does not match the signing certificate")
	}
	if is.Serial == nil {
		return nil // issuerSerial is optional
	}
	if is.Serial.Cmp(cert.SerialNumber) != 0 {
		return errorf(ErrCertIDMismatch, "ESSCertID serial %x differs from the signing certificate's %x", is.Serial, cert.SerialNumber)
	}
	ok, err := generalNamesHaveDN(is.Issuer, cert.RawIssuer)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(ErrCertIDMismatch, "ESSCertID issuer differs from the signing certificate's")
	}
	return nil
}

// generalNamesHaveDN reports whether GeneralNames holds directoryName dn.
func generalNamesHaveDN(gn asn1.RawValue, dn []byte) (bool, error) {
	if gn.Class != asn1.ClassUniversal || gn.Tag != asn1.TagSequence {
		return false, errorf(ErrMalformed, "GeneralNames is not a SEQUENCE")
	}
	rest := gn.Bytes
	for len(rest) > 0 {
		var n asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &n); err != nil {
			return false, fmt.Errorf("%w: GeneralName: %w", ErrMalformed, err)
		}
		if n.Class == asn1.ClassContextSpecific && n.Tag == 4 && n.IsCompound && bytes.Equal(n.Bytes, dn) {
			return true, nil
		}
	}
	return false, nil
}

// checkTSAName enforces RFC 3161 §2.4.2: a present tsa field must name the
// signer. Only directoryName is compared; other forms are left to policy.
func checkTSAName(tsa asn1.RawValue, cert *x509.Certificate) error {
	if len(tsa.FullBytes) == 0 {
		return nil
	}
	var n asn1.RawValue
	if rest, err := asn1.Unmarshal(tsa.Bytes, &n); err != nil || len(rest) > 0 {
		return errorf(ErrMalformed, "TSTInfo tsa is not a GeneralName")
	}
	if n.Class == asn1.ClassContextSpecific && n.Tag == 4 && n.IsCompound && !bytes.Equal(n.Bytes, cert.RawSubject) {
		return errorf(ErrCertIDMismatch, "TSTInfo tsa name is not the signing certificate's subject")
	}
	return nil
}

// checkTimestampEKU enforces RFC 3161 §2.3: the TSA certificate has exactly
// one EKU, id-kp-timeStamping, in a critical extension; and if key usage is
// present it allows digitalSignature or nonRepudiation.
func checkTimestampEKU(cert *x509.Certificate) error {
	var ext *pkix.Extension
	for i := range cert.Extensions {
		if cert.Extensions[i].Id.Equal(oidExtExtKeyUsage) {
			ext = &cert.Extensions[i]
			break
		}
	}
	switch {
	case ext == nil:
		return errorf(ErrNoTimestampEKU, "TSA certificate %q has no extended key usage", cert.Subject.CommonName)
	case !ext.Critical:
		return errorf(ErrNoTimestampEKU, "TSA certificate %q extended key usage is not critical", cert.Subject.CommonName)
	case len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) != 0:
		return errorf(ErrNoTimestampEKU, "TSA certificate %q extended key usage is not exactly id-kp-timeStamping", cert.Subject.CommonName)
	case cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0:
		return errorf(ErrNoTimestampEKU, "TSA certificate %q key usage does not allow signing", cert.Subject.CommonName)
	}
	return nil
}

// ChainVerifier decides whether a TSA certificate is trusted at a given time.
// The path-validation package (with revocation) implements it; PoolVerifier
// is the simple form. VerifyTSA returns nil only if leaf, with the given
// candidate intermediates, chains to an accepted TSA root and every
// certificate on the path was valid at at.
type ChainVerifier interface {
	VerifyTSA(ctx context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate, at time.Time) error
}

// PoolVerifier is a ChainVerifier that accepts a TSA certificate when
// crypto/x509 builds a path from it to Roots, valid at the given time, with
// id-kp-timeStamping allowed along the path. It checks no revocation.
type PoolVerifier struct {
	Roots *x509.CertPool
}

// VerifyTSA implements ChainVerifier.
func (p PoolVerifier) VerifyTSA(_ context.Context, leaf *x509.Certificate, intermediates []*x509.Certificate, at time.Time) error {
	if p.Roots == nil {
		return errors.New("tsp: PoolVerifier has no roots")
	}
	pool := x509.NewCertPool()
	for _, c := range intermediates {
		pool.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         p.Roots,
		Intermediates: pool,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	return err
}

// Verifier checks time-stamp tokens found inside signatures, where there is
// no request to compare with.
type Verifier struct {
	// Chain decides whether the TSA is trusted at genTime. Required.
	Chain ChainVerifier
	// ExtraCerts are certificates from outside the token (e.g. XAdES
	// CertificateValues) used to find the signer and build its chain.
	ExtraCerts []*x509.Certificate
	// ParseCertificates parses the token's certificates; nil: x509.ParseCertificates.
	ParseCertificates CertificateParser
}

// Verify returns a Token only if ParseToken accepts tokenDER (structure, CMS
// signature, ESSCertID binding, critical timeStamping-only EKU), the message
// imprint uses hash h and equals digest, and v.Chain accepts the TSA chain at
// the token's genTime. h must be SHA-256, SHA-384 or SHA-512.
func (v *Verifier) Verify(ctx context.Context, tokenDER, digest []byte, h crypto.Hash) (*Token, error) {
	if v.Chain == nil {
		return nil, errors.New("tsp: Verifier.Chain is nil")
	}
	if !acceptedHash(h) {
		return nil, errorf(ErrWeakAlgorithm, "hash %v not accepted", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("tsp: digest of %d bytes for %v", len(digest), h)
	}
	t, err := parseToken(tokenDER, v.ParseCertificates, v.ExtraCerts)
	if err != nil {
		return nil, err
	}
	return v.verifyParsed(ctx, t, digest, h)
}

// verifyParsed is the part of Verify after ParseToken accepted the token.
func (v *Verifier) verifyParsed(ctx context.Context, t *Token, digest []byte, h crypto.Hash) (*Token, error) {
	if err := checkImprint(t, digest, h); err != nil {
		return nil, err
	}
	if err := v.Chain.VerifyTSA(ctx, t.TSA, t.intermediates(v.ExtraCerts), t.GenTime); err != nil {
		return nil, fmt.Errorf("%w: at %s: %w", ErrTSAUntrusted, t.GenTime.Format(time.RFC3339), err)
	}
	return t, nil
}

// VerifyData is Verify over data hashed with the token's own imprint
// algorithm, for callers that hold the time-stamped bytes (for XAdES
// SignatureTimeStamp: the canonicalized ds:SignatureValue element). The token
// is parsed and its signature verified once.
func (v *Verifier) VerifyData(ctx context.Context, tokenDER, data []byte) (*Token, error) {
	t, err := parseToken(tokenDER, v.ParseCertificates, v.ExtraCerts)
	if err != nil {
		return nil, err
	}
	hh := t.HashAlgorithm.New()
	hh.Write(data)
	digest, h := hh.Sum(nil), t.HashAlgorithm
	// Verify's checks before parsing, in its order.
	if v.Chain == nil {
		return nil, errors.New("tsp: Verifier.Chain is nil")
	}
	if !acceptedHash(h) {
		return nil, errorf(ErrWeakAlgorithm, "hash %v not accepted", h)
	}
	return v.verifyParsed(ctx, t, digest, h)
}

// Verify is Verifier{Chain: cv}.Verify with a background context.
func Verify(tokenDER, digest []byte, h crypto.Hash, cv ChainVerifier) (*Token, error) {
	v := Verifier{Chain: cv}
	return v.Verify(context.Background(), tokenDER, digest, h)
}

func checkImprint(t *Token, digest []byte, h crypto.Hash) error {
	if t.HashAlgorithm != h {
		return errorf(ErrImprintMismatch, "token imprint uses %v, expected %v", t.HashAlgorithm, h)
	}
	if subtle.ConstantTimeCompare(t.HashedMessage, digest) != 1 {
		return errorf(ErrImprintMismatch, "token imprint %x, expected %x", t.HashedMessage, digest)
	}
	return nil
}
