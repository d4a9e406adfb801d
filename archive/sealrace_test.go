package archive_test

import (
	"context"
	"testing"

	"github.com/tagdij/tagdij/archive"
)

// hookedIndex runs hook once, before its next Leaves or LatestTreeHead call (as onLeaves says):
// another processor acting between this one's reads.
type hookedIndex struct {
	archive.Index
	onLeaves bool
	hook     func()
}

func (l *hookedIndex) fire() {
	if h := l.hook; h != nil {
		l.hook = nil
		h()
	}
}

func (l *hookedIndex) Leaves(ctx context.Context, from uint64, limit int) ([]archive.Leaf, error) {
	if l.onLeaves {
		l.fire()
	}
	return l.Index.Leaves(ctx, from, limit)
}

func (l *hookedIndex) LatestTreeHead(ctx context.Context) (archive.StoredHead, error) {
	if !l.onLeaves {
		l.fire()
	}
	return l.Index.LatestTreeHead(ctx)
}

// TestSealWhileAnotherSeals: another processor archives and seals while this one is sealing. This
// one's head must extend the other's (or its own, after a retry), never report tampering.
func TestSealWhileAnotherSeals(t *testing.T) {
	for _, onLeaves := range []bool{false, true} {
		name := "before the head is read"
		if onLeaves {
			name = "before the leaves are read"
		}
		t.Run(name, func(t *testing.T) { sealWhileAnotherSeals(t, onLeaves) })
	}
}

func sealWhileAnotherSeals(t *testing.T, onLeaves bool) {
	ctx := context.Background()
	f := newFixture(t)
	f.put(t, 1)
	if _, err := f.a.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	hooked := &hookedIndex{Index: f.db.ArchiveIndex(), onLeaves: onLeaves}
	mine, err := archive.New(f.dir, hooked, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mine.Put(ctx, sampleInput(3)); err != nil {
		t.Fatal(err)
	}
	hooked.hook = func() {
		f.put(t, 2) // the other processor (f.a on the same index) appends and seals
		if _, err := f.a.Seal(ctx); err != nil {
			t.Errorf("the other processor's seal: %v", err)
		}
	}
	h, err := mine.Seal(ctx)
	if err != nil {
		t.Fatalf("seal while another processor sealed: %v", err)
	}
	if h.Size != 3 {
		t.Errorf("head covers %d entries, want 3", h.Size)
	}
	res, err := f.a.Verify(ctx, archive.VerifyOptions{TSA: f.tsaVer})
	if err != nil || !res.OK() {
		t.Fatalf("verify after concurrent seals: %v %+v", err, res)
	}
}
