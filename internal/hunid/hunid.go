// Package hunid checks and generates the Hungarian identifiers a contribution declaration carries: the
// TAJ number (social security), the adóazonosító jel (personal tax id) and the adószám (tax number of an
// organisation or sole trader).
//
// The functions only check structure and check digits. A valid check digit proves that the number was not
// mistyped, not that it was ever issued: only the issuing authority (NEAK, NAV) can say that.
//
// Sources for every rule are cited at the function that implements it. All functions take the number as
// digits only; FormatAdoszam and NormalizeAdoszam convert to and from the usual "12345678-2-41" form.
package hunid

import (
	"strings"
	"time"
)

// digitsOnly reports whether s is exactly n ASCII digits.
func digitsOnly(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// TAJCheckDigit computes the check digit (CDV) of the first eight digits of a TAJ number.
//
// Rule: 1996. évi XX. törvény (a személyazonosító jel helyébe lépő azonosítási módokról és az azonosító
// kódok használatáról), 2. melléklet: the TAJ is nine digits, digits 1–8 a serial number, digit 9 the
// check digit: digits in odd positions are multiplied by 3, digits in even positions by 7, the products
// are summed and the remainder of the sum divided by 10 is the check digit. Restated with the worked
// example 12345678 → 188 → 8 at https://tools.gera.services/hungary-taj-validator, and collected with the
// other Hungarian check digits at https://matek.fazekas.hu/solo/hraskoandras_kodok/ellenorzojegy.html.
//
// ok is false when first8 is not exactly eight digits.
func TAJCheckDigit(first8 string) (digit byte, ok bool) {
	if !digitsOnly(first8, 8) {
		return 0, false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		d := int(first8[i] - '0')
		if i%2 == 0 { // positions 1, 3, 5, 7 (1-based) are odd
			sum += 3 * d
		} else {
			sum += 7 * d
		}
	}
	return byte('0' + sum%10), true
}

// ValidTAJ reports whether taj is nine digits whose last digit is the check digit of the first eight.
func ValidTAJ(taj string) bool {
	if !digitsOnly(taj, 9) {
		return false
	}
	d, _ := TAJCheckDigit(taj[:8])
	return taj[8] == d
}

// adoazonositoEpoch is day zero of the adóazonosító jel's birth-date field.
var adoazonositoEpoch = time.Date(1867, time.January, 1, 0, 0, 0, 0, time.UTC)

// AdoazonositoCheckDigit computes the tenth digit of an adóazonosító jel from its first nine.
//
// Rule: 1996. évi XX. törvény, 1. melléklet: "a 10. számjegy az 1–9. számjegyek felhasználásával
// matematikai módszerekkel képzett ellenőrző szám": each of digits 1–9 is multiplied by its position
// (1…9), the products are summed and the remainder modulo 11 is the check digit; a serial number (digits
// 7–9) for which the remainder would be 10 is never issued. Restated in the Hungarian Wikipedia article
// "Adóazonosító jel" (https://hu.m.wikipedia.org/wiki/Ad%C3%B3azonos%C3%ADt%C3%B3_jel) and in the Nemzeti
// Közszolgálati Egyetem's lexicon (https://lexikon.uni-nke.hu/szocikk/adoazonosito-jel/).
//
// ok is false when first9 is not nine digits or when the remainder is 10 (no valid tenth digit exists).
func AdoazonositoCheckDigit(first9 string) (digit byte, ok bool) {
	if !digitsOnly(first9, 9) {
		return 0, false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += (i + 1) * int(first9[i]-'0')
	}
	r := sum % 11
	if r == 10 {
		return 0, false
	}
	return byte('0' + r), true
}

// ValidAdoazonosito reports whether id is a structurally valid adóazonosító jel: ten digits, the first
// an 8 (the law's constant marking a private person), and a correct check digit.
func ValidAdoazonosito(id string) bool {
	if !digitsOnly(id, 10) || id[0] != '8' {
		return false
	}
	d, ok := AdoazonositoCheckDigit(id[:9])
	return ok && id[9] == d
}

// BirthDate returns the birth date an adóazonosító jel encodes: digits 2–6 are the number of days between
// 1 January 1867 and the date of birth (1996. évi XX. törvény, 1. melléklet). It does not check the check
// digit; ok is false only when id is not ten digits starting with 8. The result is midnight UTC.
func BirthDate(id string) (t time.Time, ok bool) {
	if !digitsOnly(id, 10) || id[0] != '8' {
		return time.Time{}, false
	}
	days := 0
	for i := 1; i <= 5; i++ {
		days = days*10 + int(id[i]-'0')
	}
	return adoazonositoEpoch.AddDate(0, 0, days), true
}

// AdoazonositoDays returns the number of days between 1 January 1867 and birth (dates in UTC), the value
// of digits 2–6. ok is false when birth is before the epoch or too late to fit five digits (after 2140).
func AdoazonositoDays(birth time.Time) (days int, ok bool) {
	b := time.Date(birth.Year(), birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
	d := int(b.Sub(adoazonositoEpoch).Hours() / 24)
	if d < 0 || d > 99999 {
		return 0, false
	}
	return d, true
}

// AdoszamCheckDigit computes the eighth digit of an adószám törzsszám (the 8-digit taxpayer core) from its
// first seven digits.
//
// Rule: the törzsszám's eighth digit is chosen so that Σ wᵢ·dᵢ ≡ 0 (mod 10) over all eight digits with
// weights 9, 7, 3, 1, 9, 7, 3, 1; equivalently the check digit is (10 − Σ₁⁷ wᵢ·dᵢ mod 10) mod 10. This is
// the check python-stdnum applies to the Hungarian VAT number (stdnum/hu/anum.py, "an 8-digit taxpayer
// registration number that includes a weighted checksum", weights (9, 7, 3, 1, 9, 7, 3, 1)), and the
// taxpayer numbers NAV itself publishes satisfy it (see the tests).
func AdoszamCheckDigit(first7 string) (digit byte, ok bool) {
	if !digitsOnly(first7, 7) {
		return 0, false
	}
	weights := [7]int{9, 7, 3, 1, 9, 7, 3}
	sum := 0
	for i := 0; i < 7; i++ {
		sum += weights[i] * int(first7[i]-'0')
	}
	return byte('0' + (10-sum%10)%10), true
}

// validAdoszamCore reports whether core is an 8-digit törzsszám with a correct check digit.
func validAdoszamCore(core string) bool {
	if !digitsOnly(core, 8) {
		return false
	}
	d, _ := AdoszamCheckDigit(core[:7])
	return core[7] == d
}

// ValidAdoszamCode reports whether v is a valid ÁFA (VAT status) code, the ninth digit of an 11-digit
// adószám. The codes in use are 1 (not liable to VAT), 2 (liable to VAT), 3 (simplified entrepreneurial
// tax, EVA), 4 (member of a VAT group) and 5 (the VAT group's own number) (2017. évi CL. törvény (Art.)
// and its predecessor 2003. évi XCII. törvény on the tax number's structure).
func ValidAdoszamCode(v byte) bool { return v >= '1' && v <= '5' }

// ValidAdoszamRegion reports whether r is a territorial code (the last two digits of an 11-digit adószám)
// that NAV assigns: 02–20 and 22–40 for the county directorates (old and new series), 41–44 for the
// Budapest and large-taxpayer directorates, 51 for the large-taxpayer directorate (Kiemelt Adózók
// Adóigazgatósága, as in NAV's own tax number 15789934-2-51).
func ValidAdoszamRegion(r string) bool {
	if !digitsOnly(r, 2) {
		return false
	}
	n := int(r[0]-'0')*10 + int(r[1]-'0')
	return (n >= 2 && n <= 20) || (n >= 22 && n <= 44) || n == 51
}

// ValidAdoszam reports whether s is a valid adószám in either form: the 8-digit törzsszám alone, or all
// 11 digits (törzsszám, ÁFA code, territorial code), with or without the usual hyphens
// ("12345678-2-41").
func ValidAdoszam(s string) bool {
	n, ok := NormalizeAdoszam(s)
	if !ok {
		return false
	}
	if len(n) == 8 {
		return validAdoszamCore(n)
	}
	return validAdoszamCore(n[:8]) && ValidAdoszamCode(n[8]) && ValidAdoszamRegion(n[9:])
}

// NormalizeAdoszam removes the hyphens of the "12345678-2-41" form. It accepts exactly 8 digits, 11
// digits, or 8-1-2 digits separated by hyphens; anything else is not ok.
func NormalizeAdoszam(s string) (string, bool) {
	if strings.Contains(s, "-") {
		parts := strings.Split(s, "-")
		if len(parts) != 3 || !digitsOnly(parts[0], 8) || !digitsOnly(parts[1], 1) || !digitsOnly(parts[2], 2) {
			return "", false
		}
		return parts[0] + parts[1] + parts[2], true
	}
	if digitsOnly(s, 8) || digitsOnly(s, 11) {
		return s, true
	}
	return "", false
}

// FormatAdoszam writes an 11-digit adószám in the usual "12345678-2-41" form; other input is returned
// unchanged.
func FormatAdoszam(s string) string {
	if !digitsOnly(s, 11) {
		return s
	}
	return s[:8] + "-" + s[8:9] + "-" + s[9:]
}

// FormatTAJ writes a TAJ number in the printed "123 456 788" grouping; other input is returned unchanged.
func FormatTAJ(s string) string {
	if !digitsOnly(s, 9) {
		return s
	}
	return s[:3] + " " + s[3:6] + " " + s[6:]
}
