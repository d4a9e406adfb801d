package trust

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/policy"
)

// crlFirst makes the policy prefer CRLs: the converse of the sandbox policy's OCSP first.
func crlFirst(p *policy.Policy, _ *Config) {
	p.Revocation.Methods = slices.Clone(p.Revocation.Methods)
	slices.Reverse(p.Revocation.Methods)
	if p.Revocation.Methods[0].Method != policy.CRL {
		panic("the sandbox policy no longer lists OCSP then CRL")
	}
}

// TestRevocationServicesDown: the final check with the sandbox's OCSP responder or CRL distribution
// points stopped (sandbox policy: OCSP grace 2 s, CRL grace 5 s). The preferred method is used while
// it answers; when it is down the other one is; when both are down the answer is INDETERMINATE/
// TRY_LATER (A011 after the grace period, A012 inside it) — never invalid, even for a certificate
// that is in fact revoked, and the same check succeeds once a service is back.
func TestRevocationServicesDown(t *testing.T) {
	ctx := context.Background()
	type want struct {
		ind    report.Indication
		sub    report.SubIndication
		code   errcode.Code
		method revocation.Method // of the signer's evidence, when passed
		reason MissingReason     // of the signer's missing evidence, when incomplete
	}
	cases := []struct {
		name    string
		policy  func(*policy.Policy, *Config)
		stop    []sandboxtest.Service
		revoked bool          // the signer revoked a minute before T
		after   time.Duration // from T to the check
		want    want
		// unused is a service the check must not have asked.
		unused sandboxtest.Service
		// resumed is the verdict once every service is back (zero: not checked).
		resumed report.Indication
	}{
		{name: "OCSP preferred, both up: OCSP", after: 3 * time.Second, unused: sandboxtest.CRL,
			want: want{ind: report.TotalPassed, sub: report.None, method: revocation.MethodOCSP}},
		{name: "OCSP responder down: CRL used", stop: []sandboxtest.Service{sandboxtest.OCSP}, after: 6 * time.Second,
			want: want{ind: report.TotalPassed, sub: report.None, method: revocation.MethodCRL}},
		{name: "OCSP responder down, CRL still inside its grace period: TRY_LATER", stop: []sandboxtest.Service{sandboxtest.OCSP},
			after: 3 * time.Second, want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A012, reason: ReasonGraceNotOver},
			resumed: report.TotalPassed},
		{name: "CRL preferred, both up: CRL", policy: crlFirst, after: 6 * time.Second, unused: sandboxtest.OCSP,
			want: want{ind: report.TotalPassed, sub: report.None, method: revocation.MethodCRL}},
		{name: "CRL preferred, distribution points down: OCSP used", policy: crlFirst, stop: []sandboxtest.Service{sandboxtest.CRL},
			after: 3 * time.Second, want: want{ind: report.TotalPassed, sub: report.None, method: revocation.MethodOCSP}},
		{name: "both down after the grace period: TRY_LATER A011", stop: []sandboxtest.Service{sandboxtest.OCSP, sandboxtest.CRL},
			after: 6 * time.Second, want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A011, reason: ReasonUnreachable},
			resumed: report.TotalPassed},
		{name: "both down inside the grace period: TRY_LATER A012", stop: []sandboxtest.Service{sandboxtest.OCSP, sandboxtest.CRL},
			after: time.Second, want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A012, reason: ReasonUnreachable}},
		{name: "both down, signer revoked before T: TRY_LATER, not invalid, until the evidence comes", revoked: true,
			stop: []sandboxtest.Service{sandboxtest.OCSP, sandboxtest.CRL}, after: 6 * time.Second,
			want:    want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A011, reason: ReasonUnreachable},
			resumed: report.TotalFailed},
		{name: "CRL preferred, both down: TRY_LATER A011", policy: crlFirst, stop: []sandboxtest.Service{sandboxtest.CRL, sandboxtest.OCSP},
			after: 6 * time.Second, want: want{ind: report.Indeterminate, sub: report.TryLater, code: errcode.A011, reason: ReasonUnreachable}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sb, env := worldWith(t, tc.policy)
			s := signer(t, sb, 0)
			T := sb.Clock.Now()
			if tc.revoked {
				sb.Revoke(t, s.Name, sandbox.ReasonKeyCompromise, T.Add(-time.Minute))
			}
			for _, svc := range tc.stop {
				sb.Stop(svc)
			}
			sb.Clock.Advance(tc.after)
			q := ChainQuery{Purpose: pathval.PurposeSigner, Leaf: s.Cert, Intermediates: s.Chain, T: T, Now: sb.Clock.Now()}
			r := env.CheckChain(ctx, q)
			expect(t, tc.name, r, tc.want.ind, tc.want.sub, tc.want.code)
			if tc.want.method != 0 {
				if ev := r.Path.Revocation[0]; ev == nil || ev.Method != tc.want.method {
					t.Fatalf("signer evidence %+v, want %s", ev, tc.want.method)
				}
			}
			if tc.want.reason != "" && (len(r.Missing) == 0 || r.Missing[0].CA || r.Missing[0].Reason != tc.want.reason) {
				t.Fatalf("missing evidence %+v, want the signer's, %s", r.Missing, tc.want.reason)
			}
			for _, svc := range tc.stop {
				if sb.Requests(svc) == 0 {
					t.Errorf("the stopped %s was never asked", svc)
				}
			}
			if tc.unused != "" && sb.Requests(tc.unused) != 0 {
				t.Errorf("%s asked %d times although the preferred method answered", tc.unused, sb.Requests(tc.unused))
			}
			if tc.resumed == "" {
				return
			}
			// The job is retried later: with the services back (and past every grace period) the same
			// question gets its final answer.
			for _, svc := range tc.stop {
				sb.Resume(svc)
			}
			sb.Clock.Advance(6 * time.Second)
			q.Now = sb.Clock.Now()
			if r := env.CheckChain(ctx, q); r.Verdict.Indication != tc.resumed {
				t.Fatalf("after the services came back: %s %v, want %s", r.Verdict.Indication, r.Verdict.Findings, tc.resumed)
			}
		})
	}
}
