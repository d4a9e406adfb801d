package xades

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/policy"
)

// isInsertionOf reports whether out is in with bytes inserted only (in is a subsequence of out made
// of at most n contiguous runs).
func isInsertionOf(in, out []byte, n int) bool {
	i, j, runs := 0, 0, 0
	for i < len(in) {
		// the longest run of in[i:] that starts at some position of out[j:]
		best, at := 0, -1
		for k := j; k < len(out); k++ {
			l := 0
			for i+l < len(in) && k+l < len(out) && in[i+l] == out[k+l] {
				l++
			}
			if l > best {
				best, at = l, k
			}
			if i+l == len(in) {
				break
			}
		}
		if best == 0 {
			return false
		}
		i += best
		j = at + best
		runs++
		if runs > n {
			return false
		}
	}
	return true
}

func TestSignKeepsBytes(t *testing.T) {
	f := newFixture(t)
	s := f.signers(t, "pelda")
	one, _ := f.sign(t, f.encryptedPackage(t, 0), s[0], policy.KindPackage, nil)
	two, _ := f.sign(t, one, s[1], policy.KindPackage, nil)
	end := []byte("</es:Dossier>")
	if !bytes.HasPrefix(two, one[:len(one)-len(end)]) || !bytes.HasSuffix(two, end) {
		t.Fatal("the second signature changed bytes of the first signed dossier")
	}
	stamped := f.timestamp(t, two)
	if !isInsertionOf(two, stamped, 3) {
		t.Fatal("time-stamping rewrote bytes instead of inserting")
	}
	// Time-stamping again adds nothing: every signature has its time-stamp.
	again, ids, err := Timestamp(context.Background(), stamped, TimestampOptions{TSA: f.tsa})
	if err != nil || len(ids) != 0 || !bytes.Equal(again, stamped) {
		t.Fatalf("second Timestamp: %v %v", ids, err)
	}
}

func TestSignRefusals(t *testing.T) {
	f := newFixture(t)
	s := f.signers(t, "pelda")
	data := f.encryptedPackage(t, 0)
	expired := f.sb.World.MustEntity("signer-expired")
	receipt := f.sb.World.MustEntity("fund-receipt")
	cases := map[string]func(*SignOptions){
		"key of another certificate": func(o *SignOptions) { o.Signer = s[1].Key },
		"expired certificate":        func(o *SignOptions) { o.Signer, o.Certificate, o.Chain = expired.Key, expired.Cert, expired.Chain },
		"non-qualified for a package": func(o *SignOptions) {
			o.Signer, o.Certificate, o.Chain = receipt.Key, receipt.Cert, receipt.Chain
		},
		"SHA-1 method": func(o *SignOptions) { o.SignatureMethod = "http://www.w3.org/2000/09/xmldsig#rsa-sha1" },
		"no policy":    func(o *SignOptions) { o.Policy = nil },
		"unknown kind": func(o *SignOptions) { o.Kind = "semmi" },
	}
	for name, mod := range cases {
		opts := SignOptions{Signer: s[0].Key, Certificate: s[0].Cert, Chain: s[0].Chain, Policy: f.pol, Kind: policy.KindPackage}
		mod(&opts)
		if _, _, err := Sign(context.Background(), data, opts); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want ErrRefused", name, err)
		}
	}
	// Not a dossier at all.
	opts := SignOptions{Signer: s[0].Key, Certificate: s[0].Cert, Chain: s[0].Chain, Policy: f.pol, Kind: policy.KindPackage}
	if _, _, err := Sign(context.Background(), []byte(`<a/>`), opts); !errors.Is(err, ErrRefused) {
		t.Errorf("not a dossier: %v", err)
	}
}

// TestExtend: after the grace period the processor extends a three-signer package to XAdES-A; every
// earlier signature and time-stamp stays valid for us, xmlsec1 and openssl; the extended package is
// valid offline, right away and ten years later when the signer certificates have expired.
func TestExtend(t *testing.T) {
	f := newFixture(t)
	pkg, ids := f.signedPackage(t, 3)
	ctx := context.Background()
	// Inside the grace period Extend refuses and says why.
	_, rep, err := Extend(ctx, pkg, ExtendOptions{Verify: VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}, TSA: f.tsa})
	if !errors.Is(err, ErrNotFinal) || rep == nil || rep.Verdict.Sub != report.TryLater {
		t.Fatalf("Extend inside the grace period: %v %+v", err, rep)
	}
	f.afterGrace()
	ext, rep, err := Extend(ctx, pkg, ExtendOptions{Verify: VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}, TSA: f.tsa})
	if err != nil {
		t.Fatalf("Extend: %v (%+v)", err, rep)
	}
	if !isInsertionOf(pkg, ext, 2*len(ids)+1) {
		t.Fatal("Extend rewrote bytes instead of inserting")
	}
	d := f.verify(t, ext, policy.KindPackage, nil, time.Time{})
	expect(t, "extended, online", d, report.TotalPassed, "", "")
	for _, s := range d.Signatures {
		if s.Level != "A" {
			t.Fatalf("signature %s level %q, want A: %+v", s.ID, s.Level, s.Timestamps)
		}
		if len(s.Timestamps) != 3 {
			t.Fatalf("signature %s: %d time-stamps, want 3", s.ID, len(s.Timestamps))
		}
	}
	if acc, outs := f.xmlsecVerify(t, ext); len(acc) != len(ids) {
		t.Fatalf("xmlsec1 accepted %v of %v:\n%s", acc, ids, strings.Join(outs, "\n"))
	}
	if ok, total, outs := f.opensslVerifyTimestamps(t, ext); ok != total || total != len(ids) {
		t.Fatalf("openssl: %d of %d:\n%s", ok, total, strings.Join(outs, "\n"))
	}

	// Offline, right after extension.
	offline := *f.env
	offline.Online = nil
	d = f.verify(t, ext, policy.KindPackage, &offline, time.Time{})
	expect(t, "extended, offline", d, report.TotalPassed, "", "")
	// The unextended package offline has nothing to decide on.
	d = f.verify(t, pkg, policy.KindPackage, &offline, time.Time{})
	if d.Verdict.Indication != report.Indeterminate {
		t.Fatalf("unextended package offline: %+v", d.Verdict)
	}
	// Ten years later, offline: the signer certificates expired; the embedded evidence carries the
	// verdict and the report says so.
	later := f.sb.Clock.Now().AddDate(10, 0, 0)
	d = f.verify(t, ext, policy.KindPackage, &offline, later)
	expect(t, "ten years later", d, report.TotalPassed, "", errcode.A006)

	// A byte of the revocation values changed: the archive time-stamp (and the evidence) no longer
	// verify.
	i := bytes.Index(ext, []byte("<xades:EncapsulatedOCSPValue>")) + 100
	bad := flip(ext, i)
	if d := f.verify(t, bad, policy.KindPackage, &offline, time.Time{}); d.Verdict.Indication == report.TotalPassed {
		t.Fatalf("tampered revocation value accepted: %+v", d.Verdict)
	}

	// Renewal adds a second archive time-stamp; everything stays valid.
	renewed, rids, err := Renew(ctx, ext, RenewOptions{TSA: f.tsa, Env: f.env, Now: f.sb.Clock.Now()})
	if err != nil || len(rids) != len(ids) {
		t.Fatalf("Renew: %v %v", rids, err)
	}
	d = f.verify(t, renewed, policy.KindPackage, &offline, later)
	expect(t, "renewed", d, report.TotalPassed, "", "")
	if n := len(d.Signatures[0].Timestamps); n != 4 {
		t.Fatalf("%d time-stamps after renewal, want 4", n)
	}
	// Extending an extended package changes nothing.
	again, _, err := Extend(ctx, ext, ExtendOptions{Verify: VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}, TSA: f.tsa})
	if err != nil || !bytes.Equal(again, ext) {
		t.Fatalf("second Extend: %v", err)
	}
}
