package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// TestPackRecordsInWorkspace: pack records live in the workspace database. Packing one declaration
// twice warns with the earlier package's name and state taken from the database; the records (with
// their sign previews) are in a backup, re-checked by restore, and after a wipe and restore the next
// pack still names every earlier package. `sender status` of a package packed here and never sent
// says so.
func TestPackRecordsInWorkspace(t *testing.T) {
	f := newSendFixture(t, receivertest.Options{})
	ctx := context.Background()
	decl := filepath.Join(t.TempDir(), "bevallas.xml")
	period := f.stack.SB.Clock.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	if code, _, errOut := f.run(t, "declaration", "generate", "--config", f.cfg, "--members", "3", "--seed", "8", "--period", period, "--out", decl); code != 0 {
		t.Fatalf("generate: %d %s", code, errOut)
	}
	packJSON := func() packReport {
		t.Helper()
		code, out, errOut := f.run(t, "pack", decl, "--config", f.cfg, "--json")
		var rep packReport
		if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
			t.Fatalf("pack: exit %d %v\n%s\n%s", code, err, out, errOut)
		}
		return rep
	}
	first := packJSON()
	if len(first.PackedBefore) != 0 {
		t.Errorf("first pack names earlier packages: %v", first.PackedBefore)
	}
	second := packJSON()
	if len(second.PackedBefore) != 1 || second.PackedBefore[0] != first.Package {
		t.Errorf("second pack: packedBefore %v, want [%s]", second.PackedBefore, first.Package)
	}
	code, out, errOut := f.run(t, "pack", decl, "--config", f.cfg)
	for _, want := range []string{"FIGYELEM", "WARNING", first.Package, second.Package, "nincs elküldve / not sent", first.Summary.ID} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("third pack: exit %d, output lacks %q\n%s\n%s", code, want, out, errOut)
		}
	}
	ws := f.workspace(t)
	recs, err := ws.PackedBySubmission(ctx, first.Summary.ID)
	if err != nil || len(recs) != 3 || recs[0].Name != first.Package || recs[1].Name != second.Package {
		t.Fatalf("pack records %+v %v", recs, err)
	}
	for _, r := range recs {
		if packedPreview(&r) == nil || r.SubmissionID != first.Summary.ID || !r.Encrypted {
			t.Errorf("record %s: preview does not decode or wrong fields: %+v", r.Name, r)
		}
	}
	ws.Close()

	// status of a package packed here, never sent: not at the receiver, and the local record says so.
	code, _, errOut = f.run(t, "status", first.Package, "--config", f.cfg)
	if code != cli.ExitUsage || !strings.Contains(errOut, "has not arrived") || !strings.Contains(errOut, "Packed in this workspace") ||
		!strings.Contains(errOut, "not sent") || !strings.Contains(errOut, first.Path) {
		t.Errorf("status of a packed, unsent package: exit %d\n%s", code, errOut)
	}

	// Backup → wipe → restore: the records are back, re-checked.
	tarFile := filepath.Join(t.TempDir(), "mentes.tar")
	if code, out, errOut := f.run(t, "backup", tarFile, "--config", f.cfg); code != 0 {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	if err := os.RemoveAll(filepath.Join(f.dir, "state")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = f.run(t, "restore", tarFile, "--config", f.cfg, "--json")
	var items []itemView
	if err := json.Unmarshal([]byte(out), &items); err != nil || code != 0 {
		t.Fatalf("restore: %d %v\n%s\n%s", code, err, out, errOut)
	}
	packed := map[string]bool{}
	for _, it := range items {
		if it.Kind == "packed" && it.OK {
			packed[it.Name] = true
		}
	}
	if len(packed) != 3 || !packed[first.Package] || !packed[second.Package] {
		t.Errorf("restored pack records %v\n%s", packed, out)
	}
	fourth := packJSON()
	if len(fourth.PackedBefore) != 3 || fourth.PackedBefore[0] != first.Package {
		t.Errorf("pack after restore: packedBefore %v", fourth.PackedBefore)
	}
}
