package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// TestExtendedVerifiesOffline: the extended package the processor binary archives (two signers) is
// valid for `auditor verify` offline — now and a year later, on the validation data it carries — and
// every signature in it verifies with xmlsec1; the original is archived unchanged beside it. One byte
// changed in the extended package makes both refuse it, so the test can fail.
func TestExtendedVerifiesOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the processor and the auditor")
	}
	xmlsec, err := exec.LookPath("xmlsec1")
	if err != nil {
		t.Skip("xmlsec1 not installed (scripts/deps.sh installs it)")
	}
	bin := buildProcessor(t)
	auditor := buildCommand(t, "auditor")
	// A renewal margin beyond the sandbox TSA certificate's life: every archive time-stamp is due.
	w := newProcWorld(t, map[string]any{"renewMargin": "876000h"})
	data, name := w.Package(t, receivertest.PackageOptions{Signers: []int{0, 1}})
	res := w.Submit(t, data, name)
	sums := [][32]byte{res.SHA256}
	w.waitDue(t, sums)
	if code, out, log := runBin(t, bin, nil, "once", "--config", w.Config); code != 0 {
		t.Fatalf("processor once: exit %d\n%s\n%s", code, out, log)
	}
	ctx := context.Background()
	arch := w.openArchive(t)
	e, err := arch.ByPackage(ctx, res.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := arch.Read(ctx, e, archive.Original)
	if err != nil || !bytes.Equal(orig, data) {
		t.Fatalf("the original is not archived unchanged (%v)", err)
	}
	ext, err := arch.Read(ctx, e, archive.Extended)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, ext, 0o600); err != nil {
		t.Fatal(err)
	}
	trustFile := filepath.Join(w.SB.Dir, "trust.json")
	for _, at := range []string{"", time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)} {
		args := []string{"verify", file, "--trust", trustFile, "--policy", "sandbox"}
		if at != "" {
			args = append(args, "--at", at)
		}
		out, err := exec.Command(auditor, args...).CombinedOutput()
		if err != nil {
			t.Errorf("auditor verify (at %q): %v\n%s", at, err, out)
		}
	}
	// The archive of the configuration verifies (every package re-verified offline) and shows the entry.
	if code, out, log := runBin(t, bin, nil, "archive", "verify", "--config", w.Config); code != 0 {
		t.Errorf("archive verify --config: exit %d\n%s\n%s", code, out, log)
	}
	if code, out, log := runBin(t, bin, nil, "archive", "show", e.ID, "--config", w.Config); code != 0 || !strings.Contains(out, e.ID) {
		t.Errorf("archive show --config: exit %d\n%s\n%s", code, out, log)
	}
	// Renewal: a new archive entry with one more archive time-stamp; the archive, sealed again, verifies.
	code, out, log := runBin(t, bin, nil, "renew", "--config", w.Config, "--json")
	var rs struct{ Checked, Renewed, Errors int }
	if err := json.Unmarshal([]byte(out), &rs); err != nil || code != 0 || rs.Checked != 1 || rs.Renewed != 1 {
		t.Errorf("renew: exit %d %s\n%s", code, out, log)
	}
	if vs, err := arch.Versions(ctx, res.SHA256); err != nil || len(vs) != 2 {
		t.Errorf("after renewal: %d versions, %v", len(vs), err)
	}
	if code, out, log := runBin(t, bin, nil, "archive", "verify", "--config", w.Config); code != 0 {
		t.Errorf("archive verify after renewal: exit %d\n%s\n%s", code, out, log)
	}
	ids := signatureIDs(t, ext)
	if len(ids) != 2 {
		t.Fatalf("%d signatures", len(ids))
	}
	root := w.SB.World.Path(w.SB.World.MustEntity(sandbox.RootCA).Files.Cert)
	if acc, outs := xmlsecVerify(t, xmlsec, root, file, ids); len(acc) != len(ids) {
		t.Errorf("xmlsec1 accepted %v of %v:\n%s", acc, ids, strings.Join(outs, "\n"))
	}
	bad := bytes.Clone(ext)
	i := bytes.Index(bad, []byte("<ds:Object xmlns:ds")) + 200
	bad[i] ^= 0x01
	badFile := filepath.Join(dir, "tampered-"+name)
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if acc, _ := xmlsecVerify(t, xmlsec, root, badFile, ids); len(acc) != 0 {
		t.Errorf("xmlsec1 accepted a tampered extended package: %v", acc)
	}
	if out, err := exec.Command(auditor, "verify", badFile, "--trust", trustFile, "--policy", "sandbox").CombinedOutput(); err == nil {
		t.Errorf("auditor accepted a tampered extended package:\n%s", out)
	}
}

func signatureIDs(t *testing.T, data []byte) []string {
	t.Helper()
	d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var ids []string
	for _, s := range d.Signatures {
		ids = append(ids, s.ID)
	}
	return ids
}

// xmlsecVerify runs `xmlsec1 --verify` on each signature of file (selected with --node-id), with the
// Id attributes of the e-akta and XAdES elements registered, and returns the Ids it accepted.
func xmlsecVerify(t *testing.T, xmlsec, root, file string, ids []string) (accepted, outputs []string) {
	t.Helper()
	for _, id := range ids {
		out, err := exec.Command(xmlsec, "--verify", "--trusted-pem", root, "--enabled-reference-uris", "same-doc",
			"--id-attr:Id", "Signature", "--id-attr:Id", "DossierProfile", "--id-attr:Id", "Documents",
			"--id-attr:Id", "Object", "--id-attr:Id", "SignedProperties", "--node-id", id, file).CombinedOutput()
		outputs = append(outputs, string(out))
		if err == nil && bytes.Contains(out, []byte("OK")) {
			accepted = append(accepted, id)
		}
	}
	return accepted, outputs
}
