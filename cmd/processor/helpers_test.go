package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// deadline bounds every wait of these tests: generous for a loaded 2-core machine; a wait ends as
// soon as its condition holds.
const deadline = 3 * time.Minute

// buildProcessor builds this command into a temporary directory with the toolchain running the test.
func buildProcessor(t *testing.T) string { return buildCommand(t, "processor") }

// buildCommand builds a command of this module (cmd/NAME) into a temporary directory.
func buildCommand(t *testing.T, name string) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build with")
		}
	}
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/tagdij/tagdij/cmd/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// procWorld is a receiver stack (in process: sandbox trust services, SQLite store, blobs, registry) and
// a processor configuration over its data directory, for running the processor binary on it.
type procWorld struct {
	*receivertest.Stack
	Config  string // the processor configuration file
	Archive string
	HandOff string
}

// newWorld starts the receiver stack and writes the sandbox's processor configuration with its data
// directory, fresh archive and hand-off directories and the given changes, next to the original so its
// relative paths resolve the same.
func newProcWorld(t *testing.T, changes map[string]any, opts ...receivertest.Options) *procWorld {
	t.Helper()
	var o receivertest.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s := receivertest.Start(t, o)
	raw, err := os.ReadFile(filepath.Join(s.SB.Dir, sandbox.ProcessorConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	w := &procWorld{Stack: s, Archive: filepath.Join(t.TempDir(), "archive"), HandOff: filepath.Join(t.TempDir(), "handoff")}
	cfg["dataDir"], cfg["archiveDir"], cfg["handOffDir"] = s.DataDir, w.Archive, w.HandOff
	cfg["adminListen"] = "127.0.0.1:0"
	for k, v := range changes {
		cfg[k] = v
	}
	out, _ := json.MarshalIndent(cfg, "", "  ")
	w.Config = filepath.Join(s.SB.Dir, fmt.Sprintf("processor-%d.json", time.Now().UnixNano()))
	if err := os.WriteFile(w.Config, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// submit uploads packages through the receiver's pipeline; each must be accepted.
func (w *procWorld) submit(t *testing.T, n int, o receivertest.PackageOptions) [][32]byte {
	t.Helper()
	var out [][32]byte
	for range n {
		data, name := w.Package(t, o)
		res := w.Submit(t, data, name)
		if res.Kind != intake.Accepted {
			t.Fatalf("not accepted: %s %v", res.Kind, res.Codes)
		}
		out = append(out, res.SHA256)
	}
	return out
}

// waitDue waits until every job's earliest final check has passed on the wall clock (the processor
// binary's clock).
func (w *procWorld) waitDue(t *testing.T, sums [][32]byte) {
	t.Helper()
	var last time.Time
	for _, s := range sums {
		st, err := w.DB.PackageStatus(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if st.EarliestFinal.After(last) {
			last = st.EarliestFinal
		}
	}
	// The sandbox's OCSP grace is 2 s and its CRL grace 5 s; evidence produced after the OCSP grace
	// end is what the final check needs.
	for time.Now().Before(last.Add(100 * time.Millisecond)) {
		time.Sleep(50 * time.Millisecond)
	}
}

// runBin runs the processor binary with args and extra environment, and returns its exit status (-9
// when SIGKILLed), stdout and stderr (the JSON log).
func runBin(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	code, out, log, _ := runBinRSS(t, bin, env, args...)
	return code, out, log
}

// runBinRSS is runBin that also returns the process's peak resident set size in bytes.
func runBinRSS(t *testing.T, bin string, env []string, args ...string) (int, string, string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss << 10 // kilobytes on Linux
		}
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String(), rss
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal()), stdout.String(), stderr.String(), rss
		}
		return ee.ExitCode(), stdout.String(), stderr.String(), rss
	}
	t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	return 0, "", "", 0
}

// published lists the published hand-off directories (temporary ones, starting with ".", apart).
func published(t *testing.T, dir string) (done, temporary []string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name(), ".") {
			temporary = append(temporary, e.Name())
		} else {
			done = append(done, e.Name())
		}
	}
	return done, temporary
}

// openArchive opens the archive the processor binary writes (the index is in the shared database).
func (w *procWorld) openArchive(t *testing.T) *archive.Archive {
	t.Helper()
	a, err := archive.New(w.Archive, w.DB.ArchiveIndex(), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// events returns the log lines (JSON objects) with the given event.
func events(log, event string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `"event":"`+event+`"`) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// openArchiveVerifier runs archive.Verify on the archive the binary wrote: every part and leaf, the
// signed, time-stamped tree heads (the fund-receipt key signs them in the sandbox configuration) and
// their consistency. It reports whether the archive is intact, logging every problem.
func (w *procWorld) openArchiveVerifier(t *testing.T) (bool, error) {
	t.Helper()
	a := w.openArchive(t)
	res, err := a.Verify(context.Background(), archive.VerifyOptions{TSA: w.Env.TSAVerifier(),
		Signers: []*x509.Certificate{w.SB.World.MustEntity(sandbox.FundReceipt).Cert}})
	if err != nil {
		return false, err
	}
	for _, p := range res.Problems {
		t.Logf("archive problem: %+v", p)
	}
	return res.OK(), nil
}
