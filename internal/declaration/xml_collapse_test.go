package declaration

import "testing"

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
