package receipt

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
)

// Rule names one requirement Check enforces. Two kinds exist: the consistency rules that nyugta.xsd
// documents but XSD 1.0 cannot express (the Rule… constants whose names start with Accepted, Rejected
// or StateIndication), and the schema's own facets (RuleSchema), checked again in Go so that Marshal
// never writes a document the schema refuses.
type Rule string

// The consistency rules, from nyugta.xsd's documentation.
const (
	// RuleAcceptedDeclarant: BEFOGADVA implies that Bevallo is present.
	RuleAcceptedDeclarant Rule = "accepted-declarant"
	// RuleAcceptedPackage: BEFOGADVA implies that the package's Azonosito, Idoszak and Tipus are present.
	RuleAcceptedPackage Rule = "accepted-package"
	// RuleAcceptedState: BEFOGADVA implies that Elovizsgalat/Allapot is not ERVENYTELEN.
	RuleAcceptedState Rule = "accepted-state"
	// RuleAcceptedNoError: BEFOGADVA implies that no Hiba has severity E0.
	RuleAcceptedNoError Rule = "accepted-no-error"
	// RuleAcceptedFinalCheck: BEFOGADVA implies that LegkorabbiVeglegesEllenorzes is present.
	RuleAcceptedFinalCheck Rule = "accepted-final-check"
	// RuleRejectedError: ELUTASITVA implies at least one Hiba with severity E0.
	RuleRejectedError Rule = "rejected-error"
	// RuleRejectedFinalCheck: LegkorabbiVeglegesEllenorzes is absent for rejections (its documentation
	// in nyugta.xsd); a rejected package is never finally checked.
	RuleRejectedFinalCheck Rule = "rejected-final-check"
	// RuleStateIndication: each signature's Allapot and Indikacio agree (ERVENYES = TOTAL-PASSED,
	// ERVENYTELEN = TOTAL-FAILED, BEFEJEZETLEN = INDETERMINATE).
	RuleStateIndication Rule = "state-indication"
	// RuleSchema: a value outside the schema's types (pattern, enumeration, length, count, uniqueness of
	// signature ids) or the declarant identifier's length not matching its type (nyugta.xsd leaves that
	// pairing to the application).
	RuleSchema Rule = "schema"
)

// Violation is one broken rule: which, where (the element path in the receipt) and what, in Hungarian
// and English.
type Violation struct {
	Rule  Rule
	Field string
	Msg   string
}

func (v Violation) String() string { return fmt.Sprintf("%s (%s): %s", v.Field, v.Rule, v.Msg) }

// CheckError lists every rule a receipt breaks, in document order.
type CheckError struct {
	Violations []Violation
}

func (e *CheckError) Error() string {
	var b strings.Builder
	b.WriteString("receipt: inconsistent / ellentmondásos nyugta: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// Has reports whether the error includes a violation of r.
func (e *CheckError) Has(r Rule) bool {
	for _, v := range e.Violations {
		if v.Rule == r {
			return true
		}
	}
	return false
}

var (
	uuidRE      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	fundCodeRE  = regexp.MustCompile(`^[0-9]{4}$`)
	codeRE      = regexp.MustCompile(`^[TFABDR][0-9]{3}$`)
	sigIDRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$`)
	digitsRE    = regexp.MustCompile(`^[0-9]+$`)
	minInstant  = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	pastInstant = time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// Check reports, as a *CheckError, every way r breaks nyugta.xsd or the consistency rules its
// documentation states (see the Rule constants); nil means Marshal writes a schema-valid, consistent
// receipt. Marshal refuses what Check refuses, and Parse applies Check after schema validation, so a
// receipt that Parse returns satisfies every rule.
func (r *Receipt) Check() error {
	c := &checker{}
	if r == nil {
		c.add(RuleSchema, "Nyugta", "hiányzó nyugta / nil receipt")
		return c.err()
	}
	c.schema(r)
	c.consistency(r)
	return c.err()
}

type checker struct{ v []Violation }

func (c *checker) add(rule Rule, field, format string, args ...any) {
	c.v = append(c.v, Violation{Rule: rule, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	if len(c.v) == 0 {
		return nil
	}
	return &CheckError{Violations: c.v}
}

// schema re-checks the facets of nyugta.xsd.
func (c *checker) schema(r *Receipt) {
	if !uuidRE.MatchString(r.ID) {
		c.add(RuleSchema, "Azonosito", "nem kisbetűs UUID / not a lower-case UUID: %q", r.ID)
	}
	if !fundCodeRE.MatchString(r.Fund.Code) {
		c.add(RuleSchema, "Penztar/Kod", "nem négy számjegy / not four digits: %q", r.Fund.Code)
	}
	c.name("Penztar/Nev", r.Fund.Name)
	if d := r.Declarant; d != nil {
		if !validDeclarantID(d.IDType, d.ID) {
			c.add(RuleSchema, "Bevallo", "az azonosító nem illik a típusához / identifier %q does not fit type %q", d.ID, d.IDType)
		}
		c.name("Bevallo/@nev", d.Name)
	}
	p := r.Package
	c.text("BeerkezettCsomag/Fajlnev", p.FileName, 0, MaxFileNameChars)
	if p.Size < 0 {
		c.add(RuleSchema, "BeerkezettCsomag/Meret", "negatív méret / negative size %d", p.Size)
	}
	if p.SubmissionID != "" && !uuidRE.MatchString(p.SubmissionID) {
		c.add(RuleSchema, "BeerkezettCsomag/Azonosito", "nem kisbetűs UUID / not a lower-case UUID: %q", p.SubmissionID)
	}
	if p.Period != (declaration.Period{}) && !p.Period.Valid() {
		c.add(RuleSchema, "BeerkezettCsomag/Idoszak", "érvénytelen időszak / invalid period %d-%d", p.Period.Year, int(p.Period.Month))
	}
	if p.Type != "" && !p.Type.Valid() {
		c.add(RuleSchema, "BeerkezettCsomag/Tipus", "érvénytelen típus / invalid type %q", p.Type)
	}
	c.instant("Erkezes", r.Arrival, true)
	if !r.Result.Valid() {
		c.add(RuleSchema, "Eredmeny", "érvénytelen eredmény / invalid result %q", r.Result)
	}
	pc := r.PreCheck
	if !pc.State.Valid() {
		c.add(RuleSchema, "Elovizsgalat/Allapot", "érvénytelen állapot / invalid state %q", pc.State)
	}
	if pol := pc.Policy; pol != nil {
		// xs:anyURI collapses white space, so only a collapsed value survives a round trip.
		if pol.ID == "" || utf8.RuneCountInString(pol.ID) > MaxPolicyIDChars || pol.ID != collapseSpace(pol.ID) || !xmlText(pol.ID) {
			c.add(RuleSchema, "Elovizsgalat/Szabalyzat/Azonosito", "1–%d karakter, összevont szóközökkel / 1 to %d characters, white space collapsed", MaxPolicyIDChars, MaxPolicyIDChars)
		}
	}
	if len(pc.Signatures) > MaxSignatures {
		c.add(RuleSchema, "Elovizsgalat/Alairas", "%d aláírás, legfeljebb %d lehet / %d signatures, at most %d", len(pc.Signatures), MaxSignatures, len(pc.Signatures), MaxSignatures)
	}
	seen := make(map[string]bool)
	for i, s := range pc.Signatures {
		f := fmt.Sprintf("Elovizsgalat/Alairas[%d]", i+1)
		if s.ID != "" {
			if !sigIDRE.MatchString(s.ID) {
				c.add(RuleSchema, f+"/AlairasAzonosito", "érvénytelen azonosító / invalid id %q", s.ID)
			}
			if seen[s.ID] {
				c.add(RuleSchema, f+"/AlairasAzonosito", "ismétlődő azonosító / duplicate id %q", s.ID)
			}
			seen[s.ID] = true
		}
		if cert := s.Certificate; cert != nil {
			c.text(f+"/AlairoDN", cert.Subject, 1, MaxDNChars)
			c.text(f+"/KiadoDN", cert.Issuer, 1, MaxDNChars)
			switch {
			case cert.Serial == nil:
				c.add(RuleSchema, f+"/Sorozatszam", "hiányzó sorozatszám / missing serial")
			case cert.Serial.Sign() < 0:
				c.add(RuleSchema, f+"/Sorozatszam", "negatív sorozatszám / negative serial")
			case len(cert.Serial.String()) > MaxSerialDigits:
				c.add(RuleSchema, f+"/Sorozatszam", "több mint %d számjegy / more than %d digits", MaxSerialDigits, MaxSerialDigits)
			}
		}
		if s.Role != "" && !s.Role.Valid() {
			c.add(RuleSchema, f+"/Szerep", "érvénytelen szerep / invalid role %q", s.Role)
		}
		c.instant(f+"/AlairasIdeje", s.SigningTime, false)
		c.instant(f+"/IdobelyegIdeje", s.TimestampTime, false)
		if !s.State.Valid() {
			c.add(RuleSchema, f+"/Allapot", "érvénytelen állapot / invalid state %q", s.State)
		}
		if !s.Indication.Valid() {
			c.add(RuleSchema, f+"/Indikacio", "érvénytelen jelzés / invalid indication %q", s.Indication)
		}
		if s.SubIndication != "" && !s.SubIndication.Valid() {
			c.add(RuleSchema, f+"/AlIndikacio", "érvénytelen aljelzés / invalid sub-indication %q", s.SubIndication)
		}
	}
	c.instant("LegkorabbiVeglegesEllenorzes", r.EarliestFinalCheck, false)
	if len(r.Errors) > MaxErrors {
		c.add(RuleSchema, "Hibak", "%d hiba, legfeljebb %d lehet / %d findings, at most %d", len(r.Errors), MaxErrors, len(r.Errors), MaxErrors)
	}
	for i, e := range r.Errors {
		f := fmt.Sprintf("Hibak/Hiba[%d]", i+1)
		if !codeRE.MatchString(string(e.Code)) {
			c.add(RuleSchema, f+"/Kod", "érvénytelen kód / invalid code %q", e.Code)
		}
		if e.Severity != errcode.Error && e.Severity != errcode.Warning {
			c.add(RuleSchema, f+"/Sulyossag", "érvénytelen súlyosság / invalid severity %q", e.Severity)
		}
		c.text(f+"/Hely", e.Location, 0, MaxLocationChars)
		c.text(f+"/SzovegHU", e.HU, 1, MaxTextChars)
		c.text(f+"/SzovegEN", e.EN, 1, MaxTextChars)
	}
}

// consistency applies the rules nyugta.xsd documents but cannot express.
func (c *checker) consistency(r *Receipt) {
	switch r.Result {
	case Accepted:
		if r.Declarant == nil {
			c.add(RuleAcceptedDeclarant, "Bevallo", "befogadott csomag nyugtájából hiányzik a bevalló / accepted without the declarant")
		}
		p := r.Package
		var missing []string
		if p.SubmissionID == "" {
			missing = append(missing, "Azonosito")
		}
		if p.Period == (declaration.Period{}) {
			missing = append(missing, "Idoszak")
		}
		if p.Type == "" {
			missing = append(missing, "Tipus")
		}
		if len(missing) > 0 {
			c.add(RuleAcceptedPackage, "BeerkezettCsomag", "befogadott csomag adatai hiányoznak / accepted without %s", strings.Join(missing, ", "))
		}
		if r.PreCheck.State == Invalid {
			c.add(RuleAcceptedState, "Elovizsgalat/Allapot", "befogadott, de érvénytelen / accepted although the pre-check is ERVENYTELEN")
		}
		for i, e := range r.Errors {
			if e.Severity == errcode.Error {
				c.add(RuleAcceptedNoError, fmt.Sprintf("Hibak/Hiba[%d]", i+1), "befogadott, de %s E0 hiba / accepted with E0 finding %s", e.Code, e.Code)
			}
		}
		if r.EarliestFinalCheck.IsZero() {
			c.add(RuleAcceptedFinalCheck, "LegkorabbiVeglegesEllenorzes", "befogadott, de nincs végleges ellenőrzési időpont / accepted without the earliest final-check time")
		}
	case Rejected:
		if !HasE0(r.Errors) {
			c.add(RuleRejectedError, "Hibak", "elutasított, de nincs E0 hiba / rejected without an E0 finding")
		}
		if !r.EarliestFinalCheck.IsZero() {
			c.add(RuleRejectedFinalCheck, "LegkorabbiVeglegesEllenorzes", "elutasított csomagnak nincs végleges ellenőrzése / a rejection has no final check")
		}
	}
	for i, s := range r.PreCheck.Signatures {
		if s.State.Valid() && s.Indication.Valid() && IndicationOf(s.State) != s.Indication {
			c.add(RuleStateIndication, fmt.Sprintf("Elovizsgalat/Alairas[%d]", i+1), "%s állapothoz %s jelzés tartozik, nem %s / state %s needs %s, not %s",
				s.State, IndicationOf(s.State), s.Indication, s.State, IndicationOf(s.State), s.Indication)
		}
	}
}

// name checks an ny:Nev value: 1 to 200 characters after white-space collapsing.
func (c *checker) name(field, s string) {
	n := utf8.RuneCountInString(collapseSpace(s))
	if n < 1 || n > MaxNameChars || !xmlText(s) {
		c.add(RuleSchema, field, "1–%d karakteres név kell / needs a name of 1 to %d characters", MaxNameChars, MaxNameChars)
	}
}

// text checks a string type with length facets in characters; it must also hold only XML characters,
// which is what keeps a round trip exact.
func (c *checker) text(field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	if n < min || n > max {
		c.add(RuleSchema, field, "%d karakter, %d–%d lehet / %d characters, %d to %d allowed", n, min, max, n, min, max)
	}
	if !xmlText(s) {
		c.add(RuleSchema, field, "XML-ben nem írható karakter / character not allowed in XML")
	}
}

// instant checks a UTCIdopont: a four-digit year (1–9999; XSD 1.0 has no year zero). required says
// whether the zero time (absent) is an error.
func (c *checker) instant(field string, t time.Time, required bool) {
	if t.IsZero() {
		if required {
			c.add(RuleSchema, field, "hiányzó időpont / missing time")
		}
		return
	}
	if t.Before(minInstant) || !t.Before(pastInstant) {
		c.add(RuleSchema, field, "az év 1 és 9999 között lehet / year must be 1 to 9999: %s", t.UTC().Format(time.RFC3339))
	}
}

// validDeclarantID pairs the identifier's length with its type (nyugta.xsd: "the application checks
// that pairing"): adószám 8-digit core or 11 digits, adóazonosító jel 10 digits starting with 8, TAJ 9
// digits. Check digits are not checked here: a receipt echoes what the signed metadata said, and the
// receiver reports a wrong check digit as a finding, not by refusing to answer.
func validDeclarantID(t declaration.IDType, id string) bool {
	if !digitsRE.MatchString(id) {
		return false
	}
	switch t {
	case declaration.IDAdoszam:
		return len(id) == 8 || len(id) == 11
	case declaration.IDAdoazonosito:
		return len(id) == 10 && id[0] == '8'
	case declaration.IDTAJ:
		return len(id) == 9
	}
	return false
}

// xmlText reports whether s is valid UTF-8 made only of characters XML 1.0 allows.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func collapseSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}), " ")
}
