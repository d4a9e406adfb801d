package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
)

// The advice of `sender verify` for an incomplete package names what is missing: the grace period
// still running, the signer's evidence still from inside an ended grace period, or a certificate
// without usable evidence with the configuration's per-issuer revocation sources — and never counts
// down to a time already past.
func TestVerifyAdvice(t *testing.T) {
	T := time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)
	now := T.Add(26 * time.Hour)
	finding := func(code errcode.Code, m trust.MissingEvidence) errcode.Finding {
		hu, en := m.Text()
		return errcode.New(code, "Sig-1 "+m.Location(), hu+" / "+en)
	}
	ca := trust.MissingEvidence{Subject: "CN=Foreign Issuing CA,C=HU", CA: true, Purpose: pathval.PurposeSigner, Reason: trust.ReasonNoLocation}
	leaf := trust.MissingEvidence{Subject: "CN=Kovács Anna,C=HU", Purpose: pathval.PurposeSigner, Reason: trust.ReasonGraceNotOver}
	tsaCA := trust.MissingEvidence{Subject: "CN=Foreign TSA CA,C=HU", CA: true, Purpose: pathval.PurposeTSA, Reason: trust.ReasonUnreachable}
	doc := func(final time.Time, fs ...errcode.Finding) *report.Document {
		d := &report.Document{EarliestFinal: final, Verdict: report.Verdict{Indication: report.Indeterminate, Sub: report.TryLater}}
		s := report.Signature{ID: "Sig-1", Verdict: report.Passed()}
		for _, f := range fs {
			s.Verdict.Incomplete(report.TryLater, f)
		}
		d.Signatures = []report.Signature{s}
		return d
	}
	for _, tc := range []struct {
		name    string
		doc     *report.Document
		want    []string
		notWant []string
	}{
		{"grace period running", doc(T.Add(4*time.Hour), finding(errcode.A012, leaf)), []string{"grace period ends at 2031-06-01T14:00:00Z"}, nil},
		{"CA without revocation location after the grace period", doc(T.Add(4*time.Hour), finding(errcode.A011, ca)),
			[]string{`"Sig-1 signer CA CN=Foreign Issuing CA,C=HU" names no revocation location`, "revocationSources", "/etc/tagdij/sender.json, trust section",
				"sender verify p.es3"},
			[]string{"in 0s", "grace period ends"}},
		{"TSA CA unreachable", doc(T.Add(4*time.Hour), finding(errcode.A011, tsaCA)),
			[]string{`"Sig-1 TSA CA CN=Foreign TSA CA,C=HU"`, "could not be reached", "revocationSources"}, []string{"in 0s"}},
		{"signer evidence still from inside the ended grace period", doc(T.Add(4*time.Hour), finding(errcode.A012, leaf)),
			[]string{"ended at 2031-06-01T14:00:00Z", "not published newer evidence"}, []string{"in 0s", "még 0s"}},
		{"nothing specific", doc(T.Add(4*time.Hour), errcode.New(errcode.A003, "Sig-1 signer", "")),
			[]string{"validation data is missing"}, []string{"in 0s"}},
	} {
		var out bytes.Buffer
		at := now
		if tc.name == "grace period running" {
			at = T.Add(time.Hour)
		}
		writeVerifyAdvice(&cli.Env{Stdout: &out}, tc.doc, "p.es3", "/etc/tagdij/sender.json", at)
		text := out.String()
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: advice lacks %q:\n%s", tc.name, w, text)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(text, w) {
				t.Errorf("%s: advice has %q:\n%s", tc.name, w, text)
			}
		}
		if !strings.Contains(text, "SIG-23") {
			t.Errorf("%s: no SIG-23 line:\n%s", tc.name, text)
		}
	}
}
