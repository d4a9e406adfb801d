package main

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/store/sqlite"
)

// killedProc is one incarnation of a processor process in TestKillProcessorsAtRandom.
type killedProc struct {
	slot, gen int
	name      string // the instance name (TAGDIJ_PROCESSOR_INSTANCE); its leases are owned by name + "/…"
	mode      string // run or once
	cmd       *exec.Cmd
	log, out  string // files: stderr (the JSON log), stdout
	started   time.Time
	exited    chan struct{}
	err       error // cmd.Wait's, valid once exited is closed
	// The kill plan: early kills come at delay after the start, working or not; the others at delay
	// after the process is first seen holding a lease (or the queue is seen empty).
	early  bool
	delay  time.Duration
	killAt time.Time
}

// killRecord is one SIGKILL the test sent, with what the store showed just before it.
type killRecord struct {
	name    string
	mode    string
	after   time.Duration // since the process started
	held    int           // jobs leased by the process (measured just before the kill)
	pending int           // jobs not final in the store
}

// TestKillProcessorsAtRandom runs three processor processes at once on one store, archive and hand-off
// directory — two `processor run` (a pass at start and every second) and a `processor once` restarted
// whenever it ends — and SIGKILLs (syscall.Kill, from outside) each of them six times at random
// moments, restarting it at once under a new instance name, until every job is final. A kill comes
// either a random 0–400 ms after the process started (one in four) or a random 0–400 ms after the
// process is first seen holding a lease. Leases are 2 s, so a killed process's jobs are taken over
// when they expire. The jobs are real: TAGDIJ_TEST_JOBS (default 150) distinct signed, time-stamped
// packages accepted by the receiver's pipeline, submitted on the sandbox clock a minute behind the
// processors' wall clock (so their grace periods are over when the processors start; no waiting).
//
// Then: every package is processed (final state ERVENYES), its one job done and not leased, with
// exactly one archive entry, the one its status names, and the archive holds nothing else; exactly one
// complete hand-off per package (its declaration and a summary naming the same archive entry and the
// declaration); no process logged a package finished that another had finished; no `run` exited by
// itself, every `once` that was not killed exited 0, and the survivors stop on SIGTERM with 0; the
// temporary hand-offs kills left are leftovers of published hand-offs only, and a pass removes them
// once they are stale; archive.Verify finds no error (only the leaf records of interrupted Puts whose
// packages were archived by the next attempt are warned about) and its latest tree head covers every
// entry; `processor archive verify` re-verifies every package offline. The kills must have hit working
// processes: at least half of them while the process held leases. The seed is logged;
// TAGDIJ_KILL_SEED replays the kill plan (the moments also depend on the scheduling).
func TestKillProcessorsAtRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the processor and kills three of them repeatedly")
	}
	begin := time.Now()
	n := 150
	if v, err := strconv.Atoi(os.Getenv("TAGDIJ_TEST_JOBS")); err == nil && v > 0 {
		n = v
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TAGDIJ_KILL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TAGDIJ_KILL_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (TAGDIJ_KILL_SEED=%d replays the kill plan: which kills come early, and each delay)", seed, seed)
	rng := mrand.New(mrand.NewPCG(seed, seed^0x6b696c6c))

	const (
		killsPerSlot = 6
		lease        = 2 * time.Second
	)
	modes := []string{"run", "run", "once"}
	bin := buildProcessor(t)
	w := newProcWorld(t, map[string]any{"workers": 2, "lease": lease.String(), "backoffMin": "1s", "backoffMax": "2s", "schedule": "@every 1s"})
	ctx := context.Background()

	// The packages are submitted on a sandbox clock a minute behind the wall clock, which the processor
	// binaries run on; the sandbox (TSA, OCSP, CRLs) is then moved back onto the wall clock, past every
	// package's grace period. The revocation evidence the processors fetch is produced after it.
	const behind = 10 * time.Minute
	w.SB.Clock.Advance(-behind)
	spread := w.Spread(receivertest.PackageOptions{})
	sums := w.SubmitMany(t, n, 2, func(i int) receivertest.PackageOptions {
		o := spread(i)
		o.Members = 1 + i%5*3
		return o
	})
	w.SB.Clock.Advance(behind)
	t.Logf("%d packages built and accepted in %s", n, time.Since(begin).Round(time.Millisecond))
	for _, s := range sums {
		st, err := w.DB.PackageStatus(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if st.Processing == nil || st.Processing.Done || st.EarliestFinal.After(time.Now()) {
			t.Fatalf("%x: not a due job: earliest final %s, %+v (the submission took longer than %s?)", s[:6], st.EarliestFinal, st.Processing, behind)
		}
	}

	raw, err := sql.Open("sqlite", "file:"+filepath.Join(w.DataDir, "receiver.db")+"?mode=ro&_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	held := func(p *killedProc) int {
		var c int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE state = ? AND lease_owner LIKE ? AND lease_until > ?`,
			sqlite.JobPending, p.name+"/%", time.Now().UnixNano()).Scan(&c); err != nil {
			t.Fatalf("leases of %s: %v", p.name, err)
		}
		return c
	}
	pending := func() int {
		c, err := w.DB.PendingJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	logDir := t.TempDir()
	var all []*killedProc
	start := func(slot, gen int) *killedProc {
		p := &killedProc{slot: slot, gen: gen, name: fmt.Sprintf("kill-%d-%d", slot, gen), mode: modes[slot], exited: make(chan struct{}),
			early: rng.IntN(4) == 0, delay: time.Duration(rng.IntN(400)) * time.Millisecond}
		p.log, p.out = filepath.Join(logDir, p.name+".log"), filepath.Join(logDir, p.name+".out")
		args := []string{p.mode, "--config", w.Config}
		if p.mode == "once" {
			args = append(args, "--json")
		}
		stderr, err := os.Create(p.log)
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := os.Create(p.out)
		if err != nil {
			t.Fatal(err)
		}
		p.cmd = exec.Command(bin, args...)
		p.cmd.Env = append(os.Environ(), "TAGDIJ_PROCESSOR_INSTANCE="+p.name)
		p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stdout.Close()
		stderr.Close()
		p.started = time.Now()
		go func() {
			p.err = p.cmd.Wait()
			close(p.exited)
		}()
		all = append(all, p)
		return p
	}
	t.Cleanup(func() { // whatever a failure left running
		for _, p := range all {
			select {
			case <-p.exited:
			default:
				syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
				<-p.exited
			}
		}
	})
	tail := func(p *killedProc) string {
		b, _ := os.ReadFile(p.log)
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		return string(b)
	}

	// The kill loop: poll the store, kill each process when its moment comes, restart it at once.
	var kills []killRecord
	left := make([]int, len(modes))
	cur := make([]*killedProc, len(modes))
	gens := make([]int, len(modes))
	for i := range modes {
		left[i] = killsPerSlot
		cur[i] = start(i, 0)
	}
	onceIdle := 0 // passes of `once` that found nothing to do
	end := time.Now().Add(deadline)
	for pending() > 0 {
		if time.Now().After(end) {
			t.Fatalf("%d of %d jobs still not final after %s and %d kills", pending(), n, deadline, len(kills))
		}
		for i, p := range cur {
			select {
			case <-p.exited:
				// Only `once` ends by itself (it was not killed: kills wait for the exit below).
				if p.mode != "once" {
					t.Fatalf("%s (processor %s) exited by itself: %v\n%s", p.name, p.mode, p.err, tail(p))
				}
				out, _ := os.ReadFile(p.out)
				var sum processor.Summary
				if p.err != nil || json.Unmarshal(out, &sum) != nil {
					t.Fatalf("%s (processor once): %v %s\n%s", p.name, p.err, out, tail(p))
				}
				if sum.Jobs() == 0 {
					onceIdle++
					// Every due job is leased by a killed process: its lease expires within the lease
					// time. Not a correctness wait; it keeps the restarts from spinning.
					time.Sleep(200 * time.Millisecond)
				}
				gens[i]++
				cur[i] = start(i, gens[i])
				continue
			default:
			}
			if left[i] == 0 {
				continue
			}
			now := time.Now()
			if p.killAt.IsZero() {
				switch {
				case p.early:
					p.killAt = p.started.Add(p.delay)
				case held(p) > 0 || pending() == 0:
					p.killAt = now.Add(p.delay)
				}
			}
			if p.killAt.IsZero() || now.Before(p.killAt) {
				continue
			}
			select {
			case <-p.exited:
				continue // a `once` that has just ended: handled on the next round
			default:
			}
			k := killRecord{name: p.name, mode: p.mode, held: held(p), pending: pending(), after: time.Since(p.started)}
			// ESRCH: a `once` that ended (and was reaped) since the check above.
			if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				t.Fatalf("kill %s: %v", p.name, err)
			}
			<-p.exited
			var ee *exec.ExitError
			if !errors.As(p.err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
				// A `once` that had just finished its pass: not a kill, a normal end (checked above on
				// the next round).
				if p.mode == "once" && p.err == nil {
					continue
				}
				t.Fatalf("%s did not die of the SIGKILL (it ended with %v)\n%s", p.name, p.err, tail(p))
			}
			kills = append(kills, k)
			left[i]--
			gens[i]++
			cur[i] = start(i, gens[i])
		}
		time.Sleep(20 * time.Millisecond) // the polling interval
	}
	working := 0
	for _, k := range kills {
		if k.held > 0 {
			working++
		}
		t.Logf("SIGKILL %s (%s) after %s: %d leases held, %d jobs pending", k.name, k.mode, k.after.Round(time.Millisecond), k.held, k.pending)
	}
	t.Logf("every job final after %d kills (%d holding leases), %d processes started, %d idle `once` passes, in %s",
		len(kills), working, len(all), onceIdle, time.Since(begin).Round(time.Millisecond))

	// Stop the survivors gracefully: SIGTERM, exit 0 (`once` ends by itself).
	for _, p := range cur {
		if p.mode != "once" {
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-p.exited:
		case <-time.After(deadline):
			t.Fatalf("%s did not stop", p.name)
		}
		if p.err != nil {
			t.Errorf("%s (processor %s) stopped with %v\n%s", p.name, p.mode, p.err, tail(p))
		}
	}

	// The kills must have hit processes at work, or the test proves nothing.
	if len(kills) < len(modes)*killsPerSlot/2 || working < max(len(modes), len(kills)/2) {
		t.Errorf("only %d kills, %d of them while the process held leases: the kills did not hit working processes (more jobs: TAGDIJ_TEST_JOBS)",
			len(kills), working)
	}

	// Nothing finished twice: across every process's log, each package is logged finished at most once
	// (a process killed between the store update and its log line logs it never).
	finished := map[string]string{}
	errorsSeen := 0
	resumed, lost := 0, 0
	for _, p := range all {
		b, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events(string(b), "processor.finished") {
			sha, _ := ev["sha256"].(string)
			if prev, ok := finished[sha]; ok {
				t.Errorf("%.12s finished by %s and by %s", sha, prev, p.name)
			}
			finished[sha] = p.name
		}
		for _, ev := range events(string(b), "processor.retry") {
			if ev["result"] == "error" {
				errorsSeen++
				t.Logf("%s: retry after an error: %v", p.name, ev["reason"])
			}
		}
		resumed += len(events(string(b), "processor.resume"))
		lost += len(events(string(b), "processor.lease-lost"))
	}
	t.Logf("%d packages logged finished, %d jobs resumed after the archive step, %d attempts failed on the fund's side, %d leases lost by live processes",
		len(finished), resumed, errorsSeen, lost)

	// Temporary hand-offs: only a kill inside a hand-off write leaves one, always beside a published
	// one (the next attempt published it); once older than 2 × jobTimeout, the next pass removes them.
	done, temporary := published(t, w.HandOff)
	doneSet := map[string]bool{}
	for _, d := range done {
		doneSet[d] = true
	}
	for _, tmp := range temporary {
		base, _, ok := strings.Cut(strings.TrimPrefix(tmp, "."), ".tmp")
		if !ok || !doneSet[base] {
			t.Errorf("temporary hand-off %s is not the leftover of a published hand-off", tmp)
		}
		// A file's age is all RemoveStale looks at: make this one older than 2 × the default jobTimeout.
		old := time.Now().Add(-3 * processor.DefaultJobTimeout)
		if err := os.Chtimes(filepath.Join(w.HandOff, tmp), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A last pass: nothing is left to do; it seals the archive over entries a killed process archived
	// after the last seal, and removes the stale temporary hand-offs.
	code, out, log := runBin(t, bin, []string{"TAGDIJ_PROCESSOR_INSTANCE=kill-last"}, "once", "--config", w.Config, "--json")
	var last processor.Summary
	if err := json.Unmarshal([]byte(out), &last); err != nil || code != 0 || last.Jobs() != 0 {
		t.Errorf("the last pass: exit %d, %s\n%s", code, out, log)
	}
	done, after := published(t, w.HandOff)
	if len(after) != 0 {
		t.Errorf("temporary hand-offs left after the cleanup pass: %v (before: %v)", after, temporary)
	}
	t.Logf("%d temporary hand-offs left by kills, removed by the cleanup pass", len(temporary))
	if len(done) != n {
		t.Errorf("%d hand-offs for %d packages", len(done), n)
	}

	// Every package: exactly one final state, one archive entry, one hand-off.
	arch := w.openArchive(t)
	want := map[[32]byte]bool{}
	for _, s := range sums {
		want[s] = true
		st, err := w.DB.PackageStatus(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != string(processor.Processed) || st.Processing == nil || !st.Processing.Done || st.Processing.FinalState != receipt.Valid {
			t.Errorf("%x: status %q %+v", s[:6], st.Status, st.Processing)
			continue
		}
		versions, err := arch.Versions(ctx, s)
		if err != nil || len(versions) != 1 || versions[0].ID != st.Processing.ArchiveID || versions[0].Outcome != string(processor.Processed) {
			t.Errorf("%x: %d archive entries (%v), the status names %s", s[:6], len(versions), err, st.Processing.ArchiveID)
		}
		h := hex.EncodeToString(s[:])
		var dirs []string
		for _, d := range done {
			if strings.HasSuffix(d, "_"+h[:16]) {
				dirs = append(dirs, d)
			}
		}
		if len(dirs) != 1 {
			t.Errorf("%x: hand-offs %v", s[:6], dirs)
			continue
		}
		dir := filepath.Join(w.HandOff, dirs[0])
		checkHandOff(t, dir, s)
		var ho processor.HandOffJSON
		if b, err := os.ReadFile(filepath.Join(dir, processor.HandOffSummary)); err != nil || json.Unmarshal(b, &ho) != nil || ho.ArchiveID != st.Processing.ArchiveID {
			t.Errorf("%x: the hand-off names archive entry %q, the status %q (%v)", s[:6], ho.ArchiveID, st.Processing.ArchiveID, err)
		}
		if ho.Declaration == nil || ho.Declaration.ID != st.SubmissionID || ho.FinalState != string(receipt.Valid) {
			t.Errorf("%x: the hand-off summary is incomplete: declaration %+v, final state %q", s[:6], ho.Declaration, ho.FinalState)
		}
		if es, err := os.ReadDir(dir); err != nil || len(es) != 2 {
			t.Errorf("%s: %d files (%v), want the declaration and the summary", dir, len(es), err)
		}
	}
	// The queue: one job per package, every one done, no lease left behind.
	var jobs, doneJobs, leased int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(state = ?), 0), COALESCE(SUM(lease_owner IS NOT NULL), 0) FROM jobs`,
		sqlite.JobDone).Scan(&jobs, &doneJobs, &leased); err != nil || jobs != n || doneJobs != n || leased != 0 {
		t.Errorf("jobs: %d, %d done, %d leased (%v); want %d done, none leased", jobs, doneJobs, leased, err, n)
	}
	// The archive holds these packages once each and nothing else.
	entries, err := arch.Index().Scan(ctx, 0, 10*n)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[32]byte]bool{}
	for _, e := range entries {
		if !want[e.PackageSHA256] || seen[e.PackageSHA256] {
			t.Errorf("archive entry %s (leaf %d): package %x archived twice or never queued", e.ID, e.Index, e.PackageSHA256[:6])
		}
		seen[e.PackageSHA256] = true
	}
	if len(entries) != n {
		t.Errorf("%d archive entries for %d packages", len(entries), n)
	}

	// The archive verifies: no error; a warning only for the leaf record of a Put a kill interrupted
	// whose package the next attempt archived (with InFlight at 1 ns, a record whose package is not
	// archived is an error, not an archiving still in progress); the latest tree head covers every
	// entry.
	res, err := arch.Verify(ctx, archive.VerifyOptions{TSA: w.Env.TSAVerifier(), InFlight: time.Nanosecond,
		Signers: []*x509.Certificate{w.SB.World.MustEntity(sandbox.FundReceipt).Cert}})
	if err != nil {
		t.Fatal(err)
	}
	interrupted := 0
	for _, p := range res.Problems {
		if p.Kind == archive.UnreferencedRecord && p.Severity == errcode.Warning {
			if _, err := arch.Get(ctx, p.Entry); !errors.Is(err, archive.ErrNotFound) {
				t.Errorf("unreferenced leaf record of entry %s, which is indexed (%v)", p.Entry, err)
			}
			interrupted++
			continue
		}
		t.Errorf("archive problem: %+v", p)
	}
	if !res.OK() || res.Entries != uint64(n) || res.Sealed != uint64(n) {
		t.Errorf("archive verify: OK %v, %d entries, sealed %d, %d tree heads", res.OK(), res.Entries, res.Sealed, res.TreeHeads)
	}
	t.Logf("archive: %d entries, %d tree heads, %d leaf records of interrupted Puts", res.Entries, res.TreeHeads, interrupted)
	vstart := time.Now()
	if code, out, log := runBin(t, bin, nil, "archive", "verify", "--config", w.Config); code != 0 {
		t.Errorf("processor archive verify: exit %d\n%s\n%.3000s", code, out, log)
	}
	t.Logf("processor archive verify (every package re-verified offline) in %s; total %s", time.Since(vstart).Round(time.Millisecond),
		time.Since(begin).Round(time.Millisecond))
}
