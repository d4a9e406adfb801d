package xades

import (
	"context"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/xmldsig"
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

// TestKindsAndAlgorithms: a receipt signed with the fund's (advanced) receipt key is valid as a
// receipt and not as a package; RSA-PSS and ECDSA signatures verify; a generic-mode read of our own
// package agrees with the strict one; an arrival too long after the time-stamp is A009.
func TestKindsAndAlgorithms(t *testing.T) {
	f := newFixture(t)
	rk := f.sb.World.MustEntity(sandbox.FundReceipt)
	rcpt, _ := f.sign(t, f.receiptDossier(t), rk, policy.KindReceipt, nil)
	rcpt = f.timestamp(t, rcpt)
	s := f.signers(t, "pelda")
	pss, _ := f.sign(t, f.encryptedPackage(t, 0), s[0], policy.KindPackage, func(o *SignOptions) { o.SignatureMethod = xmldsig.RSAPSSSHA256 })
	pss, _ = f.sign(t, pss, s[1], policy.KindPackage, nil) // ECDSA P-256
	pss = f.timestamp(t, pss)
	f.afterGrace()

	expect(t, "receipt", f.verify(t, rcpt, policy.KindReceipt, nil, time.Time{}), report.TotalPassed, "", "")
	d := f.verify(t, rcpt, policy.KindPackage, nil, time.Time{})
	expect(t, "receipt as package", d, report.TotalFailed, "", errcode.F008)

	d = f.verify(t, pss, policy.KindPackage, nil, time.Time{})
	expect(t, "RSA-PSS and ECDSA", d, report.TotalPassed, "", "")
	if d.Signatures[0].Algorithm != xmldsig.RSAPSSSHA256 || d.Signatures[1].Algorithm != xmldsig.ECDSASHA256 {
		t.Fatalf("algorithms %s, %s", d.Signatures[0].Algorithm, d.Signatures[1].Algorithm)
	}
	g, err := Verify(context.Background(), pss, VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now(), Mode: es3.Generic})
	if err != nil || g.Verdict.Indication != report.TotalPassed {
		t.Fatalf("generic mode: %v %+v", err, g.Verdict)
	}

	T := d.Signatures[0].TimestampTime
	late, err := Verify(context.Background(), pss, VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now(),
		Arrival: T.Add(f.pol.Gaps.TimestampToArrival + time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "late arrival", late, report.TotalFailed, "", errcode.A009)
	onTime, _ := Verify(context.Background(), pss, VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now(),
		Arrival: T.Add(f.pol.Gaps.TimestampToArrival - time.Minute)})
	expect(t, "arrival within the gap", onTime, report.TotalPassed, "", "")

	if _, err := Verify(context.Background(), pss, VerifyOptions{}); err == nil {
		t.Fatal("Verify without an environment ran")
	}
	d = f.verify(t, []byte("not xml"), policy.KindPackage, nil, time.Time{})
	expect(t, "not a dossier", d, report.TotalFailed, report.FormatFailure, errcode.T005)
}

// TestValidationTimeBeforeTimestamp: asked whether a signature was valid at a time before its
// time-stamp existed (auditor --at), the answer is not "valid": the time-stamp cannot prove anything
// about an earlier moment.
func TestValidationTimeBeforeTimestamp(t *testing.T) {
	f := newFixture(t)
	data, _ := f.signedPackage(t, 1)
	f.afterGrace()
	now := f.sb.Clock.Now()
	expect(t, "now", f.verify(t, data, policy.KindPackage, nil, now), report.TotalPassed, "", "")
	d := f.verify(t, data, policy.KindPackage, nil, now.Add(-time.Hour))
	expect(t, "an hour before the time-stamp", d, report.TotalFailed, report.TimestampOrderFailure, "")
	if !hasCode(d.Verdict, errcode.A007) && !hasCode(d.Signatures[0].Verdict, errcode.A007) {
		t.Fatalf("no A007 finding: %+v", d.Signatures[0].Verdict)
	}
}
