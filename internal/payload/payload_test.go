package payload

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tagdij/tagdij/internal/errcode"
)

// sampleXML is declaration-like text: repetitive enough to compress like the real thing.
func sampleXML(items int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Bevallas xmlns=\"urn:x-mnyp:tagdijbevallas:1\"><Tetelek>")
	for i := 0; i < items; i++ {
		fmt.Fprintf(&b, "<Tetel><Nev>Kovács Árvíztűrő %d</Nev><TAJ>%09d</TAJ><Alap>%d</Alap><Tagdij>%d</Tagdij></Tetel>\n",
			i, 100000000+i*7919%899999999, 150000+i*37%500000, (150000+i*37%500000)*8/100)
	}
	b.WriteString("</Tetelek></Bevallas>\n")
	return b.Bytes()
}

func mustZip(t testing.TB, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Zip(&buf, EntryName, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unzipBytes(b []byte, l Limits) ([]byte, error) {
	return Unzip(bytes.NewReader(b), int64(len(b)), l)
}

// rawEntry is one entry written with zip.Writer.CreateRaw, so tests can build archives archive/zip
// would refuse to produce (lying sizes, foreign methods, flags).
type rawEntry struct {
	hdr  zip.FileHeader
	data []byte // already compressed
}

func rawZip(t testing.TB, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflateBytes(t testing.TB, p []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write(p)
	fw.Close()
	return buf.Bytes()
}

func stored(name string, p []byte) rawEntry {
	return rawEntry{hdr: zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(p),
		CompressedSize64: uint64(len(p)), UncompressedSize64: uint64(len(p))}, data: p}
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2000} {
		content := sampleXML(n)
		z := mustZip(t, content)
		got, err := unzipBytes(z, Limits{})
		if err != nil {
			t.Fatalf("%d items: %v", n, err)
		}
		if !bytes.Equal(got, content) {
			t.Fatalf("%d items: content differs after round trip", n)
		}
		zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		if err != nil || len(zr.File) != 1 || zr.File[0].Name != EntryName || zr.File[0].Method != zip.Deflate {
			t.Fatalf("%d items: want one deflate entry %s, got %v %+v", n, EntryName, err, zr)
		}
		if n > 100 && len(z) >= len(content) {
			t.Errorf("%d items: archive (%d) not smaller than content (%d)", n, len(z), len(content))
		}
	}
	// Deterministic: same content, same bytes.
	if a, b := mustZip(t, sampleXML(10)), mustZip(t, sampleXML(10)); !bytes.Equal(a, b) {
		t.Error("Zip is not deterministic")
	}
}

func TestZipRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "..", "../bevallas.xml", "a/bevallas.xml", `a\b.xml`, "c:x"} {
		if err := Zip(io.Discard, name, strings.NewReader("x")); err == nil {
			t.Errorf("Zip accepted entry name %q", name)
		}
	}
}

func TestZipReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	err := Zip(io.Discard, EntryName, io.MultiReader(strings.NewReader("abc"), errReader{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("want the reader's error, got %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestUnzipRefusals(t *testing.T) {
	good := sampleXML(50)
	goodZip := mustZip(t, good)
	encrypted := stored(EntryName, good)
	encrypted.hdr.Flags = 0x1
	method99 := stored(EntryName, good)
	method99.hdr.Method = 99
	badCRC := stored(EntryName, good)
	badCRC.hdr.CRC32 ^= 0xdeadbeef
	zeroCRC := stored(EntryName, good)
	zeroCRC.hdr.CRC32 = 0
	dir := stored(EntryName+"/", nil)
	lyingSmall := rawEntry{hdr: zip.FileHeader{Name: EntryName, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(good),
		UncompressedSize64: 10}, data: deflateBytes(t, good)}
	lyingSmall.hdr.CompressedSize64 = uint64(len(lyingSmall.data))
	lyingHuge := lyingSmall
	lyingHuge.hdr.UncompressedSize64 = 1 << 40

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"two entries", rawZip(t, stored(EntryName, good), stored("masik.xml", good)), ErrLayout},
		{"same name twice", rawZip(t, stored(EntryName, good), stored(EntryName, good)), ErrLayout},
		{"wrong name", rawZip(t, stored("bevallas.txt", good)), ErrLayout},
		{"upper case name", rawZip(t, stored("BEVALLAS.XML", good)), ErrLayout},
		{"dot-dot name", rawZip(t, stored("../bevallas.xml", good)), ErrLayout},
		{"absolute name", rawZip(t, stored("/bevallas.xml", good)), ErrLayout},
		{"backslash name", rawZip(t, stored(`x\bevallas.xml`, good)), ErrLayout},
		{"subdirectory", rawZip(t, stored("a/bevallas.xml", good)), ErrLayout},
		{"directory entry", rawZip(t, dir), ErrLayout},
		{"encrypted entry", rawZip(t, encrypted), ErrMethod},
		{"unknown method", rawZip(t, method99), ErrMethod},
		{"CRC mismatch", rawZip(t, badCRC), ErrCorrupt},
		{"zero CRC in header", rawZip(t, zeroCRC), ErrCorrupt},
		{"header claims fewer bytes", rawZip(t, lyingSmall), ErrCorrupt},
		{"header claims 1 TiB", rawZip(t, lyingHuge), ErrCorrupt},
		{"empty archive", rawZip(t), ErrLayout},
		{"truncated archive", goodZip[:len(goodZip)/2], ErrCorrupt},
		{"truncated central directory", goodZip[:len(goodZip)-10], ErrCorrupt},
		{"not an archive", []byte("<?xml version='1.0'?><Bevallas/>"), ErrCorrupt},
		{"too short", []byte("PK"), ErrCorrupt},
		{"empty", nil, ErrCorrupt},
		{"truncated bzip2", []byte("BZh91AY&SY"), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := unzipBytes(c.data, Limits{})
			if err == nil {
				t.Fatalf("accepted (%d bytes out)", len(got))
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Code() != errcode.D002 || pe.Finding().Code != errcode.D002 {
				t.Fatalf("want an *Error with D002, got %T %v", err, err)
			}
		})
	}
	// The control: the same builders produce an accepted archive when nothing is wrong.
	if got, err := unzipBytes(rawZip(t, stored(EntryName, good)), Limits{}); err != nil || !bytes.Equal(got, good) {
		t.Fatalf("control archive refused: %v", err)
	}
}

// zeroZip builds a deflate ZIP of n zero bytes without holding them: a classic bomb.
func zeroZip(t testing.TB, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed) // fast; still ~1000:1 on zeros
	})
	w, err := zw.CreateHeader(&zip.FileHeader{Name: EntryName, Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(chunk)) {
		if left < int64(len(chunk)) {
			chunk = chunk[:left]
		}
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1 GiB bomb")
	}
	bomb := zeroZip(t, 1<<30)
	t.Logf("1 GiB of zeros deflates to %d bytes (%.0f:1)", len(bomb), float64(1<<30)/float64(len(bomb)))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := unzipBytes(bomb, Limits{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBomb) {
		t.Fatalf("1 GiB bomb: want ErrBomb, got %v", err)
	}
	// The ratio limit (200 × ~1 MB) stops it long before MaxSize; allocation stays near that.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 600<<20 {
		t.Errorf("refusing the bomb allocated %d MiB", alloc>>20)
	}
	// With the ratio check effectively off, the absolute ceiling still stops it.
	_, err = unzipBytes(bomb, Limits{MaxSize: 64 << 20, MaxRatio: 1 << 20})
	if !errors.Is(err, ErrBomb) || !strings.Contains(err.Error(), "size exceeds") {
		t.Fatalf("MaxSize: want a size ErrBomb, got %v", err)
	}
	// And both limits are real limits, not blanket refusals: generous ones let it through (streamed, so
	// nothing near 1 GiB is held).
	rc, err := Open(bytes.NewReader(bomb), int64(len(bomb)), Limits{MaxSize: 2 << 30, MaxRatio: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n != 1<<30 {
		t.Fatalf("generous limits: %d bytes, %v", n, err)
	}
}

func TestRatioLimit(t *testing.T) {
	// 8 MiB of zeros: over the 1 MiB floor and far over 200:1, under MaxSize.
	z := zeroZip(t, 8<<20)
	if _, err := unzipBytes(z, Limits{}); !errors.Is(err, ErrBomb) || !strings.Contains(err.Error(), "ratio") {
		t.Fatalf("want a ratio ErrBomb, got %v", err)
	}
	// Under the floor the ratio is not checked: 512 KiB of zeros is fine.
	small := zeroZip(t, 512<<10)
	if got, err := unzipBytes(small, Limits{}); err != nil || len(got) != 512<<10 {
		t.Fatalf("small zero file under the floor: %d, %v", len(got), err)
	}
	// Raising MaxRatio admits the 8 MiB file.
	if got, err := unzipBytes(z, Limits{MaxRatio: 100000}); err != nil || len(got) != 8<<20 {
		t.Fatalf("raised ratio: %d, %v", len(got), err)
	}
	// A realistic declaration stays well within the default ratio.
	x := sampleXML(20000)
	zx := mustZip(t, x)
	t.Logf("sample declaration %d bytes → %d bytes (%.1f:1)", len(x), len(zx), float64(len(x))/float64(len(zx)))
	if _, err := unzipBytes(zx, Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestUnzipDoesNotTrustHeaderSize(t *testing.T) {
	// A tiny archive whose headers claim 1 TiB must not make Unzip allocate for it.
	good := sampleXML(5)
	e := stored(EntryName, good)
	e.hdr.UncompressedSize64 = 1 << 40
	data := rawZip(t, e)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := unzipBytes(data, Limits{})
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("accepted a lying header")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("allocated %d MiB for a %d-byte archive", alloc>>20, len(data))
	}
}

func bzip2CLI(t *testing.T, p []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("bzip2"); err != nil {
		t.Skip("bzip2 CLI not installed (apt-get install bzip2): cannot produce bzip2 test data")
	}
	cmd := exec.Command("bzip2", "-c", "-9")
	cmd.Stdin = bytes.NewReader(p)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBzip2(t *testing.T) {
	content := sampleXML(3000)
	bz := bzip2CLI(t, content)

	t.Run("raw stream", func(t *testing.T) {
		got, err := unzipBytes(bz, Limits{})
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("raw bzip2: %v", err)
		}
		bad := bytes.Clone(bz)
		bad[len(bad)/2] ^= 0x55
		if _, err := unzipBytes(bad, Limits{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("corrupted raw bzip2: want ErrCorrupt, got %v", err)
		}
		if _, err := unzipBytes(bz[:len(bz)-20], Limits{}); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated raw bzip2: want ErrCorrupt, got %v", err)
		}
	})
	t.Run("zip method 12", func(t *testing.T) {
		e := rawEntry{hdr: zip.FileHeader{Name: EntryName, Method: methodBzip2, CRC32: crc32.ChecksumIEEE(content),
			CompressedSize64: uint64(len(bz)), UncompressedSize64: uint64(len(content))}, data: bz}
		got, err := unzipBytes(rawZip(t, e), Limits{})
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("bzip2 entry: %v", err)
		}
		// The decompressor is registered per archive only: the global registry stays untouched, so a
		// plain archive/zip reader still refuses method 12.
		z := rawZip(t, e)
		zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		if _, err := zr.File[0].Open(); !errors.Is(err, zip.ErrAlgorithm) {
			t.Fatalf("global zip registry was modified: %v", err)
		}
	})
	t.Run("bzip2 bomb", func(t *testing.T) {
		zeros := bzip2CLI(t, make([]byte, 32<<20))
		if _, err := unzipBytes(zeros, Limits{}); !errors.Is(err, ErrBomb) {
			t.Fatalf("want ErrBomb, got %v", err)
		}
	})
	t.Run("zip CLI -Z bzip2", func(t *testing.T) {
		if _, err := exec.LookPath("zip"); err != nil {
			t.Skip("zip CLI not installed")
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, EntryName), content, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("zip", "-q", "-Z", "bzip2", "out.zip", EntryName)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("zip without bzip2 support: %v %s", err, out)
		}
		z, _ := os.ReadFile(filepath.Join(dir, "out.zip"))
		got, err := unzipBytes(z, Limits{})
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("zip -Z bzip2 output: %v", err)
		}
	})
}

// TestUnzipCLIReadsOurs: what we send opens with Info-ZIP's unzip, with a matching CRC.
func TestUnzipCLIReadsOurs(t *testing.T) {
	if _, err := exec.LookPath("unzip"); err != nil {
		t.Skip("unzip CLI not installed")
	}
	content := sampleXML(500)
	f := filepath.Join(t.TempDir(), "p.zip")
	if err := os.WriteFile(f, mustZip(t, content), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unzip", "-tq", f).CombinedOutput(); err != nil {
		t.Fatalf("unzip -t: %v %s", err, out)
	}
	out, err := exec.Command("unzip", "-p", f, EntryName).Output()
	if err != nil || !bytes.Equal(out, content) {
		t.Fatalf("unzip -p: %v", err)
	}
}

func TestOpenStreams(t *testing.T) {
	content := sampleXML(100)
	z := mustZip(t, content)
	rc, err := Open(bytes.NewReader(z), int64(len(z)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(io.LimitReader(rc, 100))
	if err != nil || !bytes.Equal(got, content[:100]) {
		t.Fatalf("first 100 bytes: %v", err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(append(got, rest...), content) {
		t.Fatalf("rest: %v", err)
	}
}

func FuzzUnzip(f *testing.F) {
	f.Add(mustZip(f, sampleXML(3)))
	f.Add(rawZip(f, stored(EntryName, []byte("<a/>"))))
	f.Add(rawZip(f, stored(EntryName, []byte("<a/>")), stored("b", nil)))
	f.Add([]byte("BZh91AY&SY"))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := Limits{MaxSize: 1 << 20, MaxRatio: 50, RatioFloor: 4096}
		out, err := unzipBytes(data, l)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Code() != errcode.D002 {
				t.Fatalf("error without D002: %T %v", err, err)
			}
			return
		}
		if int64(len(out)) > l.budget(int64(len(data))) {
			t.Fatalf("%d bytes out of %d in, beyond the limits", len(out), len(data))
		}
	})
}
