package durable

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
