package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/policy"
)

func TestPolicyShow(t *testing.T) {
	prod, err := policy.Production()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runArgs(t, "policy", "show", "--raw")
	if code != 0 {
		t.Fatalf("--raw: exit %d: %s", code, errs)
	}
	if sum := sha256.Sum256([]byte(out)); hex.EncodeToString(sum[:]) != hex.EncodeToString(prod.Digest()) {
		t.Fatal("--raw does not print the exact bytes whose digest signatures carry")
	}
	code, out, _ = runArgs(t, "policy", "show")
	if code != 0 || !strings.Contains(out, prod.ID()) || !strings.Contains(out, hex.EncodeToString(prod.Digest())) {
		t.Fatalf("default (production) rendering lacks identifier or digest: exit %d", code)
	}
	code, out, _ = runArgs(t, "policy", "show", "--policy", "sandbox", "--lang", "en")
	if code != 0 || !strings.Contains(out, "TEST POLICY") || strings.Contains(out, "óra") {
		t.Fatalf("sandbox/en rendering: exit %d\n%.300s", code, out)
	}
	html := filepath.Join(t.TempDir(), "p.html")
	if code, _, errs := runArgs(t, "policy", "show", "--html", html); code != 0 {
		t.Fatalf("--html: exit %d: %s", code, errs)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), prod.ID()) {
		t.Fatalf("HTML page missing or without the identifier: %v", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(`<!DOCTYPE x><x/>`), 0o600)
	for _, args := range [][]string{
		{"policy", "show", "--policy", bad},
		{"policy", "show", "--policy", filepath.Join(t.TempDir(), "missing.xml")},
		{"policy", "show", "--lang", "de"},
		{"policy", "show", "extra-arg"},
	} {
		if code, _, _ := runArgs(t, args...); code != 3 {
			t.Errorf("%v: exit %d, want 3", args, code)
		}
	}
}
