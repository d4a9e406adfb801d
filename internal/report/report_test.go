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
