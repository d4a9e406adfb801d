package blob

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestReceiveCommitRead(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(strings.Repeat("package bytes ", 1000))
	in, err := s.Receive(bytes.NewReader(data), int64(len(data)), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if in.Sum != sha256.Sum256(data) || in.Size() != int64(len(data)) || !bytes.Equal(in.Bytes, data) {
		t.Fatal("received bytes or hash differ")
	}
	if s.Has(in.Sum) {
		t.Fatal("visible before Commit")
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Read(in.Sum)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v", err)
	}
	// The same content again: one file, no leftovers.
	in2, _ := s.Receive(bytes.NewReader(data), int64(len(data)), -1)
	if err := in2.Commit(); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(filepath.Join(s.dir, "incoming")); len(es) != 0 {
		t.Errorf("%d temporary files left", len(es))
	}
	// Corruption on disk is detected, not served.
	os.WriteFile(s.Path(in.Sum), append(data, 'x'), 0o600)
	if _, err := s.Read(in.Sum); err == nil {
		t.Error("corrupted blob read without error")
	}
	if _, err := s.Read([32]byte{1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing blob: %v", err)
	}
}

func TestReceiveLimitAndErrors(t *testing.T) {
	s, _ := Open(t.TempDir())
	in, err := s.Receive(strings.NewReader("0123456789"), 9, 10)
	if !errors.Is(err, ErrTooLarge) || in == nil || in.Size() != 10 {
		t.Fatalf("over the limit: %v", err)
	}
	in.Abort()
	in, err = s.Receive(strings.NewReader("012345678"), 9, -1)
	if err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	in.Abort()
	if _, err := s.Receive(iotest.ErrReader(errors.New("connection reset")), 9, -1); err == nil {
		t.Error("read error not reported")
	}
	if es, _ := os.ReadDir(filepath.Join(s.dir, "incoming")); len(es) != 0 {
		t.Errorf("%d temporary files left", len(es))
	}
}

// TestOpenCleansIncoming: temporary files of a crashed process are removed at start.
func TestOpenCleansIncoming(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	if _, err := s.Receive(strings.NewReader("half"), 100, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(filepath.Join(dir, "incoming")); len(es) != 0 {
		t.Errorf("%d temporary files survived a restart", len(es))
	}
}

// TestReceiveEmpty: an empty input is received as zero bytes, not as no input.
func TestReceiveEmpty(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.Receive(strings.NewReader(""), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Abort()
	if in.Bytes == nil || in.Size() != 0 || in.Sum != sha256.Sum256(nil) {
		t.Errorf("empty input: %v %d %x", in.Bytes == nil, in.Size(), in.Sum[:4])
	}
}

// TestPut: Put stores under the hash, a second Put of the same bytes keeps one file and leaves no
// temporary file behind, and different bytes get their own file.
func TestPut(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{[]byte("archived bytes"), {}, []byte("other")} {
		sum, err := s.Put(data)
		if err != nil || sum != sha256.Sum256(data) {
			t.Fatalf("Put: %x %v", sum, err)
		}
		if again, err := s.Put(data); err != nil || again != sum {
			t.Fatalf("second Put: %v", err)
		}
		got, err := s.Read(sum)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Read: %q %v", got, err)
		}
	}
	if es, _ := os.ReadDir(filepath.Join(dir, "incoming")); len(es) != 0 {
		t.Errorf("temporary files left: %d", len(es))
	}
	n := 0
	filepath.WalkDir(filepath.Join(dir, "sha256"), func(_ string, d os.DirEntry, _ error) error {
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if n != 3 {
		t.Errorf("%d files stored, want 3", n)
	}
}

// TestOpenSharedKeepsFreshTemporaries: OpenShared removes only stale temporary files, so a process
// opening a shared store does not break another's upload in progress.
func TestOpenSharedKeepsFreshTemporaries(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenShared(dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	fresh, stale := filepath.Join(dir, "incoming", "put-fresh"), filepath.Join(dir, "incoming", "put-stale")
	for _, p := range []string{fresh, stale} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenShared(dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file was removed: %v", err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a stale temporary file was kept: %v", err)
	}
}
