package pack_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/pack"
)

// TestFileSequenceConcurrent: allocators racing on one file (separate open file descriptions, as
// separate processes have) hand out every number exactly once.
func TestFileSequenceConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequence.json")
	key := pack.SeqKey{Declarant: "12345676", Fund: "0101", Period: "202610"}
	const workers, each = 6, 15
	var mu sync.Mutex
	seen := map[int]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := pack.FileSequence{Path: path}
			for range each {
				n, err := s.Next(context.Background(), key)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seen[n]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for n := 1; n <= workers*each; n++ {
		if seen[n] != 1 {
			t.Errorf("number %d handed out %d times", n, seen[n])
		}
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct numbers, want %d", len(seen), workers*each)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("counter file: %v, mode %v", err, st.Mode())
	}
}

func TestFileSequenceKeysAndLimits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "sequence.json")
	s := pack.FileSequence{Path: path}
	a := pack.SeqKey{Declarant: "12345676", Fund: "0101", Period: "202610"}
	b := pack.SeqKey{Declarant: "12345676", Fund: "0101", Period: "202609"}
	for i, want := range []struct {
		key pack.SeqKey
		n   int
	}{{a, 1}, {a, 2}, {b, 1}, {a, 3}} {
		n, err := s.Next(context.Background(), want.key)
		if err != nil || n != want.n {
			t.Fatalf("step %d: %d, %v; want %d", i, n, err, want.n)
		}
	}

	// Exhausted: 999 is the last three-digit number.
	os.WriteFile(path, []byte(`{"version":1,"last":{"12345676_0101_202610":998}}`), 0o600)
	if n, err := s.Next(context.Background(), a); err != nil || n != 999 {
		t.Fatalf("998 → %d, %v", n, err)
	}
	if _, err := s.Next(context.Background(), a); !errors.Is(err, pack.ErrSeqExhausted) {
		t.Errorf("after 999: %v", err)
	}

	// A damaged or foreign file is refused, never silently restarted from 1.
	for _, bad := range []string{`{"version":1,"last":{`, `{"version":2,"last":{}}`, `{"version":1,"last":{"x":-1}}`,
		`{"version":1,"last":{},"extra":1}`, `{"version":1,"last":{"x":1000}}`} {
		os.WriteFile(path, []byte(bad), 0o600)
		if n, err := s.Next(context.Background(), a); err == nil {
			t.Errorf("%s: got %d", bad, n)
		}
	}
	if _, err := (pack.FileSequence{}).Next(context.Background(), a); err == nil {
		t.Error("no path accepted")
	}
}

// TestFileSequenceLockTimeout: a held lock makes Next wait and give up at its timeout.
func TestFileSequenceLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sequence.json")
	hold := make(chan struct{})
	release := make(chan struct{})
	// Hold the lock as another process would, for longer than the allocator waits.
	go func() {
		unlock, err := pack.LockFileForTest(context.Background(), path+".lock")
		if err != nil {
			t.Error(err)
			close(hold)
			return
		}
		close(hold)
		<-release
		unlock()
	}()
	<-hold
	s := pack.FileSequence{Path: path, LockTimeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := s.Next(context.Background(), pack.SeqKey{Declarant: "12345676", Fund: "0101", Period: "202610"})
	if err == nil || !strings.Contains(err.Error(), "lock") {
		t.Errorf("with the lock held: %v", err)
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", d)
	}
	close(release)
}
