package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/revocation/revtest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/trust"
)

// runClock runs the sender with the given clock, as the sandbox server's clock runs.
func runClock(t *testing.T, now func() time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: now}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

type checkJSON struct {
	Indication    string
	SubIndication string
	State         string
	CheckedFor    time.Time
	EarliestFinal time.Time `json:"earliestFinalCheck"`
	Verdict       struct{ Findings []struct{ Code string } }
	Chain         []struct{ Subject string }
	Evidence      []struct{ Method, Status string }
	Advice        []struct{ HU, EN string }
}

func decodeCheck(t *testing.T, out string) checkJSON {
	t.Helper()
	var r checkJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return r
}

func (r checkJSON) codes() []string {
	var out []string
	for _, f := range r.Verdict.Findings {
		out = append(out, f.Code)
	}
	return out
}

// cert check on sandbox signers: incomplete inside the grace period with advice naming the time,
// valid for the same T once the grace period is over, invalid when revoked, expired or not qualified.
func TestCertCheck(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	now := sb.Clock.Now // the CLI, its revocation checker and the sandbox server share one clock
	trustFile := filepath.Join(sb.Dir, sandbox.TrustConfigFile)
	chain := func(name string) string { return sb.World.Path(sb.World.MustEntity(name).Files.Chain) }
	check := func(file string, extra ...string) (int, string, string) {
		t.Helper()
		return runClock(t, now, append([]string{"cert", "check", file, "--trust", trustFile, "--policy", "sandbox"}, extra...)...)
	}

	// Right after start: the OCSP response is from before T + 2 s.
	code, stdout, stderr := check(chain("signer-pelda-1"), "--json")
	r := decodeCheck(t, stdout)
	if code != cli.ExitIncomplete || r.Indication != "INDETERMINATE" || r.SubIndication != "TRY_LATER" || r.State != "BEFEJEZETLEN" ||
		!slices.Contains(r.codes(), "A012") {
		t.Fatalf("inside the grace period: exit %d %+v %s", code, r, stderr)
	}
	T := r.CheckedFor
	if !r.EarliestFinal.Equal(T.Add(2*time.Second)) || len(r.Advice) == 0 {
		t.Fatalf("earliest final %v for T %v, advice %+v", r.EarliestFinal, T, r.Advice)
	}
	// The advice rounds the retry time up to the second, so that "after" is never early.
	when := r.EarliestFinal.UTC().Add(time.Second - 1).Truncate(time.Second).Format(time.RFC3339)
	atArg := "--at " + T.UTC().Format(time.RFC3339Nano)
	for _, a := range r.Advice {
		if !strings.Contains(a.EN, when) || !strings.Contains(a.HU, when) || !strings.Contains(a.EN, atArg) {
			t.Errorf("advice does not name the retry time %s and %q: %+v", when, atArg, a)
		}
	}
	// The same in text, both languages.
	code, stdout, _ = check(chain("signer-pelda-1"), "--at", T.Format(time.RFC3339Nano))
	for _, s := range []string{"BEFEJEZETLEN / INCOMPLETE", "A012", "A kivárási idő még nem telt le", "The grace period is not over yet",
		"Teendő / What to do", when, "Kovács Anna"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("text output lacks %q:\n%s", s, stdout)
		}
	}
	if code != cli.ExitIncomplete {
		t.Errorf("text: exit %d", code)
	}

	// After the grace period, for the same T: valid, with fresh evidence for the signer and its CA.
	sb.Clock.Advance(3 * time.Second)
	code, stdout, stderr = check(chain("signer-pelda-1"), "--at", T.Format(time.RFC3339Nano), "--json")
	r = decodeCheck(t, stdout)
	if code != cli.ExitOK || r.Indication != "TOTAL-PASSED" || len(r.Chain) != 3 || len(r.Evidence) != 2 || len(r.Advice) != 0 {
		t.Fatalf("after the grace period: exit %d %+v %s", code, r, stderr)
	}
	code, stdout, _ = check(chain("signer-pelda-1"), "--at", T.Format(time.RFC3339Nano))
	if code != cli.ExitOK || !strings.Contains(stdout, "ÉRVÉNYES / VALID") || !strings.Contains(stdout, "OCSP good") {
		t.Errorf("valid text: exit %d\n%s", code, stdout)
	}

	// Revoked a minute before now: final at once, whatever the grace period.
	sb.Revoke(t, "signer-pelda-2", 1, sb.Clock.Now().Add(-time.Minute))
	code, stdout, _ = check(chain("signer-pelda-2"), "--json")
	if r := decodeCheck(t, stdout); code != cli.ExitInvalid || r.Indication != "TOTAL-FAILED" || r.SubIndication != "REVOKED_NO_POE" ||
		!slices.Contains(r.codes(), "A005") || len(r.Advice) != 1 {
		t.Errorf("revoked: exit %d %+v", code, r)
	}
	// A signer not revoked stays undecided in the same sandbox (the revocation is specific).
	if code, _, _ := check(chain("signer-pelda-3")); code != cli.ExitIncomplete {
		t.Errorf("unrevoked signer: exit %d", code)
	}

	// The expired signer, given as a bare DER certificate: the trust configuration's intermediates complete the chain.
	der := sb.World.Path(sb.World.MustEntity(sandbox.ExpiredSigner).Files.CertDER)
	code, stdout, _ = check(der, "--json")
	if r := decodeCheck(t, stdout); code != cli.ExitInvalid || r.SubIndication != "OUT_OF_BOUNDS_NO_POE" || !slices.Contains(r.codes(), "A006") {
		t.Errorf("expired: exit %d %+v", code, r)
	}
	code, stdout, _ = check(der)
	if code != cli.ExitInvalid || !strings.Contains(stdout, "ÉRVÉNYTELEN / INVALID") || !strings.Contains(stdout, "E0 A006") {
		t.Errorf("expired text: exit %d\n%s", code, stdout)
	}
	// The receipt certificate is advanced, not qualified: no package signer.
	code, stdout, _ = check(chain(sandbox.FundReceipt), "--json")
	if r := decodeCheck(t, stdout); code != cli.ExitInvalid || !slices.Contains(r.codes(), "A004") {
		t.Errorf("not qualified: exit %d %+v", code, r)
	}

	// The key itself, from its PKCS#12 file, password from a file.
	p12 := "p12:" + sb.World.Path(sb.World.MustEntity("signer-pelda-1").Files.PKCS12)
	code, stdout, stderr = runClock(t, now, "cert", "check", "--key", p12, "--pin", "file:"+sb.World.PasswordFile(),
		"--trust", trustFile, "--policy", "sandbox", "--at", T.Format(time.RFC3339Nano), "--json")
	if r := decodeCheck(t, stdout); code != cli.ExitOK || r.Indication != "TOTAL-PASSED" {
		t.Errorf("--key p12: exit %d %+v %s", code, r, stderr)
	}

	// Usage errors exit 3.
	future := sb.Clock.Now().Add(time.Hour).Format(time.RFC3339)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no trust", []string{"cert", "check", chain("signer-pelda-1")}, "--trust"},
		{"no certificate", []string{"cert", "check", "--trust", trustFile}, "--key"},
		{"file and key", []string{"cert", "check", chain("signer-pelda-1"), "--key", p12, "--trust", trustFile}, "not both"},
		{"future", []string{"cert", "check", chain("signer-pelda-1"), "--trust", trustFile, "--at", future}, "future"},
		{"bad time", []string{"cert", "check", chain("signer-pelda-1"), "--trust", trustFile, "--at", "tegnap"}, "RFC 3339"},
		{"literal password", []string{"cert", "check", "--key", p12, "--pin", "Titok-1234", "--trust", trustFile}, "never accepted literally"},
		{"bad key spec", []string{"cert", "check", "--key", "Titok-1234", "--trust", trustFile}, "p12: or pkcs11:"},
		{"missing trust file", []string{"cert", "check", chain("signer-pelda-1"), "--trust", filepath.Join(sb.Dir, "nincs.json")}, "nincs.json"},
		{"wrong password", []string{"cert", "check", "--key", p12, "--pin", "file:" + trustFile, "--trust", trustFile}, "incorrect"},
	} {
		code, _, stderr := runClock(t, now, c.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr lacks %q:\n%s", c.name, code, c.want, stderr)
		}
		if strings.Contains(stderr, "Titok-1234") {
			t.Errorf("%s: the secret is echoed:\n%s", c.name, stderr)
		}
	}
}

// cert show lists what a signer needs to see (SIG-06, SIG-21): the name from the DN, the QC
// statements of a qualified certificate and none for an advanced one.
func TestCertShow(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	now := sb.Clock.Now
	signer := sb.World.MustEntity("signer-pelda-1")
	code, stdout, stderr := runClock(t, now, "cert", "show", sb.World.Path(signer.Files.Chain))
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	for _, s := range []string{signer.Person.Name(), "Példa Kft.", "QcCompliance", "QcSSCD", "QcType esign", "QCP-n-qscd",
		"nonRepudiation", signer.SHA256, signer.Serial, "RSA-2048", sb.OCSPURL, sb.CRLURL(sandbox.QualifiedCA),
		"igen (QcCompliance, QcSSCD)", "Tagdij Sandbox Root CA", "Aláíró neve / Signer name"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("show lacks %q:\n%s", s, stdout)
		}
	}

	var v certView
	code, stdout, _ = runClock(t, now, "cert", "show", "--json", sb.World.Path(signer.Files.CertDER))
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != 0 {
		t.Fatalf("json: exit %d %v\n%s", code, err, stdout)
	}
	if !v.Qualified || v.SignerName != signer.Person.Name() || v.SHA256 != signer.SHA256 || v.ValidityNow != "valid" ||
		!slices.Equal(v.QCStatements, []string{"QcCompliance", "QcSSCD", "QcType esign"}) ||
		!slices.Equal(v.KeyUsage, []string{"digitalSignature", "nonRepudiation"}) || len(v.Chain) != 0 {
		t.Errorf("json view %+v", v)
	}

	// The advanced receipt certificate: no QC statements, not qualified.
	code, stdout, _ = runClock(t, now, "cert", "show", "--json", sb.World.Path(sb.World.MustEntity(sandbox.FundReceipt).Files.Cert))
	v = certView{}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != 0 || v.Qualified || len(v.QCStatements) != 0 {
		t.Errorf("receipt certificate: exit %d %v %+v", code, err, v)
	}
	// The expired signer is shown (showing is not checking) and marked expired.
	code, stdout, _ = runClock(t, now, "cert", "show", sb.World.Path(sb.World.MustEntity(sandbox.ExpiredSigner).Files.Cert))
	if code != 0 || !strings.Contains(stdout, "LEJÁRT / EXPIRED") {
		t.Errorf("expired: exit %d\n%s", code, stdout)
	}

	// Files that are not certificates.
	dir := t.TempDir()
	keyOnly := filepath.Join(dir, "key.pem")
	os.WriteFile(keyOnly, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("titkos-kulcs-anyag")}), 0o600)
	junk := filepath.Join(dir, "junk.txt")
	os.WriteFile(junk, []byte("nem tanúsítvány"), 0o644)
	// A file that is not a certificate is invalid input (1), one that does not exist a usage error (3):
	// the one rule of every sender command.
	for _, c := range []struct {
		file, want string
		code       int
	}{{keyOnly, "no CERTIFICATE block", cli.ExitInvalid}, {junk, "neither a PEM nor a DER", cli.ExitInvalid},
		{filepath.Join(dir, "nincs.pem"), "file not found", cli.ExitUsage}} {
		code, _, stderr := runClock(t, now, "cert", "show", c.file)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "titkos-kulcs-anyag") {
			t.Errorf("%s: exit %d\n%s", c.file, code, stderr)
		}
	}
}

func TestParseCertificates(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	e := sb.World.MustEntity("signer-minta-1")
	chainPEM, err := os.ReadFile(sb.World.Path(e.Files.Chain))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := parseCertificates(chainPEM)
	if err != nil || len(certs) != 3 || !certs[0].Equal(e.Cert) || !certs[1].Equal(e.Chain[0]) {
		t.Fatalf("chain PEM: %d certificates, %v", len(certs), err)
	}
	// Other PEM blocks between certificates are skipped.
	mixed := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), chainPEM...)
	if certs, err := parseCertificates(mixed); err != nil || len(certs) != 3 || !certs[0].Equal(e.Cert) {
		t.Errorf("mixed PEM: %d, %v", len(certs), err)
	}
	// A corrupted certificate is an error, not skipped.
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Cert.Raw[:100]})
	if _, err := parseCertificates(append(chainPEM, bad...)); err == nil {
		t.Error("truncated certificate accepted")
	}
	// Too many certificates.
	var many []byte
	for range maxCertsPerFile + 1 {
		many = append(many, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Cert.Raw})...)
	}
	if _, err := parseCertificates(many); err == nil {
		t.Error("more than maxCertsPerFile accepted")
	}
	if certs, err := parseCertificates(e.Cert.Raw); err != nil || len(certs) != 1 {
		t.Errorf("DER: %v", err)
	}
}

func FuzzParseCertificates(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Add([]byte("nem tanúsítvány"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := parseCertificates(data)
		if err == nil && (len(certs) == 0 || len(certs) > maxCertsPerFile) {
			t.Fatalf("%d certificates without error", len(certs))
		}
		for _, c := range certs {
			if _, err := x509.ParseCertificate(c.Raw); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// The advice for each kind of incomplete result names what is missing (SIG-23).
func TestAdviseCheck(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	c := sb.World.MustEntity("signer-pelda-1").Cert
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	certCheckCmd.Flags(fs)
	fs.Set("trust", "/etc/tagdij/trust.json")
	T := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	incomplete := func(sub report.SubIndication, code errcode.Code) trust.ChainResult {
		r := trust.ChainResult{Verdict: report.Passed(), EarliestFinal: T.Add(4 * time.Hour)}
		r.Verdict.Incomplete(sub, errcode.New(code, "signer", ""))
		return r
	}
	failed := trust.ChainResult{Verdict: report.Passed()}
	failed.Verdict.Fail(report.RevokedNoPOE, errcode.New(errcode.A005, "signer", ""))
	missing := func(reason trust.MissingReason, ca bool) trust.ChainResult {
		m := trust.MissingEvidence{Subject: "CN=Foreign Issuing CA,C=HU", Issuer: "CN=Foreign Root CA,C=HU", CA: ca, Purpose: pathval.PurposeSigner,
			Reason: reason, Locations: []string{"http://crl.foreign.example/root.arl"}}
		if !ca {
			m.Subject, m.Issuer = c.Subject.String(), c.Issuer.String()
		}
		r := trust.ChainResult{Verdict: report.Passed(), EarliestFinal: T.Add(4 * time.Hour), Missing: []trust.MissingEvidence{m}}
		r.Verdict.Incomplete(report.TryLater, errcode.New(errcode.A011, m.Location(), ""))
		return r
	}
	graceOver := incomplete(report.TryLater, errcode.A012)
	graceOver.EarliestFinal = T.Add(30 * time.Minute) // over before the check at T + 1 h
	for _, tc := range []struct {
		name string
		res  trust.ChainResult
		want []string // in the English text
	}{
		{"grace", incomplete(report.TryLater, errcode.A012), []string{"2026-11-21T13:00:00Z", "(in 3h0m0s)", "--at 2026-11-21T09:00:00Z"}},
		{"unavailable", incomplete(report.TryLater, errcode.A011), append(slices.Clone(c.OCSPServer), c.CRLDistributionPoints...)},
		{"expired without evidence", incomplete(report.OutOfBoundsNoPOE, errcode.A011), []string{"expired", "no longer be used"}},
		{"no chain", incomplete(report.NoCertificateChainFound, errcode.A003), []string{"/etc/tagdij/trust.json", c.IssuingCertificateURL[0]}},
		{"invalid", failed, []string{"Do not sign"}},
		{"grace over, signer evidence still older", graceOver, []string{"ended at 2026-11-21T09:30:00Z", "not published newer evidence", "--at 2026-11-21T09:00:00Z"}},
		{"CA without location", missing(trust.ReasonNoLocation, true), []string{`the CA certificate "CN=Foreign Issuing CA,C=HU" names no revocation location`,
			`its issuer ("CN=Foreign Root CA,C=HU")`, "revocationSources", "/etc/tagdij/trust.json", "--at 2026-11-21T09:00:00Z"}},
		{"CA source unreachable", missing(trust.ReasonUnreachable, true), []string{"could not be reached (http://crl.foreign.example/root.arl)",
			"CN=Foreign Issuing CA,C=HU", "revocationSources"}},
		{"CA evidence not current", missing(trust.ReasonNotCurrent, true), []string{"No current revocation evidence", "CN=Foreign Issuing CA,C=HU", "Refresh the local CRL"}},
		{"CA evidence invalid", missing(trust.ReasonInvalid, true), []string{"failed verification", "CN=Foreign Issuing CA,C=HU"}},
		{"signer expired", missing(trust.ReasonExpired, false), []string{"expired", "no longer be used"}},
	} {
		adv := adviseCheck(tc.res, c, T, T.Add(time.Hour), fs)
		if len(adv) != 1 {
			t.Errorf("%s: %d pieces of advice", tc.name, len(adv))
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(adv[0].EN, w) {
				t.Errorf("%s: advice lacks %q: %s", tc.name, w, adv[0].EN)
			}
		}
		if adv[0].HU == "" || adv[0].HU == adv[0].EN {
			t.Errorf("%s: no Hungarian advice", tc.name)
		}
		if strings.Contains(adv[0].EN, "in 0s") || strings.Contains(adv[0].EN, "(in -") || strings.Contains(adv[0].HU, "még 0s") {
			t.Errorf("%s: advice counts down to a past time: %s", tc.name, adv[0].EN)
		}
	}
	if adv := adviseCheck(trust.ChainResult{Verdict: report.Passed()}, c, T, T, fs); adv != nil {
		t.Errorf("advice for a valid result: %+v", adv)
	}
}

// cert check on a foreign hierarchy whose issuing CA certificate names no revocation location: after
// the signer's grace period the result stays incomplete (A011) with a finding and advice naming the
// CA and the per-issuer revocation source of the trust configuration, never "in 0s"; with the root's
// ARL configured as that source, valid. Every time is fixed and the command's clock injected.
func TestCertCheckForeignCAWithoutRevocationLocation(t *testing.T) {
	dir := t.TempDir()
	T := time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)
	now := T.Add(26 * time.Hour)
	from, to := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	crls := revtest.NewCRLServer(t)
	root := revtest.NewRoot(t, revtest.Spec{Name: "Foreign Root CA", NotBefore: from, NotAfter: to})
	ca := root.Issue(t, revtest.Spec{Name: "Foreign Issuing CA", CA: true, NotBefore: from, NotAfter: to}) // no AIA, no CRL DP
	signer := ca.Issue(t, revtest.Spec{Name: "Kovács Anna", Qualified: true, KeyUsage: x509.KeyUsageContentCommitment,
		CRL: []string{crls.URL + "/ca.crl"}, NotBefore: from, NotAfter: to})
	crls.Set(func(c *revtest.CRLConfig) {
		*c = revtest.CRLConfig{Issuer: ca, ThisUpdate: T.Add(25 * time.Hour), NextUpdate: T.Add(8 * 24 * time.Hour)}
	})
	root.WritePEM(t, dir, "root.pem", "")
	chain := filepath.Join(dir, "signer-chain.pem")
	os.WriteFile(chain, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signer.Cert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})...), 0o600)
	arl, err := revtest.BuildCRL(revtest.CRLConfig{Issuer: root, ThisUpdate: T.AddDate(0, -1, 0), NextUpdate: T.AddDate(0, 5, 0)})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "root.arl"), arl, 0o600)
	trustFile := filepath.Join(dir, "trust.json")
	writeTrust := func(sources string) {
		js := `{"signerAnchors": ["root.pem"], "tsaAnchors": ["root.pem"]` + sources + `}`
		if err := os.WriteFile(trustFile, []byte(js), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	check := func(extra ...string) (int, string) {
		code, stdout, stderr := runClock(t, func() time.Time { return now }, append([]string{"cert", "check", chain, "--trust", trustFile,
			"--policy", "production", "--at", T.Format(time.RFC3339)}, extra...)...)
		if stderr != "" {
			t.Logf("stderr: %s", stderr)
		}
		return code, stdout
	}

	writeTrust("")
	code, stdout := check("--json")
	var r struct {
		Indication string
		Verdict    struct{ Findings []errcode.Finding }
		Missing    []trust.MissingEvidence `json:"missingEvidence"`
		Advice     []struct{ HU, EN string }
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if code != cli.ExitIncomplete || r.Indication != "INDETERMINATE" || len(r.Verdict.Findings) != 1 || r.Verdict.Findings[0].Code != errcode.A011 ||
		!strings.Contains(r.Verdict.Findings[0].Location, "CN=Foreign Issuing CA") {
		t.Fatalf("CA without revocation location: exit %d\n%s", code, stdout)
	}
	if len(r.Advice) != 1 || len(r.Missing) != 1 || !r.Missing[0].CA || r.Missing[0].Reason != trust.ReasonNoLocation {
		t.Fatalf("advice %+v, missing evidence %+v", r.Advice, r.Missing)
	}
	for _, want := range []string{"CN=Foreign Issuing CA", "names no revocation location", "revocationSources", trustFile, "CN=Foreign Root CA",
		"--at " + T.Format(time.RFC3339)} {
		if !strings.Contains(r.Advice[0].EN, want) {
			t.Errorf("advice lacks %q: %s", want, r.Advice[0].EN)
		}
	}
	if strings.Contains(stdout, "in 0s") || strings.Contains(stdout, "még 0s") || !strings.Contains(r.Advice[0].HU, "revocationSources") {
		t.Errorf("advice: %+v", r.Advice)
	}
	// The same in text.
	code, text := check()
	for _, want := range []string{"BEFEJEZETLEN / INCOMPLETE", "A011 signer CA CN=Foreign Issuing CA", "Teendő / What to do", "revocationSources"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
	if code != cli.ExitIncomplete || strings.Contains(text, "in 0s") {
		t.Errorf("text: exit %d\n%s", code, text)
	}

	// The root's ARL, issued a month before T, as the configured source: valid.
	writeTrust(`, "revocationSources": [{"issuer": "root.pem", "crlFile": "root.arl"}]`)
	if code, stdout := check(); code != cli.ExitOK || !strings.Contains(stdout, "ÉRVÉNYES / VALID") || !strings.Contains(stdout, "file:") {
		t.Fatalf("with the ARL configured: exit %d\n%s", code, stdout)
	}
	// A configuration naming a CRL file of someone else is refused when it loads, bilingually.
	os.WriteFile(filepath.Join(dir, "ca.crl"), func() []byte {
		b, _ := revtest.BuildCRL(revtest.CRLConfig{Issuer: ca, ThisUpdate: T, NextUpdate: T.Add(time.Hour)})
		return b
	}(), 0o600)
	writeTrust(`, "revocationSources": [{"issuer": "root.pem", "crlFile": "ca.crl"}]`)
	code, stdout, stderr := runClock(t, func() time.Time { return now }, "cert", "check", chain, "--trust", trustFile, "--policy", "production")
	if code == cli.ExitOK || !strings.Contains(stderr, "revocationSources[0]") || !strings.Contains(stderr, "bad revocation source") ||
		!strings.Contains(stderr, "hibás visszavonási forrás") {
		t.Errorf("wrong CRL file: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
