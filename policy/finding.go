package policy

import "fmt"

// Code is a SPEC §7 error code such as "A008". It is a plain string type so that this package
// depends on nothing; a central catalogue of codes (and its texts) may live elsewhere and convert with
// a type conversion. The codes used here are the constants below.
type Code string

// The SPEC §7 codes this package reports.
const (
	T003 Code = "T003" // package too large
	F001 Code = "F001" // SigningTime missing
	F002 Code = "F002" // SigningCertificate missing
	F003 Code = "F003" // SignaturePolicyIdentifier missing
	F004 Code = "F004" // DataObjectFormat missing
	F005 Code = "F005" // SignatureTimeStamp missing
	F006 Code = "F006" // CompleteCertificateRefs missing
	F007 Code = "F007" // content format (DataObjectFormat MIME type)
	F008 Code = "F008" // commitment type
	A003 Code = "A003" // no chain to an accepted CA (anchor not accepted by the policy)
	A004 Code = "A004" // not qualified
	A007 Code = "A007" // timestamp invalid or untrusted
	A008 Code = "A008" // signing → timestamp gap, or timestamp before signing time
	A009 Code = "A009" // timestamp → arrival gap
	A010 Code = "A010" // policy (identifier, digest, validity, other policy rules)
	A013 Code = "A013" // algorithm or key size
)

// Severity is E0 (rejects) or W0 (warns), as in SPEC §7.
type Severity string

// Severities.
const (
	SeverityError   Severity = "E0"
	SeverityWarning Severity = "W0"
)

// Sub-indications of ETSI EN 319 102-1 that findings of this package map to (SPEC §3).
const (
	SubTimestampOrder  = "TIMESTAMP_ORDER_FAILURE"
	SubSigConstraints  = "SIG_CONSTRAINTS_FAILURE"
	SubCryptoConstr    = "CRYPTO_CONSTRAINTS_FAILURE"
	SubCryptoNoPOE     = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE" // a sunset algorithm without proof of existence before the sunset
	SubPolicy          = "POLICY_PROCESSING_ERROR"
	SubFormat          = "FORMAT_FAILURE"
	SubNoChain         = "NO_CERTIFICATE_CHAIN_FOUND"
	SubChainConstraint = "CHAIN_CONSTRAINTS_FAILURE"
)

// Finding is one violation of the policy: the SPEC §7 code, its severity, the ETSI sub-indication it
// implies, and a message for users in Hungarian and English. A Finding is also an error, so the Check
// methods that return a single error return a Finding (use errors.As to recover it).
type Finding struct {
	Code     Code
	Severity Severity
	Sub      string // ETSI EN 319 102-1 sub-indication
	HU       string
	EN       string
}

// Error returns the code and the English message.
func (f Finding) Error() string { return fmt.Sprintf("%s: %s", f.Code, f.EN) }

// Message returns the message in lang ("en" for English, Hungarian otherwise).
func (f Finding) Message(lang string) string {
	if lang == "en" {
		return f.EN
	}
	return f.HU
}

func finding(code Code, sub, hu, en string) Finding {
	return Finding{Code: code, Severity: SeverityError, Sub: sub, HU: hu, EN: en}
}
