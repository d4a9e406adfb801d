package archive

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// MemIndex is an Index held in memory, for tests and demos: nothing survives the process. It passes
// archivetest.Run. The zero value is not usable; call NewMemIndex.
type MemIndex struct {
	mu    sync.RWMutex
	rows  []*Entry // by leaf index; private copies
	heads []StoredHead
}

// NewMemIndex returns an empty MemIndex.
func NewMemIndex() *MemIndex { return &MemIndex{} }

var _ Index = (*MemIndex)(nil)

// Append implements Index.
func (m *MemIndex) Append(ctx context.Context, e *Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rows {
		if r.ID == e.ID || (r.PackageSHA256 == e.PackageSHA256 && r.Renews == e.Renews) {
			return fmt.Errorf("archive: memindex: %s: %w", e.ID, ErrConflict)
		}
	}
	e.Index = m.sizeLocked()
	m.rows = append(m.rows, e.Clone())
	return nil
}

func (m *MemIndex) find(ctx context.Context, match func(*Entry) bool) (*Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i := len(m.rows) - 1; i >= 0; i-- {
		if match(m.rows[i]) {
			return m.rows[i].Clone(), nil
		}
	}
	return nil, ErrNotFound
}

// Get implements Index.
func (m *MemIndex) Get(ctx context.Context, id string) (*Entry, error) {
	return m.find(ctx, func(e *Entry) bool { return e.ID == id })
}

// Version implements Index.
func (m *MemIndex) Version(ctx context.Context, sum [32]byte, renews string) (*Entry, error) {
	return m.find(ctx, func(e *Entry) bool { return e.PackageSHA256 == sum && e.Renews == renews })
}

// LatestByPackage implements Index.
func (m *MemIndex) LatestByPackage(ctx context.Context, sum [32]byte) (*Entry, error) {
	return m.find(ctx, func(e *Entry) bool { return e.PackageSHA256 == sum })
}

// LatestBySubmission implements Index.
func (m *MemIndex) LatestBySubmission(ctx context.Context, declarantType, declarantID, submissionID string) (*Entry, error) {
	return m.find(ctx, func(e *Entry) bool {
		return e.DeclarantType == declarantType && e.DeclarantID == declarantID && e.SubmissionID == submissionID
	})
}

// Size implements Index.
func (m *MemIndex) Size(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.sizeLocked(), nil
}

func (m *MemIndex) sizeLocked() uint64 {
	if len(m.rows) == 0 {
		return 0
	}
	return m.rows[len(m.rows)-1].Index + 1
}

// Scan implements Index.
func (m *MemIndex) Scan(ctx context.Context, from uint64, limit int) ([]*Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Entry
	for _, r := range m.rows {
		if r.Index >= from && len(out) < limit {
			out = append(out, r.Clone())
		}
	}
	return out, nil
}

// Leaves implements Index.
func (m *MemIndex) Leaves(ctx context.Context, from uint64, limit int) ([]Leaf, error) {
	page, err := m.Scan(ctx, from, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Leaf, len(page))
	for i, e := range page {
		out[i] = Leaf{Index: e.Index, Hash: e.LeafHash}
	}
	return out, nil
}

// AppendTreeHead implements Index.
func (m *MemIndex) AppendTreeHead(ctx context.Context, h StoredHead) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.heads {
		if o.Seq == h.Seq {
			return fmt.Errorf("archive: memindex: tree head %d: %w", h.Seq, ErrConflict)
		}
	}
	h.Body = slices.Clone(h.Body)
	m.heads = append(m.heads, h)
	slices.SortFunc(m.heads, func(a, b StoredHead) int { return cmpUint(a.Seq, b.Seq) })
	return nil
}

// TreeHeads implements Index.
func (m *MemIndex) TreeHeads(ctx context.Context) ([]StoredHead, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]StoredHead, len(m.heads))
	for i, h := range m.heads {
		out[i] = StoredHead{Seq: h.Seq, Size: h.Size, Body: slices.Clone(h.Body)}
	}
	return out, nil
}

// LatestTreeHead implements Index.
func (m *MemIndex) LatestTreeHead(ctx context.Context) (StoredHead, error) {
	hs, err := m.TreeHeads(ctx)
	if err != nil {
		return StoredHead{}, err
	}
	if len(hs) == 0 {
		return StoredHead{}, ErrNotFound
	}
	return hs[len(hs)-1], nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
