package processor_test

import (
	"context"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// rig is a receiver stack (sandbox trust services on loopback, SQLite store, blob store, registry)
// with a processor over the same store: the archive in a temporary directory with its index in the
// store, the hand-off directory, the sandbox fund's decryption key. Every clock is the sandbox's.
type rig struct {
	*receivertest.Stack
	Arch    *archive.Archive
	HandOff string
	Cfg     processor.Config
	Proc    *processor.Processor
}

func newRig(t *testing.T, adjust ...func(*processor.Config)) *rig {
	t.Helper()
	s := receivertest.Start(t, receivertest.Options{})
	arch, err := archive.New(filepath.Join(s.DataDir, "archive"), s.DB.ArchiveIndex(), archive.Options{Now: s.SB.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	handoff := filepath.Join(s.DataDir, "handoff")
	if err := os.MkdirAll(handoff, 0o700); err != nil {
		t.Fatal(err)
	}
	enc := s.SB.World.MustEntity(sandbox.FundEncryption)
	cfg := processor.Config{Queue: s.DB, Receipts: s.DB, Registry: s.DB.Registry(), Blobs: s.Blobs, Archive: arch, Env: s.Env,
		Schemas: s.Schemas, TSA: s.TSA, DecryptionCert: enc.Cert, Decrypter: enc.Key.(crypto.Decrypter), HandOffDir: handoff,
		Owner: "test-1", Lease: time.Minute, Workers: 2, Backoff: processor.Backoff{Min: time.Second, Max: 4 * time.Second},
		Clock: s.SB.Clock.Now}
	for _, f := range adjust {
		f(&cfg)
	}
	p, err := processor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{Stack: s, Arch: arch, HandOff: handoff, Cfg: cfg, Proc: p}
}

// submit uploads a package through the receiver's pipeline and returns its hash; it must be
// accepted.
func (r *rig) submit(t *testing.T, o receivertest.PackageOptions) ([32]byte, []byte) {
	t.Helper()
	data, name := r.Package(t, o)
	out := r.Submit(t, data, name)
	if out.Kind != intake.Accepted {
		t.Fatalf("the receiver did not accept the package: %s %v", out.Kind, out.Codes)
	}
	return out.SHA256, data
}

// afterGrace moves the sandbox clock past every grace period of the sandbox policy (OCSP 2 s, CRL 5 s).
func (r *rig) afterGrace() { r.SB.Clock.Advance(6 * time.Second) }

// run makes one pass and fails the test on a queue error.
func (r *rig) run(t *testing.T) processor.Summary {
	t.Helper()
	sum, err := r.Proc.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return sum
}

// status reads the package's status from the store.
func (r *rig) status(t *testing.T, sum [32]byte) *intake.Status {
	t.Helper()
	st, err := r.DB.PackageStatus(context.Background(), sum)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// handOffs lists the published hand-off directories (temporary ones excluded).
func (r *rig) handOffs(t *testing.T) []string {
	t.Helper()
	return publishedHandOffs(t, r.HandOff)
}

func publishedHandOffs(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Name()[0] != '.' {
			out = append(out, e.Name())
		}
	}
	return out
}

// summaryOf reads the hand-off summary of the package with hash sum.
func summaryOf(t *testing.T, dir string, sum [32]byte) (processor.HandOffJSON, string) {
	t.Helper()
	h := hex.EncodeToString(sum[:])
	for _, name := range publishedHandOffs(t, dir) {
		raw, err := os.ReadFile(filepath.Join(dir, name, processor.HandOffSummary))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var s processor.HandOffJSON
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Package.SHA256 == h {
			return s, filepath.Join(dir, name)
		}
	}
	t.Fatalf("no hand-off for %s", h[:12])
	return processor.HandOffJSON{}, ""
}

func codesOf(st *intake.Status) []errcode.Code {
	if st.Processing == nil {
		return nil
	}
	return st.Processing.FinalCodes
}

func hasCode(codes []errcode.Code, c errcode.Code) bool { return slices.Contains(codes, c) }

// entry returns the archive entry of a package.
func (r *rig) entry(t *testing.T, sum [32]byte) *archive.Entry {
	t.Helper()
	e, err := r.Arch.ByPackage(context.Background(), sum)
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	return e
}

func (r *rig) archived(t *testing.T, sum [32]byte) bool {
	t.Helper()
	_, err := r.Arch.ByPackage(context.Background(), sum)
	if err != nil && !errors.Is(err, archive.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// syncLog is a concurrency-safe buffer for a JSON log.
type syncLog struct {
	mu  sync.Mutex
	buf []byte
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
