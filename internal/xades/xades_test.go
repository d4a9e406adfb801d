package xades

import (
	"testing"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/policy"
)

// TestSigners: packages with 1, 2 and 3 signers are incomplete (TRY_LATER, A012) right after
// time-stamping and valid once the grace period is over.
func TestSigners(t *testing.T) {
	f := newFixture(t)
	for n := 1; n <= 3; n++ {
		data, ids := f.signedPackage(t, n)
		d := f.verify(t, data, policy.KindPackage, nil, f.sb.Clock.Now())
		expect(t, "before grace", d, report.Indeterminate, report.TryLater, errcode.A012)
		if len(d.Signatures) != n {
			t.Fatalf("%d signatures reported, want %d", len(d.Signatures), n)
		}
		f.afterGrace()
		d = f.verify(t, data, policy.KindPackage, nil, f.sb.Clock.Now())
		expect(t, "after grace", d, report.TotalPassed, "", "")
		for i, s := range d.Signatures {
			if s.ID != ids[i] || s.Level != "T" || s.TimestampTime.IsZero() || s.SigningTime.IsZero() || len(s.Chain) != 3 || s.Signer == "" {
				t.Fatalf("signature %d report incomplete: %+v", i, s)
			}
		}
	}
}
