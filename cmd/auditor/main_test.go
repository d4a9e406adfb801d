package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/cmd/auditor/internal/audit"
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/internal/xmldsig/conformance"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

func runAt(t *testing.T, now func() time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: now}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

// TestConformanceCore runs `auditor verify --format json` on every sample of the four xmlsec suites
// and compares each signature's core validity with xmlsec1's verdict on the same file with nothing
// supplied from outside (--insecure, same-document references only). RSA and ECDSA samples must agree;
// RSA-PSS samples, which xmlsec1 1.2.37 cannot verify, must match the table; samples unsupported by
// design must never be core-valid.
func TestConformanceCore(t *testing.T) {
	root, err := conformance.Root()
	if err != nil {
		t.Skip(err)
	}
	samples, err := conformance.Samples(root)
	if err != nil {
		t.Fatal(err)
	}
	xmlsec, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Log("xmlsec1 not installed: only the table is checked")
	}
	var table []string
	compared := 0
	for _, s := range samples {
		code, stdout, stderr := runAt(t, time.Now, "verify", "--format", "json", s.Path)
		if code == cli.ExitUsage {
			t.Errorf("%s: exit 3\n%s", s.Name, stderr)
			continue
		}
		var res audit.Result
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Errorf("%s: not JSON: %v\n%s", s.Name, err, stdout)
			continue
		}
		got := audit.Core("none")
		if len(res.Signatures) > 0 {
			got = res.Signatures[0].CoreValidity
		}
		if got == audit.CoreValid && res.Signatures[0].Verdict.Indication == "" {
			t.Errorf("%s: core valid without a verdict", s.Name)
		}
		// Without --trust only what the bytes prove wrong is invalid (exit 1); everything else, the
		// unsupported included, is incomplete (exit 2) (issue 7).
		if proven := s.Want == conformance.Invalid || s.Want == conformance.Forbidden; (code == cli.ExitInvalid) != proven || !proven && code != cli.ExitIncomplete {
			t.Errorf("%s: exit %d (%s/%s) for a %s sample (%s)", s.Name, code, res.Verdict.Indication, res.Verdict.Sub, s.Want, s.Why)
		}
		xs := "not run"
		switch {
		case s.Want == conformance.Unsupported || s.Want == conformance.Forbidden:
			if got == audit.CoreValid {
				t.Errorf("%s: core valid, but %s (%s)", s.Name, s.Want, s.Why)
			}
			if s.Want == conformance.Unsupported && len(res.Signatures) > 0 && got != audit.CoreUnsupported && got != audit.CoreNoKey {
				t.Errorf("%s: core %s, want unsupported (%s)", s.Name, got, s.Why)
			}
		case xmlsec != "" && s.InScope && !s.PSS:
			cmd := exec.Command(xmlsec, append(conformance.Xmlsec1Args(), filepath.Base(s.Path))...)
			cmd.Dir = filepath.Dir(s.Path)
			out, err := cmd.CombinedOutput()
			ok := err == nil
			xs = map[bool]string{true: "OK", false: "FAIL"}[ok]
			compared++
			if ok != (got == audit.CoreValid) {
				t.Errorf("%s: xmlsec1 %s, auditor core %s (table: %s, %s)\n%s", s.Name, xs, got, s.Want, s.Why, tail(string(out), 4))
			}
		default:
			// RSA-PSS (xmlsec1 1.2.37 lacks it) or no xmlsec1: the table is the reference.
			if (s.Want == conformance.Valid) != (got == audit.CoreValid) {
				t.Errorf("%s: auditor core %s, table %s (%s)", s.Name, got, s.Want, s.Why)
			}
		}
		table = append(table, s.Name+"  core="+string(got)+"  xmlsec1="+xs+"  table="+string(s.Want))
	}
	sort.Strings(table)
	t.Logf("%d samples, %d compared with xmlsec1:\n%s", len(samples), compared, strings.Join(table, "\n"))
	if xmlsec != "" && compared < 20 {
		t.Errorf("only %d samples compared with xmlsec1", compared)
	}
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// TestSandboxFiles verifies real Tagdíj files made in a sandbox: an extended (XAdES-A) package offline
// is valid, an unextended one offline is incomplete, a tampered one is invalid, a receipt package is
// recognised and its receipt shown; several files give one JSON array and the worst exit status.
func TestSandboxFiles(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	ctx := context.Background()
	pol, err := policy.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	trustFile := filepath.Join(sb.Dir, sandbox.TrustConfigFile)
	root := sb.World.MustEntity(sandbox.RootCA)
	env, err := trust.Load(trust.Config{SignerAnchors: []string{root.Files.Cert}, TSAAnchors: []string{root.Files.Cert}}, sb.Dir, pol)
	if err != nil {
		t.Fatal(err)
	}
	env.Online.Now = sb.Clock.Now
	tsa := &tsp.Client{URL: sb.TSAURL, Trust: pathval.TSAVerifier{Anchors: env.TSAs, Algorithms: env.Algorithms()}, Now: sb.Clock.Now}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()

	// A real package: packed, signed by two pelda signers, time-stamped.
	emp, _ := sb.World.Employer("pelda")
	signers, _ := sb.World.Signers("pelda")
	fund := sb.World.Manifest.Fund
	d := synth.Generate(synth.Options{Members: 5, Seed: 3, Period: declaration.PeriodOf(time.Now().UTC()).Prev(),
		Declarant: declaration.Declarant{Name: emp.Name, ID: declaration.DeclarantID{Type: declaration.IDAdoszam, Value: emp.TaxNumber},
			Address: declaration.Address{PostalCode: "1111", City: "Budapest", Street: "Minta utca 1."}},
		Fund: declaration.Fund{Code: fund.FundCode, Name: fund.Name}})
	var decl bytes.Buffer
	d.WriteTo(&decl)
	res, err := pack.Pack(ctx, decl.Bytes(), pack.Options{Schemas: set, Contact: es3.Contact{Name: "Kovács Anna", Phone: "+36 1 555 0101", Address: "1111 Budapest, Minta utca 1."},
		FundCert: sb.World.MustEntity(sandbox.FundEncryption).Cert, OwnCert: sb.World.MustEntity(emp.Encryption).Cert,
		Now: sb.Clock.Now(), Sequence: pack.FileSequence{Path: filepath.Join(t.TempDir(), "seq.json")}})
	if err != nil {
		t.Fatal(err)
	}
	data := res.Bytes
	for _, s := range signers[:2] {
		if data, _, err = xades.Sign(ctx, data, xades.SignOptions{Signer: s.Key, Certificate: s.Cert, Chain: s.Chain, Policy: pol, Kind: policy.KindPackage, SigningTime: sb.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if data, _, err = xades.Timestamp(ctx, data, xades.TimestampOptions{TSA: tsa}); err != nil {
		t.Fatal(err)
	}
	sb.Clock.Advance(6 * time.Second)
	ext, rep, err := xades.Extend(ctx, data, xades.ExtendOptions{Verify: xades.VerifyOptions{Env: env, Kind: policy.KindPackage, Now: sb.Clock.Now()}, TSA: tsa})
	if err != nil {
		t.Fatalf("Extend: %v %+v", err, rep)
	}
	// A receipt package for it.
	r, err := receipt.NewAcceptance(receipt.ReceivedPackage{FileName: res.Name.String(), Size: int64(len(data)), SHA256: sha256.Sum256(data),
		SubmissionID: d.Header.ID, Period: d.Header.Period, Type: d.Header.Type}, sb.Clock.Now(),
		receipt.Fund{Code: fund.FundCode, Name: fund.Name}, receipt.Declarant{IDType: declaration.IDAdoszam, ID: emp.TaxNumber, Name: emp.Name},
		receipt.PreCheck{State: receipt.Incomplete}, sb.Clock.Now().Add(2*time.Second), []errcode.Finding{})
	if err != nil {
		t.Fatal(err)
	}
	rk := sb.World.MustEntity(sandbox.FundReceipt)
	rcpt, rname, err := receiptpkg.Build(ctx, r, receiptpkg.BuildOptions{Signer: rk.Key, Certificate: rk.Cert, Chain: rk.Chain, Policy: pol, TSA: tsa, Now: sb.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sb.Clock.Advance(6 * time.Second) // past the receipt's grace period too

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	extPath := write("extended-"+res.Name.String(), ext)
	plainPath := write(res.Name.String(), data)
	rcptPath := write(rname, rcpt)
	i := bytes.Index(ext, []byte("<ds:Object"))
	i += bytes.IndexByte(ext[i:], '>') + 30
	bad := bytes.Clone(ext)
	bad[i] = map[bool]byte{true: 'B', false: 'A'}[bad[i] == 'A']
	badPath := write("tampered.es3", bad)

	// Hostile variants of the valid extended package (issue 7): wrapped in a foreign root, the root
	// rebound to another namespace (the es prefix still declared, so every signed element keeps its
	// digest), saved under another package name or a receipt's name.
	body := ext
	if bytes.HasPrefix(body, []byte("<?xml")) {
		body = body[bytes.Index(body, []byte("?>"))+2:]
	}
	wrappedPath := write("wrapped.xml", append(append([]byte(`<w:Wrap xmlns:w="urn:x-evil:wrap">`), body...), []byte(`</w:Wrap>`)...))
	rebound := bytes.Replace(ext, []byte("<es:Dossier "), []byte(`<x:Dossier xmlns:x="urn:x-evil:dossier" `), 1)
	rebound = bytes.Replace(rebound, []byte("</es:Dossier>"), []byte("</x:Dossier>"), 1)
	if bytes.Equal(rebound, ext) || bytes.Count(rebound, []byte("x:Dossier")) != 2 {
		t.Fatal("the root was not rebound")
	}
	reboundPath := write("rebound.xml", rebound)
	name := res.Name.String()
	renamedPath := write(strings.Replace(name, "_B001_", "_B007_", 1), ext)
	if filepath.Base(renamedPath) == name {
		t.Fatalf("fixture name %q is not a first B package", name)
	}
	elsewhere := func(name string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, ext, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	asReceiptPath := elsewhere("TBN" + name[3:])
	ownNamePath := elsewhere(name)
	nulJunkPath := write("nul-junk.es3", append(bytes.Clone(ext), []byte("\x00junk after the root")...))
	nulDossierPath := write("nul-dossier.es3", append(append(bytes.Clone(ext), 0), ext...))
	beforeSigning := sb.Clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

	trustArgs := []string{"--trust", trustFile, "--policy", "sandbox"}
	for _, c := range []struct {
		name   string
		args   []string
		want   int
		output []string
	}{
		{"extended package, offline", []string{extPath}, 0, []string{"ÉRVÉNYES / VALID", "Verified as: package", "core validity", "Szint / Level:                     A"}},
		{"unextended package, offline", []string{plainPath}, 2, []string{"BEFEJEZETLEN / INCOMPLETE"}},
		{"unextended package, online", []string{plainPath, "--online"}, 0, []string{"ÉRVÉNYES / VALID"}},
		{"tampered package", []string{badPath}, 1, []string{"ÉRVÉNYTELEN / INVALID", "HASH_FAILURE"}},
		{"receipt package, online", []string{rcptPath, "--online"}, 0, []string{"Verified as: receipt", "BEFOGADVA", res.Name.String()}},
		{"forced wrong kind", []string{extPath, "--kind", "receipt"}, 1, []string{"Verified as: receipt"}},
		{"wrapped in a foreign root", []string{wrappedPath}, 1, []string{"ÉRVÉNYTELEN / INVALID", "T005", "Verified as: refused"}},
		{"wrapped, validated before signing", []string{wrappedPath, "--at", beforeSigning}, 1, []string{"T005", "Verified as: refused"}},
		{"wrapped, forced generic", []string{wrappedPath, "--kind", "xmldsig"}, 1, []string{"T005"}},
		{"root namespace rebound", []string{reboundPath}, 1, []string{"ÉRVÉNYTELEN / INVALID", "T005"}},
		{"root namespace rebound, validated before signing", []string{reboundPath, "--at", beforeSigning}, 1, []string{"T005"}},
		{"dossier forced generic", []string{extPath, "--kind", "xmldsig"}, 1, []string{"T005"}},
		{"another package name", []string{renamedPath}, 1, []string{"ÉRVÉNYTELEN / INVALID", "F010"}},
		{"a receipt's name", []string{asReceiptPath}, 1, []string{"F010"}},
		{"its own name", []string{ownNamePath}, 0, []string{"ÉRVÉNYES / VALID"}},
		{"NUL after the root, then junk", []string{nulJunkPath}, 1, []string{"ÉRVÉNYTELEN / INVALID", "T005"}},
		{"NUL after the root, then a whole fake dossier", []string{nulDossierPath}, 1, []string{"ÉRVÉNYTELEN / INVALID", "T005"}},
	} {
		code, stdout, stderr := runAt(t, sb.Clock.Now, append(append([]string{"verify"}, c.args...), trustArgs...)...)
		if code != c.want {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", c.name, code, c.want, stdout, stderr)
			continue
		}
		for _, w := range c.output {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: output lacks %q\n%s", c.name, w, stdout)
			}
		}
	}

	// Without --trust no chain can be built: a good package is at best incomplete (exit 2, as the help
	// promises), never invalid; a tampered one stays invalid (issue 7).
	for _, c := range []struct {
		name, path string
		want       int
		output     string
	}{
		{"unextended package, no trust", plainPath, 2, "NO_CERTIFICATE_CHAIN_FOUND"},
		{"extended package, no trust", extPath, 2, "NO_CERTIFICATE_CHAIN_FOUND"},
		{"receipt package, no trust", rcptPath, 2, "NO_CERTIFICATE_CHAIN_FOUND"},
		{"tampered package, no trust", badPath, 1, "HASH_FAILURE"},
	} {
		code, stdout, stderr := runAt(t, sb.Clock.Now, "verify", c.path, "--policy", "sandbox")
		if code != c.want || !strings.Contains(stdout, c.output) {
			t.Errorf("%s: exit %d, want %d with %s\n%s\n%s", c.name, code, c.want, c.output, stdout, stderr)
		}
	}

	// Several files: one JSON array, the worst status (the tampered one: 1).
	code, stdout, stderr := runAt(t, sb.Clock.Now, append([]string{"verify", "--format", "json", extPath, rcptPath, badPath}, trustArgs...)...)
	var all []audit.Result
	if err := json.Unmarshal([]byte(stdout), &all); err != nil || code != 1 || len(all) != 3 {
		t.Fatalf("array: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	if all[0].Verdict.Indication != report.TotalPassed || all[0].VerifiedAs != audit.Package || all[1].VerifiedAs != audit.Receipt ||
		all[1].Receipt == nil || all[1].Receipt.ID != r.ID || all[2].Verdict.Indication != report.TotalFailed || all[2].Signatures[0].CoreValidity != audit.CoreInvalid {
		t.Errorf("array results: %+v / %+v / %+v", all[0].Verdict, all[1].Verdict, all[2].Verdict)
	}
	for _, s := range all[0].Signatures {
		if s.CoreValidity != audit.CoreValid {
			t.Errorf("extended signature %s core %s", s.ID, s.CoreValidity)
		}
	}
	// A missing file among others: exit 3, the others still reported.
	code, stdout, _ = runAt(t, sb.Clock.Now, append([]string{"verify", extPath, filepath.Join(dir, "missing.es3")}, trustArgs...)...)
	if code != cli.ExitUsage || !strings.Contains(stdout, "ÉRVÉNYES / VALID") {
		t.Errorf("missing file: exit %d\n%s", code, stdout)
	}
}

// TestUsage covers the command line itself.
func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
		out  string
	}{
		{[]string{"--help"}, 0, "verify"},
		{[]string{"verify", "--help"}, 0, "--online"},
		{[]string{"verify"}, 3, ""},
		{[]string{"verify", "x.xml", "--format", "yaml"}, 3, ""},
		{[]string{"verify", "x.xml", "--kind", "banana"}, 3, ""},
		{[]string{"verify", "x.xml", "--at", "tomorrow"}, 3, ""},
		{[]string{"verify", "x.xml", "--online"}, 3, ""},
		{[]string{"policy", "show", "--policy", "sandbox", "--lang", "en"}, 0, "TEST"},
		{[]string{"policy", "show", "--raw"}, 0, "<"},
	} {
		code, stdout, stderr := runAt(t, time.Now, c.args...)
		if code != c.want || !strings.Contains(stdout+stderr, c.out) {
			t.Errorf("%v: exit %d, want %d\n%s\n%s", c.args, code, c.want, stdout, stderr)
		}
	}
}
