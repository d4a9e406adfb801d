// Package blob is the receiver's content-addressed store of package bytes: every file lives at
// DIR/sha256/ab/abcdef… (its SHA-256 in hex), written through internal/durable, so a stored blob is
// complete and its name proves its content. Receive streams an upload under a size limit into a
// temporary file in the same file system while hashing it; nothing appears under its name until
// Commit, which is durable when it returns (SPEC §9: acknowledged means durable).
package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/internal/durable"
)

// ErrTooLarge is returned by Receive when the input exceeds the limit; the Incoming then holds the
// size read so far (limit + 1) and must be aborted.
var ErrTooLarge = errors.New("blob: input larger than the limit")

// ErrNotFound is returned for a hash the store does not hold.
var ErrNotFound = errors.New("blob: not found")

// Store is a content-addressed directory. It is safe for concurrent use: identical content committed
// twice ends up as one file.
type Store struct {
	dir string
}

// Open opens (creating if needed) a store in dir.
func Open(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "sha256"), filepath.Join(dir, "incoming")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	// Temporary files of a crashed process: never committed, never acknowledged.
	if es, err := os.ReadDir(filepath.Join(dir, "incoming")); err == nil {
		for _, e := range es {
			os.Remove(filepath.Join(dir, "incoming", e.Name()))
		}
	}
	return &Store{dir: dir}, nil
}

// OpenShared opens (creating if needed) a store that several processes write at the same time (the
// archive, shared by processors): unlike Open it leaves the temporary files of uploads in progress
// alone and removes only those not modified for staleAfter, which a crashed process left behind.
func OpenShared(dir string, staleAfter time.Duration) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "sha256"), filepath.Join(dir, "incoming")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	if es, err := os.ReadDir(filepath.Join(dir, "incoming")); err == nil {
		for _, e := range es {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
				os.Remove(filepath.Join(dir, "incoming", e.Name()))
			}
		}
	}
	return &Store{dir: dir}, nil
}

// Path is where the blob with this hash is (or would be) stored.
func (s *Store) Path(sum [32]byte) string {
	h := hex.EncodeToString(sum[:])
	return filepath.Join(s.dir, "sha256", h[:2], h)
}

// Has reports whether the blob is stored.
func (s *Store) Has(sum [32]byte) bool {
	_, err := os.Stat(s.Path(sum))
	return err == nil
}

// Read returns a stored blob's bytes, checking that they still hash to sum.
func (s *Store) Read(sum [32]byte) ([]byte, error) {
	b, err := os.ReadFile(s.Path(sum))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	if sha256.Sum256(b) != sum {
		return nil, fmt.Errorf("blob: %x: content does not match its name (disk corruption?)", sum[:8])
	}
	return b, nil
}

// Incoming is an upload being received: its bytes are in memory (for validation) and in a temporary
// file (for Commit).
type Incoming struct {
	store *Store
	f     *durable.File
	// Bytes are the received bytes (at most limit+1 of them after ErrTooLarge).
	Bytes []byte
	// Sum is the SHA-256 of Bytes.
	Sum [32]byte
}

// Size is the number of bytes received.
func (in *Incoming) Size() int64 { return int64(len(in.Bytes)) }

// Receive reads r to its end, at most limit bytes, into memory and a temporary file. sizeHint (a
// Content-Length, or -1) presizes the buffer when it is within the limit. On ErrTooLarge or a read
// error the returned Incoming (non-nil on ErrTooLarge) must still be aborted.
func (s *Store) Receive(r io.Reader, limit, sizeHint int64) (*Incoming, error) {
	f, err := durable.Create(filepath.Join(s.dir, "incoming"), "upload-*", 0o600)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if sizeHint > 0 && sizeHint <= limit {
		buf.Grow(int(sizeHint) + bytes.MinRead)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(&buf, h, f), io.LimitReader(r, limit+1))
	in := &Incoming{store: s, f: f, Bytes: buf.Bytes()}
	if in.Bytes == nil {
		// An empty body is still an input (a T005 to answer), not "no input".
		in.Bytes = []byte{}
	}
	copy(in.Sum[:], h.Sum(nil))
	if err != nil {
		f.Abort()
		return nil, fmt.Errorf("blob: receiving: %w", err)
	}
	if n > limit {
		return in, ErrTooLarge
	}
	return in, nil
}

// Commit stores the blob under its hash, durably. Committing content that is already stored keeps
// the stored file (same name, same bytes) and discards this copy.
func (in *Incoming) Commit() error {
	dst := in.store.Path(in.Sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		in.f.Abort()
		return fmt.Errorf("blob: %w", err)
	}
	if err := durable.SyncDir(filepath.Join(in.store.dir, "sha256")); err != nil {
		in.f.Abort()
		return fmt.Errorf("blob: %w", err)
	}
	if in.store.Has(in.Sum) {
		in.f.Abort()
		// The existing file may have been written by a process that crashed before its directory
		// sync: sync again, so that "Commit returned" always means durable.
		return durable.SyncDir(filepath.Dir(dst))
	}
	return in.f.Commit(dst)
}

// Abort discards the upload's temporary file. Safe after Commit.
func (in *Incoming) Abort() {
	if in != nil {
		in.f.Abort()
	}
}

// Writable checks that a file can be created and synced in the store (for readiness probes).
func (s *Store) Writable() error {
	f, err := durable.Create(filepath.Join(s.dir, "incoming"), "probe-*", 0o600)
	if err != nil {
		return err
	}
	defer f.Abort()
	_, err = f.Write([]byte("probe"))
	return err
}

// Put stores data under its SHA-256, durably (written to a temporary file, fsynced, renamed, the
// directory fsynced), and returns the hash. Putting content that is already stored keeps the stored
// file and only makes sure its directory entry is durable. Unlike Receive it keeps no second copy
// of data in memory, for callers (the archive) that already hold the bytes.
func (s *Store) Put(data []byte) ([32]byte, error) {
	sum := sha256.Sum256(data)
	f, err := durable.Create(filepath.Join(s.dir, "incoming"), "put-*", 0o600)
	if err != nil {
		return sum, err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return sum, fmt.Errorf("blob: %w", err)
	}
	in := &Incoming{store: s, f: f, Bytes: data, Sum: sum}
	return sum, in.Commit()
}
