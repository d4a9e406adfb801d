package registry

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
)

// MemStore is a Store held in memory, for tests and demos: nothing survives the process. It passes
// registrytest.Run. The zero value is not usable; call NewMemStore.
type MemStore struct {
	mu       sync.RWMutex
	versions map[Key][]*Sheet // oldest first; the sheets are private copies
	byID     map[string]*Sheet
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{versions: make(map[Key][]*Sheet), byID: make(map[string]*Sheet)}
}

var _ Store = (*MemStore)(nil)

// Put implements Store.
func (m *MemStore) Put(ctx context.Context, s *Sheet) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("registry: put: %w", err)
	}
	if err := s.Check(); err != nil {
		return fmt.Errorf("registry: put: %w", err)
	}
	c := s.Clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.putLocked(c)
}

func (m *MemStore) putLocked(c *Sheet) error {
	if _, dup := m.byID[c.ID]; dup {
		return fmt.Errorf("registry: put %s: %w", c.ID, ErrDuplicate)
	}
	k := c.Key()
	m.versions[k] = append(m.versions[k], c)
	m.byID[c.ID] = c
	return nil
}

// Get implements Store.
func (m *MemStore) Get(ctx context.Context, id string) (*Sheet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("registry: get: %w", err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.byID[id]
	if !ok {
		return nil, fmt.Errorf("registry: get %q: %w", id, ErrNotFound)
	}
	return s.Clone(), nil
}

// Current implements Store.
func (m *MemStore) Current(ctx context.Context, k Key) (*Sheet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("registry: current: %w", err)
	}
	k = NewKey(k.IDType, k.ID, k.Fund)
	m.mu.RLock()
	defer m.mu.RUnlock()
	v := m.versions[k]
	if len(v) == 0 {
		return nil, fmt.Errorf("registry: current %s: %w", k, ErrNotFound)
	}
	return v[len(v)-1].Clone(), nil
}

// AsOf implements Store.
func (m *MemStore) AsOf(ctx context.Context, k Key, at time.Time) (*Sheet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("registry: as of: %w", err)
	}
	day, err := LocalDate(at)
	if err != nil {
		return nil, err
	}
	k = NewKey(k.IDType, k.ID, k.Fund)
	m.mu.RLock()
	defer m.mu.RUnlock()
	v := m.versions[k]
	for i := len(v) - 1; i >= 0; i-- {
		if !v[i].Filed.After(day) {
			return v[i].Clone(), nil
		}
	}
	return nil, fmt.Errorf("registry: %s as of %s: %w", k, day, ErrNotFound)
}

// History implements Store.
func (m *MemStore) History(ctx context.Context, k Key) ([]*Sheet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("registry: history: %w", err)
	}
	k = NewKey(k.IDType, k.ID, k.Fund)
	m.mu.RLock()
	defer m.mu.RUnlock()
	v := m.versions[k]
	if len(v) == 0 {
		return nil, fmt.Errorf("registry: history %s: %w", k, ErrNotFound)
	}
	out := make([]*Sheet, len(v))
	for i, s := range v {
		out[i] = s.Clone()
	}
	return out, nil
}

// List implements Store.
func (m *MemStore) List(ctx context.Context) ([]Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("registry: list: %w", err)
	}
	m.mu.RLock()
	out := make([]Summary, 0, len(m.versions))
	for _, v := range m.versions {
		out = append(out, Summarize(v[len(v)-1], len(v)))
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Summary) int {
		return cmp.Or(cmp.Compare(a.Key.IDType, b.Key.IDType), cmp.Compare(a.Key.ID, b.Key.ID), cmp.Compare(a.Key.Fund, b.Key.Fund))
	})
	return out, nil
}

// Withdraw implements Store.
func (m *MemStore) Withdraw(ctx context.Context, k Key, date declaration.Date, reason string) (*Sheet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("registry: withdraw: %w", err)
	}
	k = NewKey(k.IDType, k.ID, k.Fund)
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.versions[k]
	if len(v) == 0 {
		return nil, fmt.Errorf("registry: withdraw %s: %w", k, ErrNotFound)
	}
	w, err := WithdrawnCopy(v[len(v)-1], date, reason)
	if err != nil {
		return nil, err
	}
	if err := m.putLocked(w); err != nil {
		return nil, err
	}
	return w.Clone(), nil
}
