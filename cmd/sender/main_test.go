package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
)

var clock = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Now: func() time.Time { return clock }}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// TestEndToEnd walks the declaration workflow: generate → validate (0) → corrupt a total → validate (1,
// D004) → show.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bevallas.xml")
	if code, _, stderr := runArgs(t, "declaration", "generate", "--members", "250", "--seed", "9", "--period", "2026-10", "--out", file); code != 0 {
		t.Fatalf("generate: exit %d, %s", code, stderr)
	}
	if code, stdout, _ := runArgs(t, "declaration", "validate", file); code != 0 || !strings.Contains(stdout, "érvényes / valid") {
		t.Fatalf("validate: exit %d\n%s", code, stdout)
	}

	// Same flags, same bytes.
	again := filepath.Join(dir, "again.xml")
	runArgs(t, "declaration", "generate", "--members", "250", "--seed", "9", "--period", "2026-10", "--out", again)
	a, _ := os.ReadFile(file)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("generate is not deterministic")
	}

	// Corrupt the member-contribution total.
	re := regexp.MustCompile(`<TagdijOsszesen>(\d+)</TagdijOsszesen>`)
	if !re.Match(a) {
		t.Fatal("no TagdijOsszesen in the generated file")
	}
	bad := re.ReplaceAll(a, []byte("<TagdijOsszesen>1</TagdijOsszesen>"))
	badFile := filepath.Join(dir, "bad.xml")
	os.WriteFile(badFile, bad, 0o644)
	code, stdout, _ := runArgs(t, "declaration", "validate", badFile)
	if code != cli.ExitInvalid || !strings.Contains(stdout, "E0 D004 összesítő / summary") || !strings.Contains(stdout, "TagdijOsszesen: 1 ≠ Σ") {
		t.Fatalf("validate corrupted: exit %d\n%s", code, stdout)
	}
	// Both languages reach the user.
	if !strings.Contains(stdout, "Az összesítő adatlap nem egyezik") || !strings.Contains(stdout, "The summary sheet does not match") {
		t.Errorf("findings are not bilingual:\n%s", stdout)
	}

	// JSON output for machines.
	code, stdout, _ = runArgs(t, "declaration", "validate", badFile, "--json")
	var rep struct {
		Valid    bool
		Errors   int
		Findings []struct{ Code, Severity, Location string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	// Only TagdijOsszesen was corrupted: FizetendoOsszesen is compared with the items, so it is still right.
	if code != 1 || rep.Valid || rep.Errors != 1 || len(rep.Findings) != 1 || rep.Findings[0].Code != "D004" || rep.Findings[0].Severity != "E0" {
		t.Errorf("json: exit %d, %+v", code, rep)
	}

	// Show the valid file, with an HTML page.
	page := filepath.Join(dir, "bevallas.html")
	code, stdout, stderr := runArgs(t, "declaration", "show", file, "--limit", "5", "--html", page)
	if code != 0 {
		t.Fatalf("show: exit %d %s", code, stderr)
	}
	for _, s := range []string{"ÖSSZESÍTŐ ADATLAP / SUMMARY SHEET", "… és további 245 sor / … and 245 more rows", "HTML: " + page, "SHA-256"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("show output lacks %q:\n%s", s, stdout)
		}
	}
	html, err := os.ReadFile(page)
	if err != nil || !bytes.Contains(html, []byte("<!DOCTYPE html>")) || bytes.Count(html, []byte(`<tr><td class="num">`)) != 250 {
		t.Errorf("HTML page: %v, %d bytes", err, len(html))
	}
	// Show lists content findings after the table but still shows the file.
	code, stdout, _ = runArgs(t, "declaration", "show", badFile)
	if code != 0 || !strings.Contains(stdout, "ELLENŐRZÉS / CHECK") || !strings.Contains(stdout, "D004") {
		t.Errorf("show corrupted: exit %d", code)
	}
}

func TestSchemaInvalidFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "x.xml")
	os.WriteFile(f, []byte(`<Bevallas xmlns="urn:x-mnyp:tagdijbevallas:1" verzio="1.0"/>`), 0o644)
	code, stdout, _ := runArgs(t, "declaration", "validate", f)
	if code != 1 || !strings.Contains(stdout, "D003") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	code, _, stderr := runArgs(t, "declaration", "show", f)
	if code != 1 || !strings.Contains(stderr, "D003") {
		t.Errorf("show: exit %d\n%s", code, stderr)
	}
	os.WriteFile(f, []byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`), 0o644)
	if code, stdout, _ := runArgs(t, "declaration", "validate", f); code != 1 || !strings.Contains(stdout, "T006") {
		t.Errorf("DTD: exit %d\n%s", code, stdout)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{nil, 3, "missing subcommand"},
		{[]string{"nope"}, 3, "unknown subcommand"},
		{[]string{"--help"}, 0, "declaration"},
		{[]string{"declaration"}, 3, "missing subcommand"},
		{[]string{"declaration", "--help"}, 0, "generate"},
		{[]string{"declaration", "generate", "--help"}, 0, "--members"},
		{[]string{"declaration", "validate", "--help"}, 0, "--json"},
		{[]string{"declaration", "show", "--help"}, 0, "--limit"},
		{[]string{"declaration", "validate"}, 3, "exactly one file"},
		{[]string{"declaration", "validate", "/nonexistent/file.xml"}, 3, "file not found"},
		{[]string{"declaration", "generate", "--type", "X"}, 3, "--type"},
		{[]string{"declaration", "generate", "--period", "2026-13"}, 3, "--period"},
		{[]string{"declaration", "generate", "--members", "-1"}, 3, "--members"},
		{[]string{"declaration", "generate", "--bogus"}, 3, "flag provided but not defined"},
		{[]string{"declaration", "show", "--limit", "-2", "x"}, 3, "--limit"},
	} {
		code, stdout, stderr := runArgs(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.out) {
			t.Errorf("sender %v: exit %d (want %d), output lacks %q:\n%s%s", tc.args, code, tc.code, tc.out, stdout, stderr)
		}
	}
}

func TestGenerateToStdoutDefaultsToLastMonth(t *testing.T) {
	code, stdout, _ := runArgs(t, "declaration", "generate", "--members", "1")
	if code != 0 || !strings.Contains(stdout, "<Idoszak>2026-10</Idoszak>") || !strings.Contains(stdout, "<Nev>tagdij-sender</Nev>") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
}
