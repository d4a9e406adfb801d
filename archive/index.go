package archive

import (
	"context"
	"errors"
)

var (
	// ErrNotFound: no entry (or tree head) answers the query.
	ErrNotFound = errors.New("archive: nincs ilyen bejegyzés / no such entry")
	// ErrConflict: an entry for the same package (and the same predecessor) exists with other
	// content, or an index key is taken. Nothing was stored.
	ErrConflict = errors.New("archive: a csomag már más tartalommal archiválva van / the package is already archived with other content")
)

// Index is the archive's index "in the store": one row per entry, each row also the entry's leaf
// in the Merkle tree, and the signed tree heads. The archive never updates or deletes through it.
// Implementations: MemIndex (tests, demos) and the SQLite store's ArchiveIndex; both pass
// archivetest.Run.
//
// Every method returns copies the caller may keep and change.
type Index interface {
	// Append stores e as the next leaf of the tree: it sets e.Index to the leaf index it assigns
	// (the current size) and stores the row, atomically and durably (all or nothing, committed when
	// it returns nil). When a row with the same ID, or the same (PackageSHA256, Renews), exists it
	// stores nothing and returns an error wrapping ErrConflict. e.LeafHash is stored as given.
	Append(ctx context.Context, e *Entry) error
	// Get returns the entry with this ID, or ErrNotFound.
	Get(ctx context.Context, id string) (*Entry, error)
	// Version returns the entry of this package with this predecessor ("" for the first
	// archiving), or ErrNotFound.
	Version(ctx context.Context, sum [32]byte, renews string) (*Entry, error)
	// LatestByPackage returns the package's entry with the highest leaf index, or ErrNotFound.
	LatestByPackage(ctx context.Context, sum [32]byte) (*Entry, error)
	// LatestBySubmission returns the entry with this declarant and submission id with the highest
	// leaf index, or ErrNotFound.
	LatestBySubmission(ctx context.Context, declarantType, declarantID, submissionID string) (*Entry, error)
	// Size is the number of leaves: one more than the highest leaf index stored, 0 when empty.
	Size(ctx context.Context) (uint64, error)
	// Scan returns up to limit entries with leaf index ≥ from, in leaf-index order. It returns what
	// the rows hold even when a row is unreadable by the archive's rules (Verify judges them); a row
	// the backend cannot decode at all is returned as an error wrapping ErrCorrupt.
	Scan(ctx context.Context, from uint64, limit int) ([]*Entry, error)
	// Leaves returns up to limit (leaf index, stored leaf hash) pairs with leaf index ≥ from, in
	// leaf-index order: the tree without the rows' other columns.
	Leaves(ctx context.Context, from uint64, limit int) ([]Leaf, error)
	// AppendTreeHead stores a signed tree head under its sequence number (0, 1, 2, ...) with the
	// tree size it covers, atomically and durably. When seq is taken it stores nothing and returns
	// an error wrapping ErrConflict.
	AppendTreeHead(ctx context.Context, h StoredHead) error
	// TreeHeads returns every stored tree head in sequence order.
	TreeHeads(ctx context.Context) ([]StoredHead, error)
	// LatestTreeHead returns the tree head with the highest sequence number, or ErrNotFound.
	LatestTreeHead(ctx context.Context) (StoredHead, error)
}

// Leaf is one leaf of the tree as the index stores it.
type Leaf struct {
	Index uint64
	Hash  [32]byte
}

// ErrCorrupt: the index holds a row its backend cannot decode.
var ErrCorrupt = errors.New("archive: olvashatatlan indexsor / unreadable index row")

// StoredHead is a tree head as the index keeps it: its sequence number and tree size (for queries)
// and its encoded, signed, time-stamped body (DecodeSignedHead). Only the body is trusted: Verify
// checks that Seq and Size agree with it.
type StoredHead struct {
	Seq  uint64
	Size uint64
	Body []byte
}
