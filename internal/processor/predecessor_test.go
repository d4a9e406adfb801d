package processor_test

import (
	"testing"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/synth"
)

// TestMutualPredecessors: two self-revisions naming each other as predecessor (the receiver cannot see
// it: predecessors are inside the encrypted payload). A predecessor arrives before the package that
// names it, so neither waits for the other for ever: both end content-rejected with D008.
func TestMutualPredecessors(t *testing.T) {
	r := newRig(t)
	const seedA, seedB = 9001, 9002
	idA := synth.Generate(synth.Options{Seed: seedA}).Header.ID // the submission id depends on the seed only
	idB := synth.Generate(synth.Options{Seed: seedB}).Header.ID
	a, _ := r.submit(t, receivertest.PackageOptions{Seed: seedA, Type: declaration.SelfRevision, Predecessor: idB})
	b, _ := r.submit(t, receivertest.PackageOptions{Seed: seedB, Type: declaration.SelfRevision, Predecessor: idA})
	if got := r.status(t, a).SubmissionID; got != idA {
		t.Fatalf("submission id %q, want %q (synth changed how it derives ids?)", got, idA)
	}
	r.afterGrace()
	for pass := 0; pass < 4; pass++ {
		r.run(t)
		if r.status(t, a).Processing.Done && r.status(t, b).Processing.Done {
			break
		}
		r.SB.Clock.Advance(r.Cfg.Backoff.Max)
	}
	for name, sum := range map[string][32]byte{"A": a, "B": b} {
		st := r.status(t, sum)
		if st.Status != string(processor.ContentRejected) || !hasCode(codesOf(st), errcode.D008) {
			t.Errorf("%s: status %q, codes %v; want content-rejected with D008", name, st.Status, codesOf(st))
		}
	}
}
