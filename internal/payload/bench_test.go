package payload

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/synth"
)

// declaration100k is a realistic 100,000-member declaration (about 40 MB of XML).
func declaration100k(b *testing.B) []byte {
	b.Helper()
	d := synth.Generate(synth.Options{Members: 100_000, Seed: 1, Period: declaration.Period{Year: 2026, Month: time.October}})
	x, err := d.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return x
}

// BenchmarkZip100k streams the declaration into a ZIP; x-ratio is its compression ratio.
func BenchmarkZip100k(b *testing.B) {
	x := declaration100k(b)
	b.SetBytes(int64(len(x)))
	b.ReportAllocs()
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := Zip(&out, EntryName, bytes.NewReader(x)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(x))/float64(out.Len()), "x-ratio")
}

// BenchmarkUnzip100k decompresses it into one buffer (Unzip) and streaming (Open).
func BenchmarkUnzip100k(b *testing.B) {
	x := declaration100k(b)
	var z bytes.Buffer
	if err := Zip(&z, EntryName, bytes.NewReader(x)); err != nil {
		b.Fatal(err)
	}
	zr := bytes.NewReader(z.Bytes())
	b.Run("Unzip", func(b *testing.B) {
		b.SetBytes(int64(len(x)))
		b.ReportAllocs()
		for b.Loop() {
			got, err := Unzip(zr, int64(z.Len()), Limits{})
			if err != nil || len(got) != len(x) {
				b.Fatal(err)
			}
		}
	})
	b.Run("Open", func(b *testing.B) {
		b.SetBytes(int64(len(x)))
		b.ReportAllocs()
		for b.Loop() {
			rc, err := Open(zr, int64(z.Len()), Limits{})
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, rc); err != nil || n != int64(len(x)) {
				b.Fatal(err)
			}
			rc.Close()
		}
	})
}
