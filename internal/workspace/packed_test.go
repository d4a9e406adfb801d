package workspace

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func packedRecord(n int, submission string) Packed {
	return Packed{PayloadSHA256: sha256.Sum256(fmt.Appendf(nil, "payload %d", n)), PackageSHA256: sha256.Sum256(fmt.Appendf(nil, "package %d", n)),
		DeclarationSHA256: sha256.Sum256([]byte("declaration")), Name: fmt.Sprintf("TBA_12345676_0101_202610_B%03d_20261121T090000Z.es3", n),
		SubmissionID: submission, Path: fmt.Sprintf("/x/%d.es3", n), Packed: t0.Add(time.Duration(n) * time.Minute), Encrypted: n%2 == 1,
		Preview: fmt.Appendf(nil, `{"n":%d}`, n)}
}

// TestPackedRecords: pack records are kept per pack run and found by payload, name and submission
// id; a record without name, submission id or preview, or with an oversized preview, is refused;
// they survive backup and restore.
func TestPackedRecords(t *testing.T) {
	w := open(t)
	ctx := context.Background()
	a, b, c := packedRecord(1, "s-1"), packedRecord(2, "s-1"), packedRecord(3, "s-2")
	for _, p := range []Packed{a, b, c} {
		if _, err := w.AddPacked(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w.PackedBySubmission(ctx, "s-1")
	if err != nil || len(got) != 2 || got[0].Name != a.Name || got[1].Name != b.Name {
		t.Fatalf("by submission: %+v %v", got, err)
	}
	g := got[0]
	g.Seq = 0
	if fmt.Sprint(g) != fmt.Sprint(a) {
		t.Errorf("stored %+v\nwant   %+v", g, a)
	}
	if p, err := w.PackedByPayload(ctx, c.PayloadSHA256); err != nil || p.Name != c.Name || p.SubmissionID != "s-2" {
		t.Errorf("by payload: %+v %v", p, err)
	}
	if p, err := w.PackedByName(ctx, b.Name); err != nil || p.PayloadSHA256 != b.PayloadSHA256 {
		t.Errorf("by name: %+v %v", p, err)
	}
	if _, err := w.PackedByPayload(ctx, sha256.Sum256([]byte("other"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown payload: %v", err)
	}
	if _, err := w.PackedByName(ctx, "TBA_other.es3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown name: %v", err)
	}
	// The same payload packed again (a plain package of the same declaration) is another record; the
	// latest is the one found.
	again := a
	again.Packed, again.Path = t0.Add(time.Hour), "/y/again.es3"
	if _, err := w.AddPacked(ctx, again); err != nil {
		t.Fatal(err)
	}
	if p, err := w.PackedByPayload(ctx, a.PayloadSHA256); err != nil || p.Path != "/y/again.es3" {
		t.Errorf("latest by payload: %+v %v", p, err)
	}
	for name, bad := range map[string]func(*Packed){
		"no name":          func(p *Packed) { p.Name = "" },
		"no submission":    func(p *Packed) { p.SubmissionID = "" },
		"no preview":       func(p *Packed) { p.Preview = nil },
		"oversize preview": func(p *Packed) { p.Preview = make([]byte, MaxPreviewBytes+1) },
	} {
		p := packedRecord(9, "s-9")
		bad(&p)
		if _, err := w.AddPacked(ctx, p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if all, err := w.PackedAll(ctx); err != nil || len(all) != 4 {
		t.Errorf("all: %d %v", len(all), err)
	}

	out := filepath.Join(t.TempDir(), "b.tar")
	if _, err := w.Backup(ctx, out, t0); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(ctx, out, dst); err != nil {
		t.Fatal(err)
	}
	w2, err := Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	restored, err := w2.PackedAll(ctx)
	if err != nil || len(restored) != 4 {
		t.Fatalf("restored: %+v %v", restored, err)
	}
	if v, _ := w2.Version(ctx); v != len(migrations) {
		t.Errorf("restored schema version %d", v)
	}
	if !strings.Contains(string(restored[3].Preview), `"n":1`) {
		t.Errorf("restored preview %q", restored[3].Preview)
	}
}
