package declaration

import (
	"strings"
	"testing"
)

func TestCollapseSpaceIsXSDCollapse(t *testing.T) {
	for in, want := range map[string]string{
		"  Kovács \t Éva\r\n": "Kovács Éva",
		"Kovács\u00a0Éva":     "Kovács\u00a0Éva", // no-break space is not XML white space
		"a\u2003 b":           "a\u2003 b",
		"plain":               "plain",
		"\n\n":                "",
	} {
		if got := collapseSpace(in); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCollapseSpace: collapseSpace and collapseBytes agree with the definition (split on the four XML
// white-space characters, join the fields with one space), also on invalid UTF-8.
func FuzzCollapseSpace(f *testing.F) {
	for _, s := range []string{"", " ", "a", " a ", "a  b", "a\t\r\nb", "\xff \xfe", "Kovács\u00a0 Éva  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.Join(strings.FieldsFunc(s, func(r rune) bool {
			return r == ' ' || r == '\t' || r == '\r' || r == '\n'
		}), " ")
		if got := collapseSpace(s); got != want {
			t.Fatalf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
		if got := string(collapseBytes([]byte(s))); got != want {
			t.Fatalf("collapseBytes(%q) = %q, want %q", s, got, want)
		}
		if isCollapsed(s) != (s == want) {
			t.Fatalf("isCollapsed(%q) = %v", s, isCollapsed(s))
		}
	})
}
