package processor_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// TestResumeKeepsFindings: a job interrupted right after its archive entry became durable is finished
// by a later pass from the archive (the outcome stands, the archive is write-once). Its hand-off must
// say what an uninterrupted job's says: every finding with its location and bilingual text, and the
// declaration's summary — although the archive's leaf keeps each code only once. Each case is
// submitted twice; one copy is interrupted, the other is not, and their hand-offs are compared.
func TestResumeKeepsFindings(t *testing.T) {
	// The hook ends a job's goroutine right after its archive entry is durable, once per job, as a
	// crash there would (nothing after it runs); the next pass takes the lease back (Release) and
	// resumes the job from the archive.
	var (
		mu          sync.Mutex
		interrupt   bool
		interrupted = map[[32]byte]bool{}
		logs        syncBuffer
	)
	r := newRig(t, func(c *processor.Config) {
		c.Workers = 1
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		c.Hook = func(s processor.Step, j *processor.Job) {
			mu.Lock()
			stop := s == processor.StepArchived && interrupt && !interrupted[j.SHA256]
			if stop {
				interrupted[j.SHA256] = true
			}
			mu.Unlock()
			if stop {
				runtime.Goexit()
			}
		}
	})
	tax := r.SB.World.MustEntity(sandbox.TaxEncryption)
	cases := []struct {
		name    string
		opts    receivertest.PackageOptions
		outcome processor.Outcome
		code    errcode.Code
		count   int // findings with code (0: at least one)
	}{
		{"totals", receivertest.PackageOptions{Content: func(d *declaration.Declaration) []byte {
			d.Summary.BaseTotal++
			return marshal(t, d)
		}}, processor.ContentRejected, errcode.D004, 0},
		{"a finding per item", receivertest.PackageOptions{Members: 40, Content: func(d *declaration.Declaration) []byte {
			for i := range d.Items {
				d.Items[i].TAJ = "123456789" // wrong check digit
			}
			return marshal(t, d)
		}}, processor.ContentRejected, errcode.D005, 40},
		{"not encrypted to the fund", receivertest.PackageOptions{Recipient: tax.Cert}, processor.ContentRejected, errcode.D001, 0},
		{"processed with a warning", receivertest.PackageOptions{Content: func(d *declaration.Declaration) []byte {
			d.Declarant.Name = "Példa Zrt."
			return marshal(t, d)
		}}, processor.Processed, errcode.D009, 0},
	}
	type pair struct{ plain, resumed [32]byte }
	sums := make([]pair, len(cases))
	for i, c := range cases {
		sums[i].plain, _ = r.submit(t, c.opts)
	}
	r.afterGrace()
	// The uninterrupted copies first.
	if s := r.run(t); s.Jobs() != len(cases) || s.Errors != 0 {
		t.Fatalf("uninterrupted pass: %+v", s)
	}
	for i, c := range cases {
		sums[i].resumed, _ = r.submit(t, c.opts)
	}
	r.afterGrace()
	mu.Lock()
	interrupt = true
	mu.Unlock()
	for pass := 0; ; pass++ {
		if pass > 3*len(cases) {
			t.Fatalf("jobs still pending after %d passes", pass)
		}
		r.run(t)
		done := 0
		for _, p := range sums {
			if st := r.status(t, p.resumed); st.Status != "awaiting-final-check" {
				done++
			}
		}
		if done == len(cases) {
			break
		}
	}
	mu.Lock()
	if len(interrupted) != len(cases) {
		t.Fatalf("%d jobs were interrupted, want %d", len(interrupted), len(cases))
	}
	mu.Unlock()
	if n := strings.Count(logs.String(), `"event":"processor.resume"`); n != len(cases) {
		t.Fatalf("%d jobs resumed from the archive, want %d", n, len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plain, _ := summaryOf(t, r.HandOff, sums[i].plain)
			resumed, dir := summaryOf(t, r.HandOff, sums[i].resumed)
			// The plaintext declaration is handed off for a processed package only.
			_, err := os.Stat(filepath.Join(dir, processor.HandOffDeclaration))
			if (c.outcome == processor.Processed) != (err == nil) {
				t.Errorf("outcome %s, declaration in the hand-off: %v", c.outcome, err == nil)
			}
			if resumed.Outcome != string(c.outcome) || plain.Outcome != string(c.outcome) {
				t.Fatalf("outcomes: resumed %q, uninterrupted %q, want %q", resumed.Outcome, plain.Outcome, c.outcome)
			}
			n := 0
			for _, f := range resumed.Findings {
				if f.Code == c.code {
					n++
					if f.HU == "" || f.EN == "" {
						t.Errorf("finding %s without its texts: %+v", c.code, f)
					}
				}
			}
			if n == 0 || c.count > 0 && n != c.count {
				t.Errorf("%d %s findings after the resume, want %d", n, c.code, c.count)
			}
			// The two copies are different packages (their amounts differ): the findings must agree in
			// code, severity and location, one for one, and the summary must be there alike.
			if got, want := shapes(resumed.Findings), shapes(plain.Findings); !reflect.DeepEqual(got, want) {
				t.Errorf("findings after the resume differ from an uninterrupted job's:\n resumed %v\n plain   %v", got, want)
			}
			if (resumed.Declaration == nil) != (plain.Declaration == nil) ||
				resumed.Declaration != nil && resumed.Declaration.Items != plain.Declaration.Items {
				t.Errorf("declaration summary after the resume %+v, uninterrupted %+v", resumed.Declaration, plain.Declaration)
			}
		})
	}
}

// shapes lists each finding's code, severity and location.
func shapes(fs []errcode.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s/%s/%s", f.Code, f.Severity, f.Location)
	}
	return out
}

// syncBuffer is a bytes.Buffer the processor's workers may log into at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestResumeAfterHandOff: a job interrupted after its hand-off was published, before the store
// update, is recorded on the next pass with the archived outcome and final state — for a final-invalid
// package too, whose state (ERVENYTELEN) only its archived report says — and its hand-off is kept as
// it was.
func TestResumeAfterHandOff(t *testing.T) {
	var (
		mu          sync.Mutex
		interrupted = map[[32]byte]bool{}
	)
	r := newRig(t, func(c *processor.Config) {
		c.Workers = 1
		c.Hook = func(s processor.Step, j *processor.Job) {
			mu.Lock()
			stop := s == processor.StepHandedOff && !interrupted[j.SHA256]
			interrupted[j.SHA256] = interrupted[j.SHA256] || stop
			mu.Unlock()
			if stop {
				runtime.Goexit()
			}
		}
	})
	// One signer: revoked after the first package's time-stamp and before the second's, the first
	// stays valid (processed) and the second is final-invalid (A005).
	good, _ := r.submit(t, receivertest.PackageOptions{})
	r.SB.Clock.Advance(10 * time.Second)
	revokedAt := r.SB.Clock.Now().Add(-time.Second)
	bad, _ := r.submit(t, receivertest.PackageOptions{})
	signer, _ := r.SB.World.Signers("pelda")
	r.SB.Revoke(t, signer[0].Name, sandbox.ReasonKeyCompromise, revokedAt)
	r.afterGrace()
	for pass := 0; ; pass++ {
		if pass > 6 {
			t.Fatalf("jobs still pending after %d passes", pass)
		}
		r.run(t)
		if r.status(t, good).Status != "awaiting-final-check" && r.status(t, bad).Status != "awaiting-final-check" {
			break
		}
	}
	mu.Lock()
	if len(interrupted) != 2 {
		t.Fatalf("%d jobs interrupted after their hand-off, want 2", len(interrupted))
	}
	mu.Unlock()
	for _, c := range []struct {
		name    string
		sum     [32]byte
		outcome processor.Outcome
		state   receipt.State
		code    errcode.Code
	}{
		{"valid", good, processor.Processed, receipt.Valid, ""},
		{"revoked before its time-stamp", bad, processor.FinalInvalid, receipt.Invalid, errcode.A005},
	} {
		st := r.status(t, c.sum)
		if st.Status != string(c.outcome) || st.Processing.FinalState != c.state || c.code != "" && !hasCode(codesOf(st), c.code) {
			t.Errorf("%s: status %q, final state %q, codes %v; want %s, %s, %s", c.name, st.Status, st.Processing.FinalState, codesOf(st),
				c.outcome, c.state, c.code)
		}
		hs, _ := summaryOf(t, r.HandOff, c.sum)
		if hs.Outcome != string(c.outcome) || hs.FinalState != string(c.state) {
			t.Errorf("%s: hand-off says %q %q", c.name, hs.Outcome, hs.FinalState)
		}
	}
	if n := len(r.handOffs(t)); n != 2 {
		t.Errorf("%d hand-offs, want 2", n)
	}
}
