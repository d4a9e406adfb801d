package archive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrMalformed: stored bytes (a leaf encoding, a tree head) do not decode.
var ErrMalformed = errors.New("archive: hibás formátumú tárolt adat / malformed stored data")

// reader decodes the archive's length-prefixed big-endian encodings. Every read is bounds-checked;
// the first failure sticks, so a decoder reads on and checks err once.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (r *reader) take(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("%s: %d bytes needed, %d left", what, n, len(r.b))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8(what string) byte {
	b := r.take(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u32(what string) uint32 {
	b := r.take(4, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *reader) u64(what string) uint64 {
	b := r.take(8, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (r *reader) hash(what string) (h [32]byte) {
	copy(h[:], r.take(32, what))
	return h
}

// bytes reads a uint32 length and that many bytes, at most max.
func (r *reader) bytes(what string, max uint32) []byte {
	n := r.u32(what)
	if r.err == nil && n > max {
		r.fail("%s: %d bytes, at most %d allowed", what, n, max)
		return nil
	}
	return r.take(uint64(n), what)
}

// str reads a length-prefixed UTF-8 string of at most maxField bytes.
func (r *reader) str(what string) string {
	b := r.bytes(what, maxField)
	if r.err == nil && !utf8.Valid(b) {
		r.fail("%s: not UTF-8", what)
	}
	return string(b)
}

func (r *reader) end(what string) {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%s: %d trailing bytes", what, len(r.b))
	}
}

func appendBytes(b, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}
