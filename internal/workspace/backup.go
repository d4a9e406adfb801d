package workspace

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/durable"
)

// ManifestName is the last entry of a backup: the list of every other entry with its size and SHA-256.
const ManifestName = "MANIFEST.json"

// BackupFormat identifies the backup format in the manifest.
const BackupFormat = "tagdij-sender-backup/1"

// Limits of what Restore reads from a backup (a backup is untrusted input: it may have been
// damaged or replaced on the way back).
const (
	MaxBackupEntries  = 1 << 20
	MaxManifestBytes  = 256 << 20
	maxBackupPathLen  = 1024
	backupTempPattern = ".backup-*"
)

// Manifest describes a backup.
type Manifest struct {
	Format        string          `json:"format"`
	Created       time.Time       `json:"created"`
	SchemaVersion int             `json:"schemaVersion"`
	Files         []ManifestEntry `json:"files"`
}

// ManifestEntry is one file of a backup.
type ManifestEntry struct {
	Path   string `json:"path"` // slash-separated, relative to the state directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// skipInBackup reports whether a state-directory file is left out of a backup: the live database
// files (the snapshot replaces them), uncommitted blob uploads and temporary files.
func skipInBackup(rel string) bool {
	base := path.Base(rel)
	switch {
	case rel == DBFile || rel == DBFile+"-wal" || rel == DBFile+"-shm" || rel == DBFile+"-journal":
		return true
	case strings.HasPrefix(rel, BlobDir+"/incoming/"):
		return true
	case strings.HasPrefix(base, ".") && (strings.HasSuffix(base, ".tmp") || strings.Contains(base, ".tmp")):
		return true
	case strings.HasPrefix(rel, ".backup-") || strings.HasPrefix(rel, ".restore-"):
		return true
	}
	return false
}

// Backup writes the whole workspace to the tar file out (which must not exist): a consistent snapshot
// of the database taken with VACUUM INTO, every other file of the state directory, and the manifest
// last. The file is written durably (internal/durable) and readable by the owner only (SEC-05).
func (w *Workspace) Backup(ctx context.Context, out string, now time.Time) (*Manifest, error) {
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("workspace: %s: már létezik, nem írom felül / already exists, not overwritten", out)
	}
	tmp, err := os.MkdirTemp(w.dir, backupTempPattern)
	if err != nil {
		return nil, fmt.Errorf("workspace: backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, DBFile)
	if _, err := w.db.ExecContext(ctx, `VACUUM INTO ?`, snap); err != nil {
		return nil, fmt.Errorf("workspace: backup: database snapshot: %w", err)
	}
	ver, err := w.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("workspace: backup: %w", err)
	}
	var files []string
	err = filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, rerr := filepath.Rel(w.dir, p)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != w.dir && (strings.HasPrefix(rel, ".backup-") || strings.HasPrefix(rel, ".restore-") || rel == BlobDir+"/incoming") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !skipInBackup(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: backup: %w", err)
	}
	sort.Strings(files)

	f, err := durable.Create(filepath.Dir(out), "."+filepath.Base(out)+".tmp*", 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	tw := tar.NewWriter(f)
	m := &Manifest{Format: BackupFormat, Created: now.UTC(), SchemaVersion: ver}
	add := func(rel, src string) error {
		e, err := addTarFile(tw, rel, src, now)
		if err != nil {
			return fmt.Errorf("workspace: backup: %s: %w", rel, err)
		}
		m.Files = append(m.Files, e)
		return nil
	}
	if err := add(DBFile, snap); err != nil {
		return nil, err
	}
	for _, rel := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := add(rel, filepath.Join(w.dir, filepath.FromSlash(rel))); err != nil {
			return nil, err
		}
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(body)), ModTime: now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := f.Commit(out); err != nil {
		return nil, err
	}
	return m, nil
}

// addTarFile copies src into the archive as rel, hashing what it writes: the manifest describes the
// bytes in the archive, whatever happens to the file meanwhile.
func addTarFile(tw *tar.Writer, rel, src string, now time.Time) (ManifestEntry, error) {
	in, err := os.Open(src)
	if err != nil {
		return ManifestEntry{}, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return ManifestEntry{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: rel, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return ManifestEntry{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(in, st.Size()))
	if err != nil {
		return ManifestEntry{}, err
	}
	if n != st.Size() {
		return ManifestEntry{}, fmt.Errorf("shrank while being read (%d of %d bytes)", n, st.Size())
	}
	return ManifestEntry{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ErrBadBackup wraps every reason a backup is refused by Restore.
var ErrBadBackup = errors.New("workspace: a mentés hibás / the backup is damaged")

// Restore restores the backup in into dir, which must not exist or be empty. Every entry is checked
// against the manifest (size and SHA-256; no entry missing, none extra, no path leaving the
// directory), every blob against its name, and the database with SQLite's integrity check, in a
// temporary directory beside dir; only a backup that passes everything is moved into place. Errors
// about the backup's content wrap ErrBadBackup.
func Restore(ctx context.Context, in, dir string) (*Manifest, error) {
	if es, err := os.ReadDir(dir); err == nil && len(es) > 0 {
		return nil, fmt.Errorf("workspace: %s: nem üres; üres vagy nem létező könyvtárba állítok vissza / not empty; restore goes into an empty or new directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".restore-*")
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer os.RemoveAll(tmp)
	m, err := extract(ctx, in, tmp)
	if err != nil {
		return nil, err
	}
	db, err := openDB(ctx, filepath.Join(tmp, DBFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	var check string
	err = db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check)
	db.Close()
	if err != nil || check != "ok" {
		return nil, fmt.Errorf("%w: database integrity check: %v %s", ErrBadBackup, err, check)
	}
	// One rename puts the whole restored tree in place, so a crash leaves either nothing or all of it
	// (moving entry by entry could leave blobs without their database). dir was checked to be empty
	// or absent; an empty directory is removed first (os.Remove refuses one that filled meanwhile).
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("workspace: restore: %w", err)
	}
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("workspace: restore: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("workspace: restore: %w", err)
	}
	if err := durable.SyncDir(parent); err != nil {
		return nil, err
	}
	return m, nil
}

// extract unpacks the archive into dir, checking it against its manifest.
func extract(ctx context.Context, in, dir string) (*Manifest, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	got := map[string]ManifestEntry{}
	var m *Manifest
	dirs := map[string]bool{dir: true}
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if n > MaxBackupEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrBadBackup, MaxBackupEntries)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBackup, err)
		}
		if m != nil {
			return nil, fmt.Errorf("%w: entry %q after the manifest", ErrBadBackup, hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%w: %q is not a regular file", ErrBadBackup, hdr.Name)
		}
		if hdr.Name == ManifestName {
			if hdr.Size > MaxManifestBytes {
				return nil, fmt.Errorf("%w: manifest of %d bytes", ErrBadBackup, hdr.Size)
			}
			body, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadBackup, err)
			}
			m = new(Manifest)
			if err := json.Unmarshal(body, m); err != nil || m.Format != BackupFormat {
				return nil, fmt.Errorf("%w: manifest unreadable or of another format (%v)", ErrBadBackup, err)
			}
			continue
		}
		rel, ok := safeRel(hdr.Name)
		if !ok {
			return nil, fmt.Errorf("%w: unsafe path %.100q", ErrBadBackup, hdr.Name)
		}
		if _, dup := got[rel]; dup {
			return nil, fmt.Errorf("%w: %q twice", ErrBadBackup, rel)
		}
		if hdr.Size < 0 || hdr.Size > MaxBlobBytes {
			return nil, fmt.Errorf("%w: %q: %d bytes", ErrBadBackup, rel, hdr.Size)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if d := filepath.Dir(dst); !dirs[d] {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return nil, err
			}
			dirs[d] = true
		}
		e, err := writeEntry(dst, rel, tr, hdr.Size)
		if err != nil {
			return nil, err
		}
		got[rel] = e
	}
	if m == nil {
		return nil, fmt.Errorf("%w: no %s (incomplete backup)", ErrBadBackup, ManifestName)
	}
	listed := map[string]bool{}
	for _, e := range m.Files {
		g, ok := got[e.Path]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: %q is in the manifest but not in the backup", ErrBadBackup, e.Path)
		case g.Size != e.Size || g.SHA256 != e.SHA256:
			return nil, fmt.Errorf("%w: %q: content differs from the manifest (SHA-256 %s, manifest %s)", ErrBadBackup, e.Path, g.SHA256, e.SHA256)
		}
		listed[e.Path] = true
		// A blob's name is its SHA-256.
		if strings.HasPrefix(e.Path, BlobDir+"/sha256/") && path.Base(e.Path) != e.SHA256 {
			return nil, fmt.Errorf("%w: blob %q does not hash to its name", ErrBadBackup, e.Path)
		}
	}
	for p := range got {
		if !listed[p] {
			return nil, fmt.Errorf("%w: %q is not in the manifest", ErrBadBackup, p)
		}
	}
	if !listed[DBFile] {
		return nil, fmt.Errorf("%w: no database", ErrBadBackup)
	}
	for d := range dirs {
		if err := durable.SyncDir(d); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// safeRel accepts a slash-separated relative path that stays inside the directory.
func safeRel(name string) (string, bool) {
	if name == "" || len(name) > maxBackupPathLen || strings.ContainsAny(name, "\\\x00") || path.IsAbs(name) {
		return "", false
	}
	c := path.Clean(name)
	if c != name || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}

func writeEntry(dst, rel string, r io.Reader, size int64) (ManifestEntry, error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return ManifestEntry{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, size))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ManifestEntry{}, fmt.Errorf("%w: %q: %w", ErrBadBackup, rel, err)
	}
	if n != size {
		return ManifestEntry{}, fmt.Errorf("%w: %q truncated", ErrBadBackup, rel)
	}
	return ManifestEntry{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
