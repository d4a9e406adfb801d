package pack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/internal/durable"
)

// MaxSeq is the largest sequence number a package name can carry (three digits).
const MaxSeq = 999

// SeqKey is what a sequence number counts within: one declarant, fund and period, in the forms of the
// package name (8- or 10-digit declarant, 4-digit fund, YYYYMM). Numbers are shared by the types B, O
// and H of a period, so a self-revision gets the next number after the declaration it revises.
type SeqKey struct {
	Declarant string
	Fund      string
	Period    string
}

func (k SeqKey) String() string { return k.Declarant + "_" + k.Fund + "_" + k.Period }

// Allocator hands out package sequence numbers.
type Allocator interface {
	// Next returns a number in 1…MaxSeq that it has not returned before for key.
	Next(ctx context.Context, key SeqKey) (int, error)
}

// SeqFunc adapts a function to Allocator (tests pass fixed numbers with it).
type SeqFunc func(ctx context.Context, key SeqKey) (int, error)

// Next calls f.
func (f SeqFunc) Next(ctx context.Context, key SeqKey) (int, error) { return f(ctx, key) }

// ErrSeqExhausted: every sequence number of the key has been used.
var ErrSeqExhausted = errors.New("pack: minden sorszám elfogyott ebben az időszakban / every sequence number of this period is used")

// FileSequence keeps the last number handed out per key in a JSON file:
//
//	{"version": 1, "last": {"12345676_0101_202610": 3}}
//
// Next takes an exclusive lock (flock on PATH.lock on Unix; an O_EXCL lock file elsewhere) around
// read, increment and an atomic replace (temporary file, fsync, rename, directory fsync), so two
// processes packing at the same time never get the same number, and a crash never leaves a half-written
// file. The lock file is left in place; it holds nothing.
type FileSequence struct {
	Path string
	// LockTimeout bounds the wait for the lock; zero means 30 s.
	LockTimeout time.Duration
}

// seqFileVersion is the format FileSequence writes and reads.
const seqFileVersion = 1

type seqFile struct {
	Version int            `json:"version"`
	Last    map[string]int `json:"last"`
}

// maxSeqFile bounds the counter file (one line per declarant, fund and month: tiny).
const maxSeqFile = 16 << 20

// Next allocates the next number for key and persists it before returning.
func (s FileSequence) Next(ctx context.Context, key SeqKey) (n int, err error) {
	if s.Path == "" {
		return 0, errors.New("pack: sequence: no counter file configured")
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return 0, fmt.Errorf("pack: sequence: %w", err)
	}
	timeout := s.LockTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	unlock, err := lockFile(lctx, s.Path+".lock")
	if err != nil {
		return 0, fmt.Errorf("pack: sequence: locking %s: %w", s.Path, err)
	}
	defer func() {
		if uerr := unlock(); err == nil && uerr != nil {
			err = fmt.Errorf("pack: sequence: unlocking: %w", uerr)
		}
	}()

	st, err := readSeqFile(s.Path)
	if err != nil {
		return 0, err
	}
	n = st.Last[key.String()] + 1
	if n > MaxSeq {
		return 0, fmt.Errorf("%w (%s)", ErrSeqExhausted, key)
	}
	st.Last[key.String()] = n
	if err := writeSeqFile(s.Path, st); err != nil {
		return 0, err
	}
	return n, nil
}

func readSeqFile(path string) (*seqFile, error) {
	st := &seqFile{Version: seqFileVersion, Last: map[string]int{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pack: sequence: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSeqFile+1))
	if err != nil {
		return nil, fmt.Errorf("pack: sequence: %w", err)
	}
	if len(data) > maxSeqFile {
		return nil, fmt.Errorf("pack: sequence: %s is larger than %d bytes", path, maxSeqFile)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(st); err != nil {
		// Refuse rather than restart from 1: restarting could repeat a number already sent.
		return nil, fmt.Errorf("pack: sequence: %s is damaged, fix or restore it from backup (sérült sorszámfájl): %w", path, err)
	}
	if st.Version != seqFileVersion {
		return nil, fmt.Errorf("pack: sequence: %s has version %d, this program reads %d", path, st.Version, seqFileVersion)
	}
	if st.Last == nil {
		st.Last = map[string]int{}
	}
	for k, v := range st.Last {
		if v < 0 || v > MaxSeq {
			return nil, fmt.Errorf("pack: sequence: %s: %s has %d, outside 0…%d", path, k, v, MaxSeq)
		}
	}
	return st, nil
}

func writeSeqFile(path string, st *seqFile) error {
	// encoding/json writes map keys sorted, so the file is stable and easy to read.
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("pack: sequence: %w", err)
	}
	data = append(data, '\n')
	return durable.WriteFile(path, data, 0o600)
}
