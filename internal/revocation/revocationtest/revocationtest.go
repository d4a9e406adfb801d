// Package revocationtest is the conformance suite every revocation.Store passes: the directory, memory
// and layered stores of package revocation and the SQLite table of internal/store/sqlite run it, and
// any future backend must. The suite checks what the revocation.Cache relies on: a missing key is
// fs.ErrNotExist, Put replaces atomically (a reader never sees a mix of two values, or a value the
// writer changed after Put), keys other than revocation.ValidKey's are refused, and — for a backend
// that several processes share — what one handle writes the other reads.
package revocationtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/tagdij/tagdij/internal/revocation"
)

// Backend opens stores under test.
type Backend struct {
	// Open returns a fresh, empty store. Closing it, if it needs closing, is left to t.Cleanup.
	Open func(t *testing.T) revocation.Store
	// Share, when not nil, returns another, independent handle on the store Open returned last in the
	// same test: what a second processor on the same database, or the same program after a restart,
	// sees. Nil for a memory-only store.
	Share func(t *testing.T) revocation.Store
}

// Run runs the suite against b.
func Run(t *testing.T, b Backend) {
	if b.Open == nil {
		t.Fatal("revocationtest: Backend.Open is nil")
	}
	t.Run("Missing", func(t *testing.T) { testMissing(t, b.Open(t)) })
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, b.Open(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, b.Open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, b.Open(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, b.Open(t)) })
	t.Run("Concurrent", func(t *testing.T) {
		s := b.Open(t)
		testConcurrent(t, s, s)
	})
	if b.Share != nil {
		t.Run("Shared", func(t *testing.T) { testShared(t, b.Open(t), b.Share) })
		t.Run("SharedConcurrent", func(t *testing.T) {
			s := b.Open(t)
			testConcurrent(t, s, b.Share(t))
		})
	}
}

func mustGet(t *testing.T, s revocation.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q): %d bytes %.40q, want %d bytes %.40q", key, len(got), got, len(want), want)
	}
}

func mustMiss(t *testing.T, s revocation.Store, key string) {
	t.Helper()
	got, err := s.Get(key)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get(%q) = %.40q, %v; want an error wrapping fs.ErrNotExist", key, got, err)
	}
}

func mustPut(t *testing.T, s revocation.Store, key string, v []byte) {
	t.Helper()
	if err := s.Put(key, v); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(v), err)
	}
}

func testMissing(t *testing.T, s revocation.Store) {
	mustMiss(t, s, "ocsp-0123-ab")
	if err := s.Delete("ocsp-0123-ab"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	mustMiss(t, s, "ocsp-0123-ab")
}

// value is a deterministic value of n bytes with every byte value in it (NUL and newlines included:
// the cache's entries are raw DER after a text header).
func value(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func testPutGet(t *testing.T, s revocation.Store) {
	longest := strings.Repeat("a", 199) + "z"
	cases := map[string][]byte{
		"k":                     {0},
		"crl-0a1b-2c3d":         []byte("tagdij-revocation-cache-1\nhttp://ca.example/x.crl\n\x30\x82\x00\x00"),
		longest:                 value(3, 300),
		"ocsp-" + hexish(64):    value(5, 4<<10),
		"crl-big-" + hexish(32): value(9, 1<<20), // a CRL of a megabyte
	}
	for k, v := range cases {
		mustPut(t, s, k, v)
	}
	for k, v := range cases {
		mustGet(t, s, k, v)
	}
	// The store keeps what Put was given, not the caller's slice.
	v := []byte("original")
	mustPut(t, s, "owned", v)
	copy(v, "mutated!")
	mustGet(t, s, "owned", []byte("original"))
	// Keys that share a prefix are separate entries.
	mustPut(t, s, "p", []byte("1"))
	mustPut(t, s, "p-1", []byte("2"))
	mustGet(t, s, "p", []byte("1"))
	mustGet(t, s, "p-1", []byte("2"))
}

func hexish(n int) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := range n {
		b.WriteByte(digits[(i*5+3)%16])
	}
	return b.String()
}

func testOverwrite(t *testing.T, s revocation.Store) {
	mustPut(t, s, "ocsp-x-1", value(1, 5000))
	mustPut(t, s, "ocsp-x-1", []byte("short"))
	mustGet(t, s, "ocsp-x-1", []byte("short"))
	mustPut(t, s, "ocsp-x-1", value(2, 7000))
	mustGet(t, s, "ocsp-x-1", value(2, 7000))
}

func testDelete(t *testing.T, s revocation.Store) {
	mustPut(t, s, "a", []byte("A"))
	mustPut(t, s, "b", []byte("B"))
	if err := s.Delete("a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustMiss(t, s, "a")
	mustGet(t, s, "b", []byte("B"))
	if err := s.Delete("a"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	// A deleted key can be written again.
	mustPut(t, s, "a", []byte("A2"))
	mustGet(t, s, "a", []byte("A2"))
}

func testInvalidKeys(t *testing.T, s revocation.Store) {
	mustPut(t, s, "x", []byte("good"))
	for _, k := range []string{"", "A", "../x", "a/b", `a\b`, "a b", "a.b", "x'; DROP TABLE x; --", "é", "x\x00", strings.Repeat("a", 201)} {
		if revocation.ValidKey(k) {
			t.Fatalf("revocation.ValidKey(%q) is true", k)
		}
		if err := s.Put(k, []byte("bad")); err == nil {
			t.Errorf("Put(%q) accepted an invalid key", k)
		}
		if v, err := s.Get(k); err == nil {
			t.Errorf("Get(%q) = %q, nil for an invalid key", k, v)
		}
	}
	mustGet(t, s, "x", []byte("good"))
}

// testConcurrent has writers put whole, recognisable values through a and b while readers read through
// both: every read is absent or exactly one of the values written (run with -race).
func testConcurrent(t *testing.T, a, b revocation.Store) {
	const keys, writers, rounds = 4, 4, 25
	val := func(k, w, r int) []byte {
		head := fmt.Appendf(nil, "k%d w%d r%d|", k, w, r)
		return append(head, bytes.Repeat([]byte{byte('a' + w)}, 16<<10+k*100+r)...)
	}
	valid := func(k int, got []byte) bool {
		for w := range writers {
			for r := range rounds {
				if bytes.Equal(got, val(k, w, r)) {
					return true
				}
			}
		}
		return false
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*rounds)
	for w := range writers {
		st := a
		if w%2 == 1 {
			st = b
		}
		wg.Go(func() {
			for r := range rounds {
				k := (w + r) % keys
				if err := st.Put(fmt.Sprint("c-", k), val(k, w, r)); err != nil {
					errs <- fmt.Errorf("writer %d: Put: %w", w, err)
					return
				}
				other := a
				if r%2 == 0 {
					other = b
				}
				got, err := other.Get(fmt.Sprint("c-", (k+1)%keys))
				switch {
				case errors.Is(err, fs.ErrNotExist):
				case err != nil:
					errs <- fmt.Errorf("writer %d: Get: %w", w, err)
					return
				case !valid((k+1)%keys, got):
					errs <- fmt.Errorf("writer %d: key c-%d holds %d bytes that no writer wrote (%.20q)", w, (k+1)%keys, len(got), got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for k := range keys {
		if got, err := a.Get(fmt.Sprint("c-", k)); err != nil || !valid(k, got) {
			t.Errorf("after the writers: key c-%d: %d bytes, %v", k, len(got), err)
		}
	}
}

func testShared(t *testing.T, a revocation.Store, share func(*testing.T) revocation.Store) {
	mustPut(t, a, "ocsp-shared-1", []byte("from a"))
	b := share(t)
	mustGet(t, b, "ocsp-shared-1", []byte("from a"))
	mustPut(t, b, "ocsp-shared-1", []byte("from b"))
	mustGet(t, a, "ocsp-shared-1", []byte("from b"))
	mustPut(t, b, "crl-shared-2", value(4, 10<<10))
	mustGet(t, a, "crl-shared-2", value(4, 10<<10))
	if err := a.Delete("ocsp-shared-1"); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, b, "ocsp-shared-1")
}
