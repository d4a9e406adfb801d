// Package siglog is the signature log of SIG-12, SIG-15 and RCV-13: one JSON object per line (log/slog's
// JSON handler) for every signature a program creates or verifies, appended to FileName in a
// program's state directory. The records themselves are written by the packages that sign and verify
// (xades, pack) through the *slog.Logger Open returns; this package owns where the log lives, how it
// is opened and how durable it is.
//
// # Durability
//
// The file is opened with O_APPEND and every record is a single write, so records from concurrent
// processes never interleave within a line. Records are not synced one by one: the closer Open returns
// syncs the file to stable storage before closing it, so the records of a command that ended normally
// survive a crash that follows. A crash while a command runs can lose that command's records (and
// leave a torn last line), never the records of commands that completed before it.
package siglog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// FileName is the name of the signature log inside a state directory.
const FileName = "signatures.log"

// Open opens (creating when needed, mode 0600, the directory mode 0700) dir/FileName for appending and
// returns a JSON logger whose every record names program, and the closer that syncs and closes the
// file. The caller closes it once the logger is no longer used.
func Open(dir, program string) (*slog.Logger, io.Closer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("signature log: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("signature log: %w", err)
	}
	return slog.New(slog.NewJSONHandler(f, nil)).With("program", program), syncCloser{f}, nil
}

// syncCloser syncs the log file before closing it.
type syncCloser struct{ f *os.File }

func (c syncCloser) Close() error {
	serr := c.f.Sync()
	if cerr := c.f.Close(); cerr != nil {
		return fmt.Errorf("signature log: %w", errors.Join(serr, cerr))
	}
	if serr != nil {
		return fmt.Errorf("signature log: %w", serr)
	}
	return nil
}
