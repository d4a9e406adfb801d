package boundedio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 100000} {
		p := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte{'x'}, n)
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p, int64(n))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d at the limit: %v", n, err)
		}
		if n > 0 {
			if _, err := ReadFile(p, int64(n-1)); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("size %d over a limit of %d: %v", n, n-1, err)
			}
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// A pipe has no size: the limit is enforced on what is read.
func TestReadPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(bytes.Repeat([]byte{'y'}, 10000))
		w.Close()
	}()
	if _, err := Read(r, "pipe", 9999); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit through a pipe: %v", err)
	}
	r.Close()
	r, w, _ = os.Pipe()
	go func() {
		w.Write(bytes.Repeat([]byte{'y'}, 10000))
		w.Close()
	}()
	got, err := Read(r, "pipe", 10000)
	if err != nil || len(got) != 10000 {
		t.Fatalf("at the limit through a pipe: %d bytes, %v", len(got), err)
	}
}

// A regular file is read into a buffer of its own size: about the file's size allocated, where
// io.ReadAll's growing buffer allocates about twice as much on the way.
func TestAllocatesFileSizeOnce(t *testing.T) {
	const size = 8 << 20
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, bytes.Repeat([]byte{'z'}, size), 0o600)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := ReadFile(p, 2*size); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > size+size/10 {
		t.Fatalf("%d bytes allocated to read %d", got, size)
	}
}
