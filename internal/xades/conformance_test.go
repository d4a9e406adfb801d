package xades

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/xmldsig/conformance"
	"github.com/tagdij/tagdij/policy"
)

// TestConformanceVerdicts runs every xmlsec sample (real signatures from other products) through
// VerifyGeneric without trust anchors, as `auditor verify` without --trust does: only what the bytes
// prove wrong (a bad signature value, a refused DOCTYPE) may be TOTAL-FAILED; a core-valid sample, one
// whose key is only named and one this verifier does not implement are INDETERMINATE; nothing is
// TOTAL-PASSED; and every verdict is an indication/sub-indication pair of EN 319 102-1. Before
// issue 7 all 148 samples were TOTAL-FAILED.
func TestConformanceVerdicts(t *testing.T) {
	root, err := conformance.Root()
	if err != nil {
		t.Skip(err)
	}
	samples, err := conformance.Samples(root)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Production()
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{Env: noTrust(pol), Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	count := map[string]int{}
	for _, s := range samples {
		data, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := VerifyGeneric(context.Background(), data, opts)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		v := d.Verdict
		want := report.Indeterminate
		if s.Want == conformance.Invalid || s.Want == conformance.Forbidden {
			want = report.TotalFailed
		}
		if v.Indication != want {
			t.Errorf("%s (%s: %s): %s/%s %v, want %s", s.Name, s.Want, s.Why, v.Indication, v.Sub, errorCodes(d), want)
		}
		if !v.Sub.Under(v.Indication) {
			t.Errorf("%s: %s/%s is not an EN 319 102-1 pair", s.Name, v.Indication, v.Sub)
		}
		count[string(s.Want)+" → "+string(v.Indication)+"/"+string(v.Sub)]++
	}
	var lines []string
	for k, n := range count {
		lines = append(lines, k+": "+strconv.Itoa(n))
	}
	sort.Strings(lines)
	t.Logf("%d samples:\n%s", len(samples), strings.Join(lines, "\n"))
}
