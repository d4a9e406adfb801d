package pkgname

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
)

const goodPkg = "TBA_12345676_0123_202601_B001_20260210T081200Z.es3"

func TestParseValid(t *testing.T) {
	tests := []struct {
		in   string
		want Name
	}{
		{goodPkg, Name{Package, "12345676", "0123", "202601", 'B', 1, time.Date(2026, 2, 10, 8, 12, 0, 0, time.UTC)}},
		{"TBN_8123456789_9876_202512_O042_20260101T000000Z.es3", Name{Receipt, "8123456789", "9876", "202512", 'O', 42, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"TBK_12345676_0001_199912_H999_20251231T235959Z.es3", Name{Container, "12345676", "0001", "199912", 'H', 999, time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)}},
		{"TBX_12345676_0001_202606_B000_20240229T120000Z.es3", Name{Export, "12345676", "0001", "202606", 'B', 0, time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Parse = %+v, want %+v", got, tc.want)
			}
			if s := got.String(); s != tc.in {
				t.Fatalf("String = %q, want %q", s, tc.in)
			}
			if err := got.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		code errcode.Code
		en   string // part of the English detail
	}{
		{"empty", "", errcode.T001, "empty"},
		{"upper-case extension", strings.TrimSuffix(goodPkg, ".es3") + ".ES3", errcode.T002, "lower case"},
		{"mixed-case extension", strings.TrimSuffix(goodPkg, ".es3") + ".Es3", errcode.T002, "lower case"},
		{"other extension", strings.TrimSuffix(goodPkg, ".es3") + ".xml", errcode.T002, "expected .es3"},
		{"double extension", goodPkg + ".zip", errcode.T002, "expected .es3"},
		{"no extension", strings.TrimSuffix(goodPkg, ".es3"), errcode.T002, "missing"},
		{"trailing dot", goodPkg + ".", errcode.T002, "expected .es3"},
		{"slash", "../" + goodPkg, errcode.T001, "directory"},
		{"backslash", `C:\tmp\` + goodPkg, errcode.T001, "directory"},
		{"NUL", goodPkg + "\x00.es3", errcode.T001, "control"},
		{"newline", "TBA_12345676\n_0123_202601_B001_20260210T081200Z.es3", errcode.T001, "control"},
		{"DEL", "\x7f" + goodPkg, errcode.T001, "control"},
		{"non-ASCII digit", "TBA_1234567٦_0123_202601_B001_20260210T081200Z.es3", errcode.T001, "non-ASCII"},
		{"over-long", strings.Repeat("A", MaxLen) + ".es3", errcode.T001, "too long"},
		{"dotdot", "..", errcode.T001, "invalid"},
		{"unknown kind", "TBZ_12345676_0123_202601_B001_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"lower-case kind", "tba_12345676_0123_202601_B001_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"declarant 9 digits", "TBA_123456789_0123_202601_B001_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"declarant 11 digits", "TBA_12345676241_0123_202601_B001_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"fund 3 digits", "TBA_12345676_123_202601_B001_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"period 5 digits", "TBA_12345676_0123_20261_B001_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"period month 13", "TBA_12345676_0123_202613_B001_20260210T081200Z.es3", errcode.T001, "invalid period"},
		{"period month 00", "TBA_12345676_0123_202600_B001_20260210T081200Z.es3", errcode.T001, "invalid period"},
		{"type X", "TBA_12345676_0123_202601_X001_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"seq 2 digits", "TBA_12345676_0123_202601_B01_20260210T081200Z.es3", errcode.T001, "does not match"},
		{"timestamp without Z", "TBA_12345676_0123_202601_B001_20260210T081200.es3", errcode.T001, "does not match"},
		{"timestamp with offset", "TBA_12345676_0123_202601_B001_20260210T081200+01.es3", errcode.T001, "does not match"},
		{"timestamp 30 February", "TBA_12345676_0123_202601_B001_20260230T081200Z.es3", errcode.T001, "invalid timestamp"},
		{"timestamp hour 24", "TBA_12345676_0123_202601_B001_20260210T241200Z.es3", errcode.T001, "invalid timestamp"},
		{"extra field", "TBA_12345676_0123_202601_B001_20260210T081200Z_x.es3", errcode.T001, "does not match"},
		{"leading space", " " + goodPkg, errcode.T001, "does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want *Error", tc.in, err)
			}
			if e.Code != tc.code {
				t.Fatalf("code %s, want %s (%v)", e.Code, tc.code, err)
			}
			f := e.Finding()
			if f.Code != tc.code || !strings.Contains(f.EN, tc.en) {
				t.Fatalf("finding %+v lacks %q", f, tc.en)
			}
			if f.HU == f.EN || !strings.Contains(f.HU, "(") {
				t.Fatalf("finding has no Hungarian detail: %+v", f)
			}
			if len(e.Name) > 100 {
				t.Fatalf("displayed name not shortened: %d bytes", len(e.Name))
			}
			if strings.ContainsRune(e.Name, 0) || strings.ContainsRune(e.Name, '\n') {
				t.Fatalf("displayed name carries raw control characters: %q", e.Name)
			}
		})
	}
}

func TestDerivedNames(t *testing.T) {
	pkg, err := Parse(goodPkg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ReceiptName(pkg).String(), "TBN"+goodPkg[3:]; got != want {
		t.Errorf("ReceiptName = %s, want %s", got, want)
	}
	if got, want := ContainerName(pkg).String(), "TBK"+goodPkg[3:]; got != want {
		t.Errorf("ContainerName = %s, want %s", got, want)
	}
	if pkg.Kind != Package {
		t.Errorf("ReceiptName changed its argument")
	}
	sealed := time.Date(2027, 3, 4, 5, 6, 7, 890, time.FixedZone("CET", 3600))
	x, err := ExportName("8123456789", "0123", "202612", 7, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.String(), "TBX_8123456789_0123_202612_B007_20270304T040607Z.es3"; got != want {
		t.Errorf("ExportName = %s, want %s", got, want)
	}
	for _, bad := range []struct {
		decl, fund, period string
		seq                int
	}{
		{"1234567", "0123", "202612", 1},
		{"12345676", "123", "202612", 1},
		{"12345676", "0123", "202613", 1},
		{"12345676", "0123", "202612", 1000},
		{"12345676", "0123", "202612", -1},
		{"1234_5676", "0123", "202612", 1},
	} {
		if _, err := ExportName(bad.decl, bad.fund, bad.period, bad.seq, sealed); err == nil {
			t.Errorf("ExportName(%+v) accepted", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	pkg, _ := Parse(goodPkg)
	bad := []func(*Name){
		func(n *Name) { n.Kind = "TBQ" },
		func(n *Name) { n.Type = 'b' },
		func(n *Name) { n.Type = 0 },
		func(n *Name) { n.Time = n.Time.Add(time.Millisecond) },
		func(n *Name) { n.Declarant = "12345676_0123" },
	}
	for i, mod := range bad {
		n := pkg
		mod(&n)
		if err := n.Check(); err == nil {
			t.Errorf("case %d: Check accepted %+v", i, n)
		}
	}
	local := pkg
	local.Time = pkg.Time.In(time.FixedZone("X", 7200))
	if err := local.Check(); err != nil {
		t.Errorf("a non-UTC location of the same instant: %v", err)
	}
}

func TestMatches(t *testing.T) {
	pkg, _ := Parse(goodPkg)                                                 // 12345676, 0123, 202601, B
	pers, _ := Parse("TBA_8123456789_9876_202512_O042_20260101T000000Z.es3") // personal tax id
	ok := Metadata{IDType: "adoszam", Declarant: "12345676", Fund: "0123", Period: "2026-01", Type: "B"}
	tests := []struct {
		name   string
		n      Name
		meta   Metadata
		fields []string
	}{
		{"equal core", pkg, ok, nil},
		{"11-digit tax number", pkg, Metadata{"adoszam", "12345676241", "0123", "2026-01", "B"}, nil},
		{"personal tax id", pers, Metadata{"adoazonosito", "8123456789", "9876", "2025-12", "O"}, nil},
		{"other declarant", pkg, Metadata{"adoszam", "87654321", "0123", "2026-01", "B"}, []string{"declarant"}},
		{"tax number as personal id", pkg, Metadata{"adoazonosito", "12345676", "0123", "2026-01", "B"}, []string{"declarant"}},
		{"TAJ never matches", pkg, Metadata{"taj", "123456788", "0123", "2026-01", "B"}, []string{"declarant"}},
		{"personal id vs 11-digit", pers, Metadata{"adoszam", "81234567890", "9876", "2025-12", "O"}, []string{"declarant"}},
		{"fund", pkg, Metadata{"adoszam", "12345676", "0124", "2026-01", "B"}, []string{"fund"}},
		{"period", pkg, Metadata{"adoszam", "12345676", "0123", "2026-02", "B"}, []string{"period"}},
		{"period malformed", pkg, Metadata{"adoszam", "12345676", "0123", "202601", "B"}, []string{"period"}},
		{"type", pkg, Metadata{"adoszam", "12345676", "0123", "2026-01", "H"}, []string{"type"}},
		{"all", pkg, Metadata{"adoazonosito", "8123456789", "9876", "2025-12", "O"}, []string{"declarant", "fund", "period", "type"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Matches(tc.n, tc.meta)
			if len(got) != len(tc.fields) {
				t.Fatalf("got %d findings %+v, want fields %v", len(got), got, tc.fields)
			}
			for i, f := range got {
				if f.Code != errcode.F010 || f.Location != tc.fields[i] {
					t.Errorf("finding %d = %+v, want F010 at %s", i, f, tc.fields[i])
				}
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that every accepted name prints back to itself, that for
// TBA names it agrees with the SPEC's regular expression (plus the calendar checks), and that every
// refusal is T001 or T002.
func FuzzParse(f *testing.F) {
	for _, s := range []string{goodPkg, "TBN_8123456789_9876_202512_O042_20260101T000000Z.es3",
		"TBA_12345676_0123_202613_B001_20260210T081200Z.es3", "x.ES3", "../a.es3", "\x00", ""} {
		f.Add(s)
	}
	spec := regexp.MustCompile(PackagePattern)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != errcode.T001 && e.Code != errcode.T002) {
				t.Fatalf("Parse(%q) error %v", s, err)
			}
			if strings.HasPrefix(s, "TBA_") && spec.MatchString(s) {
				// Only the calendar checks may refuse what the SPEC's pattern admits.
				if e.Code != errcode.T001 || !(strings.Contains(e.EN, "invalid period") || strings.Contains(e.EN, "invalid timestamp")) {
					t.Fatalf("Parse(%q) refused a name the SPEC pattern admits: %v", s, err)
				}
			}
			return
		}
		if n.String() != s {
			t.Fatalf("String() = %q for input %q", n.String(), s)
		}
		if n.Kind == Package && !spec.MatchString(s) {
			t.Fatalf("Parse accepted %q, which the SPEC pattern refuses", s)
		}
		if err := n.Check(); err != nil {
			t.Fatalf("Check(%q): %v", s, err)
		}
	})
}
