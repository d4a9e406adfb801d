package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/synth"
)

// payrollCSV writes synthetic members as a Hungarian payroll export: ";", spaced amounts, dotted dates.
func payrollCSV(items []declaration.Item) string {
	var b strings.Builder
	b.WriteString("Név;Születési dátum;TAJ szám;Adóazonosító jel;Jogviszony kezdete;Jogviszony vége;Járulékalap;Tagdíj;Munkáltatói kiegészítés\n")
	date := func(d declaration.Date) string { return fmt.Sprintf("%04d.%02d.%02d.", d.Year, int(d.Month), d.Day) }
	for _, it := range items {
		to := ""
		if it.EmploymentTo != nil {
			to = date(*it.EmploymentTo)
		}
		fmt.Fprintf(&b, "%s;%s;%s;%s;%s;%s;%d Ft;%d;%d\n", it.Name, date(it.BirthDate), hunid.FormatTAJ(it.TAJ), it.TaxID,
			date(it.EmploymentFrom), to, it.Base, it.MemberContribution, it.Supplement)
	}
	return b.String()
}

// TestDeclarationImport: a payroll CSV becomes a declaration that packs; a CSV with bad lines gives
// no file, every bad line by number and code, exit 1.
func TestDeclarationImport(t *testing.T) {
	f := newSignFixture(t)
	period := declaration.PeriodOf(f.sb.Clock.Now().UTC()).Prev()
	items := synth.Generate(synth.Options{Members: 25, Seed: 3, Period: period}).Items
	dir := t.TempDir()
	csv := filepath.Join(dir, "berek.csv")
	os.WriteFile(csv, []byte(payrollCSV(items)), 0o600)
	out := filepath.Join(dir, "bevallas.xml")
	code, stdout, stderr := f.run(t, "", "declaration", "import", csv, "--config", f.cfg, "--out", out, "--json")
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep importReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || !rep.Valid || rep.Items != 25 || rep.Separator != ";" || rep.Encoding != "utf-8" {
		t.Fatalf("report %+v %v\n%s", rep, err, stdout)
	}
	if code, stdout, stderr := f.run(t, "", "declaration", "validate", out); code != 0 {
		t.Fatalf("validate the import: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := f.run(t, "", "pack", out, "--config", f.cfg); code != 0 {
		t.Fatalf("pack the import: exit %d\n%s%s", code, stdout, stderr)
	}

	// Three bad lines (4: TAJ, 7: a fraction of a forint, 9: a date), all reported, nothing written.
	lines := strings.Split(payrollCSV(items), "\n")
	lines[3] = strings.Replace(lines[3], hunid.FormatTAJ(items[2].TAJ), "123", 1)
	lines[6] = strings.Replace(lines[6], fmt.Sprintf(";%d;", items[5].MemberContribution), fmt.Sprintf(";%d,5;", items[5].MemberContribution), 1)
	f8 := strings.Split(lines[8], ";")
	f8[1] = "1980.02.30."
	lines[8] = strings.Join(f8, ";")
	os.WriteFile(csv, []byte(strings.Join(lines, "\n")), 0o600)
	bad := filepath.Join(dir, "hibas.xml")
	code, stdout, stderr = f.run(t, "", "declaration", "import", csv, "--config", f.cfg, "--out", bad)
	if code != cli.ExitInvalid {
		t.Fatalf("bad lines: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"D005 sor 4 / line 4", "D004 sor 7 / line 7", "D003 sor 9 / line 9", "HIBÁS", "no declaration was written"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a declaration was written from a file with errors")
	}
	// --json needs --out; an address that cannot be read is a usage error.
	if code, _, stderr := f.run(t, "", "declaration", "import", csv, "--config", f.cfg, "--json"); code != cli.ExitUsage || !strings.Contains(stderr, "--out") {
		t.Errorf("--json without --out: exit %d %s", code, stderr)
	}
	if code, _, _ := f.run(t, "", "declaration", "import", csv, "--config", f.cfg, "--address", "Budapest"); code != cli.ExitUsage {
		t.Errorf("bad address: exit %d", code)
	}
}
