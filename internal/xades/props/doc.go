// Package props builds and parses the XAdES qualifying properties of a Tagdíj signature
// (xades:QualifyingProperties, XAdES 1.3.2 with the 1.4.1 ArchiveTimeStamp and
// TimeStampValidationData), and says what each XAdES time-stamp covers.
//
// It knows nothing of signing, canonicalization or time-stamp tokens: internal/xades places the built
// element in a ds:Object, signs with internal/xmldsig, canonicalizes with internal/libxml and hands
// the canonical bytes of verified content back to the parsers here.
//
// # Building
//
// BuildQualifyingProperties writes SignedProperties in the schema's fixed sequence order (XAdES
// containers are xsd:sequences: SigningTime, SigningCertificate, SignaturePolicyIdentifier;
// DataObjectFormat*, CommitmentTypeIndication*). Unsigned properties are built one at a time
// (TimeStampElement, CompleteCertificateRefsElement, …) and appended with AppendUnsigned, which never
// touches the signed part. UnsignedSignatureProperties is an xsd:choice, so XAdES accepts any order,
// but the SigAndRefsTimeStamp and ArchiveTimeStamp inputs depend on document order: append in the
// order the properties come into being and never insert before a time-stamp.
//
// Only the "xades" prefix is declared (on QualifyingProperties); "xades141" is declared on each 1.4.1
// element; "ds" is expected from the enclosing ds:Signature (DeclareDS for standalone use).
//
// # Parsing
//
// The parsers read canonical bytes with github.com/beevik/etree under Limits and return typed values.
// A missing property is not an error (the policy layer reports F001–F006); a present but malformed
// one is a *PropertyError naming the property. Element order is enforced as the schema defines it.
// Values are refused when they contain comments, when dates lack a time zone, when base64 is not
// canonical-strict, when a digest algorithm is unknown or its value has the wrong size.
//
// # Names
//
// ds:X509IssuerName is written with NameString (RFC 4514 from the DER, order-preserving) and compared
// with NameMatches (parses RFC 4514 / RFC 2253 strings, including OpenSSL/xmlsec short names, and
// compares attribute by attribute against the DER). CertDigestMatches combines digest, serial and
// issuer checks.
package props
