package xades

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/xades/props"
	"github.com/tagdij/tagdij/policy"
)

// TestFinalCheckServicesDown: the processor's final check (Extend) with the sandbox's revocation
// services stopped. OCSP down: the CRLs serve, and the extended package carries them. Both down:
// INDETERMINATE/TRY_LATER (A011), never invalid, nothing extended; retried with the services back,
// final. Near the signer certificate's notAfter the same incomplete answer raises the alert.
// (Revoked before and after T at this level: TestRevocation; the chain rules: package trust.)
func TestFinalCheckServicesDown(t *testing.T) {
	ctx := context.Background()
	extend := func(f *fixture, pkg []byte) ([]byte, *report.Document, error) {
		return Extend(ctx, pkg, ExtendOptions{Verify: VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}, TSA: f.tsa})
	}
	for _, tc := range []struct {
		name string
		stop []sandboxtest.Service
		// final: Extend succeeds; otherwise it refuses with the report's TRY_LATER/A011.
		final bool
	}{
		{"OCSP responder down: CRL used", []sandboxtest.Service{sandboxtest.OCSP}, true},
		{"CRL distribution points down: OCSP used", []sandboxtest.Service{sandboxtest.CRL}, true},
		{"both down: TRY_LATER", []sandboxtest.Service{sandboxtest.OCSP, sandboxtest.CRL}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			pkg, ids := f.signedPackage(t, 1)
			for _, s := range tc.stop {
				f.sb.Stop(s)
			}
			f.afterGrace()
			ext, rep, err := extend(f, pkg)
			if !tc.final {
				if !errors.Is(err, ErrNotFinal) || rep == nil || rep.Verdict.Indication != report.Indeterminate ||
					rep.Verdict.Sub != report.TryLater || !hasCode(rep.Signatures[0].Verdict, errcode.A011) {
					t.Fatalf("Extend with both down: %v %+v", err, rep)
				}
				// Far from the signer certificate's notAfter: no alert; within a week of it: alert.
				cert := rep.Signatures[0].Certificate
				if alert, deadline := trust.FinalCheckAlert(rep, f.sb.Clock.Now(), 0); alert || !deadline.Equal(cert.NotAfter) {
					t.Fatalf("alert %v, deadline %v (notAfter %v)", alert, deadline, cert.NotAfter)
				}
				late := cert.NotAfter.Add(-3 * 24 * time.Hour)
				d, err := Verify(ctx, pkg, VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: late})
				if err != nil || d.Verdict.Indication != report.Indeterminate {
					t.Fatalf("three days before notAfter: %v %+v", err, d)
				}
				if alert, _ := trust.FinalCheckAlert(d, late, 0); !alert {
					t.Fatal("no alert three days before the signer certificate's notAfter")
				}
				// Retried with the services back: final.
				for _, s := range tc.stop {
					f.sb.Resume(s)
				}
				if _, rep, err := extend(f, pkg); err != nil {
					t.Fatalf("Extend with the services back: %v %+v", err, rep)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extend: %v %+v", err, rep)
			}
			// The signer's evidence embedded is of the method that answered.
			up := unsignedOf(t, ext)[ids[0]]
			rv := up.Of(props.KindRevocationValues)[0].RevocationValues
			ocspDown := tc.stop[0] == sandboxtest.OCSP
			if ocspDown && (len(rv.CRLs) == 0 || len(rv.OCSP) != 0) || !ocspDown && (len(rv.OCSP) == 0 || len(rv.CRLs) != 0) {
				t.Fatalf("RevocationValues: %d CRLs, %d OCSP responses", len(rv.CRLs), len(rv.OCSP))
			}
			offline := *f.env
			offline.Online = nil
			expect(t, "extended, offline", f.verify(t, ext, policy.KindPackage, &offline, time.Time{}), report.TotalPassed, "", "")
		})
	}
}
