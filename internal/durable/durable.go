// Package durable is the one way Tagdíj writes files that must survive a crash: content goes to a
// temporary file in the destination's directory, the file is fsynced, renamed over the destination,
// and the directory is fsynced so the rename itself is on disk. A reader therefore sees either the old
// file or the whole new one, never a torn one, and once Commit or WriteFile returns nil the new content
// survives a power cut or kill -9 (as far as the file system honours fsync).
//
// The receiver's "acknowledged means durable" rule (SPEC §9) rests on it, as do the sender's
// sequence counters and package rewrites.
package durable

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a file being written that appears at its destination only when committed. It is not safe
// for concurrent use.
type File struct {
	f    *os.File
	dir  string
	done bool
}

// Create starts a file in dir (which must be on the destination's file system: the destination's own
// directory, so the final rename is atomic). pattern is as for os.CreateTemp; perm is applied at once.
func Create(dir, pattern string, perm os.FileMode) (*File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("durable: %w", err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("durable: %w", err)
	}
	return &File{f: f, dir: dir}, nil
}

// Write appends p to the file.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// ReadFrom copies r into the file (io.Copy uses it).
func (f *File) ReadFrom(r io.Reader) (int64, error) { return io.Copy(f.f, r) }

// Name is the temporary file's path (it changes nothing until Commit).
func (f *File) Name() string { return f.f.Name() }

// Commit makes the content durable at path: fsync, close, rename over path, fsync of path's directory.
// On error the temporary file is removed and path is left as it was (unless the rename already
// happened and only the directory sync failed; the error says so).
func (f *File) Commit(path string) error {
	if f.done {
		return errors.New("durable: file already committed or aborted")
	}
	f.done = true
	err := f.f.Sync()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.f.Name())
		return fmt.Errorf("durable: writing %s: %w", path, err)
	}
	if err := os.Rename(f.f.Name(), path); err != nil {
		os.Remove(f.f.Name())
		return fmt.Errorf("durable: %w", err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("durable: %s renamed, directory not synced: %w", path, err)
	}
	return nil
}

// Abort discards the file. It is safe after Commit (then it does nothing).
func (f *File) Abort() {
	if f == nil || f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.f.Name())
}

// WriteFile replaces path with data durably, with permissions perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(filepath.Dir(path), "."+filepath.Base(path)+".tmp*", perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("durable: writing %s: %w", path, err)
	}
	return f.Commit(path)
}

// SyncDir fsyncs a directory, making renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
