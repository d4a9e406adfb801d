package main

// What a new user tripped over (issue 10, point 8). Each test here failed on the code before its fix.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sheet"
	"github.com/tagdij/tagdij/internal/workspace"
)

// corruptSignatureValue changes one base64 letter inside the first ds:SignatureValue of the file.
func corruptSignatureValue(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("<ds:SignatureValue"))
	if i < 0 {
		t.Fatal("no ds:SignatureValue")
	}
	j := i + bytes.IndexByte(data[i:], '>') + 20
	data[j] = otherBase64(data[j])
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTimestampRefusesBrokenSignature: a package whose SignatureValue was corrupted is refused (exit
// 1, bilingual, the signature named) and left as it was; before, it was stamped and "genTime
// 0001-01-01T00:00:00Z" printed.
func TestTimestampRefusesBrokenSignature(t *testing.T) {
	f := newSignFixture(t)
	if code, stdout, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes"); code != 0 {
		t.Fatalf("sign: exit %d\n%s\n%s", code, stdout, stderr)
	}
	before := corruptSignatureValue(t, f.pkg)
	code, stdout, stderr := f.run(t, "", "timestamp", f.pkg, "--config", f.cfg)
	if code != cli.ExitInvalid {
		t.Fatalf("timestamp of a broken signature: exit %d, want %d\n%s\n%s", code, cli.ExitInvalid, stdout, stderr)
	}
	if strings.Contains(stdout, "0001-01-01") {
		t.Errorf("zero genTime printed:\n%s", stdout)
	}
	for _, want := range []string{"hibás aláírás", "broken signature", "Signature-"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("message lacks %q:\n%s", want, stderr)
		}
	}
	if now, _ := os.ReadFile(f.pkg); !bytes.Equal(now, before) {
		t.Error("the package was changed")
	}
}

// TestTimestampPrintsGenTimeAndTSA: the genTime and TSA of every new time-stamp, in text and JSON.
func TestTimestampPrintsGenTimeAndTSA(t *testing.T) {
	f := newSignFixture(t)
	if code, _, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes"); code != 0 {
		t.Fatalf("sign: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := f.run(t, "", "timestamp", f.pkg, "--config", f.cfg, "--json")
	if code != 0 {
		t.Fatalf("timestamp: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var out struct {
		Timestamped []stampedSig `json:"timestamped"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || len(out.Timestamped) != 1 {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
	st := out.Timestamped[0]
	now := f.sb.Clock.Now()
	if st.GenTime.IsZero() || st.GenTime.Sub(now).Abs() > time.Minute || !strings.Contains(st.TSA, "TSA") || st.Signer == "" {
		t.Errorf("stamped %+v (clock %s)", st, now)
	}
}

// TestVerifyAdviceBeforeTimestamp: a signed package without its time-stamp is told to be time-stamped,
// not to be packed and signed again.
func TestVerifyAdviceBeforeTimestamp(t *testing.T) {
	f := newSignFixture(t)
	if code, _, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes"); code != 0 {
		t.Fatalf("sign: exit %d\n%s", code, stderr)
	}
	_, stdout, _ := f.run(t, "", "verify", f.pkg, "--config", f.cfg)
	advice := stdout[strings.Index(stdout, "Teendő / What to do"):]
	if !strings.Contains(advice, "sender timestamp "+f.pkg) || strings.Contains(advice, "Pack and sign it again") {
		t.Errorf("advice:\n%s", advice)
	}
}

// TestVerifyAdvicePermanent: a cause that waiting cannot cure gets no "try again" advice, and a revoked
// certificate is named as the cause; a grace period that ends now says neither "in 0s" nor "after".
func TestVerifyAdvicePermanent(t *testing.T) {
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	doc := func(ind report.Indication, sub report.SubIndication, final time.Time) *report.Document {
		d := &report.Document{EarliestFinal: final}
		d.Verdict.Indication, d.Verdict.Sub = ind, sub
		d.Signatures = []report.Signature{{ID: "Signature-1"}}
		d.Signatures[0].Verdict.Indication, d.Signatures[0].Verdict.Sub = ind, sub
		return d
	}
	for _, tc := range []struct {
		name      string
		rep       *report.Document
		want, not []string
	}{
		{"no chain, after the grace period", doc(report.Indeterminate, report.NoCertificateChainFound, now.Add(-time.Hour)),
			[]string{"NO_CERTIFICATE_CHAIN_FOUND", "will not"}, []string{"try again", "Try again"}},
		{"revoked", doc(report.TotalFailed, report.Revoked, now.Add(-time.Hour)),
			[]string{"revoked", "another"}, []string{"try again", "Try again"}},
		{"grace ends right now", doc(report.Indeterminate, report.TryLater, now),
			[]string{}, []string{"in 0s", "(in "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			writeVerifyAdvice(&cli.Env{Stdout: &out}, tc.rep, "x.es3", "sender.json", now)
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("advice lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("advice says %q:\n%s", n, out.String())
				}
			}
		})
	}
}

// TestSignWarnsAndRefuses: a signer of another employer and a revoked certificate are warned about
// before signing; a second signature with the same certificate is refused.
func TestSignWarnsAndRefuses(t *testing.T) {
	f := newSignFixture(t)
	minta, err := f.sb.World.Signers("minta")
	if err != nil || len(minta) == 0 {
		t.Fatalf("minta signers: %v", err)
	}
	code, stdout, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--key", f.p12(minta[0]), "--secret", f.pass())
	if code != 0 {
		t.Fatalf("sign by another employer's signer: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "FIGYELEM") || !strings.Contains(stdout, "another employer") || !strings.Contains(stdout, "23456787") {
		t.Errorf("no warning about another employer:\n%s", stdout)
	}

	// The same certificate again: refused, the package unchanged.
	before, _ := os.ReadFile(f.pkg)
	code, _, stderr = f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--key", f.p12(minta[0]), "--secret", f.pass())
	if code != cli.ExitInvalid || !strings.Contains(stderr, "már aláírták") || !strings.Contains(stderr, "already signed") {
		t.Errorf("second signature with the same certificate: exit %d\n%s", code, stderr)
	}
	if now, _ := os.ReadFile(f.pkg); !bytes.Equal(now, before) {
		t.Error("the package changed")
	}

	// A revoked certificate: warned about (with the revocation time), then signed as confirmed.
	f.sb.Revoke(t, f.signers[1].Name, 1, f.sb.Clock.Now().Add(-time.Minute))
	code, stdout, stderr = f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--key", f.p12(f.signers[1]), "--secret", f.pass())
	if !strings.Contains(stdout, "VISSZAVONT") || !strings.Contains(stdout, "REVOKED") {
		t.Errorf("no warning about the revoked certificate: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// huLetters and enWords tell a bilingual message: Hungarian text has accented letters, English text
// common English words.
var (
	huLetters = regexp.MustCompile(`[áéíóöőúüűÁÉÍÓÖŐÚÜŰ]`)
	enWords   = regexp.MustCompile(`(?i)\b(the|is|not|no|neither|file|invalid|cannot|found|package|declaration|certificate|configuration)\b`)
)

// TestOneExitRuleEverywhere: every sender command that reads a file gives the same exit status for
// the same failure, with a bilingual message: a missing file 3, a garbage file 1, a configuration path
// that does not exist 3 (SPEC §9).
func TestOneExitRuleEverywhere(t *testing.T) {
	f := newSignFixture(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "nincs-ilyen.es3")
	garbage := filepath.Join(dir, "szemet.es3")
	os.WriteFile(garbage, []byte("this is not XML at all \x00\x01"), 0o600)
	badCfg := filepath.Join(dir, "nincs", "sender.json")
	trust := filepath.Join(f.sb.Dir, "trust.json")
	csv := filepath.Join(dir, "berek.csv")
	os.WriteFile(csv, []byte("garbage"), 0o600)

	type cmd struct {
		name   string
		args   func(file, cfg string) []string
		config bool // takes --config
		csv    bool // reads a CSV file
	}
	cmds := []cmd{
		{"declaration validate", func(p, _ string) []string { return []string{"declaration", "validate", p} }, false, false},
		{"declaration show", func(p, _ string) []string { return []string{"declaration", "show", p} }, false, false},
		{"declaration import", func(p, c string) []string { return []string{"declaration", "import", p, "--config", c} }, true, true},
		{"pack", func(p, c string) []string { return []string{"pack", p, "--config", c} }, true, false},
		{"sign", func(p, c string) []string { return []string{"sign", p, "--config", c, "--yes"} }, true, false},
		{"timestamp", func(p, c string) []string { return []string{"timestamp", p, "--config", c} }, true, false},
		{"verify", func(p, c string) []string { return []string{"verify", p, "--config", c} }, true, false},
		{"cert show", func(p, _ string) []string { return []string{"cert", "show", p} }, false, false},
		{"cert check", func(p, _ string) []string { return []string{"cert", "check", p, "--trust", trust} }, false, false},
	}
	for _, c := range cmds {
		garbageFile := garbage
		if c.csv {
			garbageFile = csv
		}
		cases := []struct {
			name  string
			args  []string
			code  int
			words []string // each must appear (case-insensitive)
		}{
			{"missing file", c.args(missing, f.cfg), cli.ExitUsage, []string{"nem található", "not found", missing}},
			{"garbage file", c.args(garbageFile, f.cfg), cli.ExitInvalid, nil},
		}
		if c.config {
			cases = append(cases, struct {
				name  string
				args  []string
				code  int
				words []string
			}{"bad config path", c.args(f.pkg, badCfg), cli.ExitUsage, []string{"beállítófájl", "configuration", badCfg}})
		}
		for _, tc := range cases {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				code, stdout, stderr := f.run(t, "", tc.args...)
				out := stdout + stderr
				if code != tc.code {
					t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
				}
				for _, w := range tc.words {
					if !strings.Contains(strings.ToLower(out), strings.ToLower(w)) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
				if !huLetters.MatchString(out) || !enWords.MatchString(out) {
					t.Errorf("not bilingual:\n%s", out)
				}
			})
		}
	}
}

// TestSystemErrorsBilingual: an unreachable TSA and an expired signing certificate are explained in
// both languages.
func TestSystemErrorsBilingual(t *testing.T) {
	f := newSignFixture(t)
	expired, err := f.sb.World.Entity("signer-expired")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--key", f.p12(expired), "--secret", f.pass())
	if code != cli.ExitInvalid || !strings.Contains(stderr, "lejárt") || !strings.Contains(stderr, "expired") {
		t.Errorf("expired certificate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes"); code != 0 {
		t.Fatalf("sign: exit %d\n%s", code, stderr)
	}
	// The configuration with a TSA on a port nobody listens on.
	cfg, _ := os.ReadFile(f.cfg)
	var m map[string]any
	json.Unmarshal(cfg, &m)
	m["tsaURL"] = "http://127.0.0.1:1/tsa"
	cfg, _ = json.Marshal(m)
	noTSA := filepath.Join(filepath.Dir(f.cfg), "no-tsa.json")
	os.WriteFile(noTSA, cfg, 0o600)
	code, stdout, stderr = f.run(t, "", "timestamp", f.pkg, "--config", noTSA)
	if code != cli.ExitUsage || !strings.Contains(stderr, "nem érhető el") || !strings.Contains(stderr, "cannot be reached") || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Errorf("unreachable TSA: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestTablesFitTheTerminal: off a terminal the item table and the key list fit 80 columns.
func TestTablesFitTheTerminal(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bevallas.xml")
	if code, _, stderr := runArgs(t, "declaration", "generate", "--members", "30", "--seed", "9", "--period", "2026-10", "--out", file); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	code, stdout, stderr := runArgs(t, "declaration", "show", file)
	if code != 0 {
		t.Fatalf("show: exit %d %s", code, stderr)
	}
	checkWidth(t, "declaration show", stdout, 80)

	if err := softhsm.Available(); err != nil {
		t.Skipf("SoftHSM2 is not installed: %v", err)
	}
	f := newSignFixture(t)
	t.Setenv(softhsm.ConfEnv, sandbox.SoftHSMConfPath(f.sb.World))
	info, err := sandbox.ImportToSoftHSM(context.Background(), f.sb.World, sandbox.SoftHSMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token := keys.KeySpec{Kind: keys.KindPKCS11, Module: info.Module, Token: info.TokenLabel}.String()
	code, stdout, stderr = f.run(t, "", "keys", "list", "--key", token, "--pin", "file:"+f.sb.World.Path(info.PINFile))
	if code != 0 {
		t.Fatalf("keys list: exit %d %s", code, stderr)
	}
	checkWidth(t, "keys list", stdout, 80)
}

func checkWidth(t *testing.T, what, out string, max int) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if w := sheet.Width(l); w > max {
			t.Errorf("%s: a line of %d columns:\n%s", what, w, l)
		}
	}
}

// TestHTMLShowsCodesOnRows: the printable page of an invalid declaration marks each item with its
// D-codes and lists the other findings.
func TestHTMLShowsCodesOnRows(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bevallas.xml")
	if code, _, stderr := runArgs(t, "declaration", "generate", "--members", "5", "--seed", "9", "--period", "2026-10", "--out", file); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	data, _ := os.ReadFile(file)
	// Item 3's TAJ gets a wrong check digit; the member total no longer matches.
	taj := regexp.MustCompile(`<TAJ>(\d{8})(\d)</TAJ>`)
	n := 0
	data = taj.ReplaceAllFunc(data, func(m []byte) []byte {
		n++
		if n != 3 {
			return m
		}
		s := taj.FindSubmatch(m)
		d := s[2][0] - '0'
		return []byte("<TAJ>" + string(s[1]) + string('0'+(d+1)%10) + "</TAJ>")
	})
	data = regexp.MustCompile(`<TagdijOsszesen>\d+</TagdijOsszesen>`).ReplaceAll(data, []byte("<TagdijOsszesen>1</TagdijOsszesen>"))
	os.WriteFile(file, data, 0o600)
	page := filepath.Join(dir, "bevallas.html")
	if code, _, stderr := runArgs(t, "declaration", "show", file, "--html", page); code != 0 {
		t.Fatalf("show: exit %d %s", code, stderr)
	}
	html, _ := os.ReadFile(page)
	rows := regexp.MustCompile(`(?s)<tr[^>]*>\s*<td class="num">(\d+)</td>.*?</tr>`).FindAllSubmatch(html, -1)
	if len(rows) != 5 {
		t.Fatalf("%d item rows", len(rows))
	}
	for _, r := range rows {
		has := bytes.Contains(r[0], []byte("D005"))
		if (string(r[1]) == "3") != has {
			t.Errorf("row %s: D005 shown %v", r[1], has)
		}
	}
	for _, want := range []string{"D004", "TagdijOsszesen", "ÉRVÉNYTELEN", "INVALID"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestGeneratorAndRepeatedPacking: the generator never writes a creation time after now, and packing
// the same declaration again warns with the earlier package's name.
func TestGeneratorAndRepeatedPacking(t *testing.T) {
	// clock is the 21st: the default creation day (the 5th of the month after the period) would be in
	// the future for --period 2026-11.
	code, stdout, _ := runArgs(t, "declaration", "generate", "--members", "1", "--period", "2026-11")
	m := regexp.MustCompile(`<Letrehozva>([^<]+)</Letrehozva>`).FindStringSubmatch(stdout)
	if code != 0 || m == nil {
		t.Fatalf("generate: exit %d\n%s", code, stdout)
	}
	created, err := time.Parse(time.RFC3339, m[1])
	if err != nil || created.After(clock) {
		t.Errorf("Letrehozva %s is after now (%s)", m[1], clock)
	}

	f := newSignFixture(t)
	dd := filepath.Join(t.TempDir(), "d.xml")
	if code, _, stderr := f.run(t, "", "declaration", "generate", "--members", "3", "--seed", "4", "--config", f.cfg, "--out", dd); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	code, stdout, stderr := f.run(t, "", "pack", dd, "--config", f.cfg)
	if code != 0 {
		t.Fatalf("pack 1: exit %d\n%s\n%s", code, stdout, stderr)
	}
	name1 := regexp.MustCompile(`TBA_\S+\.es3`).FindString(stdout)
	code, stdout, stderr = f.run(t, "", "pack", dd, "--config", f.cfg)
	if code != 0 || !strings.Contains(stdout+stderr, "FIGYELEM") || !strings.Contains(stdout+stderr, name1) ||
		!strings.Contains(stdout+stderr, "same submission id") {
		t.Errorf("pack again: exit %d, no warning naming %s\n%s\n%s", code, name1, stdout, stderr)
	}
}

// TestSignShowsFromPackRecord: with the sender's own key the preview comes from the pack record of
// exactly this payload (no decryption), the same summary as decrypting gives; without the record the
// package is decrypted; another package of the same submission id has its own record.
func TestSignShowsFromPackRecord(t *testing.T) {
	f := newSignFixture(t)
	preview := func(pkg string) signPreview {
		t.Helper()
		// Declined at the prompt: the preview only. --yes is needed off a terminal, so a second
		// signer's key that is refused as a duplicate is not usable here; sign with signer 1 on copies.
		code, stdout, stderr := f.run(t, "", "sign", pkg, "--config", f.cfg, "--yes", "--json")
		if code != 0 {
			t.Fatalf("sign: exit %d\n%s\n%s", code, stdout, stderr)
		}
		var pv signPreview
		if err := json.Unmarshal([]byte(stdout), &pv); err != nil {
			t.Fatal(err)
		}
		return pv
	}
	copyPkg := func() string {
		data, _ := os.ReadFile(f.pkg)
		p := filepath.Join(t.TempDir(), filepath.Base(f.pkg))
		os.WriteFile(p, data, 0o600)
		return p
	}
	a := preview(copyPkg())
	if a.ShownFrom != "pack-record" || a.Declaration == nil || a.Declaration.Items != 12 {
		t.Fatalf("from the record: %q %+v", a.ShownFrom, a.Declaration)
	}
	// The record gone: decrypted and validated, the same view.
	db, err := sql.Open("sqlite", filepath.Join(f.sb.Dir, "state-pelda", workspace.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := db.Exec(`DELETE FROM packed`); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("no pack record in the workspace database")
	}
	db.Close()
	b := preview(copyPkg())
	if b.ShownFrom != "package" || b.Declaration == nil || *b.Declaration != *a.Declaration {
		t.Errorf("decrypted: %q %+v, record gave %+v", b.ShownFrom, b.Declaration, a.Declaration)
	}
}
