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
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
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

// TempPrefix starts the name of every temporary file or directory this package creates in a
// destination directory; a reader of that directory (a back-office import) skips such names.
const TempPrefix = "."

// DirFile is one file of a directory WriteDir publishes.
type DirFile struct {
	Name string // a base name: no separator, not "." or "..", not starting with TempPrefix
	Data []byte
}

// WriteDir publishes a new directory path holding files, all at once: the files are written and
// fsynced in a temporary directory beside path (named TempPrefix + base + ".tmp…"), that directory
// is fsynced and renamed to path, and path's parent is fsynced. A reader sees either no path or all
// of it. When path exists already nothing is written and the error wraps fs.ErrExist (a caller
// repeating a hand-off after a crash treats that as done). A crash may leave a temporary directory
// behind; RemoveStale clears such leftovers.
func WriteDir(path string, files []DirFile, perm os.FileMode) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("durable: %s: %w", path, fs.ErrExist)
	}
	parent, base := filepath.Dir(path), filepath.Base(path)
	for _, f := range files {
		if f.Name == "" || f.Name == "." || f.Name == ".." || strings.ContainsAny(f.Name, `/\`) || strings.HasPrefix(f.Name, TempPrefix) {
			return fmt.Errorf("durable: bad file name %q", f.Name)
		}
	}
	tmp, err := os.MkdirTemp(parent, TempPrefix+base+".tmp*")
	if err != nil {
		return fmt.Errorf("durable: %w", err)
	}
	fail := func(err error) error {
		os.RemoveAll(tmp)
		return fmt.Errorf("durable: %s: %w", path, err)
	}
	if err := os.Chmod(tmp, perm|(perm&0o444)>>2); err != nil { // a reader of the files may list the directory
		return fail(err)
	}
	for _, f := range files {
		if err := writeSynced(filepath.Join(tmp, f.Name), f.Data, perm); err != nil {
			return fail(err)
		}
	}
	if err := SyncDir(tmp); err != nil {
		return fail(err)
	}
	if _, err := os.Lstat(path); err == nil {
		return fail(fs.ErrExist)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := SyncDir(parent); err != nil {
		return fmt.Errorf("durable: %s renamed, directory not synced: %w", path, err)
	}
	return nil
}

func writeSynced(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// RemoveStale removes the temporary files and directories this package left in dir (names starting
// with TempPrefix and containing ".tmp") that were last modified before olderThan: what a crash in the
// middle of WriteFile, Commit or WriteDir leaves. It returns how many it removed.
func RemoveStale(dir string, olderThan time.Time) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("durable: %w", err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, TempPrefix) || !strings.Contains(name, ".tmp") {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(olderThan) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return n, fmt.Errorf("durable: %w", err)
		}
		n++
	}
	return n, nil
}
