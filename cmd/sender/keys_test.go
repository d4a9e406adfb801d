package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
)

// keys list shows the sandbox keys imported into SoftHSM2 and which of them can sign qualified
// (SIG-10); the --key value it prints selects the key for cert show and cert check.
func TestKeysListSoftHSM(t *testing.T) {
	if err := softhsm.Available(); err != nil {
		t.Skipf("SoftHSM2 is not installed (softhsm2 package): %v", err)
	}
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	t.Setenv(softhsm.ConfEnv, sandbox.SoftHSMConfPath(sb.World))
	info, err := sandbox.ImportToSoftHSM(context.Background(), sb.World, sandbox.SoftHSMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := sb.Clock.Now
	token := keys.KeySpec{Kind: keys.KindPKCS11, Module: info.Module, Token: info.TokenLabel}.String()
	pin := "file:" + sb.World.Path(info.PINFile)

	code, stdout, stderr := runClock(t, now, "keys", "list", "--key", token, "--pin", pin, "--json")
	var l tokenListing
	if err := json.Unmarshal([]byte(stdout), &l); err != nil || code != 0 {
		t.Fatalf("exit %d %v\n%s%s", code, err, stdout, stderr)
	}
	byLabel := map[string]tokenEntry{}
	var keyLabels []string
	for _, e := range l.Entries {
		byLabel[e.Label] = e
		if e.HasPrivateKey {
			keyLabels = append(keyLabels, e.Label)
		}
	}
	var want []string
	for _, k := range info.Keys {
		want = append(want, k.Label)
	}
	slices.Sort(want)
	if !l.LoginOK || !slices.Equal(keyLabels, want) {
		t.Fatalf("keys on the token %v, imported %v", keyLabels, want)
	}
	if ca, ok := byLabel["Tagdij Sandbox Qualified CA"]; !ok || ca.HasPrivateKey || !ca.CA || ca.Usable {
		t.Errorf("CA certificate entry: %+v", ca)
	}
	for _, c := range []struct {
		label  string
		usable bool
		why    string
	}{
		{"signer-pelda-1", true, ""},
		{"signer-minta-2", true, ""}, // ECDSA
		{sandbox.ExpiredSigner, false, "expired"},
		{sandbox.NotYetValidSign, false, "not yet valid"},
		{sandbox.FundReceipt, false, "not qualified"},
		{sandbox.FundEncryption, false, "does not let it sign"},
	} {
		e := byLabel[c.label]
		if e.Usable != c.usable || !strings.Contains(strings.Join(e.NotUsable, ";"), c.why) {
			t.Errorf("%s: usable %v %v, want %v %q", c.label, e.Usable, e.NotUsable, c.usable, c.why)
		}
	}
	anna := byLabel["signer-pelda-1"]
	if anna.SignerName != sb.World.MustEntity("signer-pelda-1").Person.Name() || anna.Serial != sb.World.MustEntity("signer-pelda-1").Serial ||
		!anna.Qualified || !anna.CanSign || anna.CanDecrypt {
		t.Errorf("signer entry %+v", anna)
	}

	// Text: the --key value of each usable key (split into shell-joined pieces on an 80-column output).
	code, stdout, _ = runClock(t, now, "keys", "list", "--key", token, "--pin", pin)
	joined := strings.ReplaceAll(stdout, "'\\\n'", "")
	if code != 0 || !strings.Contains(joined, "--key '"+anna.Spec+"'") || !strings.Contains(stdout, "igen/yes") ||
		!strings.Contains(stdout, "lejárt / expired") {
		t.Errorf("text listing: exit %d\n%s", code, stdout)
	}

	// The printed spec selects the key: show needs no PIN, check opens the key with it.
	code, stdout, stderr = runClock(t, now, "cert", "show", "--key", anna.Spec, "--json")
	var v certView
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != 0 || v.SHA256 != sb.World.MustEntity("signer-pelda-1").SHA256 {
		t.Errorf("show --key: exit %d %v %s", code, err, stderr)
	}
	code, stdout, stderr = runClock(t, now, "cert", "check", "--key", anna.Spec, "--pin", pin,
		"--trust", sb.World.Path(sandbox.TrustConfigFile), "--policy", "sandbox", "--json")
	if r := decodeCheck(t, stdout); code != cli.ExitIncomplete || r.SubIndication != "TRY_LATER" {
		t.Errorf("check --key pkcs11: exit %d %+v %s", code, r, stderr)
	}
	// Without a selector the token has many certificates: ambiguous.
	if code, _, stderr := runClock(t, now, "cert", "show", "--key", token); code != cli.ExitUsage || !strings.Contains(stderr, "several keys match") {
		t.Errorf("ambiguous show: exit %d %s", code, stderr)
	}

	// Without a PIN only certificates are listed.
	code, stdout, _ = runClock(t, now, "keys", "list", "--key", token, "--json")
	l = tokenListing{}
	if err := json.Unmarshal([]byte(stdout), &l); err != nil || code != 0 || l.LoginOK {
		t.Fatalf("no PIN: exit %d %v", code, err)
	}
	for _, e := range l.Entries {
		if e.HasPrivateKey || e.Usable {
			t.Errorf("without a PIN a private key is listed: %+v", e)
		}
	}
	if len(l.Entries) < len(info.Keys) {
		t.Errorf("without a PIN %d certificates, want at least %d", len(l.Entries), len(info.Keys))
	}

	// Errors: a wrong PIN, a PKCS#12 spec, a literal PIN, a missing --key.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "list", "--key", token, "--pin", "file:" + sb.World.PasswordFile()}, "incorrect PIN"},
		{[]string{"keys", "list", "--key", "p12:" + sb.World.Path(sb.World.MustEntity("signer-pelda-1").Files.PKCS12)}, "PKCS#11 token"},
		{[]string{"keys", "list", "--key", token, "--pin", "1234"}, "never accepted literally"},
		{[]string{"keys", "list"}, "--key"},
	} {
		code, _, stderr := runClock(t, now, c.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr lacks %q:\n%s", c.args, code, c.want, stderr)
		}
	}
}

// TestShellPieces: a long --key value split for a narrow terminal is still one word to a shell.
func TestShellPieces(t *testing.T) {
	spec := "pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=Tagdij Sandbox Token;key=signer-pelda-1 (O'Brien)"
	for _, n := range []int{20, 40, 69, 200} {
		q := shellPieces(spec, n)
		for _, l := range strings.Split(q, "\n") {
			if n >= 69 && len([]rune(l)) > n+1 { // narrower than the module path cannot be met
				t.Errorf("n=%d: piece of %d: %q", n, len([]rune(l)), l)
			}
		}
		out, err := exec.Command("sh", "-c", "printf %s "+q).Output()
		if err != nil || string(out) != spec {
			t.Errorf("n=%d: the shell reads %q (%v) from\n%s", n, out, err, q)
		}
	}
}
