package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/registry"
)

// The registry role (registry.Store): every sheet version in registry_sheets, newest = highest seq.

// Registry returns the registry store over this database.
func (s *DB) Registry() *Registry { return &Registry{db: s} }

// Registry implements registry.Store on the SQLite database.
type Registry struct {
	db *DB
}

var _ registry.Store = (*Registry)(nil)

func encodeSheet(sh *registry.Sheet) ([]byte, error) { return json.Marshal(sh) }

func decodeSheet(b []byte) (*registry.Sheet, error) {
	var sh registry.Sheet
	if err := json.Unmarshal(b, &sh); err != nil {
		return nil, fmt.Errorf("sqlite: registry: stored sheet unreadable: %w", err)
	}
	return &sh, nil
}

// Put implements registry.Store.
func (r *Registry) Put(ctx context.Context, sh *registry.Sheet) error {
	if sh == nil {
		return errors.New("sqlite: registry: no sheet")
	}
	if err := sh.Check(); err != nil {
		return err
	}
	return r.insert(ctx, nil, sh)
}

func (r *Registry) insert(ctx context.Context, tx *sql.Tx, sh *registry.Sheet) error {
	body, err := encodeSheet(sh)
	if err != nil {
		return err
	}
	k := sh.Key()
	q := `INSERT INTO registry_sheets (sheet_id, id_type, declarant_id, fund, recorded, body) VALUES (?, ?, ?, ?, ?, ?)`
	args := []any{sh.ID, string(k.IDType), k.ID, k.Fund, time.Now().UnixNano(), body}
	if tx != nil {
		_, err = tx.ExecContext(ctx, q, args...)
	} else {
		_, err = r.db.exec(ctx, q, args...)
	}
	if isUnique(err) {
		return fmt.Errorf("%w: %s", registry.ErrDuplicate, sh.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: registry: %w", err)
	}
	return nil
}

func (r *Registry) one(ctx context.Context, q querier, query string, args ...any) (*registry.Sheet, error) {
	var body []byte
	err := q.QueryRowContext(ctx, query, args...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, registry.ErrNotFound
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sqlite: registry: %w", ctx.Err())
		}
		return nil, fmt.Errorf("sqlite: registry: %w", err)
	}
	return decodeSheet(body)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Get implements registry.Store.
func (r *Registry) Get(ctx context.Context, id string) (*registry.Sheet, error) {
	return r.one(ctx, r.db.db, `SELECT body FROM registry_sheets WHERE sheet_id = ?`, id)
}

// Current implements registry.Store.
func (r *Registry) Current(ctx context.Context, k registry.Key) (*registry.Sheet, error) {
	return r.current(ctx, r.db.db, k)
}

func (r *Registry) current(ctx context.Context, q querier, k registry.Key) (*registry.Sheet, error) {
	k = registry.NewKey(k.IDType, k.ID, k.Fund)
	return r.one(ctx, q, `SELECT body FROM registry_sheets WHERE id_type = ? AND declarant_id = ? AND fund = ? ORDER BY seq DESC LIMIT 1`,
		string(k.IDType), k.ID, k.Fund)
}

// History implements registry.Store.
func (r *Registry) History(ctx context.Context, k registry.Key) ([]*registry.Sheet, error) {
	k = registry.NewKey(k.IDType, k.ID, k.Fund)
	rows, err := r.db.db.QueryContext(ctx, `SELECT body FROM registry_sheets WHERE id_type = ? AND declarant_id = ? AND fund = ? ORDER BY seq`,
		string(k.IDType), k.ID, k.Fund)
	if err != nil {
		return nil, fmt.Errorf("sqlite: registry: %w", err)
	}
	defer rows.Close()
	var out []*registry.Sheet
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("sqlite: registry: %w", err)
		}
		sh, err := decodeSheet(body)
		if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: registry: %w", err)
	}
	if len(out) == 0 {
		return nil, registry.ErrNotFound
	}
	return out, nil
}

// AsOf implements registry.Store: the newest version (storing order) filed on or before the local day
// of at.
func (r *Registry) AsOf(ctx context.Context, k registry.Key, at time.Time) (*registry.Sheet, error) {
	day, err := registry.LocalDate(at)
	if err != nil {
		return nil, err
	}
	hist, err := r.History(ctx, k)
	if err != nil {
		return nil, err
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if !day.Before(hist[i].Filed) {
			return hist[i], nil
		}
	}
	return nil, registry.ErrNotFound
}

// List implements registry.Store.
func (r *Registry) List(ctx context.Context) ([]registry.Summary, error) {
	rows, err := r.db.db.QueryContext(ctx, `SELECT s.body, c.n FROM registry_sheets s
		JOIN (SELECT id_type, declarant_id, fund, MAX(seq) AS top, COUNT(*) AS n FROM registry_sheets GROUP BY id_type, declarant_id, fund) c
		ON s.seq = c.top ORDER BY s.id_type, s.declarant_id, s.fund`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: registry: %w", err)
	}
	defer rows.Close()
	out := []registry.Summary{}
	for rows.Next() {
		var body []byte
		var n int
		if err := rows.Scan(&body, &n); err != nil {
			return nil, fmt.Errorf("sqlite: registry: %w", err)
		}
		sh, err := decodeSheet(body)
		if err != nil {
			return nil, err
		}
		out = append(out, registry.Summarize(sh, n))
	}
	return out, rows.Err()
}

// Withdraw implements registry.Store, in one transaction.
func (r *Registry) Withdraw(ctx context.Context, k registry.Key, date declaration.Date, reason string) (*registry.Sheet, error) {
	var out *registry.Sheet
	err := r.db.tx(ctx, func(tx *sql.Tx) error {
		cur, err := r.current(ctx, tx, k)
		if err != nil {
			return err
		}
		if cur.Withdrawal != nil {
			return registry.ErrWithdrawn
		}
		w, err := registry.WithdrawnCopy(cur, date, reason)
		if err != nil {
			return err
		}
		if err := r.insert(ctx, tx, w); err != nil {
			return err
		}
		out = w
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
