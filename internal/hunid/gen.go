package hunid

import (
	"fmt"
	"math/bits"
	"time"
)

// Random is the source of randomness the generators use; *math/rand/v2.PCG and *rand.ChaCha8 satisfy it.
// Generators take it explicitly so that synthetic data is reproducible from a seed.
type Random interface {
	Uint64() uint64
}

// below returns a number in [0, n) from r (multiply-shift; the tiny bias is irrelevant for test data).
func below(r Random, n uint64) uint64 {
	hi, _ := bits.Mul64(r.Uint64(), n)
	return hi
}

// TAJFromSerial builds the valid TAJ number whose first eight digits are serial (taken modulo 10⁸ and
// zero-padded). Distinct serials below 10⁸ give distinct TAJ numbers.
func TAJFromSerial(serial uint64) string {
	s := fmt.Sprintf("%08d", serial%100_000_000)
	d, _ := TAJCheckDigit(s)
	return s + string(d)
}

// NewTAJ returns a random valid TAJ number.
func NewTAJ(r Random) string { return TAJFromSerial(below(r, 100_000_000)) }

// AdoazonositoFor builds the adóazonosító jel of someone born on birth with the given same-day serial
// (digits 7–9, 0–999). ok is false when the birth date cannot be encoded or when the law forbids the
// serial because its check digit would be 10; try another serial then.
func AdoazonositoFor(birth time.Time, serial int) (id string, ok bool) {
	days, ok := AdoazonositoDays(birth)
	if !ok || serial < 0 || serial > 999 {
		return "", false
	}
	first9 := fmt.Sprintf("8%05d%03d", days, serial)
	d, ok := AdoazonositoCheckDigit(first9)
	if !ok {
		return "", false
	}
	return first9 + string(d), true
}

// NewAdoazonosito returns a random valid adóazonosító jel for someone born on birth. It returns "" only
// when birth is outside the encodable range (1867–2140).
func NewAdoazonosito(r Random, birth time.Time) string {
	if _, ok := AdoazonositoDays(birth); !ok {
		return ""
	}
	start := int(below(r, 1000))
	// At most one serial in eleven is forbidden, so a valid one is always within a few steps.
	for i := 0; i < 1000; i++ {
		if id, ok := AdoazonositoFor(birth, (start+i)%1000); ok {
			return id
		}
	}
	return ""
}

// NewAdoszam returns a random valid 11-digit adószám (törzsszám, ÁFA code 1–3, a county territorial code).
func NewAdoszam(r Random) string {
	first7 := fmt.Sprintf("%07d", 1_000_000+below(r, 9_000_000))
	d, _ := AdoszamCheckDigit(first7)
	vat := '1' + below(r, 3)
	region := 2 + below(r, 19) // 02–20, the county codes
	return fmt.Sprintf("%s%c%c%02d", first7, d, vat, region)
}
