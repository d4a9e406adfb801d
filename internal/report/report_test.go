package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
)

func TestVerdictRanking(t *testing.T) {
	cases := []struct {
		name    string
		steps   func(v *Verdict)
		want    Indication
		wantSub SubIndication
	}{
		{"nothing", func(v *Verdict) {}, TotalPassed, None},
		{"warning only", func(v *Verdict) { v.Warn(errcode.New(errcode.D007, "", "")) }, TotalPassed, None},
		{"incomplete", func(v *Verdict) { v.Incomplete(TryLater, errcode.New(errcode.A012, "", "")) }, Indeterminate, TryLater},
		{"failure beats incomplete", func(v *Verdict) {
			v.Incomplete(TryLater, errcode.New(errcode.A012, "", ""))
			v.Fail(HashFailure, errcode.New(errcode.A002, "", ""))
		}, TotalFailed, HashFailure},
		{"incomplete does not soften a failure", func(v *Verdict) {
			v.Fail(SigCryptoFailure, errcode.New(errcode.A001, "", ""))
			v.Incomplete(TryLater, errcode.New(errcode.A012, "", ""))
		}, TotalFailed, SigCryptoFailure},
		{"first failure names the sub-indication", func(v *Verdict) {
			v.Fail(FormatFailure, errcode.New(errcode.F001, "", ""))
			v.Fail(HashFailure, errcode.New(errcode.A002, "", ""))
		}, TotalFailed, FormatFailure},
	}
	for _, c := range cases {
		v := Passed()
		c.steps(&v)
		if v.Indication != c.want || v.Sub != c.wantSub {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, v.Indication, v.Sub, c.want, c.wantSub)
		}
	}
	v := Passed()
	v.Warn(errcode.New(errcode.D007, "", ""))
	if v.HasErrors() || v.Findings[0].Severity != errcode.Warning {
		t.Fatal("a warning must not count as an error")
	}
}

func TestDocumentFinishAndRender(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	ok := Signature{ID: "S1", Verdict: Passed(), Signer: "CN=Kovács Éva", TimestampTime: t0}
	later := Signature{ID: "S2", Verdict: Passed(), EarliestFinal: t0.Add(4 * time.Hour)}
	later.Verdict.Incomplete(TryLater, errcode.New(errcode.A012, "S2", ""))
	d := Document{File: "TBA_x.es3", ValidatedAt: t0, Signatures: []Signature{ok, later}}
	d.Finish()
	if d.Verdict.Indication != Indeterminate || d.Verdict.Sub != TryLater || !d.EarliestFinal.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("document verdict %+v, earliest %v", d.Verdict, d.EarliestFinal)
	}
	if d.Verdict.Indication.State() != "BEFEJEZETLEN" || TotalPassed.State() != "ERVENYES" || TotalFailed.State() != "ERVENYTELEN" {
		t.Fatal("state mapping of SIG-22 broken")
	}
	var text bytes.Buffer
	if err := WriteText(&text, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BEFEJEZETLEN / INCOMPLETE", "TRY_LATER", "Kovács Éva", "A012", "grace period", "kivárási"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, d); err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Verdict.Indication != Indeterminate || len(back.Signatures) != 2 || back.Signatures[1].Verdict.Findings[0].Code != errcode.A012 {
		t.Fatalf("JSON round trip lost data: %+v", back)
	}
}

// TestUnder: the EN 319 102-1 table 5 pairs, with the negative cases Tagdíj used to report (an
// INDETERMINATE-only sub-indication under TOTAL-FAILED, a sub-indication with TOTAL-PASSED).
func TestUnder(t *testing.T) {
	cases := []struct {
		sub  SubIndication
		ind  Indication
		want bool
	}{
		{HashFailure, TotalFailed, true},
		{SigCryptoFailure, TotalFailed, true},
		{FormatFailure, TotalFailed, true},
		{Revoked, TotalFailed, true},
		{NotYetValid, TotalFailed, true},
		{NoCertificateChainFound, Indeterminate, true},
		{OutOfBoundsNoPOE, Indeterminate, true},
		{RevokedNoPOE, Indeterminate, true},
		{CryptoConstraintsFailureNoPOE, Indeterminate, true},
		{CryptoConstraintsFailure, Indeterminate, true},
		{SignedDataNotFound, Indeterminate, true},
		{CertificateChainGeneralFailure, Indeterminate, true},
		{NoPOE, Indeterminate, true},
		{TryLater, Indeterminate, true},
		{None, TotalPassed, true},
		{RevokedNoPOE, TotalFailed, false},
		{OutOfBoundsNoPOE, TotalFailed, false},
		{CryptoConstraintsFailure, TotalFailed, false},
		{HashFailure, Indeterminate, false},
		{Revoked, Indeterminate, false},
		{"UNSUPPORTED", TotalFailed, false},
		{"UNSUPPORTED", Indeterminate, false},
		{TryLater, TotalPassed, false},
		{None, TotalFailed, false},
		{HashFailure, "", false},
	}
	for _, c := range cases {
		if got := c.sub.Under(c.ind); got != c.want {
			t.Errorf("%q.Under(%s) = %v, want %v", c.sub, c.ind, got, c.want)
		}
	}
}

func TestRecord(t *testing.T) {
	cases := []struct {
		ind     Indication
		want    Indication
		wantSub SubIndication
		sev     errcode.Severity
	}{
		{TotalFailed, TotalFailed, Revoked, errcode.Error},
		{Indeterminate, Indeterminate, Revoked, errcode.Error},
		{TotalPassed, TotalPassed, None, errcode.Warning},
		{"", TotalPassed, None, errcode.Warning},
	}
	for _, c := range cases {
		v := Passed()
		v.Record(c.ind, Revoked, errcode.New(errcode.A005, "", ""))
		if v.Indication != c.want || v.Sub != c.wantSub || len(v.Findings) != 1 || v.Findings[0].Severity != c.sev {
			t.Errorf("Record(%q): %+v", c.ind, v)
		}
	}
}
