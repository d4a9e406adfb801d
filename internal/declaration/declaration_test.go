package declaration

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

const testdata = "../../schema/testdata/tagdijbevallas"

var (
	setOnce sync.Once
	set     *schema.Set
	setErr  error
)

func schemas(t testing.TB) *schema.Set {
	t.Helper()
	setOnce.Do(func() { set, setErr = schema.Load(libxml.Parser{}) })
	if setErr != nil {
		t.Fatalf("schema.Load: %v", setErr)
	}
	return set
}

// now is a fixed "today" after every test document's period.
var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func load(t *testing.T, name string) *Declaration {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(data, schemas(t))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return d
}

func TestParseValidFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdata, "valid-*.xml"))
	if len(files) == 0 {
		t.Fatal("no valid-*.xml test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d := load(t, filepath.Base(f))
			if got := Check(d, CheckContext{Now: now}); len(got) != 0 {
				t.Errorf("Check found %v", got)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	d := load(t, "valid-full.xml")
	if d.Header.Type != SelfRevision || d.Header.PredecessorID != "5d0f2c1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f" {
		t.Errorf("header = %+v", d.Header)
	}
	if d.Header.Period != (Period{2026, time.October}) {
		t.Errorf("period = %v", d.Header.Period)
	}
	if !d.Header.Created.Equal(time.Date(2026, 11, 5, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("created = %v", d.Header.Created)
	}
	if d.Declarant.ID != (DeclarantID{IDAdoszam, "15789934251"}) {
		t.Errorf("declarant id = %+v", d.Declarant.ID)
	}
	if len(d.Items) != 2 {
		t.Fatalf("items = %d", len(d.Items))
	}
	it := d.Items[1]
	if it.Row != 2 || it.Name != "Szabó Ödönné Ürmös Zsófia" || it.EmploymentTo == nil || *it.EmploymentTo != (Date{2026, 10, 15}) ||
		it.Base != 450000 || it.MemberContribution != 36000 || it.Supplement != 5000 {
		t.Errorf("item 2 = %+v", it)
	}
	if d.Items[0].EmploymentTo != nil {
		t.Errorf("item 1 has an employment end")
	}
	if got, want := d.ComputeSummary(), d.Summary; got != want {
		t.Errorf("ComputeSummary = %+v, document says %+v", got, want)
	}
}

func TestParseInvalidFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdata, "invalid-*.xml"))
	if len(files) == 0 {
		t.Fatal("no invalid-*.xml test files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(data, schemas(t))
		var pe *ParseError
		if d != nil || !errors.As(err, &pe) {
			t.Errorf("%s: Parse = %v, %v; want *ParseError", filepath.Base(f), d, err)
			continue
		}
		if len(pe.Findings) == 0 || pe.Findings[0].Code != errcode.D003 {
			t.Errorf("%s: findings %v, want D003", filepath.Base(f), pe.Findings)
		}
	}
}

func TestParseRefusesHostileXML(t *testing.T) {
	base, _ := os.ReadFile(filepath.Join(testdata, "valid-minimal.xml"))
	for _, tc := range []struct {
		name string
		data []byte
		code errcode.Code
	}{
		{"doctype", []byte(`<?xml version="1.0"?><!DOCTYPE Bevallas [<!ENTITY x "y">]><Bevallas xmlns="urn:x-mnyp:tagdijbevallas:1" verzio="1.0">&x;</Bevallas>`), errcode.T006},
		{"not well-formed", bytes.Replace(base, []byte("</Bevallas>"), nil, 1), errcode.D003},
		{"empty", nil, errcode.D003},
		{"depth", []byte(strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)), errcode.T006},
	} {
		_, err := Parse(tc.data, schemas(t))
		var pe *ParseError
		if !errors.As(err, &pe) || len(pe.Findings) == 0 || pe.Findings[0].Code != tc.code {
			t.Errorf("%s: err = %v; want a ParseError with %s", tc.name, err, tc.code)
		}
	}
}

func TestParseISO88592(t *testing.T) {
	utf8, _ := os.ReadFile(filepath.Join(testdata, "valid-full.xml"))
	// Re-encode as ISO-8859-2 (every character of the file exists there).
	var latin2 []byte
	table := map[rune]byte{'á': 0xE1, 'é': 0xE9, 'í': 0xED, 'ó': 0xF3, 'ö': 0xF6, 'ő': 0xF5, 'ú': 0xFA, 'ü': 0xFC, 'ű': 0xFB,
		'Á': 0xC1, 'É': 0xC9, 'Í': 0xCD, 'Ó': 0xD3, 'Ö': 0xD6, 'Ő': 0xD5, 'Ú': 0xDA, 'Ü': 0xDC, 'Ű': 0xDB}
	for _, r := range strings.Replace(string(utf8), `encoding="UTF-8"`, `encoding="ISO-8859-2"`, 1) {
		if r < 0x80 {
			latin2 = append(latin2, byte(r))
		} else if b, ok := table[r]; ok {
			latin2 = append(latin2, b)
		} else {
			t.Fatalf("no ISO-8859-2 byte for %q", r)
		}
	}
	d, err := Parse(latin2, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Items[1].Name != "Szabó Ödönné Ürmös Zsófia" {
		t.Errorf("name = %q", d.Items[1].Name)
	}
}

func TestParseCollapsesWhiteSpace(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(testdata, "valid-full.xml"))
	data = bytes.Replace(data, []byte("<Nev>Kovács János</Nev>"), []byte("<Nev>\n  Kovács \t János  </Nev>"), 1)
	data = bytes.Replace(data, []byte("<Letrehozva>2026-11-05T08:00:00Z</Letrehozva>"), []byte("<Letrehozva> 2026-11-05T08:00:00Z\n</Letrehozva>"), 1)
	data = bytes.Replace(data, []byte("<SzuletesiDatum>1967-02-13</SzuletesiDatum>"), []byte("<SzuletesiDatum> 1967-02-13 </SzuletesiDatum>"), 1)
	d, err := Parse(data, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Items[0].Name != "Kovács János" || d.Items[0].BirthDate != (Date{1967, 2, 13}) || d.Header.Created.IsZero() {
		t.Errorf("got %q %v %v", d.Items[0].Name, d.Items[0].BirthDate, d.Header.Created)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"valid-full.xml", "valid-minimal.xml", "valid-declarant-personal.xml"} {
		d := load(t, name)
		out, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
			t.Errorf("%s: output lacks the XML declaration", name)
		}
		d2, err := Parse(out, schemas(t))
		if err != nil {
			t.Fatalf("%s: re-parse: %v\n%s", name, err, out)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Errorf("%s: round trip changed the model:\n%+v\n%+v", name, d, d2)
		}
		out2, _ := d2.Marshal()
		if !bytes.Equal(out, out2) {
			t.Errorf("%s: second marshal differs", name)
		}
	}
}

func TestMarshalEscapes(t *testing.T) {
	d := load(t, "valid-full.xml")
	d.Items[0].Name = `<script>alert("x")</script> & Társa`
	d.Declarant.Name = `"Kft." <b>`
	out, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("<script>")) {
		t.Fatal("markup in a name was not escaped")
	}
	d2, err := Parse(out, schemas(t))
	if err != nil {
		t.Fatal(err)
	}
	if d2.Items[0].Name != d.Items[0].Name || d2.Declarant.Name != d.Declarant.Name {
		t.Errorf("names changed: %q %q", d2.Items[0].Name, d2.Declarant.Name)
	}
}

func TestMarshalRejectsInvalidDates(t *testing.T) {
	d := load(t, "valid-full.xml")
	d.Items[0].BirthDate = Date{2023, 2, 29}
	if _, err := d.Marshal(); err == nil {
		t.Error("Marshal accepted 2023-02-29")
	}
}

// TestCheckRules has one failing example per content rule; each asserts the code, the severity and the
// location (the item's row number, which deliberately differs from its position).
func TestCheckRules(t *testing.T) {
	type want struct {
		code errcode.Code
		sev  errcode.Severity
		loc  string
	}
	row12 := LocItem(12)
	cases := []struct {
		name   string
		mutate func(d *Declaration)
		ctx    CheckContext
		want   []want
	}{
		{"head count", func(d *Declaration) { d.Summary.HeadCount = 3 }, CheckContext{}, []want{{errcode.D004, errcode.Error, LocSummary}}},
		{"base total", func(d *Declaration) { d.Summary.BaseTotal++ }, CheckContext{}, []want{{errcode.D004, errcode.Error, LocSummary}}},
		{"member total", func(d *Declaration) { d.Summary.MemberTotal-- }, CheckContext{}, []want{{errcode.D004, errcode.Error, LocSummary}}},
		{"supplement total", func(d *Declaration) { d.Summary.SupplementTotal = 0 }, CheckContext{}, []want{{errcode.D004, errcode.Error, LocSummary}}},
		{"payable total", func(d *Declaration) { d.Summary.PayableTotal = 60000 }, CheckContext{}, []want{{errcode.D004, errcode.Error, LocSummary}}},
		{"item amount changed: two totals", func(d *Declaration) { d.Items[1].MemberContribution = 36001 }, CheckContext{},
			[]want{{errcode.D004, errcode.Error, LocSummary}, {errcode.D004, errcode.Error, LocSummary}}},
		{"negative amount", func(d *Declaration) {
			d.Items[1].Supplement = -5000
			d.Summary.SupplementTotal = 0
			d.Summary.PayableTotal = 60000
		},
			CheckContext{}, []want{{errcode.D004, errcode.Error, row12}}},
		{"amount too large", func(d *Declaration) {
			d.Items[1].Base = MaxItemAmount + 1
			d.Summary.BaseTotal = 300000
		}, CheckContext{}, []want{{errcode.D004, errcode.Error, row12}}},
		{"item TAJ", func(d *Declaration) { d.Items[1].TAJ = "111111111" }, CheckContext{}, []want{{errcode.D005, errcode.Error, row12}}},
		{"item tax id check digit", func(d *Declaration) { d.Items[1].TaxID = "8414120009" }, CheckContext{}, []want{{errcode.D006, errcode.Error, row12}}},
		{"item tax id not 8", func(d *Declaration) { d.Items[1].TaxID = "7414120008" }, CheckContext{}, []want{{errcode.D006, errcode.Error, row12}}},
		{"item birth date ≠ tax id", func(d *Declaration) { d.Items[1].BirthDate = Date{1980, 5, 21} }, CheckContext{}, []want{{errcode.D006, errcode.Error, row12}}},
		{"declarant adószám", func(d *Declaration) { d.Declarant.ID.Value = "15789935251" }, CheckContext{}, []want{{errcode.D006, errcode.Error, LocDeclarant}}},
		{"declarant adószám region", func(d *Declaration) { d.Declarant.ID.Value = "15789934299" }, CheckContext{}, []want{{errcode.D006, errcode.Error, LocDeclarant}}},
		{"declarant adószám core ok", func(d *Declaration) { d.Declarant.ID.Value = "15789934" }, CheckContext{}, nil},
		{"declarant adoazonosito", func(d *Declaration) { d.Declarant.ID = DeclarantID{IDAdoazonosito, "8365670004"} }, CheckContext{}, []want{{errcode.D006, errcode.Error, LocDeclarant}}},
		{"declarant adoazonosito ok", func(d *Declaration) { d.Declarant.ID = DeclarantID{IDAdoazonosito, "8365670003"} }, CheckContext{}, nil},
		{"declarant TAJ", func(d *Declaration) { d.Declarant.ID = DeclarantID{IDTAJ, "123456789"} }, CheckContext{}, []want{{errcode.D005, errcode.Error, LocDeclarant}}},
		{"declarant TAJ ok", func(d *Declaration) { d.Declarant.ID = DeclarantID{IDTAJ, "123456788"} }, CheckContext{}, nil},
		{"period in the future", func(d *Declaration) { d.Header.Period = Period{2026, time.December}; d.Items[1].EmploymentTo = nil }, CheckContext{}, []want{{errcode.D007, errcode.Error, LocHeader}}},
		{"period current month", func(d *Declaration) { d.Header.Period = Period{2026, time.November}; d.Items[1].EmploymentTo = nil }, CheckContext{}, nil},
		{"period month 13", func(d *Declaration) { d.Header.Period = Period{2026, 13} }, CheckContext{}, []want{{errcode.D007, errcode.Error, LocHeader}}},
		{"period before 1998", func(d *Declaration) { d.Header.Period = Period{1997, time.December} }, CheckContext{},
			// Both employments then start after the period: two warnings besides the error.
			[]want{{errcode.D007, errcode.Error, LocHeader}, {errcode.D007, errcode.Warning, LocItem(1)}, {errcode.D007, errcode.Warning, row12}}},
		{"employment ends before it starts", func(d *Declaration) { v := Date{2009, 1, 1}; d.Items[1].EmploymentTo = &v }, CheckContext{},
			[]want{{errcode.D007, errcode.Error, row12}}},
		{"employment ended before the period", func(d *Declaration) { v := Date{2026, 9, 30}; d.Items[1].EmploymentTo = &v }, CheckContext{},
			[]want{{errcode.D007, errcode.Warning, row12}}},
		{"employment starts after the period", func(d *Declaration) { d.Items[1].EmploymentFrom = Date{2026, 11, 1}; d.Items[1].EmploymentTo = nil }, CheckContext{},
			[]want{{errcode.D007, errcode.Warning, row12}}},
		{"employment on the period's last day", func(d *Declaration) { d.Items[1].EmploymentFrom = Date{2026, 10, 31}; d.Items[1].EmploymentTo = nil }, CheckContext{}, nil},
		{"B with predecessor", func(d *Declaration) { d.Header.Type = Normal }, CheckContext{}, []want{{errcode.D008, errcode.Error, LocHeader}}},
		{"O without predecessor", func(d *Declaration) { d.Header.PredecessorID = "" }, CheckContext{}, []want{{errcode.D008, errcode.Error, LocHeader}}},
		{"H without predecessor", func(d *Declaration) { d.Header.Type = Correction; d.Header.PredecessorID = "" }, CheckContext{}, []want{{errcode.D008, errcode.Error, LocHeader}}},
		{"predecessor is itself", func(d *Declaration) { d.Header.PredecessorID = d.Header.ID }, CheckContext{}, []want{{errcode.D008, errcode.Error, LocHeader}}},
		{"predecessor unknown", nil, CheckContext{PredecessorExists: func(string) (bool, error) { return false, nil }}, []want{{errcode.D008, errcode.Error, LocHeader}}},
		{"predecessor lookup fails", nil, CheckContext{PredecessorExists: func(string) (bool, error) { return false, errors.New("db down") }}, []want{{errcode.R001, errcode.Error, LocHeader}}},
		{"predecessor known", nil, CheckContext{PredecessorExists: func(id string) (bool, error) { return id == "5d0f2c1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", nil }}, nil},
		{"unknown type", func(d *Declaration) { d.Header.Type = "X" }, CheckContext{}, []want{{errcode.D003, errcode.Error, LocHeader}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := load(t, "valid-full.xml")
			d.Items[1].Row = 12
			if tc.mutate != nil {
				tc.mutate(d)
			}
			ctx := tc.ctx
			ctx.Now = now
			got := Check(d, ctx)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings %v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].Code != w.code || got[i].Severity != w.sev || got[i].Location != w.loc {
					t.Errorf("finding %d = %s %s %q, want %s %s %q", i, got[i].Code, got[i].Severity, got[i].Location, w.code, w.sev, w.loc)
				}
			}
			if Rejects(got) != (len(tc.want) > 0 && tc.want[0].sev == errcode.Error) {
				t.Errorf("Rejects = %v for %v", Rejects(got), got)
			}
		})
	}
}

func TestCheckDetailNamesTheFigures(t *testing.T) {
	d := load(t, "valid-full.xml")
	d.Summary.BaseTotal = 1
	got := Check(d, CheckContext{Now: now})
	if len(got) != 1 || !strings.Contains(got[0].HU, "JarulekalapOsszesen: 1 ≠ Σ 750000") || !strings.Contains(got[0].EN, "750000") {
		t.Errorf("got %v", got)
	}
}

func TestCheckZeroNowUsesClock(t *testing.T) {
	d := load(t, "valid-full.xml")
	d.Header.Period = PeriodOf(time.Now()).Next()
	d.Items[1].EmploymentTo = nil
	if got := Check(d, CheckContext{}); len(got) != 1 || got[0].Code != errcode.D007 {
		t.Errorf("next month with zero Now: %v", got)
	}
}

func TestPeriodAndDate(t *testing.T) {
	for _, s := range []string{"2026-00", "2026-13", "26-01", "2026/01", "2026-1", "", "abcd-01"} {
		if _, err := ParsePeriod(s); err == nil {
			t.Errorf("ParsePeriod(%q) succeeded", s)
		}
	}
	p, err := ParsePeriod("2024-02")
	if err != nil || p.LastDay() != (Date{2024, 2, 29}) || p.FirstDay() != (Date{2024, 2, 1}) || p.Compact() != "202402" {
		t.Errorf("2024-02: %v %v %v", p, p.LastDay(), err)
	}
	if p.Prev() != (Period{2024, 1}) || p.Next() != (Period{2024, 3}) || (Period{2024, 12}).Next() != (Period{2025, 1}) {
		t.Error("Prev/Next")
	}
	for _, s := range []string{"2023-02-29", "2024-04-31", "2024-4-01", "20240401", "2024-04-01Z"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) succeeded", s)
		}
	}
	if d, err := ParseDate("2024-02-29"); err != nil || d != (Date{2024, 2, 29}) {
		t.Errorf("ParseDate(2024-02-29) = %v, %v", d, err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*.xml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("<Bevallas/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, schemas(t))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || len(pe.Findings) == 0 {
				t.Fatalf("error %v is not a ParseError with findings", err)
			}
			return
		}
		// Whatever passed the schema can be checked and written, and what is written parses again.
		_ = Check(d, CheckContext{Now: now})
		out, err := d.Marshal()
		if err != nil {
			return // e.g. a Letrehozva year the schema admits but time.Time cannot write
		}
		if _, err := Parse(out, schemas(t)); err != nil {
			t.Fatalf("re-parse of marshalled output: %v\n%s", err, out)
		}
	})
}
