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
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/siglog"
	"github.com/tagdij/tagdij/internal/synth"
)

// signFixture is a running sandbox, its pelda sender configuration and a packed, unsigned package.
type signFixture struct {
	sb      *sandboxtest.Env
	cfg     string // sender-pelda.json
	pkg     string // the package file
	emp     sandbox.Organization
	signers []*sandbox.Entity
}

func newSignFixture(t *testing.T) *signFixture {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	f := &signFixture{sb: sb, cfg: filepath.Join(sb.Dir, sandbox.SenderConfigFile("pelda"))}
	var err error
	if f.emp, err = sb.World.Employer("pelda"); err != nil {
		t.Fatal(err)
	}
	if f.signers, err = sb.World.Signers("pelda"); err != nil || len(f.signers) < 2 {
		t.Fatalf("pelda signers: %v", err)
	}
	fund := sb.World.Manifest.Fund
	d := synth.Generate(synth.Options{Members: 12, Seed: 5, Period: declaration.PeriodOf(time.Now().UTC()).Prev(),
		Declarant: declaration.Declarant{Name: f.emp.Name, ID: declaration.DeclarantID{Type: declaration.IDAdoszam, Value: f.emp.TaxNumber},
			Address: declaration.Address{PostalCode: "1111", City: "Budapest", Street: "Minta utca 1."}},
		Fund: declaration.Fund{Code: fund.FundCode, Name: fund.Name}})
	var buf bytes.Buffer
	d.WriteTo(&buf)
	decl := filepath.Join(t.TempDir(), "bevallas.xml")
	if err := os.WriteFile(decl, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := f.run(t, "", "pack", decl, "--config", f.cfg, "--json")
	if code != 0 {
		t.Fatalf("pack: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep packReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	f.pkg = rep.Path
	return f
}

// run runs the sender on the sandbox's clock, so that the CLI's Now, the trust checker's clock and
// the TSA's genTime move together when the test advances the clock.
func (f *signFixture) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, Now: f.sb.Clock.Now}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func (f *signFixture) p12(e *sandbox.Entity) string { return "p12:" + f.sb.World.Path(e.Files.PKCS12) }
func (f *signFixture) pass() string                 { return "file:" + f.sb.World.PasswordFile() }

// TestSignTimestampVerify is the sender's signing story: two signers, a time-stamp after the last one,
// the initial check inside the grace period (incomplete) and after it (valid), and the refusals on the
// way.
func TestSignTimestampVerify(t *testing.T) {
	f := newSignFixture(t)
	orig, _ := os.ReadFile(f.pkg)

	// Never sign silently: without --yes a non-terminal stdin is a usage error, even with "i" on it.
	if code, _, stderr := f.run(t, "i\n", "sign", f.pkg, "--config", f.cfg); code != cli.ExitUsage || !strings.Contains(stderr, "--yes") {
		t.Fatalf("sign without --yes: exit %d\n%s", code, stderr)
	}
	if now, _ := os.ReadFile(f.pkg); !bytes.Equal(now, orig) {
		t.Fatal("the package changed although nothing was signed")
	}
	// A literal secret is refused (SEC-03) before anything happens.
	if code, _, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--secret", "hunter2"); code != cli.ExitUsage || strings.Contains(stderr, "hunter2") {
		t.Fatalf("literal secret: exit %d\n%s", code, stderr)
	}

	// Signer 1 through a configuration without a decryption key: the preview says the document cannot
	// be shown (SIG-20) and shows everything else.
	noDec := withoutDecryptionKey(t, f.cfg)
	code, stdout, stderr := f.run(t, "", "sign", f.pkg, "--config", noDec, "--yes")
	if code != 0 {
		t.Fatalf("sign 1: exit %d\n%s\n%s", code, stdout, stderr)
	}
	sum := sha256Hex(orig)
	for _, want := range []string{filepath.Base(f.pkg), sum, "NEM JELENÍTHETŐ MEG", "CANNOT BE SHOWN", f.signers[0].Cert.Subject.CommonName,
		"igen (QcCompliance, QcSSCD)", "SigningTime:", "SigningCertificate:", "SignaturePolicyIdentifier:", "DataObjectFormat: application/pkcs7-mime",
		"ProofOfOrigin", "TEST policy", "nincs / none", "Aláírva / Signed: Signature-"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("sign 1 output lacks %q:\n%s", want, stdout)
		}
	}
	id1 := regexp.MustCompile(`Aláírva / Signed: (\S+)`).FindStringSubmatch(stdout)[1]
	st, _ := os.Stat(f.pkg)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode after signing %v, want the package's 0600", st.Mode().Perm())
	}

	// Signer 2 by --key/--secret, with the sender's own encryption key to show the declaration; the
	// first signature is listed as an existing parallel signature.
	enc := f.sb.World.MustEntity(f.emp.Encryption)
	code, stdout, stderr = f.run(t, "", "sign", f.pkg, "--config", noDec, "--yes", "--json",
		"--key", f.p12(f.signers[1]), "--secret", f.pass(), "--decrypt-key", f.p12(enc), "--decrypt-secret", f.pass())
	if code != 0 {
		t.Fatalf("sign 2: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var pv signPreview
	if err := json.Unmarshal([]byte(stdout), &pv); err != nil {
		t.Fatalf("sign --json: %v\n%s", err, stdout)
	}
	if pv.Declaration == nil || pv.Declaration.Items != 12 || pv.Declaration.Declarant != f.emp.Name || pv.ShownNote != "" {
		t.Errorf("declaration not shown with the own key: %+v, note %q", pv.Declaration, pv.ShownNote)
	}
	if len(pv.Existing) != 1 || pv.Existing[0].ID != id1 || pv.Existing[0].SignerName != f.signers[0].Cert.Subject.CommonName || pv.Existing[0].Broken != "" {
		t.Errorf("existing signatures %+v, want %s", pv.Existing, id1)
	}
	if pv.Signer.SignerName != f.signers[1].Cert.Subject.CommonName || !pv.Signer.Qualified || pv.SignatureID == "" || pv.SignatureID == id1 {
		t.Errorf("preview %+v", pv)
	}
	// The same by text: the summary sheet is on screen.
	log, err := os.ReadFile(filepath.Join(f.sb.Dir, "state-pelda", siglog.FileName))
	if err != nil || bytes.Count(log, []byte("\n")) < 2 || !bytes.Contains(log, []byte(id1)) || !bytes.Contains(log, []byte(pv.SignatureID)) {
		t.Errorf("signature log (SIG-12): %v\n%s", err, log)
	}

	// Time-stamp after the last signer: both signatures are stamped.
	code, stdout, stderr = f.run(t, "", "timestamp", f.pkg, "--config", f.cfg)
	if code != 0 || !strings.Contains(stdout, id1) || !strings.Contains(stdout, pv.SignatureID) || strings.Count(stdout, "genTime") != 2 {
		t.Fatalf("timestamp: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Nothing left to stamp; and no one signs after the time-stamp (SND-12).
	if code, _, stderr := f.run(t, "", "timestamp", f.pkg, "--config", f.cfg); code != cli.ExitInvalid {
		t.Errorf("second timestamp: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes"); code != cli.ExitUsage || !strings.Contains(stderr, "SND-12") {
		t.Errorf("sign after timestamp: exit %d\n%s", code, stderr)
	}

	// Inside the grace period: incomplete, with the advice.
	code, stdout, stderr = f.run(t, "", "verify", f.pkg, "--config", f.cfg)
	if code != cli.ExitIncomplete || !strings.Contains(stdout, "TRY_LATER") || !strings.Contains(stdout, "SIG-23") || !strings.Contains(stdout, "grace period ends at") {
		t.Fatalf("verify before grace: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// After it: valid.
	f.sb.Clock.Advance(6 * time.Second)
	code, stdout, stderr = f.run(t, "", "verify", f.pkg, "--config", f.cfg, "--json")
	if code != 0 {
		t.Fatalf("verify after grace: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep report.Document
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Verdict.Indication != report.TotalPassed || len(rep.Signatures) != 2 {
		t.Fatalf("verify --json: %v %+v", err, rep.Verdict)
	}

	// One byte of the encrypted payload changed: invalid.
	data, _ := os.ReadFile(f.pkg)
	i := bytes.Index(data, []byte("<ds:Object"))
	j := i + bytes.IndexByte(data[i:], '>') + 10
	bad := bytes.Clone(data)
	bad[j] = otherBase64(bad[j])
	if bad[j] == data[j] {
		t.Fatal("no change")
	}
	badPath := filepath.Join(t.TempDir(), filepath.Base(f.pkg))
	os.WriteFile(badPath, bad, 0o600)
	if code, stdout, _ := f.run(t, "", "verify", badPath, "--config", f.cfg); code != cli.ExitInvalid || !strings.Contains(stdout, "must not be uploaded") {
		t.Errorf("tampered package: exit %d\n%s", code, stdout)
	}

	// The same valid bytes under other names (issue 7, SPEC §4): a package name must be the signed
	// title with the signed metadata's fields (F010); a local name of another shape is not judged.
	base := filepath.Base(f.pkg)
	renamed := func(name string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		file string
		want int
	}{
		{"another sequence number", strings.Replace(base, "_B001_", "_B002_", 1), cli.ExitInvalid},
		{"another period", base[:18] + "199901" + base[24:], cli.ExitInvalid},
		{"another type", strings.Replace(base, "_B001_", "_H001_", 1), cli.ExitInvalid},
		{"a receipt's name", "TBN" + base[3:], cli.ExitInvalid},
		{"its own name", base, 0},
		{"a local name", "my-declaration.es3", 0},
	} {
		if c.file == base && c.want == 0 && !strings.Contains(base, "_B001_") {
			t.Fatalf("fixture name %q is not a first B package", base)
		}
		code, stdout, _ := f.run(t, "", "verify", renamed(c.file), "--config", f.cfg)
		if code != c.want || (c.want != 0 && !strings.Contains(stdout, "F010")) {
			t.Errorf("%s (%s): exit %d, want %d with F010\n%s", c.name, c.file, code, c.want, stdout)
		}
	}
	// Anything after the root but white space, comments and PIs (issue 7): a NUL and junk, or a NUL
	// and a whole second dossier, make the file not well-formed (T005).
	for name, tail := range map[string][]byte{"junk": []byte("\x00junk"), "fake dossier": append([]byte{0}, data...)} {
		p := filepath.Join(t.TempDir(), base)
		os.WriteFile(p, append(bytes.Clone(data), tail...), 0o600)
		if code, stdout, _ := f.run(t, "", "verify", p, "--config", f.cfg); code != cli.ExitInvalid || !strings.Contains(stdout, "T005") {
			t.Errorf("NUL then %s: exit %d\n%s", name, code, stdout)
		}
	}
}

// TestSignRefusals covers what sign refuses before asking: no package, not a package, a usage mistake.
func TestSignRefusals(t *testing.T) {
	f := newSignFixture(t)
	notPkg := filepath.Join(t.TempDir(), "x.es3")
	os.WriteFile(notPkg, []byte("<a/>"), 0o600)
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"sign", "--config", f.cfg, "--yes"}, cli.ExitUsage},
		{[]string{"sign", filepath.Join(t.TempDir(), "missing.es3"), "--config", f.cfg, "--yes"}, cli.ExitUsage},
		{[]string{"sign", notPkg, "--config", f.cfg, "--yes"}, cli.ExitInvalid},
		{[]string{"sign", f.pkg, "--yes"}, cli.ExitUsage},                                        // no configuration
		{[]string{"sign", f.pkg, "--config", f.cfg, "--yes", "--key", "bogus:x"}, cli.ExitUsage}, // bad key spec
		{[]string{"timestamp", "--config", f.cfg}, cli.ExitUsage},
		{[]string{"verify", f.pkg, "--config", f.cfg, "--at", "yesterday"}, cli.ExitUsage},
	} {
		if code, _, stderr := f.run(t, "", c.args...); code != c.want {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, c.want, stderr)
		}
	}
	// An unsigned package verifies as invalid (no signature).
	if code, stdout, _ := f.run(t, "", "verify", f.pkg, "--config", f.cfg); code != cli.ExitInvalid {
		t.Errorf("unsigned package: exit %d\n%s", code, stdout)
	}
	// A signing key the policy refuses for packages (the fund's receipt key: advanced, not qualified) is
	// refused before the confirmation.
	rk := f.sb.World.MustEntity(sandbox.FundReceipt)
	code, stdout, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--key", f.p12(rk), "--secret", f.pass())
	if code != cli.ExitInvalid || !strings.Contains(stdout, "BEFORE SIGNING") {
		t.Errorf("receipt key as package signer: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "policy does not allow") {
		t.Errorf("no policy refusal: %s", stderr)
	}

	// A package whose existing signature is broken is not signed again: it could never become valid.
	if code, _, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes"); code != 0 {
		t.Fatalf("sign: exit %d\n%s", code, stderr)
	}
	data, _ := os.ReadFile(f.pkg)
	i := bytes.Index(data, []byte("<ds:SignatureValue"))
	i += bytes.IndexByte(data[i:], '>') + 5
	data[i] = otherBase64(data[i])
	os.WriteFile(f.pkg, data, 0o600)
	code, stdout, stderr = f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--key", f.p12(f.signers[1]), "--secret", f.pass())
	if code != cli.ExitInvalid || !strings.Contains(stdout, "BROKEN: A001") || !strings.Contains(stderr, "can never become valid") {
		t.Errorf("broken existing signature: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(f.pkg); !bytes.Equal(after, data) {
		t.Error("the package was changed")
	}
}

// otherBase64 returns a base64 letter different from c, so a change stays well-formed base64.
func otherBase64(c byte) byte {
	if c == 'A' {
		return 'B'
	}
	return 'A'
}

// TestConfirm feeds answers to the SIG-07 question through a real file (a pipe).
func TestConfirm(t *testing.T) {
	for answer, want := range map[string]bool{"i\n": true, "igen\n": true, "Y\n": true, "yes": true, "n\n": false, "\n": false, "": false, "ja\n": false} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString(answer)
		w.Close()
		var prompt bytes.Buffer
		got, err := confirm(r, &prompt)
		r.Close()
		if err != nil || got != want || !strings.Contains(prompt.String(), "QUALIFIED") || !strings.Contains(prompt.String(), "[i/N]") {
			t.Errorf("%q: %v, %v; prompt %q", answer, got, err, prompt.String())
		}
	}
}

// TestReplaceFile: the package is replaced atomically with its mode kept, and not at all when it
// changed since it was read.
func TestReplaceFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.es3")
	os.WriteFile(p, []byte("old"), 0o640)
	if err := replaceFile(p, sha256Sum([]byte("old")), []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("content %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	if err := replaceFile(p, sha256Sum([]byte("old")), []byte("newer")); err != errChanged {
		t.Errorf("changed meanwhile: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("overwritten: %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*.tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// withoutDecryptionKey writes a copy of the configuration at path, beside it, without the
// decryptionKey and decryptionSecret fields.
func withoutDecryptionKey(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["decryptionKey"]; !ok {
		t.Fatal("the demo configuration names no decryption key")
	}
	delete(m, "decryptionKey")
	delete(m, "decryptionSecret")
	out, _ := json.Marshal(m)
	p := strings.TrimSuffix(path, ".json") + "-nodec.json"
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignShowsDeclarationWithConfiguredKey: with the configuration's decryption key the preview
// shows the summary sheet of the declaration inside the encrypted package (SIG-20).
func TestSignShowsDeclarationWithConfiguredKey(t *testing.T) {
	f := newSignFixture(t)
	code, stdout, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes")
	if code != 0 {
		t.Fatalf("sign: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "ÖSSZESÍTŐ ADATLAP") || strings.Contains(stdout, "NEM JELENÍTHETŐ MEG") {
		t.Fatalf("the summary sheet was not shown:\n%s", stdout)
	}
}

// TestSignWithTokenKey: the signing key lives in a PKCS#11 token (SoftHSM2 holding the sandbox
// signer's key): sign, time-stamp and verify give the same result as with the PKCS#12 copy (SIG-11:
// the signature is computed inside the device).
func TestSignWithTokenKey(t *testing.T) {
	if err := softhsm.Available(); err != nil {
		t.Skipf("SoftHSM2 is not installed (softhsm2 package): %v", err)
	}
	f := newSignFixture(t)
	t.Setenv(softhsm.ConfEnv, sandbox.SoftHSMConfPath(f.sb.World))
	info, err := sandbox.ImportToSoftHSM(context.Background(), f.sb.World, sandbox.SoftHSMOptions{Entities: []string{f.signers[0].Name}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := info.Key(f.signers[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	pin := "file:" + f.sb.World.Path(info.PINFile)
	code, stdout, stderr := f.run(t, "", "sign", f.pkg, "--config", f.cfg, "--yes", "--key", k.Spec, "--secret", pin)
	if code != 0 {
		t.Fatalf("sign with the token key: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := f.run(t, "", "timestamp", f.pkg, "--config", f.cfg); code != 0 {
		t.Fatalf("timestamp: exit %d\n%s\n%s", code, stdout, stderr)
	}
	f.sb.Clock.Advance(6 * time.Second)
	code, stdout, _ = f.run(t, "", "verify", f.pkg, "--config", f.cfg, "--json")
	if code != 0 || !strings.Contains(stdout, f.signers[0].Cert.Subject.CommonName) {
		t.Fatalf("verify after the grace period: exit %d\n%s", code, stdout)
	}
}
