package sandbox

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"time"
)

// ManifestFile is the name of the manifest inside a sandbox directory.
const ManifestFile = "sandbox.json"

// ManifestVersion is the manifest format this package writes and reads.
const ManifestVersion = 1

// Roles of sandbox entities.
const (
	RoleRootCA        = "root-ca"        // self-signed trust anchor
	RoleCA            = "ca"             // issuing CA below a root
	RoleOCSPResponder = "ocsp-responder" // delegated OCSP responder (EKU OCSPSigning, ocsp-nocheck)
	RoleTSA           = "tsa"            // TSA unit (critical EKU timeStamping only)
	RoleSigner        = "signer"         // qualified signer of packages (QcStatements)
	RoleEncryption    = "encryption"     // RSA key-transport certificate (keyEncipherment)
	RoleReceiptSigner = "receipt-signer" // the fund's receipt-signing certificate (advanced)
	RoleTLSServer     = "tls-server"     // the fund's HTTPS server certificate
)

// Tags on entities whose validity window is deliberately outside "now".
const (
	TagExpired     = "expired"
	TagNotYetValid = "not-yet-valid"
)

// Names of the fixed entities of every sandbox (manifest names, also the
// file names and the NAME in /ca/NAME.crt and /crl/NAME.crl).
const (
	RootCA          = "root-ca"
	QualifiedCA     = "qualified-ca"
	AdvancedCA      = "advanced-ca"
	TSACA           = "tsa-ca"
	TLSCA           = "tls-ca"
	OCSPResponder   = "ocsp-qualified"
	TSAUnit         = "tsa-unit"
	FundReceipt     = "fund-receipt"
	FundTLS         = "fund-tls"
	FundEncryption  = "enc-fund"
	TaxEncryption   = "enc-tax"
	ExpiredSigner   = "signer-expired"
	NotYetValidSign = "signer-notyetvalid"
)

// Object identifiers used by the sandbox. Its own policies live under the
// ITU-T example arc 2.999 (X.660), so they can never be confused with a
// production policy.
var (
	OIDSandboxQualifiedPolicy = asn1.ObjectIdentifier{2, 999, 8901, 1, 1} // sandbox qualified signer certificates
	OIDSandboxAdvancedPolicy  = asn1.ObjectIdentifier{2, 999, 8901, 1, 2} // sandbox advanced certificates
	OIDSandboxTSAPolicy       = asn1.ObjectIdentifier{2, 999, 8901, 2, 1} // TSA policy of the sandbox TSA
	OIDETSIQCPnQSCD           = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 2}
	OIDETSINCPPlus            = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 2}
	OIDOCSPNoCheck            = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	OIDOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
	OIDGivenName              = asn1.ObjectIdentifier{2, 5, 4, 42}
	OIDSurname                = asn1.ObjectIdentifier{2, 5, 4, 4}
)

// Manifest is the content of dir/sandbox.json: everything a program needs to
// find in a sandbox. Paths are relative to the sandbox directory and use
// forward slashes.
type Manifest struct {
	Version      int       `json:"version"`
	Created      time.Time `json:"created"` // the Now the PKI was built for
	BaseURL      string    `json:"baseURL"` // put into AIA / CRL distribution points
	PasswordFile string    `json:"passwordFile"`
	TSAPolicy    string    `json:"tsaPolicy"` // dotted OID
	// Fund is the pension fund (receiver of packages).
	Fund Organization `json:"fund"`
	// TaxAuthority is the tax authority (APEH/NAV) that receives exports.
	TaxAuthority Organization `json:"taxAuthority"`
	// Employers are the demo declarants.
	Employers []Organization `json:"employers"`
	// Entities lists every certificate of the sandbox, CAs first.
	Entities []*Entity `json:"entities"`
}

// Organization is a party of the demo world and the entities it owns.
type Organization struct {
	Key       string `json:"key"`                 // short owner key used in Entity.Owner
	Name      string `json:"name"`                // legal name
	TaxNumber string `json:"taxNumber,omitempty"` // 8-digit tax-number core (check-digit valid)
	FundCode  string `json:"fundCode,omitempty"`  // 4-digit fund code (the fund only)
	// Signers are the entity names of the organisation's signers whose
	// certificates are currently valid, in order.
	Signers []string `json:"signers,omitempty"`
	// Encryption is the entity name of the organisation's encryption certificate.
	Encryption string `json:"encryption,omitempty"`
	// Receipt and TLS are the fund's receipt-signing and TLS server entities.
	Receipt string `json:"receipt,omitempty"`
	TLS     string `json:"tls,omitempty"`
}

// Person is the natural person a signer certificate belongs to.
type Person struct {
	GivenName string `json:"givenName"`
	Surname   string `json:"surname"`
	// TaxID is a check-digit-valid 10-digit personal tax identifier; the
	// certificate's serialNumber attribute is "PNOHU-" + TaxID.
	TaxID string `json:"taxID"`
}

// Name is the person's name in Hungarian order (surname first).
func (p Person) Name() string { return p.Surname + " " + p.GivenName }

// Files are the files of one entity, relative to the sandbox directory.
type Files struct {
	Cert    string `json:"cert"`             // PEM certificate
	CertDER string `json:"certDER"`          // DER certificate
	Chain   string `json:"chain"`            // PEM: the certificate, its CAs, root last
	PKCS12  string `json:"pkcs12,omitempty"` // key + certificate + CAs, password in PasswordFile
}

// Entity is one certificate of the sandbox and its key.
type Entity struct {
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	Owner        string    `json:"owner,omitempty"` // Organization.Key, or "" for the providers' own entities
	Subject      string    `json:"subject"`         // RFC 4514 string
	Issuer       string    `json:"issuer"`          // entity name of the issuer (itself for a root)
	Serial       string    `json:"serial"`          // lowercase hex
	SHA256       string    `json:"sha256"`          // hex SHA-256 of the DER certificate
	KeyAlgorithm KeyAlg    `json:"keyAlgorithm"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	Qualified    bool      `json:"qualified,omitempty"`
	Tags         []string  `json:"tags,omitempty"`
	Person       *Person   `json:"person,omitempty"`
	Files        Files     `json:"files"`

	// Cert is the parsed certificate (set by Load).
	Cert *x509.Certificate `json:"-"`
	// Key is the private key (set by Load; nil if the entity has no PKCS#12 file).
	Key crypto.Signer `json:"-"`
	// Chain holds the CA certificates above Cert, issuer first, root last
	// (set by Load; empty for a root).
	Chain []*x509.Certificate `json:"-"`
}

// HasTag reports whether e carries tag.
func (e *Entity) HasTag(tag string) bool {
	for _, t := range e.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// IsCA reports whether e is a certification authority.
func (e *Entity) IsCA() bool { return e.Role == RoleRootCA || e.Role == RoleCA }
