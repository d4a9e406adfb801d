package trust

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/report"
)

func TestFinalDeadlineAndAlert(t *testing.T) {
	na := time.Date(2031, 6, 1, 12, 0, 0, 0, time.UTC) // the signer certificate's notAfter
	day := 24 * time.Hour
	withCert := func(notAfter time.Time) report.Signature {
		return report.Signature{Certificate: &x509.Certificate{NotAfter: notAfter}}
	}
	fromJSON := func(notAfter time.Time) report.Signature { // a stored report: no certificate, its chain
		return report.Signature{Chain: []report.Certificate{{NotAfter: notAfter}, {NotAfter: notAfter.AddDate(10, 0, 0)}}}
	}
	doc := func(ind report.Indication, sigs ...report.Signature) *report.Document {
		return &report.Document{Verdict: report.Verdict{Indication: ind}, Signatures: sigs}
	}
	pending := report.Indeterminate
	for _, tc := range []struct {
		name     string
		doc      *report.Document
		now      time.Time
		margin   time.Duration
		alert    bool
		deadline time.Time
	}{
		{"pending, far from notAfter", doc(pending, withCert(na)), na.Add(-30 * day), 0, false, na},
		{"pending, a day inside the default week", doc(pending, withCert(na)), na.Add(-6 * day), 0, true, na},
		{"pending, exactly at notAfter - margin", doc(pending, withCert(na)), na.Add(-7 * day), 0, true, na},
		{"pending, a second before the margin", doc(pending, withCert(na)), na.Add(-7*day - time.Second), 0, false, na},
		{"pending, past notAfter", doc(pending, withCert(na)), na.Add(day), 0, true, na},
		{"pending, policy margin of 30 days", doc(pending, withCert(na)), na.Add(-20 * day), 30 * day, true, na},
		{"pending, margin of 1 day", doc(pending, withCert(na)), na.Add(-2 * day), day, false, na},
		{"final valid inside the margin", doc(report.TotalPassed, withCert(na)), na.Add(-day), 0, false, na},
		{"final invalid inside the margin", doc(report.TotalFailed, withCert(na)), na.Add(-day), 0, false, na},
		{"two signers: the earlier notAfter counts", doc(pending, withCert(na.Add(60*day)), withCert(na)), na.Add(-3 * day), 0, true, na},
		{"stored report: the chain's end certificate", doc(pending, fromJSON(na)), na.Add(-3 * day), 0, true, na},
		{"no certificate: no deadline", doc(pending, report.Signature{}), na, 0, false, time.Time{}},
		{"nil report", nil, na, 0, false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := FinalDeadline(tc.doc); !d.Equal(tc.deadline) {
				t.Fatalf("FinalDeadline = %v, want %v", d, tc.deadline)
			}
			alert, d := FinalCheckAlert(tc.doc, tc.now, tc.margin)
			if alert != tc.alert || !d.Equal(tc.deadline) {
				t.Fatalf("FinalCheckAlert = %v, %v; want %v, %v", alert, d, tc.alert, tc.deadline)
			}
		})
	}
}
