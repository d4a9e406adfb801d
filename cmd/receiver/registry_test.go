package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// TestRegistryCommands: import the sandbox's registration sheet, add a jointly signer, list, show
// (text, JSON, XML that imports again), withdraw; and the refusals (a broken sheet, an unknown
// declarant, a second withdrawal, a bad date) with their exit statuses.
func TestRegistryCommands(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	data := t.TempDir()
	env := map[string]string{config.EnvReceiverDataDir: data}
	cfg := filepath.Join(sb.Dir, sandbox.ReceiverConfigFile)
	runCmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		e := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Now: sb.Clock.Now}
		code := run(context.Background(), e, append(args, "--config", cfg))
		return code, out.String(), errb.String()
	}
	emp, _ := sb.World.Employer("pelda")
	decl := "--declarant=adoszam:" + emp.TaxNumber
	code, out, errs := runCmd("registry", "import", filepath.Join(sb.Dir, sandbox.RegistrationFile("pelda")))
	if code != 0 || !strings.Contains(out, emp.Name) {
		t.Fatalf("import: %d\n%s\n%s", code, out, errs)
	}
	minta, _ := sb.World.Signers("minta")
	code, out, errs = runCmd("registry", "add", decl, "--id=kulso", "--name=Külső Aláíró", "--cert="+filepath.Join(sb.Dir, minta[0].Files.Cert),
		"--role=EGYUTTES", "--cosigner=alairo-1", "--from=2026-01-01", "--json")
	var added struct {
		Key   string          `json:"key"`
		Sheet *registry.Sheet `json:"sheet"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.Sheet == nil || len(added.Sheet.Signers) != 4 ||
		added.Sheet.Signers[3].Role != registry.Jointly || added.Sheet.Signers[3].CoSigner != "alairo-1" {
		t.Fatalf("add: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCmd("registry", "list", "--json")
	var list []registry.Summary
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Versions != 2 || list[0].Signers != 4 {
		t.Fatalf("list: %d\n%s", code, out)
	}
	code, out, _ = runCmd("registry", "show", decl)
	if code != 0 || !strings.Contains(out, "Külső Aláíró") || !strings.Contains(out, "EGYUTTES") {
		t.Errorf("show: %d\n%s", code, out)
	}
	code, xml, _ := runCmd("registry", "show", decl, "--xml")
	if code != 0 || !strings.Contains(xml, "<Bejelentkezes") {
		t.Fatalf("show --xml: %d\n%s", code, xml)
	}
	code, out, errs = runCmd("registry", "withdraw", decl, "--date=2027-01-01", "--reason=megszűnik / ceases")
	if code != 0 || !strings.Contains(out, "2027-01-01") {
		t.Errorf("withdraw: %d\n%s\n%s", code, out, errs)
	}
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"withdrawn twice", []string{"registry", "withdraw", decl, "--date=2027-02-01", "--reason=x"}, cli.ExitInvalid},
		{"unknown declarant", []string{"registry", "show", "--declarant=adoszam:10000008"}, cli.ExitInvalid},
		{"no declarant", []string{"registry", "show"}, cli.ExitUsage},
		{"bad date", []string{"registry", "withdraw", decl, "--date=tomorrow", "--reason=x"}, cli.ExitUsage},
		{"co-signer that does not exist", []string{"registry", "add", decl, "--id=k2", "--name=X", "--cert=" + filepath.Join(sb.Dir, minta[0].Files.Cert),
			"--role=EGYUTTES", "--cosigner=nincs", "--from=2026-01-01"}, cli.ExitInvalid},
		{"not a sheet", []string{"registry", "import", cfg}, cli.ExitInvalid},
	} {
		if code, out, errs := runCmd(c.args...); code != c.want {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", c.name, code, c.want, out, errs)
		}
	}
}
