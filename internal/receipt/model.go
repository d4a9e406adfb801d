// Package receipt is the typed model of the receipt (nyugta.xml, SPEC §5, DEF-03, RCV-02, RCV-17): the
// document the fund's receiver returns for every upload that reaches the application, rejections
// included. It refers unambiguously to the bytes received (name as sent, size, SHA-256) and confirms
// the time of arrival.
//
// The package writes receipts (Marshal, only after Check has passed, so an inconsistent receipt is never
// produced), reads them from untrusted bytes (Parse: size bound, hardened libxml2 parse and
// schema/nyugta.xsd first, decoding and Check after), builds them for the receiver (NewRejection,
// NewAcceptance) and renders them for people (Text for a terminal, HTML for printing and saving,
// SND-28). Signing the receipt into an .es3 receipt package is not this package's job.
package receipt

import (
	"math/big"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
)

// Namespace is the receipt's XML namespace (schema.Namespace(schema.Receipt)).
const Namespace = "urn:x-mnyp:nyugta:1"

// Bounds of nyugta.xsd, repeated so that receipts built in code are checked before they are written.
const (
	MaxSignatures    = 32   // Elovizsgalat/Alairas
	MaxErrors        = 256  // Hibak/Hiba
	MaxFileNameChars = 1024 // BeerkezettCsomag/Fajlnev
	MaxNameChars     = 200  // Nev (fund and declarant names), after white-space collapsing
	MaxDNChars       = 2048 // AlairoDN, KiadoDN
	MaxSerialDigits  = 50   // Sorozatszam, decimal
	MaxPolicyIDChars = 256  // Szabalyzat/Azonosito
	MaxLocationChars = 1024 // Hiba/Hely
	MaxTextChars     = 4000 // Hiba/SzovegHU, Hiba/SzovegEN
)

// MaxBytes is the largest receipt Parse reads. The schema's own bounds put a receipt's worst case
// (256 findings with two 4000-character texts and a 1024-character location each, 32 signatures with two
// 2048-character DNs, in four-byte UTF-8) at about 9.5 MB; anything larger cannot be schema-valid, so it is
// refused before it is parsed. Receipts the receiver writes are a few kilobytes.
const MaxBytes = 12 << 20

// Result is the receipt's Eredmeny.
type Result string

// The results.
const (
	Accepted Result = "BEFOGADVA"  // accepted for processing; the final check follows after the grace period
	Rejected Result = "ELUTASITVA" // rejected; at least one E0 finding says why
)

// Valid reports whether r is one of the schema's results.
func (r Result) Valid() bool { return r == Accepted || r == Rejected }

// State is a validation state (SIG-22, SPEC §3), used for the whole pre-check and for each signature.
type State string

// The states.
const (
	Valid      State = "ERVENYES"     // valid: TOTAL-PASSED
	Invalid    State = "ERVENYTELEN"  // invalid: TOTAL-FAILED
	Incomplete State = "BEFEJEZETLEN" // incomplete: INDETERMINATE (e.g. the grace period is not over)
)

// Valid reports whether s is one of the schema's states.
func (s State) Valid() bool { return s == Valid || s == Invalid || s == Incomplete }

// Indication is an ETSI EN 319 102-1 main status indication: the report's type and constants
// (report.TotalPassed, report.TotalFailed, report.Indeterminate), spelled as nyugta.xsd's Indikacio
// admits them. Valid reports whether one is among them.
type Indication = report.Indication

// IndicationOf returns the indication that state s must carry (SPEC §3): ERVENYES = TOTAL-PASSED,
// ERVENYTELEN = TOTAL-FAILED, BEFEJEZETLEN = INDETERMINATE; "" for an unknown state.
func IndicationOf(s State) Indication {
	switch s {
	case Valid:
		return report.TotalPassed
	case Invalid:
		return report.TotalFailed
	case Incomplete:
		return report.Indeterminate
	}
	return ""
}

// StateOf is the state an indication is reported as (SPEC §3), the inverse of IndicationOf:
// TOTAL-PASSED = ERVENYES, TOTAL-FAILED = ERVENYTELEN, anything else (INDETERMINATE, or an unknown
// indication, which proves nothing) = BEFEJEZETLEN.
func StateOf(i Indication) State {
	switch i {
	case report.TotalPassed:
		return Valid
	case report.TotalFailed:
		return Invalid
	}
	return Incomplete
}

// SubIndication is an ETSI EN 319 102-1 (V1.3.1) sub-indication: the report's type and constants, so
// that a report's sub-indication goes into a receipt unchanged. nyugta.xsd's AlIndikacio admits
// exactly the sub-indications for which Valid is true (the whole of EN 319 102-1 table 5).
type SubIndication = report.SubIndication

// Role is a signer's role found in the registry (RCV-08).
type Role string

// The roles; the empty Role means the receipt does not state one.
const (
	Alone         Role = "ONALLO"          // önálló: may sign alone
	Jointly       Role = "EGYUTTES"        // együttes: only jointly with the co-signer
	NotRegistered Role = "NEM_REGISZTRALT" // not registered for the declarant
)

// Valid reports whether r is one of the schema's roles (the empty Role is not).
func (r Role) Valid() bool { return r == Alone || r == Jointly || r == NotRegistered }

// Receipt is one nyugta.xml. Optional parts are nil, empty or zero when absent. Times are instants; they
// are written in UTC with the Z suffix, and Parse returns them in UTC.
type Receipt struct {
	ID        string     // Azonosito: the receipt's UUID, lower-case canonical form
	Fund      Fund       // Penztar: the receiving fund
	Declarant *Declarant // Bevallo: from the package's signed metadata; nil when it could not be read

	Package ReceivedPackage // BeerkezettCsomag: what was received
	Arrival time.Time       // Erkezes: when the receiver had the whole body
	Result  Result          // Eredmeny
	// PreCheck is Elovizsgalat: the overall state, the policy applied and one entry per signature.
	PreCheck PreCheck
	// EarliestFinalCheck is LegkorabbiVeglegesEllenorzes: the end of the revocation grace period;
	// the zero time when absent (always absent for rejections).
	EarliestFinalCheck time.Time
	// Errors is Hibak: every finding, errors (E0) and warnings (W0), in the receiver's order.
	Errors []errcode.Finding
}

// Fund is the Penztar element.
type Fund struct {
	Code string // Kod: four ASCII digits
	Name string // Nev
}

// Declarant is the Bevallo element, as the package's signed metadata (cs:Bevallo) carries it.
type Declarant struct {
	IDType declaration.IDType // azonositoTipus
	ID     string             // azonosito: digits only
	Name   string             // nev
}

// ReceivedPackage is the BeerkezettCsomag element. FileName, Size and SHA256 are always known; the other
// fields come from the signed metadata and are zero when it could not be read. For a body cut off at the
// size limit (T003), Size and SHA256 describe the bytes read before the receiver stopped.
type ReceivedPackage struct {
	FileName     string             // Fajlnev: as the sender sent it ("" when none was given)
	Size         int64              // Meret: bytes received
	SHA256       [32]byte           // SHA256: of the bytes received
	SubmissionID string             // Azonosito: the submission UUID (cs:Azonosito), "" when unknown
	Period       declaration.Period // Idoszak: the zero Period when unknown
	Type         declaration.Type   // Tipus: "" when unknown
}

// PreCheck is the Elovizsgalat element (RCV-03 … RCV-05).
type PreCheck struct {
	State      State             // Allapot: the overall state
	Policy     *PolicyRef        // Szabalyzat: the signature policy applied; nil when none was reached
	Signatures []SignatureResult // Alairas: one per ds:Signature found, at most MaxSignatures
}

// PolicyRef is the Szabalyzat element: which signature policy the pre-check applied.
type PolicyRef struct {
	ID     string   // Azonosito: the policy's URN
	SHA256 [32]byte // SHA256: of the policy document (what SignaturePolicyIdentifier carries)
}

// SignatureResult is one Alairas element: the pre-check result of one signature.
type SignatureResult struct {
	ID            string          // AlairasAzonosito: the ds:Signature Id; "" when absent
	Certificate   *CertificateRef // AlairoDN, KiadoDN, Sorozatszam; nil when the certificate could not be read
	Role          Role            // Szerep: "" when absent
	SigningTime   time.Time       // AlairasIdeje: the claimed SigningTime; zero when absent
	TimestampTime time.Time       // IdobelyegIdeje: the timestamp's genTime; zero when absent
	State         State           // Allapot
	Indication    Indication      // Indikacio: must agree with State (IndicationOf)
	SubIndication SubIndication   // AlIndikacio: "" when absent
}

// CertificateRef identifies the signer's certificate.
type CertificateRef struct {
	Subject string   // AlairoDN: RFC 4514 string
	Issuer  string   // KiadoDN: RFC 4514 string
	Serial  *big.Int // Sorozatszam: non-negative, written in decimal
}

// HasE0 reports whether any finding rejects (severity E0).
func HasE0(findings []errcode.Finding) bool {
	for _, f := range findings {
		if f.Severity == errcode.Error {
			return true
		}
	}
	return false
}
