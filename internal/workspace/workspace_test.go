package workspace

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func open(t *testing.T) *Workspace {
	t.Helper()
	w, err := Open(context.Background(), filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// fill stores a package with two attempts, a receipt, a notification and two container versions.
func fill(t *testing.T, w *Workspace) (Package, Receipt) {
	t.Helper()
	ctx := context.Background()
	data := []byte("package bytes")
	p := Package{SHA256: sha256.Sum256(data), Name: "TBA_12345676_0101_202610_B001_20261121T090000Z.es3", SubmissionID: "s-1", Size: int64(len(data)), Added: t0}
	if err := w.AddPackage(ctx, p, data); err != nil {
		t.Fatal(err)
	}
	if err := w.AddPackage(ctx, p, data); err != nil {
		t.Fatalf("adding the same package again: %v", err)
	}
	if _, err := w.AddAttempt(ctx, Attempt{Package: p.SHA256, Started: t0, URL: "https://x/v1/packages", Outcome: OutcomeNetwork, Detail: "reset"}, nil); err != nil {
		t.Fatal(err)
	}
	rb := []byte("receipt bytes")
	if _, err := w.AddAttempt(ctx, Attempt{Package: p.SHA256, Started: t0.Add(time.Second), URL: "https://x/v1/packages", HTTPStatus: 200, Outcome: OutcomeReceipt}, rb); err != nil {
		t.Fatal(err)
	}
	r := Receipt{SHA256: sha256.Sum256(rb), Package: p.SHA256, Name: "TBN_x.es3", ReceiptID: "0b7c8f2e-0000-4000-8000-000000000001", Result: "BEFOGADVA",
		Received: t0.Add(time.Second), Checked: t0.Add(time.Second), State: "BEFEJEZETLEN", Indication: "INDETERMINATE", SubIndication: "TRY_LATER",
		Report: []byte(`{}`), Validation: []byte(`{}`)}
	if err := w.PutReceipt(ctx, r, rb); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddNotification(ctx, Notification{Receipt: r.SHA256, Created: t0, Recipient: RecipientFund, Address: "a@b", Text: "t", File: "notifications/n.txt"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := w.AddContainer(ctx, p.SHA256, "TBK_x.es3", t0.Add(time.Duration(i)*time.Minute), []byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	return p, r
}

func TestRecords(t *testing.T) {
	w := open(t)
	ctx := context.Background()
	p, r := fill(t, w)
	ps, err := w.Packages(ctx)
	if err != nil || len(ps) != 1 || ps[0] != p {
		t.Errorf("packages %+v %v", ps, err)
	}
	if got, err := w.PackagesBySubmission(ctx, "s-1"); err != nil || len(got) != 1 {
		t.Errorf("by submission %+v %v", got, err)
	}
	if got, _ := w.PackagesBySubmission(ctx, "s-2"); len(got) != 0 {
		t.Errorf("other submission: %+v", got)
	}
	atts, err := w.Attempts(ctx, p.SHA256)
	if err != nil || len(atts) != 2 || atts[0].Outcome != OutcomeNetwork || atts[0].HTTPStatus != 0 || atts[0].Answer != nil ||
		atts[1].HTTPStatus != 200 || atts[1].Answer == nil || *atts[1].Answer != r.SHA256 {
		t.Errorf("attempts %+v %v", atts, err)
	}
	// A later check updates the row; the receipt's id and result stay.
	r2 := r
	r2.ReceiptID, r2.Result = "", ""
	r2.State, r2.Indication, r2.SubIndication, r2.Checked = "ERVENYES", "TOTAL-PASSED", "", t0.Add(time.Hour)
	rb, _ := w.Blob(r.SHA256)
	if err := w.PutReceipt(ctx, r2, rb); err != nil {
		t.Fatal(err)
	}
	got, err := w.ReceiptFor(ctx, p.SHA256)
	if err != nil || got.State != "ERVENYES" || got.ReceiptID != r.ReceiptID || got.Result != "BEFOGADVA" || !got.Checked.Equal(t0.Add(time.Hour)) {
		t.Errorf("updated receipt %+v %v", got, err)
	}
	// Bytes that do not match the SHA-256 are refused.
	if err := w.PutReceipt(ctx, r2, []byte("other")); err == nil {
		t.Error("receipt bytes of another hash accepted")
	}
	if err := w.AddPackage(ctx, p, []byte("other")); err == nil {
		t.Error("package bytes of another hash accepted")
	}
	// A second receipt for the same package is refused by the database.
	other := r
	other.SHA256 = sha256.Sum256([]byte("x"))
	if err := w.PutReceipt(ctx, other, []byte("x")); err == nil {
		t.Error("a second receipt for one package was stored")
	}
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{r.ReceiptID, true}, {r.Name, true}, {hex.EncodeToString(r.SHA256[:])[:8], true}, {hex.EncodeToString(p.SHA256[:]), true},
		{hex.EncodeToString(r.SHA256[:])[:7], false}, {"nope", false}, {"", false},
	} {
		_, err := w.ReceiptByKey(ctx, tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("ReceiptByKey(%q): %v", tc.key, err)
		}
	}
	c, err := w.LatestContainer(ctx, p.SHA256)
	if err != nil || c.Version != 2 {
		t.Errorf("latest container %+v %v", c, err)
	}
	if _, err := w.LatestContainer(ctx, sha256.Sum256(nil)); !errors.Is(err, ErrNotFound) {
		t.Errorf("container of an unknown package: %v", err)
	}
	if _, err := w.Package(ctx, sha256.Sum256(nil)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown package: %v", err)
	}
	if err := w.SetPackageCheck(ctx, sha256.Sum256(nil), PackageCheck{Checked: t0}); !errors.Is(err, ErrNotFound) {
		t.Errorf("check of an unknown package: %v", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	w, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	w.db.Exec(`INSERT INTO schema_migrations (version, applied) VALUES (?, 0)`, len(migrations)+1)
	w.Close()
	if _, err := Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "older program") {
		t.Errorf("a newer schema was opened: %v", err)
	}
}

func TestBackupRestore(t *testing.T) {
	w := open(t)
	ctx := context.Background()
	p, r := fill(t, w)
	os.WriteFile(filepath.Join(w.Dir(), "signatures.log"), []byte("{}\n"), 0o600)
	out := filepath.Join(t.TempDir(), "b.tar")
	m, err := w.Backup(ctx, out, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Backup(ctx, out, t0); err == nil {
		t.Error("an existing backup file was overwritten")
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", st.Mode().Perm())
	}
	paths := map[string]bool{}
	for _, e := range m.Files {
		paths[e.Path] = true
	}
	for _, want := range []string{DBFile, "signatures.log", "blobs/sha256/" + hex.EncodeToString(p.SHA256[:1]) + "/" + hex.EncodeToString(p.SHA256[:])} {
		if !paths[want] {
			t.Errorf("backup lacks %s: %v", want, paths)
		}
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
	got, err := w2.ReceiptFor(ctx, p.SHA256)
	if err != nil || got.ReceiptID != r.ReceiptID {
		t.Errorf("restored receipt %+v %v", got, err)
	}
	if b, err := w2.Blob(p.SHA256); err != nil || string(b) != "package bytes" {
		t.Errorf("restored package %q %v", b, err)
	}
	// Restoring into a non-empty directory is refused.
	if _, err := Restore(ctx, out, dst); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a non-empty directory: %v", err)
	}
}

// entries reads a backup's entries.
func entries(t *testing.T, path string) []tarEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err != nil {
			return out
		}
		var b bytes.Buffer
		b.ReadFrom(tr)
		out = append(out, tarEntry{h: *h, body: b.Bytes()})
	}
}

type tarEntry struct {
	h    tar.Header
	body []byte
}

func writeTar(t *testing.T, es []tarEntry) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		h := e.h
		h.Size = int64(len(e.body))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.body)
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "x.tar")
	os.WriteFile(p, b.Bytes(), 0o600)
	return p
}

// TestRestoreRefusesDamage: every way a backup can be damaged or hostile is refused, and nothing is
// left in the target.
func TestRestoreRefusesDamage(t *testing.T) {
	w := open(t)
	ctx := context.Background()
	fill(t, w)
	out := filepath.Join(t.TempDir(), "b.tar")
	if _, err := w.Backup(ctx, out, t0); err != nil {
		t.Fatal(err)
	}
	good := entries(t, out)
	blobIdx := -1
	for i, e := range good {
		if strings.HasPrefix(e.h.Name, "blobs/sha256/") {
			blobIdx = i
		}
	}
	manifest := func(es []tarEntry) *Manifest {
		var m Manifest
		json.Unmarshal(es[len(es)-1].body, &m)
		return &m
	}
	withManifest := func(es []tarEntry, m *Manifest) []tarEntry {
		b, _ := json.Marshal(m)
		es[len(es)-1].body = b
		return es
	}
	clone := func() []tarEntry {
		c := make([]tarEntry, len(good))
		for i, e := range good {
			c[i] = tarEntry{h: e.h, body: bytes.Clone(e.body)}
		}
		return c
	}
	for _, tc := range []struct {
		name string
		mod  func([]tarEntry) []tarEntry
	}{
		{"no manifest", func(es []tarEntry) []tarEntry { return es[:len(es)-1] }},
		{"a byte changed", func(es []tarEntry) []tarEntry { es[blobIdx].body[0] ^= 1; return es }},
		{"an entry missing", func(es []tarEntry) []tarEntry { return append(es[:blobIdx], es[blobIdx+1:]...) }},
		{"an entry not in the manifest", func(es []tarEntry) []tarEntry {
			extra := tarEntry{h: tar.Header{Name: "extra", Mode: 0o600, Typeflag: tar.TypeReg}, body: []byte("x")}
			return append(es[:len(es)-1], extra, es[len(es)-1])
		}},
		{"path traversal", func(es []tarEntry) []tarEntry {
			es[blobIdx].h.Name = "../evil"
			m := manifest(es)
			for i := range m.Files {
				if strings.HasPrefix(m.Files[i].Path, "blobs/sha256/") {
					m.Files[i].Path = "../evil"
				}
			}
			return withManifest(es, m)
		}},
		{"absolute path", func(es []tarEntry) []tarEntry { es[blobIdx].h.Name = "/tmp/evil"; return es }},
		{"a symlink", func(es []tarEntry) []tarEntry {
			es[blobIdx].h.Typeflag, es[blobIdx].h.Linkname = tar.TypeSymlink, "/etc/passwd"
			es[blobIdx].body = nil
			return es
		}},
		{"a blob renamed", func(es []tarEntry) []tarEntry {
			old := es[blobIdx].h.Name
			es[blobIdx].h.Name = old[:len(old)-1] + "0"
			if strings.HasSuffix(old, "0") {
				es[blobIdx].h.Name = old[:len(old)-1] + "1"
			}
			m := manifest(es)
			for i := range m.Files {
				if m.Files[i].Path == old {
					m.Files[i].Path = es[blobIdx].h.Name
				}
			}
			return withManifest(es, m)
		}},
		{"another format", func(es []tarEntry) []tarEntry { m := manifest(es); m.Format = "x/2"; return withManifest(es, m) }},
		{"an entry after the manifest", func(es []tarEntry) []tarEntry {
			return append(es, tarEntry{h: tar.Header{Name: "late", Mode: 0o600, Typeflag: tar.TypeReg}, body: []byte("x")})
		}},
		{"no database", func(es []tarEntry) []tarEntry {
			m := manifest(es)
			m.Files = m.Files[1:]
			return withManifest(es[1:], m)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTar(t, tc.mod(clone()))
			dst := filepath.Join(t.TempDir(), "r")
			_, err := Restore(ctx, p, dst)
			if !errors.Is(err, ErrBadBackup) {
				t.Errorf("restore: %v", err)
			}
			if es, _ := os.ReadDir(dst); len(es) != 0 {
				t.Errorf("a refused restore left %d entries", len(es))
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "..", "evil")); err == nil {
				t.Error("a file was written outside the target")
			}
		})
	}
	// The untouched copy restores.
	if _, err := Restore(ctx, writeTar(t, clone()), filepath.Join(t.TempDir(), "ok")); err != nil {
		t.Errorf("the good backup: %v", err)
	}
}
