package policy

import (
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"time"
)

// DocKind is a kind of signed document the policy covers.
type DocKind string

// The document kinds of SPEC §2 and §5.
const (
	KindPackage DocKind = "csomag" // adatszolgáltatás csomag, TBA_….es3 (ProofOfOrigin)
	KindReceipt DocKind = "nyugta" // nyugtacsomag, TBN_….es3 (ProofOfReceipt)
)

// Level is the signature level a document kind requires.
type Level string

// Signature levels (Eatv. / eIDAS terms).
const (
	LevelQualified Level = "minositett" // minősített: qualified electronic signature
	LevelAdvanced  Level = "fokozott"   // fokozott biztonságú: advanced electronic signature
)

// Commitment type URIs of ETSI TS 101 903 (XAdES) that SND-19 names.
const (
	ProofOfOrigin  = "http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin"
	ProofOfReceipt = "http://uri.etsi.org/01903/v1.2.2#ProofOfReceipt"
)

// DocumentRules are the rules for one document kind.
type DocumentRules struct {
	Kind        DocKind
	Description Text
	Level       Level
	SignerRole  Role   // the authority role whose anchors the signer's chain must reach
	Commitment  string // the one accepted CommitmentTypeIndication URI
	Formats     []Format
	MaxSize     int64 // bytes of the whole .es3 file
	// Signed and Unsigned are the XAdES properties every signature must carry, in document order.
	Signed   []Property
	Unsigned []Property
}

// Format is an accepted DataObjectFormat MIME type.
type Format struct {
	MIME      string // lower case, no parameters
	Encrypted bool   // the data object is compressed and CMS-encrypted (SND-17)
	ReadOnly  bool   // accepted from others, never written
}

// Property is a required XAdES qualifying property.
type Property struct {
	Name string // XAdES local name, e.g. "SigningTime"
	// Alternatives are other local names that satisfy the requirement when read (e.g.
	// SigningCertificateV2 for SigningCertificate).
	Alternatives []string
	Signed       bool
	Code         Code // the SPEC §7 code reported when the property is missing
}

// Role names a certificate role of the policy.
type Role string

// The roles of the embedded policies. A deployment's own policy may name others.
const (
	RoleSigner        Role = "alairo"      // CAs of the qualified certificates of package signers
	RoleReceiptSigner Role = "nyugta"      // CAs of the fund's receipt-key certificate
	RoleTSA           Role = "idobelyegzo" // time-stamping authorities
)

// AuthorityRules lists the certificate roles.
type AuthorityRules struct {
	Description Text
	Roles       []AuthorityRole
}

// Role returns the rules of role r.
func (a AuthorityRules) Role(r Role) (AuthorityRole, bool) {
	for _, x := range a.Roles {
		if x.Name == r {
			return x, true
		}
	}
	return AuthorityRole{}, false
}

// AuthorityRole states what a certificate issued under a role must satisfy and, optionally, which
// anchors are the only acceptable ones.
type AuthorityRole struct {
	Name        Role
	Description Text
	// Qualified: the end-entity certificate must be qualified (QCStatements below) or, for a TSA,
	// the service must be a qualified trust service (decided by the deployment's anchors).
	Qualified    bool
	QCStatements []QCStatement // every one must be present in the end-entity certificate
	// KeyUsage is the set of keyUsage bits; KeyUsageAll says whether every bit is required (true) or
	// at least one (false). Zero KeyUsage means no requirement.
	KeyUsage    x509.KeyUsage
	KeyUsageAll bool
	// ExtKeyUsage, when not zero, must be the certificate's only extended key usage; EKUCritical says
	// the extension must be marked critical (RFC 3161 §2.3 for TSAs).
	ExtKeyUsage x509.ExtKeyUsage
	EKUCritical bool
	// Pins, when not empty, are the only anchors a deployment may configure for the role.
	Pins []Anchor
}

// QCStatement is an ETSI EN 319 412-5 statement identifier.
type QCStatement struct {
	OID  asn1.ObjectIdentifier
	Name string // e.g. "QcCompliance"
}

// Anchor pins a trust anchor by SHA-256 certificate fingerprint, by subject, or both.
type Anchor struct {
	Name    string
	SHA256  []byte // nil: not pinned by fingerprint
	Subject string // "": not pinned by subject; compared with x509.Certificate.Subject.String()
}

// TimestampRules regulate how the time-stamping service is used (SND-13).
type TimestampRules struct {
	Description     Text
	Role            Role // authority role of accepted TSAs
	AfterLastSigner bool // timestamps are requested only after every signer has signed (SND-12)
	Nonce           bool // requests carry a nonce that the response must echo
	CertReq         bool // requests ask for the TSA certificate
}

// RevocationMethod is a source of revocation status.
type RevocationMethod string

// Revocation methods.
const (
	OCSP RevocationMethod = "OCSP"
	CRL  RevocationMethod = "CRL"
)

// RevocationRules say how revocation status is obtained.
type RevocationRules struct {
	Description Text
	Methods     []RevocationRule // in order of preference: the first is tried first
}

// RevocationRule is the rule of one method.
type RevocationRule struct {
	Method RevocationMethod
	// Grace is the wait after the timestamp time T: usable evidence was issued at or after T+Grace
	// (OCSP producedAt, CRL thisUpdate).
	Grace time.Duration
	// MaxAge is how old evidence may be at the moment it is used.
	MaxAge time.Duration
}

// Rule returns the rule of method m.
func (r RevocationRules) Rule(m RevocationMethod) (RevocationRule, bool) {
	for _, x := range r.Methods {
		if x.Method == m {
			return x, true
		}
	}
	return RevocationRule{}, false
}

// TimeGaps are the time-gap limits of SPEC §3.
type TimeGaps struct {
	Description        Text
	SigningToTimestamp time.Duration // SigningTime → timestamp genTime, at most
	TimestampToArrival time.Duration // timestamp genTime → arrival at the fund, at most
	ClockSkew          time.Duration // tolerated clock difference between signer, TSA and fund
}

// SignatureScheme is a family of signature algorithms.
type SignatureScheme string

// Signature schemes the schema knows.
const (
	RSAPKCS1v15 SignatureScheme = "RSA-PKCS1-v1_5"
	RSAPSS      SignatureScheme = "RSA-PSS"
	ECDSA       SignatureScheme = "ECDSA"
)

// AlgorithmRules are the accepted algorithms and key sizes.
type AlgorithmRules struct {
	Description      Text
	Digests          []crypto.Hash
	Schemes          []SignatureScheme
	MinRSABits       int
	Curves           []elliptic.Curve
	Forbidden        []crypto.Hash // never accepted, whatever else says
	Canonicalization []string      // accepted C14N method URIs
}

// ReceiptRules are the rules of receipts (RCV-02, RCV-17, SEC-14, DEF-07).
type ReceiptRules struct {
	Description     Text
	TLSKeyForbidden bool // the receipt key is never the TLS server key (always true: the schema fixes it)
	Timestamp       bool // receipts carry a SignatureTimeStamp
	EveryUpload     bool // every upload that reaches the application gets a receipt, rejections too
}
