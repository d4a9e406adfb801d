package archive

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/tagdij/tagdij/archive/merkle"
)

// leafPage is how many leaves or rows the archive reads from the index at a time.
const leafPage = 2000

// syncTree brings the archive's cached Merkle tree up to date with the index: the stored leaf
// hashes are immutable in an intact archive, so only the ones appended since are read. Leaf
// indices must be contiguous; a gap means a removed row. Callers hold a.mu.
func (a *Archive) syncTree(ctx context.Context) (*merkle.Tree, error) {
	if a.tree == nil {
		a.tree = &merkle.Tree{}
	}
	for {
		page, err := a.idx.Leaves(ctx, a.tree.Size(), leafPage)
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		for _, l := range page {
			if l.Index != a.tree.Size() {
				return nil, fmt.Errorf("%w: az index %d. levele hiányzik / leaf %d is missing from the index (run archive verify)", ErrTampered, a.tree.Size(), a.tree.Size())
			}
			a.tree.Append(l.Hash)
		}
		if len(page) < leafPage {
			return a.tree, nil
		}
	}
}

// trustedSigners are the certificates whose tree heads this archive accepts.
func (a *Archive) trustedSigners() []*x509.Certificate {
	var out []*x509.Certificate
	if a.opts.Certificate != nil {
		out = append(out, a.opts.Certificate)
	}
	return append(out, a.opts.PreviousSigners...)
}

// latestHead returns the latest stored tree head, decoded and its signature checked, or nil when
// there is none.
func (a *Archive) latestHead(ctx context.Context) (*SignedHead, error) {
	st, err := a.idx.LatestTreeHead(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	h, err := DecodeSignedHead(st.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: tree head %d: %w", ErrTampered, st.Seq, err)
	}
	if h.Seq != st.Seq || h.Size != st.Size {
		return nil, fmt.Errorf("%w: tree head %d: the index row says seq %d size %d, the signed head seq %d size %d", ErrTampered, st.Seq, st.Seq, st.Size, h.Seq, h.Size)
	}
	if _, err := h.checkSignature(a.trustedSigners()); err != nil {
		return nil, fmt.Errorf("%w: tree head %d: %w", ErrTampered, st.Seq, err)
	}
	return h, nil
}

// Seal makes, signs, time-stamps and stores a new tree head over every entry archived so far, and
// returns it; the processor calls it at the end of each run. When no entry was added since the
// latest head and that head is younger than Options.ResealAfter, it returns the latest head and
// stores nothing.
//
// Seal never endorses a tampered tree: before signing it checks the latest head's signature, that
// the tree still has that head's root at its size, and that every entry added since hashes to its
// stored leaf; any failure is an error wrapping ErrTampered (run Verify to see what changed). A
// TSA failure stores nothing; the next Seal covers the same entries. Concurrent Seals (several
// processors) are serialized by the index: each stored head extends the one before.
func (a *Archive) Seal(ctx context.Context) (*SignedHead, error) {
	if a.opts.Signer == nil || a.opts.TSA == nil {
		return nil, errors.New("archive: a lezáráshoz aláíró kulcs és időbélyeg-szolgáltató kell / Seal needs Options.Signer and Options.TSA")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for attempt := 0; ; attempt++ {
		h, err := a.sealOnce(ctx)
		if errors.Is(err, ErrConflict) && attempt < 5 {
			continue // another process stored a head meanwhile: extend that one
		}
		return h, err
	}
}

func (a *Archive) sealOnce(ctx context.Context) (*SignedHead, error) {
	// The head first, then the leaves: another processor may append and seal in between, and a tree
	// read before its head would look shorter than that head (a false alarm of tampering).
	prev, err := a.latestHead(ctx)
	if err != nil {
		return nil, err
	}
	tree, err := a.syncTree(ctx)
	if err != nil {
		return nil, err
	}
	next := TreeHead{Size: tree.Size(), Root: tree.Root()}
	var from uint64
	if prev != nil {
		if tree.Size() < prev.Size {
			return nil, fmt.Errorf("%w: the index holds %d entries, tree head %d covers %d", ErrTampered, tree.Size(), prev.Seq, prev.Size)
		}
		if r, _ := tree.RootAt(prev.Size); r != prev.Root {
			return nil, fmt.Errorf("%w: the first %d entries no longer have the root of tree head %d", ErrTampered, prev.Size, prev.Seq)
		}
		from = prev.Size
		next.Seq, next.Prev = prev.Seq+1, prev.Hash()
	}
	// The entries added since the latest head: their rows must hash to the leaves being signed.
	for i := from; i < tree.Size(); {
		page, err := a.idx.Scan(ctx, i, leafPage)
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Index >= tree.Size() {
				break // appended by another process after the tree was read: the next head's
			}
			leaf, lerr := LeafHash(e)
			stored, _ := tree.Leaf(e.Index)
			if lerr != nil || leaf != e.LeafHash || leaf != stored {
				return nil, fmt.Errorf("%w: entry %s (leaf %d) does not hash to its leaf", ErrTampered, e.ID, e.Index)
			}
		}
		i = page[len(page)-1].Index + 1
	}
	now := normalizeTime(a.opts.Now())
	if prev != nil {
		if tree.Size() == prev.Size && a.opts.ResealAfter > 0 && now.Sub(prev.Time) < a.opts.ResealAfter {
			return prev, nil
		}
		if now.Before(prev.Time) {
			return nil, fmt.Errorf("archive: az óra a legutóbbi fafej (%s) előtt jár / the clock is before the latest tree head (%s)", prev.Time, prev.Time)
		}
	}
	next.Time = now
	sh, err := signHead(a.opts.Signer, a.opts.Certificate, a.opts.Chain, next)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		if sh.Consistency, err = tree.ConsistencyProof(prev.Size, next.Size); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
	}
	tok, err := a.opts.TSA.StampData(ctx, sh.Signature)
	if err != nil {
		return nil, fmt.Errorf("archive: a fa fejének időbélyegzése sikertelen / time-stamping the tree head: %w", err)
	}
	sh.TimeStamp = tok.DER
	if err := a.idx.AppendTreeHead(ctx, StoredHead{Seq: next.Seq, Size: next.Size, Body: sh.Encode()}); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return sh, nil
}

// EntryProof is an entry with the proof that it is in the archive's tree as of a signed tree head.
type EntryProof struct {
	Entry *Entry
	// Head is the latest tree head; nil when no head covers the entry yet (archived after the
	// latest Seal).
	Head *SignedHead
	// Path is the RFC 9162 inclusion path of the entry's leaf in the tree of Head.Size entries.
	Path [][32]byte
}

// Proof returns the entry with this ID and its inclusion proof against the latest tree head, or
// ErrNotFound. The proof is checked before it is returned: the entry's fields hash to its leaf,
// the path leads to the head's root, and the head's signature is the archive's; a failure is an
// error wrapping ErrTampered.
func (a *Archive) Proof(ctx context.Context, id string) (*EntryProof, error) {
	e, err := a.idx.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	leaf, err := LeafHash(e)
	if err != nil || leaf != e.LeafHash {
		return nil, fmt.Errorf("%w: entry %s does not hash to its stored leaf", ErrTampered, id)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	head, err := a.latestHead(ctx)
	if err != nil {
		return nil, err
	}
	p := &EntryProof{Entry: e}
	if head == nil || e.Index >= head.Size {
		return p, nil
	}
	tree, err := a.syncTree(ctx)
	if err != nil {
		return nil, err
	}
	path, err := tree.InclusionProof(e.Index, head.Size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTampered, err)
	}
	p.Head, p.Path = head, path
	if err := p.Check(a.trustedSigners()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTampered, err)
	}
	return p, nil
}

// Check verifies the proof offline, needing nothing of the archive: the entry's fields hash to its
// leaf, the inclusion path leads from that leaf to the head's root (RFC 9162 §2.1.3.2), and the
// head is signed by one of trusted. The head's time-stamp is checked by Verify (it needs the TSA
// trust). A proof without a head is an error.
func (p *EntryProof) Check(trusted []*x509.Certificate) error {
	if p.Head == nil {
		return errors.New("archive: a bejegyzést még nem fedi fafej / no tree head covers the entry yet")
	}
	leaf, err := LeafHash(p.Entry)
	if err != nil {
		return err
	}
	if leaf != p.Entry.LeafHash {
		return fmt.Errorf("archive: entry %s does not hash to its leaf", p.Entry.ID)
	}
	if err := merkle.VerifyInclusion(p.Entry.Index, p.Head.Size, leaf, p.Path, p.Head.Root); err != nil {
		return fmt.Errorf("archive: entry %s: %w", p.Entry.ID, err)
	}
	_, err = p.Head.checkSignature(trusted)
	return err
}
