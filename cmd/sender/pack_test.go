package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/payload"
	"github.com/tagdij/tagdij/internal/pkgname"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/synth"
)

// runEnv runs the sender with the given environment variables and the real clock (the sandbox's
// certificates are valid around the real now).
func runEnv(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] }, Now: time.Now}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// TestPackCommand runs `sender pack` end to end against a sandbox and its demo configuration.
func TestPackCommand(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	if err := sandbox.WriteDemoConfigs(sb.World); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(sb.Dir, sandbox.SenderConfigFile("pelda"))
	emp, err := sb.World.Employer("pelda")
	if err != nil {
		t.Fatal(err)
	}
	fund := sb.World.Manifest.Fund
	period := declaration.PeriodOf(time.Now().UTC()).Prev()
	d := synth.Generate(synth.Options{Members: 30, Seed: 4, Period: period,
		Declarant: declaration.Declarant{Name: emp.Name, ID: declaration.DeclarantID{Type: declaration.IDAdoszam, Value: emp.TaxNumber},
			Address: declaration.Address{PostalCode: "1111", City: "Budapest", Street: "Minta utca 1."}},
		Fund: declaration.Fund{Code: fund.FundCode, Name: fund.Name}})
	var declBuf bytes.Buffer
	d.WriteTo(&declBuf)
	decl := declBuf.Bytes()
	work := t.TempDir()
	declPath := filepath.Join(work, "bevallas.xml")
	os.WriteFile(declPath, decl, 0o600)

	// Human output; the package goes to <stateDir>/packages.
	code, stdout, stderr := runEnv(t, nil, "pack", declPath, "--config", cfgPath)
	if code != 0 {
		t.Fatalf("pack: exit %d\n%s\n%s", code, stdout, stderr)
	}
	m := regexp.MustCompile(`(?m)^Fájl / File:\s+(\S+)$`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no file in the output:\n%s", stdout)
	}
	first := m[1]
	if filepath.Dir(first) != filepath.Join(sb.Dir, "state-pelda", "packages") {
		t.Errorf("package written to %s", first)
	}
	name := filepath.Base(first)
	if !regexp.MustCompile(pkgname.PackagePattern).MatchString(name) || !strings.Contains(name, "_B001_") {
		t.Errorf("name %s", name)
	}
	for _, want := range []string{name, "SHA-256:", emp.Name, d.Header.ID, "30"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(first); st.Mode().Perm() != 0o600 {
		t.Errorf("package mode %v, want 0600 (SEC-05)", st.Mode().Perm())
	}
	// The sender reads its own package back with its own key (SND-06).
	own := sb.World.MustEntity(emp.Encryption)
	got, err := pack.Open(data, own.Cert, own.Key.(crypto.Decrypter), payload.Limits{})
	if err != nil || !bytes.Equal(got, decl) {
		t.Errorf("Open with the sender's key: %v", err)
	}

	// --json, the configuration from TAGDIJ_SENDER_CONFIG, another output directory; the second pack
	// of the same declaration gets the next sequence number.
	outDir := filepath.Join(work, "out")
	code, stdout, stderr = runEnv(t, map[string]string{envSenderConfig: cfgPath}, "pack", "--json", "--out", outDir, declPath)
	if code != 0 {
		t.Fatalf("pack --json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep packReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if !rep.Valid || !strings.Contains(rep.Package, "_B002_") || filepath.Dir(rep.Path) != outDir || rep.Summary == nil ||
		rep.Summary.Items != 30 || rep.Plain || rep.Cipher == 0 {
		t.Errorf("report %+v", rep)
	}
	data2, err := os.ReadFile(rep.Path)
	if err != nil || rep.Size != len(data2) {
		t.Fatalf("%v, size %d vs %d", err, rep.Size, len(data2))
	}
	if s := sha256Hex(data2); s != rep.SHA256 {
		t.Errorf("sha256 %s, file has %s", rep.SHA256, s)
	}

	// An invalid declaration is refused with its findings, exit 1, and nothing is written.
	bad := regexp.MustCompile(`<TagdijOsszesen>\d+</TagdijOsszesen>`).ReplaceAll(decl, []byte("<TagdijOsszesen>1</TagdijOsszesen>"))
	badPath := filepath.Join(work, "bad.xml")
	os.WriteFile(badPath, bad, 0o600)
	badOut := filepath.Join(work, "bad-out")
	code, stdout, _ = runEnv(t, nil, "pack", badPath, "--config", cfgPath, "--out", badOut)
	if code != cli.ExitInvalid || !strings.Contains(stdout, "E0 D004") || !strings.Contains(stdout, "INVALID") {
		t.Errorf("invalid declaration: exit %d\n%s", code, stdout)
	}
	if _, err := os.Stat(badOut); !os.IsNotExist(err) {
		t.Error("an output directory was created for a refused declaration")
	}
	code, stdout, _ = runEnv(t, nil, "pack", badPath, "--config", cfgPath, "--json")
	var badRep packReport
	if err := json.Unmarshal([]byte(stdout), &badRep); err != nil || code != 1 || badRep.Valid || len(badRep.Findings) == 0 || badRep.Findings[0].Code != "D004" {
		t.Errorf("invalid --json: exit %d, %v\n%s", code, err, stdout)
	}

	// Usage errors: no configuration, --plain without the fund's SEC-01 confirmation, no file.
	for _, args := range [][]string{
		{"pack", declPath},
		{"pack", declPath, "--config", cfgPath, "--plain"},
		{"pack", "--config", cfgPath},
		{"pack", filepath.Join(work, "missing.xml"), "--config", cfgPath},
		{"pack", declPath, "--config", filepath.Join(work, "missing.json")},
	} {
		if code, _, stderr := runEnv(t, nil, args...); code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want 3\n%s", args, code, stderr)
		}
	}

	// With the fund's confirmation (directToSecureEnvironment) --plain builds a SEC-01 package.
	raw, _ := os.ReadFile(cfgPath)
	var cfgMap map[string]any
	json.Unmarshal(raw, &cfgMap)
	cfgMap["fund"].(map[string]any)["directToSecureEnvironment"] = true
	plainCfg := filepath.Join(sb.Dir, "sender-plain.json")
	raw, _ = json.Marshal(cfgMap)
	os.WriteFile(plainCfg, raw, 0o600)
	code, stdout, stderr = runEnv(t, nil, "pack", declPath, "--config", plainCfg, "--plain", "--json")
	if code != 0 {
		t.Fatalf("--plain: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var plainRep packReport
	json.Unmarshal([]byte(stdout), &plainRep)
	plainData, _ := os.ReadFile(plainRep.Path)
	if got, err := pack.Open(plainData, nil, nil, payload.Limits{}); !plainRep.Plain || err != nil || !bytes.Equal(got, decl) {
		t.Errorf("plain package: %+v, %v", plainRep, err)
	}

	// A declaration of another employer is refused (system error, exit 3) before anything is written.
	other := synth.Generate(synth.Options{Members: 3, Seed: 8, Period: period, Fund: declaration.Fund{Code: fund.FundCode, Name: fund.Name}})
	var ob bytes.Buffer
	other.WriteTo(&ob)
	otherPath := filepath.Join(work, "other.xml")
	os.WriteFile(otherPath, ob.Bytes(), 0o600)
	if code, _, stderr := runEnv(t, nil, "pack", otherPath, "--config", cfgPath); code != cli.ExitUsage || !strings.Contains(stderr, "declarant") {
		t.Errorf("another employer's declaration: exit %d\n%s", code, stderr)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
