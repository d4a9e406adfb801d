package receipt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/encoding/charmap"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/schema"
)

var (
	setOnce sync.Once
	theSet  *schema.Set
	setErr  error
)

// schemas compiles the embedded schemas once per test binary (the fuzz target calls it per input).
func schemas(t testing.TB) *schema.Set {
	t.Helper()
	setOnce.Do(func() { theSet, setErr = schema.Load(libxml.Parser{}) })
	if setErr != nil {
		t.Fatal(setErr)
	}
	return theSet
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

var testFund = Fund{Code: "0123", Name: "Minta Magánnyugdíjpénztár"}

// fullAcceptance is an acceptance with every optional part present.
func fullAcceptance() *Receipt {
	serial, _ := new(big.Int).SetString("46531509088423167703827838132789149111794285545", 10)
	return &Receipt{
		ID:        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
		Fund:      testFund,
		Declarant: &Declarant{IDType: declaration.IDAdoszam, ID: "12345676", Name: "Mintaker Kft."},
		Package: ReceivedPackage{
			FileName:     "TBA_12345676_0123_202601_B001_20260210T081200Z.es3",
			Size:         48213,
			SHA256:       sha256.Sum256([]byte("package bytes")),
			SubmissionID: "3f2c8a4e-1b7d-4c9a-8e21-5d0f6a7b9c13",
			Period:       declaration.Period{Year: 2026, Month: time.January},
			Type:         declaration.Normal,
		},
		Arrival: mustTime("2026-02-10T08:15:00.123Z"),
		Result:  Accepted,
		PreCheck: PreCheck{
			State:  Incomplete,
			Policy: &PolicyRef{ID: "urn:x-mnyp:policy:tagdij:1.0", SHA256: sha256.Sum256([]byte("policy"))},
			Signatures: []SignatureResult{
				{
					ID:            "sig-1",
					Certificate:   &CertificateRef{Subject: "CN=Kovács Éva,O=Mintaker Kft.,C=HU", Issuer: "CN=Minta Minősített CA,O=Minta Bizalmi Szolgáltató Zrt.,C=HU", Serial: serial},
					Role:          Jointly,
					SigningTime:   mustTime("2026-02-10T08:10:02Z"),
					TimestampTime: mustTime("2026-02-10T08:11:40.5Z"),
					State:         Incomplete, Indication: report.Indeterminate, SubIndication: report.TryLater,
				},
				{
					ID:            "sig-2",
					Certificate:   &CertificateRef{Subject: "CN=Nagy János,O=Mintaker Kft.,C=HU", Issuer: "CN=Minta Minősített CA,O=Minta Bizalmi Szolgáltató Zrt.,C=HU", Serial: big.NewInt(0)},
					Role:          Jointly,
					SigningTime:   mustTime("2026-02-10T08:11:00Z"),
					TimestampTime: mustTime("2026-02-10T08:11:41.000000001Z"),
					State:         Incomplete, Indication: report.Indeterminate, SubIndication: report.TryLater,
				},
			},
		},
		EarliestFinalCheck: mustTime("2026-02-11T08:11:41Z"),
		Errors: []errcode.Finding{
			{Code: errcode.A012, Severity: errcode.Warning, Location: "sig-1", HU: "A türelmi idő még nem telt le.", EN: "The grace period is not over."},
		},
	}
}

// minimalRejection is a rejection of an upload that could not be parsed at all.
func minimalRejection() *Receipt {
	return &Receipt{
		ID:       "0e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0",
		Fund:     testFund,
		Package:  ReceivedPackage{FileName: "", Size: 0, SHA256: sha256.Sum256(nil)},
		Arrival:  mustTime("2026-02-10T08:15:00Z"),
		Result:   Rejected,
		PreCheck: PreCheck{State: Invalid},
		Errors:   []errcode.Finding{errcode.New(errcode.T005, "", "")},
	}
}

// sameReceipt compares two receipts field by field: serial numbers by value (big.Int's internal
// representation of an equal number may differ) and times as instants.
func sameReceipt(t *testing.T, got, want *Receipt) {
	t.Helper()
	if len(got.PreCheck.Signatures) != len(want.PreCheck.Signatures) {
		t.Fatalf("%d signatures, want %d", len(got.PreCheck.Signatures), len(want.PreCheck.Signatures))
	}
	norm := func(r *Receipt) *Receipt {
		c := *r
		c.Arrival = c.Arrival.UTC()
		c.EarliestFinalCheck = c.EarliestFinalCheck.UTC()
		c.PreCheck.Signatures = nil
		for _, s := range r.PreCheck.Signatures {
			if s.Certificate != nil {
				cert := *s.Certificate
				cert.Serial = nil // compared below
				s.Certificate = &cert
			}
			s.SigningTime, s.TimestampTime = s.SigningTime.UTC(), s.TimestampTime.UTC()
			c.PreCheck.Signatures = append(c.PreCheck.Signatures, s)
		}
		return &c
	}
	for i := range want.PreCheck.Signatures {
		wc, gc := want.PreCheck.Signatures[i].Certificate, got.PreCheck.Signatures[i].Certificate
		if (wc == nil) != (gc == nil) || (wc != nil && wc.Serial.Cmp(gc.Serial) != 0) {
			t.Fatalf("signature %d certificate: got %+v, want %+v", i+1, gc, wc)
		}
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("receipts differ:\n got %+v\nwant %+v", g, w)
	}
}

// marshalValid marshals r and proves the bytes valid against nyugta.xsd.
func marshalValid(t *testing.T, r *Receipt) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if err := schemas(t).ValidateBytes(schema.Receipt, b); err != nil {
		t.Fatalf("marshalled receipt is not schema-valid: %v\n%s", err, b)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *Receipt
	}{
		{"full acceptance", fullAcceptance()},
		{"minimal rejection", minimalRejection()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := marshalValid(t, tc.r)
			got, err := Parse(b, schemas(t))
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, b)
			}
			sameReceipt(t, got, tc.r)
			again, err := got.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("second Marshal differs:\n%s\n---\n%s", b, again)
			}
		})
	}
}

// The marshalled form is the schema's: the root in the receipt namespace, optional elements absent
// when empty, times in UTC with Z and a trimmed fraction.
func TestMarshalForm(t *testing.T) {
	b := marshalValid(t, fullAcceptance())
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<Nyugta xmlns="urn:x-mnyp:nyugta:1">`,
		`<Erkezes>2026-02-10T08:15:00.123Z</Erkezes>`,
		`<IdobelyegIdeje>2026-02-10T08:11:41.000000001Z</IdobelyegIdeje>`,
		`<Sorozatszam>0</Sorozatszam>`,
		`<Bevallo azonositoTipus="adoszam" azonosito="12345676" nev="Mintaker Kft.">`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("marshalled receipt lacks %s", want)
		}
	}
	if n := bytes.Count(b, []byte("xmlns")); n != 1 {
		t.Errorf("%d namespace declarations, want 1", n)
	}
	m := marshalValid(t, minimalRejection())
	for _, absent := range []string{"Bevallo", "Szabalyzat", "Alairas", "LegkorabbiVeglegesEllenorzes", "Hely", "Idoszak"} {
		if bytes.Contains(m, []byte("<"+absent)) {
			t.Errorf("minimal rejection has %s", absent)
		}
	}
	// An arrival given in another zone is written in UTC.
	r := minimalRejection()
	r.Arrival = time.Date(2026, 7, 1, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	if b := marshalValid(t, r); !bytes.Contains(b, []byte("<Erkezes>2026-07-01T08:00:00Z</Erkezes>")) {
		t.Errorf("arrival not written in UTC:\n%s", b)
	}
}

// Every marshalled variant is valid against nyugta.xsd: each enumeration value, absent optional
// parts, the schema's maximum counts and lengths, and text that needs escaping.
func TestMarshalledVariantsAreSchemaValid(t *testing.T) {
	var variants []*Receipt
	add := func(f func(r *Receipt)) {
		r := fullAcceptance()
		f(r)
		variants = append(variants, r)
	}
	for _, role := range []Role{Alone, Jointly, NotRegistered, ""} {
		add(func(r *Receipt) { r.PreCheck.Signatures[0].Role = role })
	}
	for _, sub := range report.SubIndications() {
		add(func(r *Receipt) { r.PreCheck.Signatures[1].SubIndication = sub })
	}
	for _, st := range []State{Valid, Invalid, Incomplete} {
		add(func(r *Receipt) {
			r.PreCheck.Signatures[0].State, r.PreCheck.Signatures[0].Indication = st, IndicationOf(st)
		})
	}
	for _, typ := range []declaration.IDType{declaration.IDAdoszam, declaration.IDAdoazonosito, declaration.IDTAJ} {
		id := map[declaration.IDType]string{declaration.IDAdoszam: "12345676-2-41", declaration.IDAdoazonosito: "8123456789", declaration.IDTAJ: "123456788"}[typ]
		id = strings.ReplaceAll(id, "-", "")
		add(func(r *Receipt) { r.Declarant = &Declarant{IDType: typ, ID: id, Name: "Kft. & <Társa> \"Bt.\""} })
	}
	add(func(r *Receipt) { r.PreCheck.State = Valid; r.Errors = nil; r.PreCheck.Policy = nil })
	add(func(r *Receipt) {
		// Nothing but the mandatory parts of a signature entry.
		r.PreCheck.Signatures = []SignatureResult{{State: Incomplete, Indication: report.Indeterminate}}
	})
	add(func(r *Receipt) {
		r.PreCheck.Signatures = nil
		for i := range MaxSignatures {
			r.PreCheck.Signatures = append(r.PreCheck.Signatures, SignatureResult{ID: fmt.Sprintf("s%d", i), State: Valid, Indication: report.TotalPassed})
		}
		r.Errors = nil
		for i := range MaxErrors {
			r.Errors = append(r.Errors, errcode.Finding{Code: "W123", Severity: errcode.Warning, HU: "h", EN: "e"})
			r.Errors[i].Code = errcode.Code(fmt.Sprintf("D%03d", i%1000))
		}
	})
	add(func(r *Receipt) {
		long := strings.Repeat("ő", MaxTextChars)
		r.Errors[0].HU, r.Errors[0].EN = long, "]]> <&> \"' \t\r\n end"
		r.Errors[0].Location = strings.Repeat("é", MaxLocationChars)
		r.Package.FileName = strings.Repeat("ű", MaxFileNameChars)
		r.Fund.Name = strings.Repeat("Á", MaxNameChars)
		r.PreCheck.Signatures[0].Certificate.Subject = strings.Repeat("x", MaxDNChars)
		r.PreCheck.Signatures[0].Certificate.Serial, _ = new(big.Int).SetString(strings.Repeat("9", MaxSerialDigits), 10)
		r.PreCheck.Signatures[0].ID = "_" + strings.Repeat("a", 63)
		r.PreCheck.Policy.ID = strings.Repeat("u", MaxPolicyIDChars)
		r.Package.Size = 1<<63 - 1
	})
	add(func(r *Receipt) {
		r.Package.Type = declaration.Correction
		r.Package.Period = declaration.Period{Year: 1998, Month: time.December}
	})
	variants = append(variants, minimalRejection())
	rej := minimalRejection()
	rej.Declarant = &Declarant{IDType: declaration.IDTAJ, ID: "123456788", Name: "Minta Bt."}
	rej.PreCheck = fullAcceptance().PreCheck
	rej.PreCheck.State = Invalid
	rej.PreCheck.Signatures[0].State, rej.PreCheck.Signatures[0].Indication, rej.PreCheck.Signatures[0].SubIndication = Invalid, report.TotalFailed, report.HashFailure
	rej.Errors = append(rej.Errors, errcode.New(errcode.A002, "sig-1", ""), errcode.Finding{Code: errcode.A012, Severity: errcode.Warning, HU: "h", EN: "e"})
	variants = append(variants, rej)

	for i, r := range variants {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			b := marshalValid(t, r)
			got, err := Parse(b, schemas(t))
			if err != nil {
				t.Fatalf("Parse of a marshalled receipt: %v", err)
			}
			again, err := got.Marshal()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("not stable through Parse and Marshal (err %v)", err)
			}
		})
	}
}

// Each consistency rule and a sample of the schema facets: the broken receipt is refused by Check and
// by Marshal with a *CheckError naming the rule.
func TestCheckRules(t *testing.T) {
	acc, rej := fullAcceptance, minimalRejection
	for _, tc := range []struct {
		name string
		base func() *Receipt
		mut  func(r *Receipt)
		rule Rule
	}{
		{"accepted without declarant", acc, func(r *Receipt) { r.Declarant = nil }, RuleAcceptedDeclarant},
		{"accepted without submission id", acc, func(r *Receipt) { r.Package.SubmissionID = "" }, RuleAcceptedPackage},
		{"accepted without period", acc, func(r *Receipt) { r.Package.Period = declaration.Period{} }, RuleAcceptedPackage},
		{"accepted without type", acc, func(r *Receipt) { r.Package.Type = "" }, RuleAcceptedPackage},
		{"accepted while invalid", acc, func(r *Receipt) { r.PreCheck.State = Invalid }, RuleAcceptedState},
		{"accepted with an E0 finding", acc, func(r *Receipt) { r.Errors = append(r.Errors, errcode.New(errcode.A001, "sig-2", "")) }, RuleAcceptedNoError},
		{"accepted without final-check time", acc, func(r *Receipt) { r.EarliestFinalCheck = time.Time{} }, RuleAcceptedFinalCheck},
		{"rejected without findings", rej, func(r *Receipt) { r.Errors = nil }, RuleRejectedError},
		{"rejected with warnings only", rej, func(r *Receipt) { r.Errors[0].Severity = errcode.Warning }, RuleRejectedError},
		{"rejected with final-check time", rej, func(r *Receipt) { r.EarliestFinalCheck = r.Arrival.Add(24 * time.Hour) }, RuleRejectedFinalCheck},
		{"ERVENYES with TOTAL-FAILED", acc, func(r *Receipt) {
			r.PreCheck.Signatures[0].State, r.PreCheck.Signatures[0].Indication = Valid, report.TotalFailed
		}, RuleStateIndication},
		{"ERVENYTELEN with TOTAL-PASSED", acc, func(r *Receipt) {
			r.PreCheck.Signatures[1].State, r.PreCheck.Signatures[1].Indication = Invalid, report.TotalPassed
		}, RuleStateIndication},
		{"BEFEJEZETLEN with TOTAL-PASSED", acc, func(r *Receipt) { r.PreCheck.Signatures[1].Indication = report.TotalPassed }, RuleStateIndication},
		{"ERVENYES with INDETERMINATE", acc, func(r *Receipt) { r.PreCheck.Signatures[0].State = Valid }, RuleStateIndication},

		{"upper-case receipt id", acc, func(r *Receipt) { r.ID = strings.ToUpper(r.ID) }, RuleSchema},
		{"fund code with a non-ASCII digit", acc, func(r *Receipt) { r.Fund.Code = "012٣" }, RuleSchema},
		{"fund name only spaces", acc, func(r *Receipt) { r.Fund.Name = " \t " }, RuleSchema},
		{"tax number of 9 digits", acc, func(r *Receipt) { r.Declarant.ID = "123456789" }, RuleSchema},
		{"personal tax id not starting with 8", acc, func(r *Receipt) {
			r.Declarant = &Declarant{IDType: declaration.IDAdoazonosito, ID: "7123456789", Name: "X"}
		}, RuleSchema},
		{"unknown id type", acc, func(r *Receipt) { r.Declarant.IDType = "szemelyi" }, RuleSchema},
		{"file name too long", rej, func(r *Receipt) { r.Package.FileName = strings.Repeat("a", MaxFileNameChars+1) }, RuleSchema},
		{"file name with NUL", rej, func(r *Receipt) { r.Package.FileName = "a\x00b" }, RuleSchema},
		{"file name invalid UTF-8", rej, func(r *Receipt) { r.Package.FileName = "a\xffb" }, RuleSchema},
		{"negative size", rej, func(r *Receipt) { r.Package.Size = -1 }, RuleSchema},
		{"bad submission id", acc, func(r *Receipt) { r.Package.SubmissionID = "not-a-uuid" }, RuleSchema},
		{"month 13", acc, func(r *Receipt) { r.Package.Period.Month = 13 }, RuleSchema},
		{"type X", acc, func(r *Receipt) { r.Package.Type = "X" }, RuleSchema},
		{"no arrival", rej, func(r *Receipt) { r.Arrival = time.Time{} }, RuleSchema},
		{"arrival in year 10000", rej, func(r *Receipt) { r.Arrival = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, RuleSchema},
		{"unknown result", rej, func(r *Receipt) { r.Result = "BEFOGADVA " }, RuleSchema},
		{"unknown state", rej, func(r *Receipt) { r.PreCheck.State = "" }, RuleSchema},
		{"policy id with surrounding space", acc, func(r *Receipt) { r.PreCheck.Policy.ID = " urn:x " }, RuleSchema},
		{"empty policy id", acc, func(r *Receipt) { r.PreCheck.Policy.ID = "" }, RuleSchema},
		{"33 signatures", acc, func(r *Receipt) {
			for len(r.PreCheck.Signatures) <= MaxSignatures {
				r.PreCheck.Signatures = append(r.PreCheck.Signatures, SignatureResult{State: Valid, Indication: report.TotalPassed})
			}
		}, RuleSchema},
		{"duplicate signature id", acc, func(r *Receipt) { r.PreCheck.Signatures[1].ID = "sig-1" }, RuleSchema},
		{"signature id starting with a digit", acc, func(r *Receipt) { r.PreCheck.Signatures[1].ID = "1sig" }, RuleSchema},
		{"empty subject DN", acc, func(r *Receipt) { r.PreCheck.Signatures[0].Certificate.Subject = "" }, RuleSchema},
		{"nil serial", acc, func(r *Receipt) { r.PreCheck.Signatures[0].Certificate.Serial = nil }, RuleSchema},
		{"negative serial", acc, func(r *Receipt) { r.PreCheck.Signatures[0].Certificate.Serial = big.NewInt(-5) }, RuleSchema},
		{"51-digit serial", acc, func(r *Receipt) {
			r.PreCheck.Signatures[0].Certificate.Serial, _ = new(big.Int).SetString("1"+strings.Repeat("0", 50), 10)
		}, RuleSchema},
		{"unknown role", acc, func(r *Receipt) { r.PreCheck.Signatures[0].Role = "FONOK" }, RuleSchema},
		{"unknown indication", acc, func(r *Receipt) { r.PreCheck.Signatures[0].Indication = "PASSED" }, RuleSchema},
		{"unknown sub-indication", acc, func(r *Receipt) { r.PreCheck.Signatures[0].SubIndication = "LATER" }, RuleSchema},
		{"257 findings", rej, func(r *Receipt) {
			for len(r.Errors) <= MaxErrors {
				r.Errors = append(r.Errors, errcode.New(errcode.T001, "", ""))
			}
		}, RuleSchema},
		{"bad code", rej, func(r *Receipt) { r.Errors[0].Code = "X001" }, RuleSchema},
		{"unknown severity", rej, func(r *Receipt) {
			r.Errors = append(r.Errors, errcode.Finding{Code: "T001", Severity: "E1", HU: "h", EN: "e"})
		}, RuleSchema},
		{"empty English text", rej, func(r *Receipt) { r.Errors[0].EN = "" }, RuleSchema},
		{"text too long", rej, func(r *Receipt) { r.Errors[0].HU = strings.Repeat("x", MaxTextChars+1) }, RuleSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.base()
			if err := r.Check(); err != nil {
				t.Fatalf("base receipt fails Check: %v", err)
			}
			tc.mut(r)
			err := r.Check()
			var ce *CheckError
			if !errors.As(err, &ce) || !ce.Has(tc.rule) {
				t.Fatalf("Check = %v, want a violation of %s", err, tc.rule)
			}
			if b, err := r.Marshal(); err == nil || b != nil {
				t.Fatalf("Marshal wrote an inconsistent receipt")
			}
		})
	}
	if err := (*Receipt)(nil).Check(); err == nil {
		t.Error("Check of nil passed")
	}
}

// Parse applies Check after the schema: a schema-valid but inconsistent receipt is refused.
func TestParseRefusesInconsistent(t *testing.T) {
	full, err := os.ReadFile("../../schema/testdata/nyugta/valid-full.xml")
	if err != nil {
		t.Fatal(err)
	}
	min, err := os.ReadFile("../../schema/testdata/nyugta/valid-minimal.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		data     []byte
		old, new string
		rule     Rule
	}{
		{"rejected with only a warning", full, "<Eredmeny>BEFOGADVA</Eredmeny>", "<Eredmeny>ELUTASITVA</Eredmeny>", RuleRejectedError},
		{"accepted without declarant", full, `<Bevallo azonositoTipus="adoszam" azonosito="12345676" nev="Mintaker Kft."/>`, "", RuleAcceptedDeclarant},
		{"state and indication disagree", full, "<Indikacio>INDETERMINATE</Indikacio>", "<Indikacio>TOTAL-PASSED</Indikacio>", RuleStateIndication},
		{"accepted rejection", min, "<ny:Eredmeny>ELUTASITVA</ny:Eredmeny>", "<ny:Eredmeny>BEFOGADVA</ny:Eredmeny>", RuleAcceptedNoError},
		{"tax number of TAJ length", full, `azonosito="12345676"`, `azonosito="123456789"`, RuleSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Replace(tc.data, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(data, tc.data) {
				t.Fatal("replacement did not apply")
			}
			if err := schemas(t).ValidateBytes(schema.Receipt, data); err != nil {
				t.Fatalf("edited example should stay schema-valid: %v", err)
			}
			_, err := Parse(data, schemas(t))
			var pe *ParseError
			var ce *CheckError
			if !errors.As(err, &pe) || !errors.As(err, &ce) || !ce.Has(tc.rule) {
				t.Fatalf("Parse = %v, want a *ParseError with a %s violation", err, tc.rule)
			}
		})
	}
}

// The schema's own examples: valid ones parse (and survive Marshal and Parse again), invalid ones are
// refused by the schema.
func TestParseSchemaExamples(t *testing.T) {
	files, err := filepath.Glob("../../schema/testdata/nyugta/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	valid := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(data, schemas(t))
			if strings.HasPrefix(filepath.Base(f), "invalid-") {
				var ve *libxml.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Parse = %v, want a schema refusal", err)
				}
				return
			}
			valid++
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			b := marshalValid(t, r)
			r2, err := Parse(b, schemas(t))
			if err != nil {
				t.Fatal(err)
			}
			sameReceipt(t, r2, r)
		})
	}
	if valid < 2 {
		t.Fatalf("only %d valid examples", valid)
	}
	// What the full example says, read through the model.
	data, _ := os.ReadFile("../../schema/testdata/nyugta/valid-full.xml")
	r, err := Parse(data, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Result != Accepted || r.Declarant.Name != "Mintaker Kft." || r.Package.Size != 48213 ||
		r.Package.Period != (declaration.Period{Year: 2026, Month: time.January}) ||
		!r.Arrival.Equal(mustTime("2026-02-10T08:15:00.123Z")) || len(r.PreCheck.Signatures) != 2 ||
		r.PreCheck.Signatures[0].Certificate.Serial.String() != "46531509088423167703827838132789149111794285545" ||
		r.PreCheck.Signatures[1].SubIndication != report.TryLater || r.Errors[0].Code != errcode.A012 {
		t.Errorf("valid-full.xml read wrongly: %+v", r)
	}
}

func TestParseRefusals(t *testing.T) {
	min, _ := os.ReadFile("../../schema/testdata/nyugta/valid-minimal.xml")
	body := bytes.SplitN(min, []byte("?>"), 2)[1]
	for _, tc := range []struct {
		name string
		data []byte
		is   error
	}{
		{"DOCTYPE", append([]byte(`<?xml version="1.0"?><!DOCTYPE ny:Nyugta []>`), body...), libxml.ErrForbidden},
		{"entity", append([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "T005">]>`), bytes.Replace(body, []byte("T005"), []byte("&e;"), 1)...), libxml.ErrForbidden},
		{"external entity", append([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>`), bytes.Replace(body, []byte("T005"), []byte("&e;"), 1)...), libxml.ErrForbidden},
		{"oversize", append(bytes.Clone(min), bytes.Repeat([]byte(" "), MaxBytes)...), ErrTooLarge},
		{"not well-formed", min[:len(min)/2], libxml.ErrMalformed},
		{"empty", nil, libxml.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.data, schemas(t))
			var pe *ParseError
			if r != nil || !errors.As(err, &pe) || !errors.Is(err, tc.is) {
				t.Fatalf("Parse = %v, %v; want a *ParseError matching %v", r, err, tc.is)
			}
		})
	}
	// Schema-valid in another namespace is not a receipt.
	other := bytes.ReplaceAll(min, []byte("urn:x-mnyp:nyugta:1"), []byte("urn:x-mnyp:nyugta:2"))
	var ve *libxml.ValidationError
	if _, err := Parse(other, schemas(t)); !errors.As(err, &ve) {
		t.Errorf("other namespace: %v", err)
	}
	if _, err := Parse(min, nil); err == nil {
		t.Error("Parse without a schema set succeeded")
	}
}

// Lexical forms the schema admits and the model normalizes: ISO-8859-2, collapsed names, a signed
// and zero-padded size, white space around times.
func TestParseLexicalForms(t *testing.T) {
	full, _ := os.ReadFile("../../schema/testdata/nyugta/valid-full.xml")
	edited := bytes.Replace(full, []byte(`<?xml version="1.0" encoding="UTF-8"?>`), []byte(`<?xml version="1.0" encoding="ISO-8859-2"?>`), 1)
	edited = bytes.Replace(edited, []byte("<Nev>Minta Magánnyugdíjpénztár</Nev>"), []byte("<Nev>  Minta \n\t Magánnyugdíjpénztár </Nev>"), 1)
	edited = bytes.Replace(edited, []byte("<Meret>48213</Meret>"), []byte("<Meret> +0048213 </Meret>"), 1)
	edited = bytes.Replace(edited, []byte("<Erkezes>2026-02-10T08:15:00.123Z</Erkezes>"), []byte("<Erkezes>\n 2026-02-10T08:15:00.123Z\n</Erkezes>"), 1)
	latin2, err := charmap.ISO8859_2.NewEncoder().Bytes(edited)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(latin2, schemas(t))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if _, err := Parse(append([]byte("\uFEFF"), full...), schemas(t)); err != nil {
		t.Errorf("UTF-8 byte order mark: %v", err)
	}
	if r.Fund.Name != "Minta Magánnyugdíjpénztár" || r.Package.Size != 48213 || !r.Arrival.Equal(mustTime("2026-02-10T08:15:00.123Z")) ||
		r.PreCheck.Signatures[0].Certificate.Subject != "CN=Kovács Éva,O=Mintaker Kft.,C=HU" {
		t.Errorf("read %+v", r)
	}
}

// XSD 1.0 lets a dateTime say 24:00:00, the end of a day; if the schema admits it, Parse reads it as
// the next midnight rather than refusing a valid receipt.
func TestParseHour24(t *testing.T) {
	min, _ := os.ReadFile("../../schema/testdata/nyugta/valid-minimal.xml")
	data := bytes.Replace(min, []byte("2026-02-10T08:15:00Z"), []byte("2026-02-28T24:00:00Z"), 1)
	if err := schemas(t).ValidateBytes(schema.Receipt, data); err != nil {
		t.Skipf("the schema refuses hour 24 (%v); nothing for Parse to read", err)
	}
	r, err := Parse(data, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustTime("2026-03-01T00:00:00Z"); !r.Arrival.Equal(want) {
		t.Errorf("arrival %v, want %v", r.Arrival, want)
	}
}

func TestNewRejection(t *testing.T) {
	arrival := time.Date(2026, 2, 10, 9, 15, 0, 0, time.FixedZone("CET", 3600))
	sum := sha256.Sum256([]byte("not xml"))
	r := NewRejection(ReceivedPackage{FileName: "csomag.es3", Size: 7, SHA256: sum}, arrival, testFund,
		[]errcode.Finding{errcode.New(errcode.T005, "", "")})
	b := marshalValid(t, r)
	id, err := uuid.Parse(r.ID)
	if err != nil || id.Version() != 4 || id.String() != r.ID {
		t.Errorf("receipt id %q is not a canonical UUID v4 (%v)", r.ID, err)
	}
	if r2 := NewRejection(ReceivedPackage{SHA256: sum}, arrival, testFund, nil); r2.ID == r.ID {
		t.Error("two rejections share a receipt id")
	}
	got, err := Parse(b, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	sameReceipt(t, got, r)
	if !got.Arrival.Equal(arrival) || got.Package.SHA256 != sum || got.Result != Rejected || got.PreCheck.State != Invalid {
		t.Errorf("rejection: %+v", got)
	}

	t.Run("repairs", func(t *testing.T) {
		long := strings.Repeat("n", 3000)
		findings := []errcode.Finding{
			{Code: errcode.A012, Severity: errcode.Warning, HU: "h", EN: "e"},
			{Code: "bogus", Severity: errcode.Error, HU: "x", EN: "y"},
			{Code: errcode.T001, Severity: "", Location: "a\x00b", HU: strings.Repeat("ő", 5000), EN: ""},
		}
		r := NewRejection(ReceivedPackage{FileName: "bad\xff\x01" + long, SubmissionID: "NOT-A-UUID", Period: declaration.Period{Year: 2026, Month: 14}, Type: "Z"},
			arrival, testFund, findings)
		marshalValid(t, r)
		if !strings.HasPrefix(r.Package.FileName, "bad\uFFFD\uFFFD") || len([]rune(r.Package.FileName)) != MaxFileNameChars || !strings.HasSuffix(r.Package.FileName, "…") {
			t.Errorf("file name not repaired: %q…", r.Package.FileName[:10])
		}
		if r.Package.SubmissionID != "" || r.Package.Period != (declaration.Period{}) || r.Package.Type != "" {
			t.Errorf("malformed metadata kept: %+v", r.Package)
		}
		if r.Errors[1].Code != errcode.R001 || !strings.Contains(r.Errors[1].EN, "bogus") {
			t.Errorf("malformed code not replaced: %+v", r.Errors[1])
		}
		f := r.Errors[2]
		if f.Severity != errcode.Error || f.Location != "a\uFFFDb" || len([]rune(f.HU)) != MaxTextChars {
			t.Errorf("finding not repaired: sev %q loc %q len %d", f.Severity, f.Location, len([]rune(f.HU)))
		}
		if info, _ := errcode.Lookup(errcode.T001); f.EN != info.EN {
			t.Errorf("empty English text not filled from the catalogue: %q", f.EN)
		}
	})

	t.Run("no reason given", func(t *testing.T) {
		for _, findings := range [][]errcode.Finding{nil, {{Code: errcode.A012, Severity: errcode.Warning, HU: "h", EN: "e"}}} {
			r := NewRejection(ReceivedPackage{}, arrival, testFund, findings)
			marshalValid(t, r)
			if r.Errors[0].Code != errcode.R001 || r.Errors[0].Severity != errcode.Error || len(r.Errors) != len(findings)+1 {
				t.Errorf("no R001 added: %+v", r.Errors)
			}
		}
	})

	t.Run("too many findings", func(t *testing.T) {
		var findings []errcode.Finding
		for i := 0; i < 300; i++ {
			findings = append(findings, errcode.Finding{Code: errcode.A012, Severity: errcode.Warning, Location: fmt.Sprint(i), HU: "h", EN: "e"})
		}
		findings = append(findings, errcode.New(errcode.B001, "last", ""))
		r := NewRejection(ReceivedPackage{}, arrival, testFund, findings)
		marshalValid(t, r)
		if len(r.Errors) != MaxErrors || r.Errors[0].Code != errcode.B001 || r.Errors[1].Location != "0" {
			t.Errorf("got %d findings, first %+v", len(r.Errors), r.Errors[0])
		}
	})

	t.Run("unusable fund is still refused", func(t *testing.T) {
		r := NewRejection(ReceivedPackage{}, arrival, Fund{Code: "12", Name: "x"}, nil)
		if _, err := r.Marshal(); err == nil {
			t.Error("Marshal accepted a two-digit fund code")
		}
	})
}

func TestNewAcceptance(t *testing.T) {
	full := fullAcceptance()
	mk := func(mut func(p *ReceivedPackage, pre *PreCheck, w *[]errcode.Finding, final *time.Time)) (*Receipt, error) {
		p, pre, w, final := full.Package, full.PreCheck, full.Errors, full.EarliestFinalCheck
		pre.Signatures = append([]SignatureResult(nil), pre.Signatures...)
		w = append([]errcode.Finding(nil), w...)
		mut(&p, &pre, &w, &final)
		local := time.FixedZone("CET", 3600)
		return NewAcceptance(p, full.Arrival.In(local), testFund, *full.Declarant, pre, final.In(local), w)
	}
	r, err := mk(func(*ReceivedPackage, *PreCheck, *[]errcode.Finding, *time.Time) {})
	if err != nil {
		t.Fatal(err)
	}
	b := marshalValid(t, r)
	got, err := Parse(b, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	want := fullAcceptance()
	want.ID = r.ID
	sameReceipt(t, got, want)
	sameReceipt(t, r, want) // the builder normalized times to UTC
	if _, err := uuid.Parse(r.ID); err != nil {
		t.Error(err)
	}
	// The builder copies what it is given: changing the caller's pre-check later does not change it.
	pre := full.PreCheck
	r2, err := NewAcceptance(full.Package, full.Arrival, testFund, *full.Declarant, pre, full.EarliestFinalCheck, nil)
	if err != nil {
		t.Fatal(err)
	}
	pre.Policy.ID = "urn:changed"
	pre.Signatures[0].Certificate.Subject = "CN=changed"
	if r2.PreCheck.Policy.ID == "urn:changed" || r2.PreCheck.Signatures[0].Certificate.Subject == "CN=changed" {
		t.Error("NewAcceptance shares the caller's policy or certificate")
	}

	for _, tc := range []struct {
		name string
		mut  func(p *ReceivedPackage, pre *PreCheck, w *[]errcode.Finding, final *time.Time)
		rule Rule
	}{
		{"E0 finding", func(_ *ReceivedPackage, _ *PreCheck, w *[]errcode.Finding, _ *time.Time) {
			*w = append(*w, errcode.New(errcode.B002, "sig-2", ""))
		}, RuleAcceptedNoError},
		{"no metadata", func(p *ReceivedPackage, _ *PreCheck, _ *[]errcode.Finding, _ *time.Time) { p.SubmissionID = "" }, RuleAcceptedPackage},
		{"invalid pre-check", func(_ *ReceivedPackage, pre *PreCheck, _ *[]errcode.Finding, _ *time.Time) { pre.State = Invalid }, RuleAcceptedState},
		{"no final-check time", func(_ *ReceivedPackage, _ *PreCheck, _ *[]errcode.Finding, f *time.Time) { *f = time.Time{} }, RuleAcceptedFinalCheck},
		{"state/indication", func(_ *ReceivedPackage, pre *PreCheck, _ *[]errcode.Finding, _ *time.Time) {
			pre.Signatures[0].Indication = report.TotalFailed
		}, RuleStateIndication},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := mk(tc.mut)
			var ce *CheckError
			if r != nil || !errors.As(err, &ce) || !ce.Has(tc.rule) {
				t.Fatalf("NewAcceptance = %v, %v; want a %s violation", r, err, tc.rule)
			}
		})
	}
}
