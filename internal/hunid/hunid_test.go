package hunid

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Known-valid identifiers published by third parties, so that the check-digit rules are tested against
// numbers the implementation did not produce.
func TestValidTAJKnown(t *testing.T) {
	for _, tc := range []struct {
		taj, source string
	}{
		// Worked example of the CDV rule: 12345678 → 188 → 8 (https://tools.gera.services/hungary-taj-validator).
		{"123456788", "tools.gera.services worked example"},
		// Example in the README of github.com/rrd108/hungarian-validators (validateSSNumber('111111110')).
		{"111111110", "rrd108/hungarian-validators README"},
	} {
		if !ValidTAJ(tc.taj) {
			t.Errorf("ValidTAJ(%q) = false; published as valid by %s", tc.taj, tc.source)
		}
	}
}

func TestValidTAJNegative(t *testing.T) {
	for _, taj := range []string{
		"123456789",  // check digit changed
		"123456778",  // one body digit changed
		"12345678",   // too short
		"1234567888", // too long
		"12345678a",  // not a digit
		"12345 788",  // space
		"",           // empty
		"１23456788",  // full-width digit
	} {
		if ValidTAJ(taj) {
			t.Errorf("ValidTAJ(%q) = true, want false", taj)
		}
	}
}

func TestValidAdoazonositoKnown(t *testing.T) {
	// Worked example at http://muzso.hu/2011/10/26/adoazonosito-jel-ellenorzo-osszeg-generator: born
	// 1967-02-13 → 36567 days after 1867-01-01, serial 000, weighted sum 124, 124 mod 11 = 3.
	const id = "8365670003"
	if !ValidAdoazonosito(id) {
		t.Fatalf("ValidAdoazonosito(%q) = false", id)
	}
	b, ok := BirthDate(id)
	if !ok || !b.Equal(time.Date(1967, 2, 13, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("BirthDate(%q) = %v, %v; want 1967-02-13", id, b, ok)
	}
	// The same example, built rather than checked.
	got, ok := AdoazonositoFor(time.Date(1967, 2, 13, 0, 0, 0, 0, time.UTC), 0)
	if !ok || got != id {
		t.Fatalf("AdoazonositoFor(1967-02-13, 0) = %q, %v; want %q", got, ok, id)
	}
}

func TestValidAdoazonositoNegative(t *testing.T) {
	for _, tc := range []struct{ id, why string }{
		{"8365670004", "check digit changed"},
		{"8365670103", "serial digit changed"},
		{"7365670003", "first digit not 8"},
		{"836567000", "too short"},
		{"83656700033", "too long"},
		{"83656700x3", "non-digit"},
	} {
		if ValidAdoazonosito(tc.id) {
			t.Errorf("ValidAdoazonosito(%q) = true (%s)", tc.id, tc.why)
		}
	}
	// A serial whose weighted sum is ≡ 10 (mod 11) is never issued, so no tenth digit may make it valid.
	found := false
	for serial := 0; serial < 1000 && !found; serial++ {
		first9 := "836567" + pad3(serial)
		if _, ok := AdoazonositoCheckDigit(first9); ok {
			continue
		}
		found = true
		// Hand check of the remainder for the record.
		sum := 0
		for i := 0; i < 9; i++ {
			sum += (i + 1) * int(first9[i]-'0')
		}
		if sum%11 != 10 {
			t.Fatalf("%s: AdoazonositoCheckDigit refused but remainder is %d", first9, sum%11)
		}
		for d := '0'; d <= '9'; d++ {
			if ValidAdoazonosito(first9 + string(d)) {
				t.Errorf("ValidAdoazonosito(%s%c) = true although the remainder is 10", first9, d)
			}
		}
		if _, ok := AdoazonositoFor(time.Date(1967, 2, 13, 0, 0, 0, 0, time.UTC), serial); ok {
			t.Errorf("AdoazonositoFor accepted forbidden serial %d", serial)
		}
	}
	if !found {
		t.Fatal("no serial with remainder 10 found; the search is wrong")
	}
}

func pad3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func TestBirthDate(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want time.Time
		ok   bool
	}{
		{"8000000000", time.Date(1867, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"8000010000", time.Date(1867, 1, 2, 0, 0, 0, 0, time.UTC), true},
		// 33·365 days plus the 8 leap days 1868…1896 = 12053 → 1900-01-01.
		{"8120530000", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"7000000000", time.Time{}, false},
		{"800000000", time.Time{}, false},
	} {
		got, ok := BirthDate(tc.id)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("BirthDate(%q) = %v, %v; want %v, %v", tc.id, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidAdoszamKnown(t *testing.T) {
	for _, tc := range []struct{ n, source string }{
		// NAV's own tax number, printed on NAV's letterhead and in the NAV Online Számla samples.
		{"15789934-2-51", "Nemzeti Adó- és Vámhivatal"},
		{"15789934", "Nemzeti Adó- és Vámhivatal, törzsszám"},
		// Magyar Telekom Nyrt., as listed in the company register and EU VIES.
		{"10773381-2-44", "Magyar Telekom Nyrt."},
		// The docstring example of python-stdnum's stdnum/hu/anum.py.
		{"12892312", "python-stdnum hu/anum.py"},
		// The README example of the npm package adoszam-ellenorzo (github.com/bszabo28/adoszam-ellenorzo).
		{"24225221-2-43", "adoszam-ellenorzo README"},
		{"24225221243", "same without hyphens"},
	} {
		if !ValidAdoszam(tc.n) {
			t.Errorf("ValidAdoszam(%q) = false; published as valid (%s)", tc.n, tc.source)
		}
	}
}

func TestValidAdoszamNegative(t *testing.T) {
	for _, tc := range []struct{ n, why string }{
		{"12892313", "check digit changed (python-stdnum's own negative example)"},
		{"15789935-2-51", "check digit changed"},
		{"15789834-2-51", "body digit changed"},
		{"15789934-6-51", "ÁFA code 6"},
		{"15789934-0-51", "ÁFA code 0"},
		{"15789934-2-01", "territorial code 01"},
		{"15789934-2-21", "territorial code 21"},
		{"15789934-2-99", "territorial code 99"},
		{"1578993", "too short"},
		{"157899342", "nine digits"},
		{"15789934-251", "one hyphen"},
		{"15789934--2-51", "double hyphen"},
		{"1578993a", "non-digit"},
		{"", "empty"},
	} {
		if ValidAdoszam(tc.n) {
			t.Errorf("ValidAdoszam(%q) = true (%s)", tc.n, tc.why)
		}
	}
}

func TestFormat(t *testing.T) {
	if got := FormatAdoszam("15789934251"); got != "15789934-2-51" {
		t.Errorf("FormatAdoszam = %q", got)
	}
	if got := FormatAdoszam("157"); got != "157" {
		t.Errorf("FormatAdoszam(short) = %q", got)
	}
	if got := FormatTAJ("123456788"); got != "123 456 788" {
		t.Errorf("FormatTAJ = %q", got)
	}
}

func TestGenerators(t *testing.T) {
	r := rand.NewPCG(1, 2)
	for i := 0; i < 2000; i++ {
		if taj := NewTAJ(r); !ValidTAJ(taj) {
			t.Fatalf("NewTAJ gave invalid %q", taj)
		}
		if n := NewAdoszam(r); !ValidAdoszam(n) || len(n) != 11 {
			t.Fatalf("NewAdoszam gave invalid %q", n)
		}
		birth := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(r.Uint64()%30000))
		id := NewAdoazonosito(r, birth)
		if !ValidAdoazonosito(id) {
			t.Fatalf("NewAdoazonosito(%v) gave invalid %q", birth, id)
		}
		if b, _ := BirthDate(id); !b.Equal(birth) {
			t.Fatalf("NewAdoazonosito(%v) = %q encodes %v", birth, id, b)
		}
	}
	if got := NewAdoazonosito(r, time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)); got != "" {
		t.Errorf("NewAdoazonosito(1800) = %q, want empty", got)
	}
	// Distinct serials give distinct TAJ numbers.
	if TAJFromSerial(1) == TAJFromSerial(2) {
		t.Error("TAJFromSerial not injective")
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{"123456788", "8365670003", "15789934-2-51", "", "--", "8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Must never panic; a valid TAJ has nine digits, a valid tax id ten.
		if ValidTAJ(s) && len(s) != 9 {
			t.Fatalf("ValidTAJ(%q) with length %d", s, len(s))
		}
		if ValidAdoazonosito(s) {
			if _, ok := BirthDate(s); !ok {
				t.Fatalf("valid %q has no birth date", s)
			}
		}
		_ = ValidAdoszam(s)
		_, _ = NormalizeAdoszam(s)
	})
}
