package revocation

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"testing"
)

func TestMemoryStore(t *testing.T) {
	s := NewMemoryStore(3, 10)
	if _, err := s.Get("a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key: %v", err)
	}
	v := []byte("1234")
	if err := s.Put("a", v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'x' // the store keeps its own copy
	if got, err := s.Get("a"); err != nil || string(got) != "1234" {
		t.Fatalf("get: %q %v", got, err)
	}
	// Overwriting replaces the value and its size.
	if err := s.Put("a", []byte("12")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get("a"); string(got) != "12" {
		t.Fatalf("overwrite: %q", got)
	}
	// At most 3 entries: the fourth makes room; the newest is always there.
	for i := range 5 {
		k := fmt.Sprint("k", i)
		if err := s.Put(k, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if s.Len() > 3 {
			t.Fatalf("%d entries in a store of 3", s.Len())
		}
		if got, err := s.Get(k); err != nil || !bytes.Equal(got, []byte{byte(i)}) {
			t.Fatalf("newest entry %s missing", k)
		}
	}
	// At most 10 bytes: two values of 6 do not fit together.
	s = NewMemoryStore(100, 10)
	s.Put("p", bytes.Repeat([]byte("p"), 6))
	s.Put("q", bytes.Repeat([]byte("q"), 6))
	if _, err := s.Get("p"); err == nil || s.Len() != 1 {
		t.Fatalf("byte bound not kept: %d entries", s.Len())
	}
	// A value larger than the bound is not kept, and the old value under its key is gone.
	if err := s.Put("q", bytes.Repeat([]byte("Q"), 11)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("q"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("oversize value: %v", err)
	}
	if err := s.Delete("nothing"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("../x", []byte("x")); err == nil {
		t.Fatal("invalid key accepted")
	}
}

// failingStore fails every Put.
type failingStore struct{ Store }

func (failingStore) Put(string, []byte) error { return errors.New("disk full") }

func TestLayeredStore(t *testing.T) {
	back, err := NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	front := NewMemoryStore(0, 0)
	s := NewLayeredStore(front, back)
	if err := back.Put("k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	// A miss in front is read from the back and kept in front.
	if got, err := s.Get("k"); err != nil || string(got) != "v1" {
		t.Fatalf("get through: %q %v", got, err)
	}
	if got, err := front.Get("k"); err != nil || string(got) != "v1" {
		t.Fatalf("not kept in front: %q %v", got, err)
	}
	// Put goes to both.
	if err := s.Put("k", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]Store{"front": front, "back": back} {
		if got, err := st.Get("k"); err != nil || string(got) != "v2" {
			t.Fatalf("%s after put: %q %v", name, got, err)
		}
	}
	// Delete removes it from both.
	if err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("k"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after delete: %v", err)
	}
	// A failing back is reported; the front still keeps the value.
	f := NewLayeredStore(NewMemoryStore(0, 0), failingStore{back})
	if err := f.Put("z", []byte("v")); err == nil {
		t.Fatal("back failure not reported")
	}
	if got, err := f.Get("z"); err != nil || string(got) != "v" {
		t.Fatalf("front lost the value: %q %v", got, err)
	}
}

// Concurrent use of one memory store (run with -race).
func TestMemoryStoreConcurrent(t *testing.T) {
	s := NewMemoryStore(8, 1<<10)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := fmt.Sprint("k", (w+i)%16)
				_ = s.Put(k, []byte(k))
				if v, err := s.Get(k); err == nil && string(v) != k {
					t.Errorf("key %s holds %q", k, v)
				}
				if i%7 == 0 {
					_ = s.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	if s.Len() > 8 {
		t.Fatalf("%d entries in a store of 8", s.Len())
	}
}
