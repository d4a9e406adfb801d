// Package report is the outcome of validating signatures, shared by every program that verifies: the
// three states of SIG-22 as ETSI EN 319 102-1 indications with sub-indications (SPEC §3), the SPEC §7
// codes behind them, and what the verdict rests on (signer, times, chain, evidence). It renders as
// JSON for machines and as bilingual text for people; it decides nothing itself.
//
// The indications are spelled as EN 319 102-1 writes them: the main indications with hyphens
// (TOTAL-PASSED, TOTAL-FAILED, INDETERMINATE), the sub-indications with underscores. Receipts
// (internal/receipt, schema/nyugta.xsd) use these same constants. Every sub-indication is one of
// EN 319 102-1 (table 5); SubIndication.Under says whether the standard lists it under a main
// indication. The table of which finding becomes which indication,
// sub-indication and SPEC §7 code is in the documentation of internal/xades, the package that decides.
package report

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
)

// Indication is the ETSI EN 319 102-1 main indication, spelled as the standard (and the receipt
// schema) writes it.
type Indication string

// The main indications.
const (
	TotalPassed   Indication = "TOTAL-PASSED"  // valid (érvényes)
	TotalFailed   Indication = "TOTAL-FAILED"  // invalid (érvénytelen)
	Indeterminate Indication = "INDETERMINATE" // incomplete (befejezetlen)
)

// Valid reports whether i is one of the three main indications.
func (i Indication) Valid() bool { return i == TotalPassed || i == TotalFailed || i == Indeterminate }

// State is the requirement set's three-state outcome (SIG-22) in the receipt's vocabulary.
func (i Indication) State() string {
	switch i {
	case TotalPassed:
		return "ERVENYES"
	case TotalFailed:
		return "ERVENYTELEN"
	default:
		return "BEFEJEZETLEN"
	}
}

// Words returns the Hungarian and English words for i.
func (i Indication) Words() (hu, en string) {
	switch i {
	case TotalPassed:
		return "érvényes", "valid"
	case TotalFailed:
		return "érvénytelen", "invalid"
	default:
		return "befejezetlen", "incomplete"
	}
}

// SubIndication is the ETSI sub-indication that says why a signature is not TOTAL-PASSED.
type SubIndication string

// The sub-indications of ETSI EN 319 102-1 (V1.3.1, §5.1.3, table 5), every one of which the receipt
// schema admits; Under tells under which main indication the standard lists it. Tagdíj's verifier
// reports all but EXPIRED, SIGNATURE_POLICY_NOT_AVAILABLE, REVOKED_CA_NO_POE and
// OUT_OF_BOUNDS_NOT_REVOKED; which finding becomes which pair is tabulated in the package
// documentation of internal/xades.
const (
	None                           SubIndication = ""
	FormatFailure                  SubIndication = "FORMAT_FAILURE"
	HashFailure                    SubIndication = "HASH_FAILURE"
	SigCryptoFailure               SubIndication = "SIG_CRYPTO_FAILURE"
	Revoked                        SubIndication = "REVOKED"
	NotYetValid                    SubIndication = "NOT_YET_VALID"
	RevokedNoPOE                   SubIndication = "REVOKED_NO_POE"
	OutOfBoundsNoPOE               SubIndication = "OUT_OF_BOUNDS_NO_POE"
	NoCertificateChainFound        SubIndication = "NO_CERTIFICATE_CHAIN_FOUND"
	ChainConstraintsFailure        SubIndication = "CHAIN_CONSTRAINTS_FAILURE"
	CertificateChainGeneralFailure SubIndication = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	CryptoConstraintsFailure       SubIndication = "CRYPTO_CONSTRAINTS_FAILURE"
	CryptoConstraintsFailureNoPOE  SubIndication = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	SigConstraintsFailure          SubIndication = "SIG_CONSTRAINTS_FAILURE"
	PolicyProcessingError          SubIndication = "POLICY_PROCESSING_ERROR"
	TimestampOrderFailure          SubIndication = "TIMESTAMP_ORDER_FAILURE"
	NoSigningCertificate           SubIndication = "NO_SIGNING_CERTIFICATE_FOUND"
	SignedDataNotFound             SubIndication = "SIGNED_DATA_NOT_FOUND"
	NoPOE                          SubIndication = "NO_POE"
	TryLater                       SubIndication = "TRY_LATER"
	Expired                        SubIndication = "EXPIRED"
	SignaturePolicyNotAvailable    SubIndication = "SIGNATURE_POLICY_NOT_AVAILABLE"
	RevokedCANoPOE                 SubIndication = "REVOKED_CA_NO_POE"
	OutOfBoundsNotRevoked          SubIndication = "OUT_OF_BOUNDS_NOT_REVOKED"
)

// etsiTotalFailed and etsiIndeterminate are the sub-indications EN 319 102-1 table 5 lists under
// TOTAL-FAILED and INDETERMINATE: together, every sub-indication there is. They are read, never
// written.
var (
	etsiTotalFailed = map[SubIndication]bool{FormatFailure: true, HashFailure: true, SigCryptoFailure: true,
		Revoked: true, Expired: true, NotYetValid: true}
	etsiIndeterminate = map[SubIndication]bool{SigConstraintsFailure: true, ChainConstraintsFailure: true,
		CertificateChainGeneralFailure: true, CryptoConstraintsFailure: true, PolicyProcessingError: true,
		SignaturePolicyNotAvailable: true, TimestampOrderFailure: true, NoSigningCertificate: true,
		NoCertificateChainFound: true, RevokedNoPOE: true, RevokedCANoPOE: true, OutOfBoundsNoPOE: true,
		OutOfBoundsNotRevoked: true, CryptoConstraintsFailureNoPOE: true, NoPOE: true, TryLater: true,
		SignedDataNotFound: true}
)

// Valid reports whether s is one of the sub-indications of EN 319 102-1 table 5 (None is not).
func (s SubIndication) Valid() bool { return etsiTotalFailed[s] || etsiIndeterminate[s] }

// SubIndications returns every sub-indication of EN 319 102-1 table 5, sorted, for documentation and
// tests. The caller owns the slice.
func SubIndications() []SubIndication {
	out := make([]SubIndication, 0, len(etsiTotalFailed)+len(etsiIndeterminate))
	for _, m := range []map[SubIndication]bool{etsiTotalFailed, etsiIndeterminate} {
		for s := range m {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Under reports whether EN 319 102-1 lists s under the main indication i. TOTAL-FAILED is for what
// can never become valid (the signed bytes, the signature value, a revocation or a validity period
// before a proven time); everything a verifier with more data, another trust anchor or another
// validation policy could still accept is INDETERMINATE.
//
// Tagdíj's own packages and receipts (strict mode) depart from the table on purpose: a violation of
// the signature policy in force (SIG_CONSTRAINTS_FAILURE, CHAIN_CONSTRAINTS_FAILURE,
// CRYPTO_CONSTRAINTS_FAILURE, POLICY_PROCESSING_ERROR, TIMESTAMP_ORDER_FAILURE,
// SIGNED_DATA_NOT_FOUND) is final for them, because the policy is fixed and the package can never
// satisfy it; they are reported TOTAL-FAILED with the sub-indication of the constraint class.
func (s SubIndication) Under(i Indication) bool {
	switch i {
	case TotalFailed:
		return etsiTotalFailed[s]
	case Indeterminate:
		return etsiIndeterminate[s]
	case TotalPassed:
		return s == None
	}
	return false
}

// Verdict is an indication with its sub-indication and the codes that led to it.
type Verdict struct {
	Indication Indication        `json:"indication"`
	Sub        SubIndication     `json:"subIndication,omitempty"`
	Findings   []errcode.Finding `json:"findings,omitempty"`
}

// Passed is the verdict of a signature nothing was found against.
func Passed() Verdict { return Verdict{Indication: TotalPassed} }

// Fail records a finding that makes the verdict TOTAL-FAILED (unless it already is).
func (v *Verdict) Fail(sub SubIndication, f errcode.Finding) { v.add(TotalFailed, sub, f) }

// Incomplete records a finding that makes the verdict INDETERMINATE unless it already failed.
func (v *Verdict) Incomplete(sub SubIndication, f errcode.Finding) { v.add(Indeterminate, sub, f) }

// Record records a finding under indication i: Fail for TOTAL-FAILED, Incomplete for INDETERMINATE,
// Warn (the finding's severity set to W0) for TOTAL-PASSED.
func (v *Verdict) Record(i Indication, sub SubIndication, f errcode.Finding) {
	switch i {
	case TotalFailed, Indeterminate:
		v.add(i, sub, f)
	default:
		v.Warn(f)
	}
}

// Warn records a finding that changes nothing but is reported.
func (v *Verdict) Warn(f errcode.Finding) {
	f.Severity = errcode.Warning
	v.Findings = append(v.Findings, f)
}

// rank orders indications: a failure outranks an incomplete result, which outranks a pass. The first
// sub-indication of the highest rank is kept: it names the first reason found.
func rank(i Indication) int {
	switch i {
	case TotalFailed:
		return 2
	case Indeterminate:
		return 1
	}
	return 0
}

func (v *Verdict) add(i Indication, sub SubIndication, f errcode.Finding) {
	if v.Indication == "" {
		v.Indication = TotalPassed
	}
	if rank(i) > rank(v.Indication) {
		v.Indication, v.Sub = i, sub
	}
	v.Findings = append(v.Findings, f)
}

// Merge folds w into v: the worse indication wins, findings accumulate.
func (v *Verdict) Merge(w Verdict) {
	if v.Indication == "" {
		v.Indication = TotalPassed
	}
	if rank(w.Indication) > rank(v.Indication) {
		v.Indication, v.Sub = w.Indication, w.Sub
	}
	v.Findings = append(v.Findings, w.Findings...)
}

// HasErrors reports whether any finding has severity E0.
func (v Verdict) HasErrors() bool {
	for _, f := range v.Findings {
		if f.Severity == errcode.Error {
			return true
		}
	}
	return false
}

// Certificate identifies one certificate of a chain in a report.
type Certificate struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Serial    string    `json:"serial"` // decimal, as XMLDSig writes it
	SHA256    string    `json:"sha256"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	Qualified bool      `json:"qualified,omitempty"`
}

// Evidence describes one piece of revocation evidence the verdict used.
type Evidence struct {
	About      string    `json:"about"`  // subject of the certificate it is about
	Method     string    `json:"method"` // OCSP or CRL
	Status     string    `json:"status"` // good, revoked, unknown
	ProducedAt time.Time `json:"producedAt"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
	Source     string    `json:"source"` // URL, "embedded" or "cache"
}

// Timestamp describes a verified (or refused) time-stamp token.
type Timestamp struct {
	Kind    string    `json:"kind"` // SignatureTimeStamp, SigAndRefsTimeStamp, ArchiveTimeStamp
	GenTime time.Time `json:"genTime"`
	TSA     string    `json:"tsa"`
	Serial  string    `json:"serial"`
	OK      bool      `json:"ok"`
}

// Core is XMLDSig core validity (every reference digest and the SignatureValue), apart from trust,
// policy and time: the question `xmlsec1 --verify` answers.
type Core string

// Core validity values.
const (
	CoreValid       Core = "valid"       // every reference digest and the signature value verify
	CoreInvalid     Core = "invalid"     // a digest or the signature value does not verify, or the structure is broken
	CoreUnsupported Core = "unsupported" // an algorithm, transform or reference Tagdíj never evaluates
	CoreNoKey       Core = "no-key"      // no usable key in the signature (only named, or too weak to use)
)

// Signature is the report of one signature.
type Signature struct {
	ID            string        `json:"id"`
	Verdict       Verdict       `json:"verdict"`
	Core          Core          `json:"coreValidity,omitempty"` // empty when core validation never ran
	Signer        string        `json:"signer,omitempty"`       // subject DN of the signing certificate (SIG-21)
	SignerName    string        `json:"signerName,omitempty"`
	Issuer        string        `json:"issuer,omitempty"`
	Serial        string        `json:"serial,omitempty"`
	Algorithm     string        `json:"algorithm,omitempty"`
	Commitment    string        `json:"commitment,omitempty"`
	Policy        string        `json:"policy,omitempty"`
	SigningTime   time.Time     `json:"signingTime,omitzero"`
	TimestampTime time.Time     `json:"timestampTime,omitzero"` // T: genTime of the SignatureTimeStamp
	Level         string        `json:"level,omitempty"`        // XAdES level reached: B, T, C, X-L, A
	EarliestFinal time.Time     `json:"earliestFinalCheck,omitzero"`
	Chain         []Certificate `json:"chain,omitempty"`
	Evidence      []Evidence    `json:"evidence,omitempty"`
	Timestamps    []Timestamp   `json:"timestamps,omitempty"`
	Covered       []string      `json:"covered,omitempty"` // Ids the verified references cover
	// Certificate is the KeyInfo certificate that verified the signature value (nil when core
	// validation found none), for programs that match signers against a registry. Not serialized:
	// Chain carries its hash.
	Certificate *x509.Certificate `json:"-"`
}

// Document is the report of one file.
type Document struct {
	File          string      `json:"file"`
	SHA256        string      `json:"sha256"`
	Kind          string      `json:"kind"` // package, receipt, container, export, xmldsig
	ValidatedAt   time.Time   `json:"validatedAt"`
	Policy        string      `json:"policy,omitempty"`
	Verdict       Verdict     `json:"verdict"` // of the document: the worst of its signatures and its own findings
	Signatures    []Signature `json:"signatures"`
	EarliestFinal time.Time   `json:"earliestFinalCheck,omitzero"`
}

// Finish sets the document verdict from the signatures' and its own findings: the worst indication
// wins; a document without signatures is TOTAL-FAILED (F012 is the caller's to add).
func (d *Document) Finish() {
	v := d.Verdict
	if v.Indication == "" {
		v.Indication = TotalPassed
	}
	for _, s := range d.Signatures {
		if rank(s.Verdict.Indication) > rank(v.Indication) {
			v.Indication, v.Sub = s.Verdict.Indication, s.Verdict.Sub
		}
		if s.EarliestFinal.After(d.EarliestFinal) {
			d.EarliestFinal = s.EarliestFinal
		}
	}
	d.Verdict = v
}

// AllFindings lists the document's own findings and then every signature's, in order, each distinct
// finding (code, location, text) once: what a receipt or an outcome lists for the whole file.
func (d *Document) AllFindings() []errcode.Finding {
	out := append([]errcode.Finding(nil), d.Verdict.Findings...)
	seen := map[string]bool{}
	key := func(f errcode.Finding) string { return string(f.Code) + "\x00" + f.Location + "\x00" + f.EN }
	for _, f := range out {
		seen[key(f)] = true
	}
	for _, s := range d.Signatures {
		for _, f := range s.Verdict.Findings {
			if k := key(f); !seen[k] {
				seen[k] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// WriteJSON writes reports as indented JSON: one object for one document, an array otherwise.
func WriteJSON(w io.Writer, docs ...Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(docs) == 1 {
		return enc.Encode(docs[0])
	}
	return enc.Encode(docs)
}

// WriteText writes a bilingual human report.
func WriteText(w io.Writer, d Document) error {
	var b strings.Builder
	hu, en := d.Verdict.Indication.Words()
	fmt.Fprintf(&b, "%s\n", d.File)
	fmt.Fprintf(&b, "  Eredmény / Result:        %s / %s (%s", strings.ToUpper(hu), strings.ToUpper(en), d.Verdict.Indication)
	if d.Verdict.Sub != None {
		fmt.Fprintf(&b, ", %s", d.Verdict.Sub)
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "  SHA-256:                  %s\n", d.SHA256)
	fmt.Fprintf(&b, "  Ellenőrizve / Validated:  %s\n", d.ValidatedAt.UTC().Format(time.RFC3339))
	if d.Policy != "" {
		fmt.Fprintf(&b, "  Szabályzat / Policy:      %s\n", d.Policy)
	}
	if !d.EarliestFinal.IsZero() && d.Verdict.Indication == Indeterminate {
		fmt.Fprintf(&b, "  Végleges ellenőrzés legkorábban / Final check not before: %s\n", d.EarliestFinal.UTC().Format(time.RFC3339))
	}
	writeFindings(&b, "  ", d.Verdict.Findings)
	for _, s := range d.Signatures {
		hu, en := s.Verdict.Indication.Words()
		fmt.Fprintf(&b, "\n  Aláírás / Signature %s: %s / %s", s.ID, hu, en)
		if s.Verdict.Sub != None {
			fmt.Fprintf(&b, " (%s)", s.Verdict.Sub)
		}
		b.WriteString("\n")
		line := func(label, value string) {
			if value != "" {
				fmt.Fprintf(&b, "    %-34s %s\n", label+":", value)
			}
		}
		line("Aláíró / Signer", s.Signer)
		line("Kibocsátó / Issuer", s.Issuer)
		line("Sorozatszám / Serial", s.Serial)
		line("Algoritmus / Algorithm", s.Algorithm)
		line("Kötelezettségvállalás / Commitment", s.Commitment)
		line("Szint / Level", s.Level)
		if !s.SigningTime.IsZero() {
			line("Aláírás ideje / Signing time", s.SigningTime.UTC().Format(time.RFC3339))
		}
		if !s.TimestampTime.IsZero() {
			line("Időbélyeg / Timestamp (T)", s.TimestampTime.UTC().Format(time.RFC3339))
		}
		for i, c := range s.Chain {
			line(fmt.Sprintf("Lánc / Chain [%d]", i), c.Subject)
		}
		for _, e := range s.Evidence {
			line("Visszavonás / Revocation", fmt.Sprintf("%s %s %s (%s, %s)", e.About, e.Method, e.Status, e.ProducedAt.UTC().Format(time.RFC3339), e.Source))
		}
		writeFindings(&b, "    ", s.Verdict.Findings)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeFindings(b *strings.Builder, indent string, fs []errcode.Finding) {
	sorted := append([]errcode.Finding(nil), fs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Severity < sorted[j].Severity })
	for _, f := range sorted {
		loc := ""
		if f.Location != "" {
			loc = " [" + f.Location + "]"
		}
		fmt.Fprintf(b, "%s%s %s%s: %s\n%s      %s\n", indent, f.Severity, f.Code, loc, f.HU, indent, f.EN)
	}
}
