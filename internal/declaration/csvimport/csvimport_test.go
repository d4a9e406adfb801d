package csvimport

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/schema"
)

var (
	now    = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	period = declaration.Period{Year: 2026, Month: time.October}
)

func options() Options {
	return Options{
		Header: declaration.Header{ID: "5f32783e-a49d-4f8b-ae52-7e231f0da2fc", Type: declaration.Normal, Period: period, Created: now,
			Program: declaration.Program{Name: "tagdij-sender", Version: "test"}},
		Declarant: declaration.Declarant{Name: "Példa Kft.", ID: declaration.DeclarantID{Type: declaration.IDAdoszam, Value: "12345676"},
			Address: declaration.Address{PostalCode: "1111", City: "Budapest", Street: "Minta utca 1."}},
		Fund: declaration.Fund{Code: "0101", Name: "Példa Pénztár"},
		Now:  now,
	}
}

// members are valid synthetic items: their CSV lines must import to exactly these.
func members(n int) []declaration.Item {
	return synth.Generate(synth.Options{Members: n, Seed: 7, Period: period}).Items
}

// csvOf writes items as CSV with the given separator and header, amounts and dates in the given forms.
func csvOf(items []declaration.Item, sep string, amount func(int64) string, date func(declaration.Date) string) string {
	var b strings.Builder
	b.WriteString(strings.Join([]string{"Sorszám", "Név", "Születési dátum", "TAJ", "Adóazonosító jel", "Jogviszony kezdete",
		"Jogviszony vége", "Járulékalap", "Tagdíj", "Munkáltatói kiegészítés"}, sep) + "\r\n")
	for _, it := range items {
		to := ""
		if it.EmploymentTo != nil {
			to = date(*it.EmploymentTo)
		}
		f := []string{fmt.Sprint(it.Row), it.Name, date(it.BirthDate), hunid.FormatTAJ(it.TAJ), it.TaxID, date(it.EmploymentFrom), to,
			amount(it.Base), amount(it.MemberContribution), amount(it.Supplement)}
		for i, v := range f {
			if strings.Contains(v, sep) {
				f[i] = `"` + v + `"`
			}
		}
		b.WriteString(strings.Join(f, sep) + "\r\n")
	}
	return b.String()
}

func spaced(v int64) string { return thousands(v, " ") }
func dotted(v int64) string { return thousands(v, ".") }
func commaZero(v int64) string {
	return thousands(v, "\u00a0") + ",00"
}
func thousands(v int64, sep string) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}
func iso(d declaration.Date) string { return d.String() }
func hun(d declaration.Date) string {
	return fmt.Sprintf("%04d. %02d. %02d.", d.Year, int(d.Month), d.Day)
}

var setOnce *schema.Set

func schemas(t testing.TB) *schema.Set {
	t.Helper()
	if setOnce == nil {
		s, err := schema.Load(libxml.Parser{})
		if err != nil {
			t.Fatal(err)
		}
		setOnce = s
	}
	return setOnce
}

// TestImportsWhatPayrollWrites: the same members in every encoding, separator, amount and date form
// import to the same items, and the declaration written from them passes the schema and the rules.
func TestImportsWhatPayrollWrites(t *testing.T) {
	want := members(40)
	want[3].Name = "Őry Űrsula Šarlota" // Š is 0x8A in Windows-1250, 0xA9 in ISO-8859-2
	w1250 := func(s string) string { b, _ := charmap.Windows1250.NewEncoder().String(s); return b }
	latin2 := func(s string) string {
		b, _ := charmap.ISO8859_2.NewEncoder().String(strings.ReplaceAll(s, "Šarlota", "Sarlota"))
		return b
	}
	for _, tc := range []struct {
		name     string
		data     string
		enc      Encoding
		sep      rune
		wantEnc  Encoding
		wantSep  rune
		sarlota  string
		encoding Encoding
	}{
		{name: "utf-8, semicolon, spaced", data: csvOf(want, ";", spaced, iso), wantEnc: UTF8, wantSep: ';'},
		{name: "utf-8 with BOM, comma, decimal comma", data: "\ufeff" + csvOf(want, ",", commaZero, hun), wantEnc: UTF8, wantSep: ','},
		{name: "windows-1250, dotted", data: w1250(csvOf(want, ";", dotted, hun)), wantEnc: Windows1250, wantSep: ';'},
		{name: "iso-8859-2, plain", data: latin2(csvOf(want, ";", func(v int64) string { return fmt.Sprint(v) + " Ft" }, iso)), wantEnc: ISO88592,
			wantSep: ';', sarlota: "Őry Űrsula Sarlota"},
		{name: "forced windows-1250 and separator", data: w1250(csvOf(want, ";", spaced, iso)), enc: Windows1250, sep: ';', wantEnc: Windows1250, wantSep: ';'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options()
			o.Encoding, o.Separator = tc.enc, tc.sep
			res, err := Import([]byte(tc.data), o)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("refused: %v", res.Findings)
			}
			if res.Encoding != tc.wantEnc || res.Separator != tc.wantSep || res.Items != 40 || res.Lines != 41 {
				t.Errorf("read as %s %q, %d items on %d lines", res.Encoding, res.Separator, res.Items, res.Lines)
			}
			w := append([]declaration.Item(nil), want...)
			if tc.sarlota != "" {
				w[3].Name = tc.sarlota
			}
			if !reflect.DeepEqual(res.Declaration.Items, w) {
				for i := range w {
					if !reflect.DeepEqual(res.Declaration.Items[i], w[i]) {
						t.Fatalf("item %d:\n%+v\nwant\n%+v", i, res.Declaration.Items[i], w[i])
					}
				}
			}
			if res.Declaration.Summary != res.Declaration.ComputeSummary() {
				t.Error("summary not from the items")
			}
			xml, err := res.Declaration.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, findings, err := declaration.Validate(xml, schemas(t), declaration.CheckContext{Now: now}); err != nil || declaration.Rejects(findings) {
				t.Fatalf("the declaration does not validate: %v %v", err, findings)
			}
		})
	}
}

// TestReportsEveryBadLine: every problem of every line is reported at once, by line and D-code, and
// no declaration comes out.
func TestReportsEveryBadLine(t *testing.T) {
	m := members(9)
	var lines []string
	base := csvOf(m, ";", spaced, iso)
	lines = strings.Split(strings.TrimRight(base, "\r\n"), "\r\n")
	set := func(line, field int, v string) {
		f := strings.Split(lines[line-1], ";")
		f[field] = v
		lines[line-1] = strings.Join(f, ";")
	}
	wrongDigit := func(s string) string { // the last digit changed: a check-digit error
		s = strings.ReplaceAll(s, " ", "")
		d := s[len(s)-1]
		return s[:len(s)-1] + string('0'+(d-'0'+1)%10)
	}
	set(2, 3, "12345678")                            // TAJ too short: D005 (format)
	set(3, 3, wrongDigit(hunid.FormatTAJ(m[1].TAJ))) // TAJ check digit: D005 (Check)
	set(4, 8, "24 000,50")                           // a fraction of a forint: D004
	set(5, 2, "1980.02.30.")                         // no such day: D003
	set(6, 0, "2")                                   // row 2 again: D003
	lines[6] = "7;Kiss Éva"                          // too few fields: D003
	set(8, 4, wrongDigit(m[7].TaxID))                // tax id check digit: D006 (Check)
	set(9, 7, "1.23")                                // bad grouping: D004
	set(10, 1, "")                                   // empty name: D003
	data := strings.Join(lines, "\r\n") + "\r\n"
	res, err := Import([]byte(data), options())
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatal("a declaration from bad lines")
	}
	want := []struct {
		line int
		code errcode.Code
	}{{2, errcode.D005}, {3, errcode.D005}, {4, errcode.D004}, {5, errcode.D003}, {6, errcode.D003}, {7, errcode.D003},
		{8, errcode.D006}, {9, errcode.D004}, {10, errcode.D003}}
	var got []string
	for _, f := range res.Findings {
		if f.Severity == errcode.Error {
			got = append(got, fmt.Sprintf("%s %s", f.Location, f.Code))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("findings:\n%s", strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], fmt.Sprintf("sor %d / line %d", w.line, w.line)) || !strings.HasSuffix(got[i], string(w.code)) {
			t.Errorf("finding %d = %q, want line %d %s", i, got[i], w.line, w.code)
		}
	}
}

// TestFileProblems: problems with the file as a whole.
func TestFileProblems(t *testing.T) {
	good := csvOf(members(2), ";", spaced, iso)
	header := strings.SplitN(good, "\r\n", 2)[0]
	for _, tc := range []struct {
		name string
		data string
		enc  Encoding
		ok   bool
		want string // in a finding's detail
	}{
		{"empty", "", "", false, "separator"},
		{"one column", "nev\nKiss Éva\n", "", false, "separator"},
		{"missing columns", "nev;taj\nKiss;123\n", "", false, "missing column: szuletesi_datum"},
		{"duplicate column", header + ";TAJ\r\n", "", false, "appears twice"},
		{"unknown column", strings.Replace(good, "Sorszám", "Megjegyzés", 1), "", true, "unknown column"},
		{"header only", header + "\r\n", "", true, "no items"},
		{"not utf-8", "nev;taj\n\xff\xfe", UTF8, false, "not valid UTF-8"},
		{"NUL byte", header + "\r\n1;K\x00iss", "", false, "NUL"},
		{"bare quote", header + "\r\n1;Ki\"ss;x\r\n", "", false, "not valid CSV"},
		{"too many rows named", header + "\r\n" + strings.Repeat(";", 12) + "\r\n", "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options()
			o.Encoding = tc.enc
			res, err := Import([]byte(tc.data), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() != tc.ok {
				t.Fatalf("OK %v, want %v: %v", res.OK(), tc.ok, res.Findings)
			}
			if tc.want == "" {
				return
			}
			found := false
			for _, f := range res.Findings {
				found = found || strings.Contains(f.EN, tc.want)
			}
			if !found {
				t.Errorf("no finding mentions %q: %v", tc.want, res.Findings)
			}
		})
	}
}

// TestFindingsBounded: a file with more bad lines than MaxFindings keeps that many and counts the rest.
func TestFindingsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.SplitN(csvOf(nil, ";", spaced, iso), "\r\n", 2)[0] + "\n")
	for i := range 50 {
		fmt.Fprintf(&b, "%d;Kiss;x;x;x;x;;x;x;x\n", i+1)
	}
	o := options()
	o.MaxFindings = 20
	res, _ := Import([]byte(b.String()), o)
	if res.OK() || len(res.Findings) != 20 || res.Dropped == 0 {
		t.Errorf("%d findings kept, %d dropped", len(res.Findings), res.Dropped)
	}
}

func TestParseForint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1234567", 1234567, true}, {"1 234 567", 1234567, true}, {"1.234.567", 1234567, true},
		{"1\u00a0234\u00a0567", 1234567, true}, {"1\u202f234", 1234, true}, {"1 234 567 Ft", 1234567, true}, {"1234 HUF", 1234, true},
		{"  24000  ", 24000, true}, {"1 234,00", 1234, true}, {"1234,0", 1234, true}, {"99 999 999 999", 99999999999, true}, {"+5", 5, true},
		{"1234,50", 0, false}, {"1.234,5", 0, false}, {"12.34", 0, false}, {"1234.00", 0, false}, {"1 23 456", 0, false},
		{"1234 567", 0, false}, {"-5", 0, false}, {"−5", 0, false}, {"abc", 0, false}, {"", 0, false}, {"1,", 0, false},
		{"100 000 000 000", 0, false}, {"1.234 567", 0, false}, {"12e3", 0, false}, {"1,2,3", 0, false}, {"00000000000001", 1, true},
	} {
		got, err := ParseForint(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseForint(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	d := func(y, m, dd int) declaration.Date { return declaration.Date{Year: y, Month: time.Month(m), Day: dd} }
	for _, tc := range []struct {
		in   string
		want declaration.Date
		ok   bool
	}{
		{"2026-10-15", d(2026, 10, 15), true}, {"2026.10.15", d(2026, 10, 15), true}, {"2026.10.15.", d(2026, 10, 15), true},
		{"2026. 10. 15.", d(2026, 10, 15), true}, {"2026/1/5", d(2026, 1, 5), true}, {"2024-02-29", d(2024, 2, 29), true},
		{"2023-02-29", declaration.Date{}, false}, {"15.10.2026", declaration.Date{}, false}, {"2026-10", declaration.Date{}, false},
		{"1866-12-31", declaration.Date{}, false}, {"2026-10-15-1", declaration.Date{}, false}, {"2026..10.15", declaration.Date{}, false},
		{"２026-10-15", declaration.Date{}, false}, {"", declaration.Date{}, false},
	} {
		got, err := parseDate(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDate(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseEncodingAndNames(t *testing.T) {
	for in, want := range map[string]Encoding{"": Auto, "UTF-8": UTF8, "cp1250": Windows1250, "latin2": ISO88592} {
		if got, err := ParseEncoding(in); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseEncoding("ebcdic"); err == nil {
		t.Error("ebcdic accepted")
	}
	for in, want := range map[string]column{"Születési dátum": colBirth, "ADÓAZONOSÍTÓ_JEL": colTaxID, "munkáltatói-kiegészítés": colSupplement,
		"Birth date": colBirth, "TAJ szám": colTAJ} {
		if got, ok := columnNames[normalizeName(in)]; !ok || got != want {
			t.Errorf("%q → %v %v", in, got, ok)
		}
	}
	if _, err := Import(nil, Options{Separator: '\t'}); err == nil {
		t.Error("a tab separator accepted")
	}
}

// FuzzImport: any bytes are either refused with findings or give a declaration that passes the schema
// and the content rules; nothing panics.
func FuzzImport(f *testing.F) {
	f.Add([]byte(csvOf(members(3), ";", spaced, iso)))
	f.Add([]byte(csvOf(members(2), ",", commaZero, hun)))
	f.Add([]byte("nev;taj\n"))
	f.Add([]byte("\xef\xbb\xbfa;b\n\"x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data, options())
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() {
			if !declaration.Rejects(res.Findings) && res.Dropped == 0 {
				t.Fatalf("no declaration and no error: %v", res.Findings)
			}
			return
		}
		xml, err := res.Declaration.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, findings, err := declaration.Validate(xml, schemas(t), declaration.CheckContext{Now: now}); err != nil || declaration.Rejects(findings) {
			t.Fatalf("an accepted import does not validate: %v %v", err, findings)
		}
	})
}
