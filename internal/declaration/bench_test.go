package declaration_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/schema"
)

// The 100,000-member document is built only when a benchmark asks for it, so `go test` stays fast.
var big = sync.OnceValues(func() ([]byte, error) {
	d := synth.Generate(synth.Options{Members: 100_000, Seed: 1, Period: declaration.Period{Year: 2026, Month: time.October}})
	return d.Marshal()
})

// BenchmarkValidate100k measures what the processor does with a decrypted declaration: hardened parse,
// XSD validation, decoding into the model, and the content rules.
func BenchmarkValidate100k(b *testing.B) {
	data, err := big()
	if err != nil {
		b.Fatal(err)
	}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	ctx := declaration.CheckContext{Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	b.ResetTimer()
	for b.Loop() {
		d, err := declaration.Parse(data, set)
		if err != nil {
			b.Fatal(err)
		}
		if f := declaration.Check(d, ctx); len(f) != 0 {
			b.Fatalf("findings: %v", f[0])
		}
	}
	b.ReportMetric(float64(len(data))/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s")
}

// BenchmarkCheck100k isolates the content rules.
func BenchmarkCheck100k(b *testing.B) {
	d := synth.Generate(synth.Options{Members: 100_000, Seed: 1, Period: declaration.Period{Year: 2026, Month: time.October}})
	ctx := declaration.CheckContext{Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	for b.Loop() {
		declaration.Check(d, ctx)
	}
}
