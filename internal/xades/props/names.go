package props

import (
	"crypto"
	"fmt"
)

// Namespaces and URIs fixed by XMLDSig and XAdES.
const (
	// NS is the XAdES 1.3.2 namespace (ETSI TS 101 903 v1.3.2, EN 319 132-1), written with prefix "xades".
	NS = "http://uri.etsi.org/01903/v1.3.2#"
	// NS141 is the XAdES 1.4.1 namespace (ArchiveTimeStamp, TimeStampValidationData), prefix "xades141".
	NS141 = "http://uri.etsi.org/01903/v1.4.1#"
	// NSDS is the XMLDSig namespace, prefix "ds".
	NSDS = "http://www.w3.org/2000/09/xmldsig#"

	// SignedPropertiesType is the ds:Reference Type of the reference that covers xades:SignedProperties.
	SignedPropertiesType = "http://uri.etsi.org/01903#SignedProperties"

	// ProofOfOrigin and ProofOfReceipt are the commitment types of TS 101 903 clause 7.2.6 that Tagdíj uses:
	// packages carry ProofOfOrigin, receipts ProofOfReceipt.
	ProofOfOrigin  = "http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin"
	ProofOfReceipt = "http://uri.etsi.org/01903/v1.2.2#ProofOfReceipt"

	// EncodingBase64 is the DataObjectFormat Encoding of a base64-encoded data object.
	EncodingBase64 = "http://www.w3.org/2000/09/xmldsig#base64"
	// EncodingDER is the Encoding attribute value of an EncapsulatedPKIData holding DER; absent means DER too.
	EncodingDER = "http://uri.etsi.org/01903/v1.2.2#DER"

	// QualifierOIDAsURN marks an ObjectIdentifier whose Identifier is an OID written as "urn:oid:1.2.3".
	QualifierOIDAsURN = "OIDAsURN"
	// QualifierOIDAsURI marks an ObjectIdentifier whose Identifier is an OID written as a URI.
	QualifierOIDAsURI = "OIDAsURI"
)

// Digest method URIs (XMLDSig 1.1, RFC 6931).
const (
	DigestSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	DigestSHA224 = "http://www.w3.org/2001/04/xmldsig-more#sha224"
	DigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
	DigestSHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	DigestSHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
)

// DigestURI returns the XMLDSig digest method URI of h for writing. Only SHA-256, SHA-384 and SHA-512 are
// written; SHA-1 is accepted on read only (old CertDigests), never produced.
func DigestURI(h crypto.Hash) (string, error) {
	switch h {
	case crypto.SHA256:
		return DigestSHA256, nil
	case crypto.SHA384:
		return DigestSHA384, nil
	case crypto.SHA512:
		return DigestSHA512, nil
	}
	return "", fmt.Errorf("xades: digest %v is not used for writing", h)
}

// digestHash maps a digest method URI to its hash for reading. SHA-1 and SHA-224 are recognised so that
// legacy references can be parsed and compared; whether they are acceptable is the policy's decision.
func digestHash(uri string) (crypto.Hash, bool) {
	switch uri {
	case DigestSHA1:
		return crypto.SHA1, true
	case DigestSHA224:
		return crypto.SHA224, true
	case DigestSHA256:
		return crypto.SHA256, true
	case DigestSHA384:
		return crypto.SHA384, true
	case DigestSHA512:
		return crypto.SHA512, true
	}
	return 0, false
}

// Kind names an unsigned signature property (a child of xades:UnsignedSignatureProperties).
type Kind int

// The unsigned signature properties of XAdES 1.3.2 and 1.4.1. KindOther is any element of another
// namespace (the schema's xsd:any namespace="##other"); KindArchiveTimeStampV132 is the obsolete
// xades:ArchiveTimeStamp of the 1.3.2 namespace, whose input differs from xades141:ArchiveTimeStamp.
const (
	KindOther Kind = iota
	KindCounterSignature
	KindSignatureTimeStamp
	KindCompleteCertificateRefs
	KindCompleteRevocationRefs
	KindAttributeCertificateRefs
	KindAttributeRevocationRefs
	KindSigAndRefsTimeStamp
	KindRefsOnlyTimeStamp
	KindCertificateValues
	KindRevocationValues
	KindAttrAuthoritiesCertValues
	KindAttributeRevocationValues
	KindArchiveTimeStampV132
	KindArchiveTimeStamp
	KindTimeStampValidationData
)

var kindNames = [...]string{
	KindOther:                     "Other",
	KindCounterSignature:          "CounterSignature",
	KindSignatureTimeStamp:        "SignatureTimeStamp",
	KindCompleteCertificateRefs:   "CompleteCertificateRefs",
	KindCompleteRevocationRefs:    "CompleteRevocationRefs",
	KindAttributeCertificateRefs:  "AttributeCertificateRefs",
	KindAttributeRevocationRefs:   "AttributeRevocationRefs",
	KindSigAndRefsTimeStamp:       "SigAndRefsTimeStamp",
	KindRefsOnlyTimeStamp:         "RefsOnlyTimeStamp",
	KindCertificateValues:         "CertificateValues",
	KindRevocationValues:          "RevocationValues",
	KindAttrAuthoritiesCertValues: "AttrAuthoritiesCertValues",
	KindAttributeRevocationValues: "AttributeRevocationValues",
	KindArchiveTimeStampV132:      "ArchiveTimeStamp",
	KindArchiveTimeStamp:          "ArchiveTimeStamp",
	KindTimeStampValidationData:   "TimeStampValidationData",
}

// String is the element's local name ("Other" for KindOther).
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Namespace is the namespace of the element of kind k ("" for KindOther).
func (k Kind) Namespace() string {
	switch k {
	case KindOther:
		return ""
	case KindArchiveTimeStamp, KindTimeStampValidationData:
		return NS141
	}
	return NS
}

// KindOf classifies a child of UnsignedSignatureProperties by namespace URI and local name. An element
// of the XAdES namespaces that is not an unsigned signature property is KindOther as well; the parser
// reports it as malformed.
func KindOf(ns, local string) Kind {
	switch ns {
	case NS141:
		switch local {
		case "ArchiveTimeStamp":
			return KindArchiveTimeStamp
		case "TimeStampValidationData":
			return KindTimeStampValidationData
		}
	case NS:
		for k := KindCounterSignature; k <= KindArchiveTimeStampV132; k++ {
			if kindNames[k] == local {
				return k
			}
		}
	}
	return KindOther
}
