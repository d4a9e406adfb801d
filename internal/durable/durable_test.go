package durable

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	for _, content := range [][]byte{[]byte("one"), []byte("two, longer"), {}} {
		if err := WriteFile(p, content, 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("content %q, %v; want %q", got, err, content)
		}
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o640 {
			t.Errorf("mode %v", st.Mode().Perm())
		}
	}
	if leftovers(t, dir) != 1 {
		t.Errorf("temporary files left behind")
	}
}

func leftovers(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestAbortAndCommitOnce: an aborted file never appears and leaves nothing; a file commits once.
func TestAbortAndCommitOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b")
	if err := WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Create(dir, ".b.*", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	f.Abort()
	f.Abort() // twice is harmless
	if got, _ := os.ReadFile(p); string(got) != "old" || leftovers(t, dir) != 1 {
		t.Errorf("abort changed the destination or left the temporary file: %q", got)
	}
	f, _ = Create(dir, ".b.*", 0o600)
	f.Write([]byte("new"))
	if err := f.Commit(p); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(p); err == nil {
		t.Error("second Commit accepted")
	}
	f.Abort() // after Commit: nothing
	if got, _ := os.ReadFile(p); string(got) != "new" {
		t.Errorf("content %q", got)
	}
}

// TestCommitIntoMissingDirectory: a failed rename leaves no temporary file and reports the error.
func TestCommitIntoMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, ".c.*", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	if err := f.Commit(filepath.Join(dir, "missing", "c")); err == nil {
		t.Fatal("commit into a missing directory succeeded")
	}
	if leftovers(t, dir) != 0 {
		t.Error("temporary file left behind")
	}
	if _, err := Create(filepath.Join(dir, "missing"), "x*", 0o600); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
	if err := SyncDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("SyncDir of a missing directory succeeded")
	}
}

// TestWriteDir: the directory appears with every file at once, with the permissions asked for (the
// directory listable by whoever may read the files); a second publication of the same path is
// fs.ErrExist and changes nothing; bad file names are refused before anything is written.
func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	p := filepath.Join(parent, "handoff-1")
	files := []DirFile{{"bevallas.xml", []byte("<x/>")}, {"osszesito.json", []byte("{}")}}
	if err := WriteDir(p, files, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(p, f.Name))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: %q, %v", f.Name, got, err)
		}
		if st, _ := os.Stat(filepath.Join(p, f.Name)); st.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v", f.Name, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o750 {
		t.Errorf("directory mode %v", st.Mode().Perm())
	}
	err := WriteDir(p, []DirFile{{"other", []byte("y")}}, 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second WriteDir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p, "other")); err == nil {
		t.Error("the second WriteDir changed the directory")
	}
	for _, name := range []string{"", ".", "..", "a/b", ".hidden"} {
		if err := WriteDir(filepath.Join(parent, "bad"), []DirFile{{name, nil}}, 0o600); err == nil {
			t.Errorf("file name %q accepted", name)
		}
	}
	if n := leftovers(t, parent); n != 1 {
		t.Errorf("%d entries in the parent, want only the published directory", n)
	}
}

// TestRemoveStale: leftovers of an interrupted write older than the cut-off go, younger ones and
// everything else stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{".a.tmp123", ".b.tmp456/", "keep.tmp", ".young.tmp1", "published"} {
		p := filepath.Join(dir, strings.TrimSuffix(name, "/"))
		if strings.HasSuffix(name, "/") {
			os.MkdirAll(filepath.Join(p, "sub"), 0o700)
		} else if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if name != ".young.tmp1" {
			os.Chtimes(p, old, old)
		}
	}
	n, err := RemoveStale(dir, time.Now().Add(-time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("removed %d, %v", n, err)
	}
	for _, name := range []string{"keep.tmp", ".young.tmp1", "published"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s removed", name)
		}
	}
}
