package props

import (
	"crypto"
	"crypto/x509"
	"math/big"
	"time"
)

// Digest is a DigestAlgAndValueType: a hash algorithm and a digest value of that hash's size.
type Digest struct {
	Hash  crypto.Hash
	Value []byte
}

// CertRef identifies a certificate the way XAdES does: by digest and by issuer and serial number.
// A SigningCertificate (v1) and CompleteCertificateRefs Cert carries IssuerName and SerialNumber; a
// SigningCertificateV2 Cert (EN 319 132-1) carries the DER of an RFC 5035 IssuerSerial in
// IssuerSerialV2, possibly nothing at all besides the digest.
type CertRef struct {
	Digest Digest
	// IssuerName is the ds:X509IssuerName text: an RFC 4514 string (see IssuerSerialOf).
	IssuerName string
	// SerialNumber is the ds:X509SerialNumber (v1); for v2 it is filled from IssuerSerialV2 when present.
	SerialNumber *big.Int
	// IssuerSerialV2 is the DER IssuerSerial of a SigningCertificateV2 Cert, nil if absent or v1.
	IssuerSerialV2 []byte
	// URI is the optional URI attribute of the Cert element.
	URI string
	// V2 reports that the reference came from a CertIDTypeV2 (SigningCertificateV2).
	V2 bool
}

// SignaturePolicy is a SignaturePolicyIdentifier: either implied, or an explicit policy identifier
// with the hash of the policy document.
type SignaturePolicy struct {
	// Implied is true for xades:SignaturePolicyImplied; every other field is then empty.
	Implied bool
	// Identifier is the SigPolicyId/Identifier URI, e.g. "urn:x-mnyp:alairasi-szabalyzat:1".
	Identifier string
	// Qualifier is the Identifier's Qualifier attribute ("" for a plain URI, OIDAsURN, OIDAsURI).
	Qualifier   string
	Description string
	// Transforms lists the Algorithm of each ds:Transform applied to the policy document before hashing;
	// Tagdíj never writes any, and a reader that cannot apply them must not accept the hash.
	Transforms []string
	Hash       Digest
	// SPURIs are the SigPolicyQualifier/SPURI values: where the policy document can be fetched.
	SPURIs []string
}

// DataObjectFormat describes one signed data object, referenced by the Id of its ds:Reference.
type DataObjectFormat struct {
	// ObjectReference is "#" followed by the Id of the ds:Reference that covers the data object.
	ObjectReference string
	Description     string
	// ObjectIdentifier is the ObjectIdentifier/Identifier, if any (not written by Tagdíj).
	ObjectIdentifier string
	MimeType         string
	// Encoding is a URI such as EncodingBase64, "" if absent.
	Encoding string
}

// CommitmentTypeIndication is one commitment the signer declares, for all signed data objects or for
// the listed ds:Reference Ids.
type CommitmentTypeIndication struct {
	// Identifier is the CommitmentTypeId/Identifier, e.g. ProofOfOrigin.
	Identifier  string
	Qualifier   string
	Description string
	// AllSignedDataObjects is true for xades:AllSignedDataObjects; ObjectReferences is then empty.
	AllSignedDataObjects bool
	ObjectReferences     []string
}

// SignedProperties is the content of xades:SignedProperties. Absent properties are zero values: the
// parser does not decide which properties are required (the policy layer reports F001–F006).
type SignedProperties struct {
	ID string
	// SigningTime is zero if the property is absent.
	SigningTime time.Time
	// SigningCertificate holds the Cert entries of SigningCertificate or SigningCertificateV2 in document
	// order; the first is the signer's certificate by convention (the verifier must match, not assume).
	SigningCertificate []CertRef
	// SigningCertificateV2 reports that the property was xades:SigningCertificateV2.
	SigningCertificateV2 bool
	// HasSigningCertificate distinguishes an absent property from one the parser read.
	HasSigningCertificate bool
	// Policy is nil if SignaturePolicyIdentifier is absent.
	Policy            *SignaturePolicy
	DataObjectFormats []DataObjectFormat
	Commitments       []CommitmentTypeIndication
	// Ignored names the signed properties present but not interpreted here (SignatureProductionPlace,
	// SignerRole, AllDataObjectsTimeStamp, foreign elements …), in document order, as "{ns}local".
	Ignored []string
}

// TimeStamp is a XAdESTimeStampType property (SignatureTimeStamp, SigAndRefsTimeStamp, ArchiveTimeStamp).
type TimeStamp struct {
	ID string
	// Includes are the Include URIs of the explicit mechanism; Tagdíj writes none (implicit inputs).
	Includes []string
	// CanonicalizationMethod is the ds:CanonicalizationMethod Algorithm, "" if absent (then XMLDSig's
	// default, Canonical XML 1.0 without comments, applies).
	CanonicalizationMethod string
	// Tokens are the DER RFC 3161 TimeStampTokens of the EncapsulatedTimeStamp elements (usually one).
	Tokens [][]byte
	// XMLTimeStamps counts XMLTimeStamp elements, which are not interpreted.
	XMLTimeStamps int
}

// OCSPRef references one OCSP response (CompleteRevocationRefs/OCSPRefs/OCSPRef).
type OCSPRef struct {
	// ResponderName is the ResponderID ByName text (an RFC 4514 string); empty if ByKey.
	ResponderName string
	// ResponderKey is the ResponderID ByKey value (SHA-1 of the responder key); nil if ByName.
	ResponderKey []byte
	ProducedAt   time.Time
	URI          string
	// Digest is the digest of the DER OCSPResponse; nil when the optional DigestAlgAndValue is absent.
	Digest *Digest
}

// CRLRef references one CRL (CompleteRevocationRefs/CRLRefs/CRLRef).
type CRLRef struct {
	Digest Digest
	// HasIdentifier reports that the optional CRLIdentifier is present (Issuer, IssueTime, Number, URI).
	HasIdentifier bool
	Issuer        string
	IssueTime     time.Time
	// Number is the CRL number, nil if absent.
	Number *big.Int
	URI    string
}

// CertificateRefs is CompleteCertificateRefs (or AttributeCertificateRefs).
type CertificateRefs struct {
	ID    string
	Certs []CertRef
}

// RevocationRefs is CompleteRevocationRefs (or AttributeRevocationRefs).
type RevocationRefs struct {
	ID   string
	CRLs []CRLRef
	OCSP []OCSPRef
	// OtherRefs counts OtherRef elements, which are not interpreted.
	OtherRefs int
}

// CertificateValues is CertificateValues (or AttrAuthoritiesCertValues).
type CertificateValues struct {
	ID    string
	Certs []*x509.Certificate
	// OtherCertificates counts OtherCertificate elements, which are not interpreted.
	OtherCertificates int
}

// RevocationValues is RevocationValues (or AttributeRevocationValues): raw DER CRLs and OCSPResponses.
type RevocationValues struct {
	ID   string
	CRLs [][]byte
	OCSP [][]byte
	// OtherValues counts OtherValue elements, which are not interpreted.
	OtherValues int
}

// ValidationData is xades141:TimeStampValidationData: certificates and revocation data for validating
// a time-stamp token (the TSA's chain), placed after the time-stamp it serves.
type ValidationData struct {
	ID                string
	URI               string
	CertificateValues *CertificateValues
	RevocationValues  *RevocationValues
}

// UnsignedProperty is one child of UnsignedSignatureProperties. Exactly the field matching Kind is set
// (none for KindOther and KindCounterSignature, which are kept only so that positions stay exact).
type UnsignedProperty struct {
	Kind Kind
	// Name is "{namespace}local" of the element, for KindOther and error messages.
	Name string

	TimeStamp         *TimeStamp         // the *TimeStamp kinds
	CertificateRefs   *CertificateRefs   // CompleteCertificateRefs, AttributeCertificateRefs
	RevocationRefs    *RevocationRefs    // CompleteRevocationRefs, AttributeRevocationRefs
	CertificateValues *CertificateValues // CertificateValues, AttrAuthoritiesCertValues
	RevocationValues  *RevocationValues  // RevocationValues, AttributeRevocationValues
	ValidationData    *ValidationData    // TimeStampValidationData
}

// UnsignedProperties is the content of xades:UnsignedProperties. Properties keeps document order,
// which the inputs of SigAndRefsTimeStamp and ArchiveTimeStamp depend on.
type UnsignedProperties struct {
	ID string
	// SignaturePropertiesID is the Id of UnsignedSignatureProperties, if any.
	SignaturePropertiesID string
	Properties            []UnsignedProperty
	// HasDataObjectProperties reports an UnsignedDataObjectProperties element (not interpreted).
	HasDataObjectProperties bool
}

// Kinds lists the kinds of the properties in document order, the input of SigAndRefsTimeStampParts and
// ArchiveTimeStampParts.
func (u *UnsignedProperties) Kinds() []Kind {
	if u == nil {
		return nil
	}
	out := make([]Kind, len(u.Properties))
	for i, p := range u.Properties {
		out[i] = p.Kind
	}
	return out
}

// Of returns the properties of kind k in document order.
func (u *UnsignedProperties) Of(k Kind) []UnsignedProperty {
	if u == nil {
		return nil
	}
	var out []UnsignedProperty
	for _, p := range u.Properties {
		if p.Kind == k {
			out = append(out, p)
		}
	}
	return out
}

// SignatureTimeStamps returns the SignatureTimeStamp properties in document order.
func (u *UnsignedProperties) SignatureTimeStamps() []*TimeStamp {
	var out []*TimeStamp
	for _, p := range u.Of(KindSignatureTimeStamp) {
		out = append(out, p.TimeStamp)
	}
	return out
}

// QualifyingProperties is xades:QualifyingProperties. Signed or Unsigned is nil when absent.
type QualifyingProperties struct {
	Target   string
	ID       string
	Signed   *SignedProperties
	Unsigned *UnsignedProperties
}
