// Package sheet renders a declaration for people: the summary sheet (összesítő adatlap) and the itemised
// list (tételes lista) that SND-08 requires the signer to see before signing, as an aligned terminal
// table and as a standalone printable HTML page. Both say plainly what the signature will cover (SIG-20):
// the signed object is the compressed and encrypted bevallas.xml, which cannot be shown itself, so the
// views show the XML it is made from and, when given, that file's SHA-256.
package sheet

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Forint formats a whole-forint amount with the Hungarian thousands separator, a space
// ("1 234 567"), using sep as the separator (a plain space for terminals, a no-break space for HTML).
func Forint(n int64, sep string) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Width is the number of terminal columns s occupies: runes, not bytes; combining marks and format
// characters take none, East Asian wide and full-width characters two. s is measured in NFC, which is
// how it is printed (see Fit).
func Width(s string) int {
	w := 0
	for _, r := range norm.NFC.String(s) {
		w += runeWidth(r)
	}
	return w
}

func runeWidth(r rune) int {
	switch {
	case r == 0:
		return 0
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.Is(unicode.Cf, r):
		return 0
	case unicode.IsControl(r):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// Fit returns s in NFC with control characters removed, cut to at most max columns (ending in "…" when
// cut).
func Fit(s string, max int) string {
	s = clean(s)
	if Width(s) <= max {
		return s
	}
	var b strings.Builder
	w := 0
	for _, r := range s {
		rw := runeWidth(r)
		if w+rw > max-1 {
			break
		}
		b.WriteRune(r)
		w += rw
	}
	return b.String() + "…"
}

// clean normalizes to NFC and drops control characters, so that a name cannot move the cursor or
// change the terminal's state.
func clean(s string) string {
	s = norm.NFC.String(s)
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// pad aligns s in a column of w terminal columns.
func pad(s string, w int, right bool) string {
	n := w - Width(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}
