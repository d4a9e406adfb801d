// Package boundedio reads files whose size must be bounded because they come from outside: a file
// larger than the limit is refused without reading more than limit+1 bytes of it, and a regular
// file is read into one buffer of its own size instead of a growing one (io.ReadAll would double
// its buffer up to twice the file's size on the way).
package boundedio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is matched (errors.Is) by the error ReadFile returns for a file over the limit.
var ErrTooLarge = errors.New("file too large")

// ReadFile returns the contents of path if it holds at most limit bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, limit)
}

// Read reads f (named name in errors) to its end if it holds at most limit bytes. For a regular
// file the buffer is sized from Stat; the size is only a hint, the limit is enforced on the bytes read.
func Read(f *os.File, name string, limit int64) ([]byte, error) {
	size := int64(512)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > limit {
			return nil, fmt.Errorf("%s: %d bytes, more than %d: %w", name, st.Size(), limit, ErrTooLarge)
		}
		size = st.Size() + 1 // +1 so that reading to EOF needs no growth
	}
	buf := make([]byte, 0, size)
	for {
		if int64(len(buf)) > limit {
			return nil, fmt.Errorf("%s: more than %d bytes: %w", name, limit, ErrTooLarge)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow (the file changed since Stat, or it is not regular)
		}
		n, err := f.Read(buf[len(buf):min(int64(cap(buf)), limit+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if int64(len(buf)) > limit {
				return nil, fmt.Errorf("%s: more than %d bytes: %w", name, limit, ErrTooLarge)
			}
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
	}
}
