package xades

import (
	"context"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/policy"
)

// FuzzVerify feeds mutated signed packages (one signer, two signers, extended) to Verify (strict and
// generic dossier modes) and VerifyGeneric, offline: whatever the input, they return a report and never
// panic.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	one, _ := fx.signedPackage(f, 1)
	two, _ := fx.signedPackage(f, 2)
	fx.afterGrace()
	ext, _, err := Extend(context.Background(), two, ExtendOptions{Verify: VerifyOptions{Env: fx.env, Kind: policy.KindPackage, Now: fx.sb.Clock.Now()}, TSA: fx.tsa})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{one, two, ext, []byte("<es:Dossier xmlns:es=\"https://www.microsec.hu/ds/e-szigno30#\"/>")} {
		f.Add(seed)
	}
	offline := *fx.env
	offline.Online = nil
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mode := range []es3.Mode{es3.Strict, es3.Generic} {
			d, err := Verify(context.Background(), data, VerifyOptions{Env: &offline, Kind: policy.KindPackage, Now: now, Mode: mode})
			if err != nil || d == nil || d.Verdict.Indication == "" {
				t.Fatalf("Verify: %v %+v", err, d)
			}
		}
		if d, err := VerifyGeneric(context.Background(), data, VerifyOptions{Env: &offline, Now: now}); err != nil || d == nil {
			t.Fatalf("VerifyGeneric: %v", err)
		}
	})
}
