package policy

import (
	"fmt"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
)

// Code is a SPEC §7 error code: the catalogue's type (errcode.Code), so that a policy finding is a
// catalogue finding without conversion. The codes this package reports are the constants below.
type Code = errcode.Code

// The SPEC §7 codes this package reports (the catalogue's constants).
const (
	T003 = errcode.T003 // package too large
	F001 = errcode.F001 // SigningTime missing
	F002 = errcode.F002 // SigningCertificate missing
	F003 = errcode.F003 // SignaturePolicyIdentifier missing
	F004 = errcode.F004 // DataObjectFormat missing
	F005 = errcode.F005 // SignatureTimeStamp missing
	F006 = errcode.F006 // CompleteCertificateRefs missing
	F007 = errcode.F007 // content format (DataObjectFormat MIME type)
	F008 = errcode.F008 // commitment type
	A003 = errcode.A003 // no chain to an accepted CA (anchor not accepted by the policy)
	A004 = errcode.A004 // not qualified
	A006 = errcode.A006 // certificate not valid at the signing time (CheckSigner)
	A007 = errcode.A007 // timestamp invalid or untrusted
	A008 = errcode.A008 // signing → timestamp gap, or timestamp before signing time
	A009 = errcode.A009 // timestamp → arrival gap
	A010 = errcode.A010 // policy (identifier, digest, validity, other policy rules)
	A013 = errcode.A013 // algorithm or key size
)

// Severity is E0 (rejects) or W0 (warns), as in SPEC §7: the catalogue's type.
type Severity = errcode.Severity

// Severities (the catalogue's).
const (
	SeverityError   = errcode.Error
	SeverityWarning = errcode.Warning
)

// Sub-indications of ETSI EN 319 102-1 that findings of this package map to (SPEC §3): the report's
// constants, so that reports, receipts and the policy share one list.
const (
	SubTimestampOrder  = report.TimestampOrderFailure
	SubSigConstraints  = report.SigConstraintsFailure
	SubCryptoConstr    = report.CryptoConstraintsFailure
	SubCryptoNoPOE     = report.CryptoConstraintsFailureNoPOE // a sunset algorithm without proof of existence before the sunset
	SubPolicy          = report.PolicyProcessingError
	SubFormat          = report.FormatFailure
	SubNoChain         = report.NoCertificateChainFound
	SubChainConstraint = report.ChainConstraintsFailure
)

// Finding is one violation of the policy: a catalogue finding (the SPEC §7 code, its severity and a
// message for users in Hungarian and English; Location is left to the caller, who knows where the
// checked object sits) and the ETSI sub-indication it implies. A Finding is also an error, so the
// Check methods that return a single error return a Finding: errors.As recovers it with its Sub, and
// errcode.Of recovers the catalogue finding.
type Finding struct {
	errcode.Finding
	Sub report.SubIndication `json:"subIndication,omitempty"` // ETSI EN 319 102-1 sub-indication
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

// At returns the catalogue finding located at loc, for a report.
func (f Finding) At(loc string) errcode.Finding {
	ef := f.Finding
	ef.Location = loc
	return ef
}

// Record records f in v located at loc, as a Tagdíj signature reads it: a W0 finding as a warning,
// an E0 finding as TOTAL-FAILED with f's sub-indication (the policy in force is fixed, so a violation
// is final).
func (f Finding) Record(v *report.Verdict, loc string) {
	if f.Severity == SeverityWarning {
		v.Warn(f.At(loc))
		return
	}
	v.Fail(f.Sub, f.At(loc))
}

// Refusal returns the first finding of severity E0 among fs: why the policy refuses what fs are
// about, if it does.
func Refusal(fs []Finding) (Finding, bool) {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return f, true
		}
	}
	return Finding{}, false
}

func finding(code Code, sub report.SubIndication, hu, en string) Finding {
	return Finding{Finding: errcode.Finding{Code: code, Severity: SeverityError, HU: hu, EN: en}, Sub: sub}
}
