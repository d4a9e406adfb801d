package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
)

// TestCrashMatrix kills the processor binary (SIGKILL, through the test-only TAGDIJ_PROCESSOR_CRASH_AT
// hook) inside each step of a job — after the claim, the final check, the extension, the decryption,
// the archive write, and the hand-off (before the status update) — and restarts it under another
// instance name, so the crashed job is taken over only when its lease (2 s) expires. After the
// restarts every job has exactly one archive entry, exactly one complete hand-off (its declaration and
// summary) and the final state processed, and the archive's Merkle tree is consistent.
func TestCrashMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the processor binary")
	}
	bin := buildProcessor(t)
	w := newProcWorld(t, map[string]any{"workers": 1, "lease": "2s", "backoffMin": "1s", "backoffMax": "2s"})
	ctx := context.Background()
	for _, step := range processor.Steps {
		t.Run(string(step), func(t *testing.T) {
			sums := w.submit(t, 2, receivertest.PackageOptions{})
			w.waitDue(t, sums)
			code, _, log := runBin(t, bin, []string{EnvCrashAt + "=" + string(step), "TAGDIJ_PROCESSOR_INSTANCE=crash-" + string(step)},
				"once", "--config", w.Config)
			if code != -9 || len(events(log, "processor.crash")) != 1 {
				t.Fatalf("the processor was not killed at %s: exit %d\n%s", step, code, log)
			}
			// Restart until every job is final; a new instance name each time, so the crashed job's
			// lease must expire before anyone takes it.
			end := time.Now().Add(deadline)
			restarts := 0
			for !allDone(t, w, sums) {
				if time.Now().After(end) {
					t.Fatalf("not finished after %d restarts", restarts)
				}
				restarts++
				code, out, log := runBin(t, bin, []string{"TAGDIJ_PROCESSOR_INSTANCE=restart-" + string(step) + "-" + time.Now().Format("150405.000")},
					"once", "--config", w.Config, "--json")
				var sum processor.Summary
				if err := json.Unmarshal([]byte(out), &sum); err != nil || code != 0 || sum.Errors != 0 {
					t.Fatalf("restart: exit %d, %s\n%s", code, out, log)
				}
				if sum.Jobs() == 0 {
					time.Sleep(200 * time.Millisecond) // the crashed job's lease has not expired yet
				}
			}
			t.Logf("crash at %s: finished after %d restart(s)", step, restarts)
			arch := w.openArchive(t)
			done, temporary := published(t, w.HandOff)
			if len(temporary) != 0 {
				t.Errorf("temporary hand-offs left: %v", temporary)
			}
			for _, s := range sums {
				st, err := w.DB.PackageStatus(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				if st.Status != string(processor.Processed) || st.Processing.FinalState != receipt.Valid {
					t.Errorf("%x: status %q %+v", s[:4], st.Status, st.Processing)
				}
				versions, err := arch.Versions(ctx, s)
				if err != nil || len(versions) != 1 || versions[0].ID != st.Processing.ArchiveID {
					t.Errorf("%x: %d archive entries (%v), status names %s", s[:4], len(versions), err, st.Processing.ArchiveID)
				}
				n := 0
				for _, d := range done {
					if strings.HasSuffix(d, "_"+hex.EncodeToString(s[:])[:16]) {
						n++
						checkHandOff(t, filepath.Join(w.HandOff, d), s)
					}
				}
				if n != 1 {
					t.Errorf("%x: %d hand-offs", s[:4], n)
				}
			}
		})
	}
	res, err := w.openArchiveVerifier(t)
	if err != nil {
		t.Fatal(err)
	}
	if !res {
		t.Error("the archive does not verify after the crashes")
	}
}

func allDone(t *testing.T, w *procWorld, sums [][32]byte) bool {
	t.Helper()
	for _, s := range sums {
		st, err := w.DB.PackageStatus(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if st.Processing == nil || !st.Processing.Done {
			return false
		}
	}
	return true
}

// checkHandOff: a hand-off directory holds the declaration and a summary naming the package.
func checkHandOff(t *testing.T, dir string, sum [32]byte) {
	t.Helper()
	decl, err := os.ReadFile(filepath.Join(dir, processor.HandOffDeclaration))
	if err != nil || !strings.Contains(string(decl), "<Bevallas") {
		t.Errorf("%s: declaration %.40q, %v", dir, decl, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, processor.HandOffSummary))
	if err != nil {
		t.Fatal(err)
	}
	var s processor.HandOffJSON
	if err := json.Unmarshal(raw, &s); err != nil || s.Package.SHA256 != hex.EncodeToString(sum[:]) || s.Outcome != string(processor.Processed) {
		t.Errorf("%s: summary %+v, %v", dir, s, err)
	}
}
