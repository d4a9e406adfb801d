package xades

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
)

// Fuzz seeds are signed packages written by TestWriteFuzzSeeds (TAGDIJ_UPDATE_TESTDATA=1) from a
// sandbox: one signer, two signers, extended, and the sandbox root they chain to. Reading them from
// testdata keeps each fuzz worker's start-up free of key generation and network.
var seedFiles = []string{"package-1.es3", "package-2.es3", "package-2-extended.es3"}

func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("TAGDIJ_UPDATE_TESTDATA") == "" {
		t.Skip("set TAGDIJ_UPDATE_TESTDATA=1 to rewrite testdata/fuzz seeds")
	}
	f := newFixture(t)
	one, _ := f.signedPackage(t, 1)
	two, _ := f.signedPackage(t, 2)
	f.afterGrace()
	ext, _, err := Extend(context.Background(), two, ExtendOptions{Verify: VerifyOptions{Env: f.env, Kind: policy.KindPackage, Now: f.sb.Clock.Now()}, TSA: f.tsa})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "seeds")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, data := range [][]byte{one, two, ext} {
		if err := os.WriteFile(filepath.Join(dir, seedFiles[i]), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), pemCert(f), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzVerify feeds mutated signed packages to Verify (strict and generic dossier modes) and
// VerifyGeneric, offline: whatever the input, they return a report and never panic.
func FuzzVerify(f *testing.F) {
	dir := filepath.Join("testdata", "seeds")
	for _, name := range seedFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			f.Fatalf("seed %s: %v (run TestWriteFuzzSeeds with TAGDIJ_UPDATE_TESTDATA=1)", name, err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<es:Dossier xmlns:es="https://www.microsec.hu/ds/e-szigno30#"/>`))
	pol, err := policy.Sandbox()
	if err != nil {
		f.Fatal(err)
	}
	env, err := trust.Load(trust.Config{SignerAnchors: []string{"root.pem"}, TSAAnchors: []string{"root.pem"}, Offline: true}, dir, pol)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mode := range []es3.Mode{es3.Strict, es3.Generic} {
			d, err := Verify(context.Background(), data, VerifyOptions{Env: env, Kind: policy.KindPackage, Now: now, Mode: mode})
			if err != nil || d == nil || d.Verdict.Indication == "" {
				t.Fatalf("Verify: %v %+v", err, d)
			}
		}
		if d, err := VerifyGeneric(context.Background(), data, VerifyOptions{Env: env, Now: now}); err != nil || d == nil {
			t.Fatalf("VerifyGeneric: %v", err)
		}
	})
}

// TestSeedsVerify: the stored extended seed is valid offline years later (so the seeds are real
// signed packages, not noise), and the unextended one is not decidable offline.
func TestSeedsVerify(t *testing.T) {
	dir := filepath.Join("testdata", "seeds")
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	env, err := trust.Load(trust.Config{SignerAnchors: []string{"root.pem"}, TSAAnchors: []string{"root.pem"}, Offline: true}, dir, pol)
	if err != nil {
		t.Skipf("no seeds: %v", err)
	}
	now := time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	ext, err := os.ReadFile(filepath.Join(dir, "package-2-extended.es3"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Verify(context.Background(), ext, VerifyOptions{Env: env, Kind: policy.KindPackage, Now: now})
	if err != nil || d.Verdict.Indication != "TOTAL-PASSED" {
		t.Fatalf("extended seed offline: %v %+v", err, d)
	}
	one, _ := os.ReadFile(filepath.Join(dir, "package-1.es3"))
	d, _ = Verify(context.Background(), one, VerifyOptions{Env: env, Kind: policy.KindPackage, Now: now})
	if d.Verdict.Indication != "INDETERMINATE" {
		t.Fatalf("unextended seed offline: %+v", d.Verdict)
	}
}
