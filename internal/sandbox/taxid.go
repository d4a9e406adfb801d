package sandbox

import (
	"fmt"
	"time"
)

// TaxNumberCheckDigit returns the check digit (the 8th digit) of a Hungarian
// tax number (adószám) core from its first seven digits: weights 9,7,3,1,9,7,3,
// check = (10 − sum mod 10) mod 10. ok is false unless first7 is exactly
// seven ASCII digits.
func TaxNumberCheckDigit(first7 string) (digit byte, ok bool) {
	if len(first7) != 7 {
		return 0, false
	}
	weights := [7]int{9, 7, 3, 1, 9, 7, 3}
	sum := 0
	for i := range 7 {
		c := first7[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * weights[i]
	}
	return byte('0' + (10-sum%10)%10), true
}

// ValidTaxNumberCore reports whether s is an 8-digit tax-number core whose
// 8th digit is the check digit of the first seven.
func ValidTaxNumberCore(s string) bool {
	if len(s) != 8 {
		return false
	}
	d, ok := TaxNumberCheckDigit(s[:7])
	return ok && s[7] == d
}

// personalTaxID builds a check-digit-valid 10-digit Hungarian personal tax
// identifier (adóazonosító jel): 8, five digits counting the days from
// 1867-01-01 to the birth date, a three-digit sequence, and the check digit
// sum(d_i·i, i=1..9) mod 11. Sequences whose check would be 10 are skipped
// (such numbers are never issued).
func personalTaxID(birth time.Time, seq int) (string, error) {
	epoch := time.Date(1867, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(birth.Sub(epoch).Hours() / 24)
	if days < 0 || days > 99999 {
		return "", fmt.Errorf("sandbox: birth date %s outside the tax-id range", birth.Format(time.DateOnly))
	}
	for s := seq; s < seq+1000; s++ {
		id := fmt.Sprintf("8%05d%03d", days, s%1000)
		sum := 0
		for i := range 9 {
			sum += int(id[i]-'0') * (i + 1)
		}
		if c := sum % 11; c < 10 {
			return id + string(rune('0'+c)), nil
		}
	}
	return "", fmt.Errorf("sandbox: no valid tax id for %s", birth.Format(time.DateOnly))
}

// ValidPersonalTaxID reports whether s is a 10-digit personal tax identifier
// starting with 8 whose 10th digit is the mod-11 check digit.
func ValidPersonalTaxID(s string) bool {
	if len(s) != 10 || s[0] != '8' {
		return false
	}
	sum := 0
	for i := range 10 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * (i + 1)
		}
	}
	c := sum % 11
	return c < 10 && int(s[9]-'0') == c
}
