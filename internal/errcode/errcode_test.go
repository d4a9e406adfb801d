package errcode

import (
	"regexp"
	"strings"
	"testing"
)

func TestCatalogueComplete(t *testing.T) {
	want := map[string]int{"T": 6, "F": 12, "A": 13, "B": 5, "D": 9, "R": 1}
	got := map[string]int{}
	re := regexp.MustCompile(`^[TFABDR]\d{3}$`)
	for _, i := range All() {
		if !re.MatchString(string(i.Code)) {
			t.Errorf("malformed code %q", i.Code)
		}
		if i.HU == "" || i.EN == "" || i.HU == i.EN {
			t.Errorf("%s: texts must exist in both languages and differ", i.Code)
		}
		if i.Severity != Error && i.Severity != Warning {
			t.Errorf("%s: bad severity %q", i.Code, i.Severity)
		}
		got[string(i.Code[:1])]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("family %s: %d codes, SPEC §7 has %d", k, got[k], n)
		}
	}
}

func TestNew(t *testing.T) {
	f := New(D005, "tétel 12", "123456789")
	if f.Code != D005 || f.Severity != Error || !strings.Contains(f.HU, "TAJ") || !strings.Contains(f.EN, "123456789") {
		t.Fatalf("unexpected finding %+v", f)
	}
	if !strings.Contains(f.Error(), "tétel 12") {
		t.Fatalf("location missing from %q", f.Error())
	}
	u := New("Z999", "", "")
	if u.Severity != Error || u.EN == "" {
		t.Fatalf("unknown code must still be a reportable error: %+v", u)
	}
}
