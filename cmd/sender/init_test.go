package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/workspace"
)

// Without --from, init writes a commented template whose placeholders do not pass until filled in, and
// says which field; it never overwrites; the state directory has the database.
func TestInitTemplate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uj")
	code, out, errOut := runArgs(t, "init", dir)
	if code != 0 || !strings.Contains(out, "employer.id") {
		t.Fatalf("init: %d\n%s\n%s", code, out, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "sender.json"))
	for _, want := range []string{"// A bevalló munkáltató", "// The declaring employer", "BACK IT UP: sender backup", "SND-30", `"notify"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("template lacks %q", want)
		}
	}
	_, err := config.LoadEnv(filepath.Join(dir, "sender.json"), nil)
	var ce *config.Error
	if !errorsAs(err, &ce) || !ce.Field("employer.id") || !ce.Field("fund.code") || ce.Err != nil {
		t.Errorf("the template should parse and name the placeholders: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "state", workspace.DBFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("state database: %v", err)
	}
	if code, _, errOut := runArgs(t, "init", dir); code != cli.ExitUsage || !strings.Contains(errOut, "already exists") {
		t.Errorf("second init: %d %s", code, errOut)
	}
}

func errorsAs(err error, target **config.Error) bool {
	e, ok := err.(*config.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestOutboxUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{"send"}, "exactly one package"},
		{[]string{"send", "x.es3"}, "no configuration"},
		{[]string{"submit"}, "exactly one declaration"},
		{[]string{"receipts"}, "missing subcommand"},
		{[]string{"receipts", "show"}, "exactly one receipt"},
		{[]string{"status"}, "exactly one package"},
		{[]string{"evidence", "x"}, "--out DIR"},
		{[]string{"backup"}, "exactly one output file"},
		{[]string{"restore"}, "exactly one backup file"},
		{[]string{"init"}, "exactly one directory"},
	} {
		code, stdout, stderr := runArgs(t, tc.args...)
		if code != cli.ExitUsage || !strings.Contains(stdout+stderr, tc.out) {
			t.Errorf("sender %v: exit %d, lacks %q:\n%s%s", tc.args, code, tc.out, stdout, stderr)
		}
	}
}
