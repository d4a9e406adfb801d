// Package payload compresses and decompresses the declaration inside a Tagdíj package (SPEC §2,
// SND-06, SND-18, PRC-07): a ZIP archive holding exactly one entry, bevallas.xml.
//
// Zip writes what the sender sends: a deflate-compressed entry. Unzip and Open read what arrives, which
// is hostile input decompressed only after the package was decrypted (PRC-07): they accept exactly one
// regular, unencrypted entry named bevallas.xml compressed with store, deflate or bzip2 (ZIP method 12,
// the 2006 text's "BWT"), and also a bare bzip2 stream. Decompression-bomb defences count the bytes
// actually produced (header sizes are never trusted) against an absolute ceiling and a compression-ratio
// ceiling measured against the real size of the archive. Every refusal is an *Error carrying D002.
package payload

import (
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/tagdij/tagdij/internal/errcode"
)

// EntryName is the one entry a Tagdíj payload archive holds (SPEC §2).
const EntryName = "bevallas.xml"

// ZIP compression methods this package reads. Method 12 is bzip2 in the ZIP application note (APPNOTE
// 4.4.5); archive/zip knows only Store and Deflate.
const (
	methodStore   = zip.Store
	methodDeflate = zip.Deflate
	methodBzip2   = 12
)

// Default limits. 512 MiB is about ten times the largest expected declaration (100,000 items are about
// 40 MB of XML). Declaration XML compresses 5–30:1 with deflate and somewhat better with bzip2; 200:1 is
// far beyond that yet cuts a classic bomb (1000:1 for zeros with deflate) off early. Small outputs are
// never refused for their ratio: a tiny archive of a short document can legitimately exceed it.
const (
	DefaultMaxSize    = 512 << 20
	DefaultMaxRatio   = 200
	DefaultRatioFloor = 1 << 20
)

// Limits bound decompression. Zero fields take the defaults above.
type Limits struct {
	// MaxSize is the most uncompressed bytes accepted.
	MaxSize int64
	// MaxRatio is the most uncompressed bytes accepted per byte of the whole archive (or bzip2 stream),
	// once the output exceeds RatioFloor.
	MaxRatio int64
	// RatioFloor is the output size up to which the ratio is not checked.
	RatioFloor int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = DefaultRatioFloor
	}
	return l
}

// budget is the most bytes the output of an archive of size bytes may have under l.
func (l Limits) budget(size int64) int64 {
	b := l.RatioFloor
	if size > 0 && size <= (1<<62)/l.MaxRatio && size*l.MaxRatio > b {
		b = size * l.MaxRatio
	} else if size > (1<<62)/l.MaxRatio {
		b = 1 << 62
	}
	if b > l.MaxSize {
		b = l.MaxSize
	}
	return b
}

// Error is why a payload was refused. Its Code is always D002; Reason is a short English phrase safe to
// show and log (it never contains payload bytes).
type Error struct {
	Reason string
	Err    error // underlying cause, if any (archive/zip, compress/* or one of the sentinels below)
}

// Sentinels for errors.Is on an *Error.
var (
	// ErrBomb: the output exceeded MaxSize or the ratio limit.
	ErrBomb = errors.New("payload: decompression limit exceeded")
	// ErrLayout: the archive does not hold exactly one regular entry named bevallas.xml.
	ErrLayout = errors.New("payload: archive layout not accepted")
	// ErrMethod: the entry is encrypted or uses a compression method other than store, deflate, bzip2.
	ErrMethod = errors.New("payload: compression method or flag not accepted")
	// ErrCorrupt: the data is not a ZIP archive or bzip2 stream, is truncated, or fails its checksum.
	ErrCorrupt = errors.New("payload: corrupt or truncated compressed data")
)

func (e *Error) Error() string {
	if e.Err != nil {
		return "payload: " + e.Reason + ": " + e.Err.Error()
	}
	return "payload: " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// Code is the SPEC §7 code of every payload refusal.
func (e *Error) Code() errcode.Code { return errcode.D002 }

// ErrFinding is the refusal as a report finding, D002 with Reason as detail (errcode.Carrier, for
// errcode.Of).
func (e *Error) ErrFinding() errcode.Finding { return errcode.New(errcode.D002, EntryName, e.Reason) }

// Finding is ErrFinding, for a caller that already holds the *Error.
func (e *Error) Finding() errcode.Finding { return e.ErrFinding() }

func fail(sentinel error, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// failWrap keeps both the sentinel and the underlying cause reachable through errors.Is/As.
func failWrap(sentinel, cause error, reason string) *Error {
	return &Error{Reason: reason, Err: fmt.Errorf("%w: %w", sentinel, cause)}
}

// Zip writes to w a ZIP archive with exactly one deflate-compressed entry called name, whose content is
// read from r until EOF. The entry carries no timestamp, so the same content always gives the same
// bytes. Tagdíj packages use EntryName; name must be a plain file name (no directories, no "..").
// Zip streams: it holds only deflate's window, never the whole content.
func Zip(w io.Writer, name string, r io.Reader) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("payload: zip: %w", err)
	}
	zw := zip.NewWriter(w)
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return fmt.Errorf("payload: zip: %w", err)
	}
	if _, err := io.Copy(fw, r); err != nil {
		return fmt.Errorf("payload: zip: writing %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("payload: zip: %w", err)
	}
	return nil
}

func checkName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("entry name %q not accepted", name)
	case strings.ContainsAny(name, "/\\:\x00"):
		return fmt.Errorf("entry name %q must be a plain file name", name)
	}
	return nil
}

// Unzip decompresses a received payload of size bytes read through r (a ZIP archive, or a bare bzip2
// stream beginning "BZh") and returns the content of its single bevallas.xml entry. It allocates the
// output once (sized from the header only within the limits) and never holds more than limits allow.
func Unzip(r io.ReaderAt, size int64, limits Limits) ([]byte, error) {
	rc, hint, err := open(r, size, limits)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Open is the streaming form of Unzip: the returned reader yields the entry's content and fails with an
// *Error as soon as a limit is exceeded, the data proves corrupt, or (at the end) a checksum differs.
// A caller must read it to io.EOF before trusting the content, and must Close it.
func Open(r io.ReaderAt, size int64, limits Limits) (io.ReadCloser, error) {
	rc, _, err := open(r, size, limits)
	return rc, err
}

func open(r io.ReaderAt, size int64, limits Limits) (io.ReadCloser, int64, error) {
	if size < 4 {
		return nil, 0, fail(ErrCorrupt, "too short to be a ZIP archive or bzip2 stream")
	}
	limits = limits.withDefaults()
	budget := limits.budget(size)
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, 0, failWrap(ErrCorrupt, err, "cannot read")
	}
	switch {
	case string(magic[:3]) == "BZh":
		br := bzip2.NewReader(io.NewSectionReader(r, 0, size))
		return &guard{r: br, budget: budget, limits: limits, size: size}, 0, nil
	case string(magic[:]) == "PK\x03\x04":
	case string(magic[:]) == "PK\x05\x06":
		return nil, 0, fail(ErrLayout, "empty ZIP archive")
	default:
		return nil, 0, fail(ErrCorrupt, "neither a ZIP archive nor a bzip2 stream")
	}

	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, 0, failWrap(ErrCorrupt, err, "not a readable ZIP archive")
	}
	if zr == nil {
		return nil, 0, failWrap(ErrCorrupt, err, "not a readable ZIP archive")
	}
	if len(zr.File) != 1 {
		return nil, 0, fail(ErrLayout, "the archive holds %d entries, exactly one (%s) is accepted", len(zr.File), EntryName)
	}
	f := zr.File[0]
	if err := checkEntry(f); err != nil {
		return nil, 0, err
	}
	// Per-archive registration: the global zip.RegisterDecompressor would be package-level mutable state.
	zr.RegisterDecompressor(methodBzip2, func(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) })
	rc, err := f.Open()
	if err != nil {
		return nil, 0, failWrap(ErrCorrupt, err, "cannot open "+EntryName)
	}
	hint := int64(0)
	if f.UncompressedSize64 <= uint64(budget) {
		hint = int64(f.UncompressedSize64) // only a capacity hint; the guard counts the real bytes
	}
	return &guard{r: rc, c: rc, budget: budget, limits: limits, size: size, crc: f.CRC32, checkCRC: true}, hint, nil
}

func checkEntry(f *zip.File) error {
	name := f.Name
	switch {
	case strings.Contains(name, "..") || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\:\x00"):
		return fail(ErrLayout, "unsafe entry name %q", name)
	case strings.HasSuffix(name, "/") || f.Mode().IsDir():
		return fail(ErrLayout, "the entry %q is a directory", name)
	case name != EntryName:
		return fail(ErrLayout, "the entry is named %q, %s is required", name, EntryName)
	case !f.Mode().IsRegular():
		return fail(ErrLayout, "the entry is not a regular file (mode %v)", f.Mode())
	case f.Flags&0x1 != 0 || f.Flags&0x40 != 0:
		return fail(ErrMethod, "the entry is encrypted")
	}
	switch f.Method {
	case methodStore, methodDeflate, methodBzip2:
	default:
		return fail(ErrMethod, "compression method %d is not accepted (store, deflate and bzip2 are)", f.Method)
	}
	return nil
}

// guard enforces the limits on the bytes actually produced and, for ZIP entries, checks the CRC-32
// itself (archive/zip does too, but only when the header carries one; a zero CRC in both headers with
// no data descriptor would otherwise pass unchecked).
type guard struct {
	r        io.Reader
	c        io.Closer
	n        int64
	budget   int64
	limits   Limits
	size     int64
	crc      uint32
	sum      uint32
	checkCRC bool
	err      error
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	// Never ask for more than one byte past the budget: a bomb is detected without decompressing
	// beyond it.
	if room := g.budget - g.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.checkCRC {
		g.sum = crc32.Update(g.sum, crc32.IEEETable, p[:n])
	}
	if g.n > g.budget {
		if g.budget == g.limits.MaxSize {
			g.err = fail(ErrBomb, "uncompressed size exceeds %d bytes", g.limits.MaxSize)
		} else {
			g.err = fail(ErrBomb, "compression ratio exceeds %d:1 (archive of %d bytes)", g.limits.MaxRatio, g.size)
		}
		return 0, g.err
	}
	switch {
	case err == io.EOF:
		if g.checkCRC && g.sum != g.crc {
			g.err = failWrap(ErrCorrupt, zip.ErrChecksum, "CRC-32 mismatch")
			return n, g.err
		}
		g.err = io.EOF
		return n, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		g.err = failWrap(ErrCorrupt, err, "truncated")
		return n, g.err
	case err != nil:
		var se bzip2.StructuralError
		if errors.As(err, &se) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) {
			g.err = failWrap(ErrCorrupt, err, "corrupt compressed data")
		} else {
			g.err = failWrap(ErrCorrupt, err, "decompression failed")
		}
		return n, g.err
	}
	return n, nil
}

func (g *guard) Close() error {
	if g.c != nil {
		return g.c.Close()
	}
	return nil
}
