package container

import (
	"testing"

	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/schema"
)

// FuzzDecodeMeta: kontener.xml comes from containers others built (the auditor verifies them). Any
// bytes must end in a Parsed or an error, never a panic; what decodes must have passed kontener.xsd.
func FuzzDecodeMeta(f *testing.F) {
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		f.Fatal(err)
	}
	defer set.Close()
	for _, c := range []*Contents{contents(report.TotalFailed, 2), contents(report.TotalPassed, 0)} {
		_, data, err := Build(c, set)
		if err != nil {
			f.Fatal(err)
		}
		d, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
		if err != nil {
			f.Fatal(err)
		}
		meta, err := d.Payload(len(d.Documents) - 1)
		d.Close()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(meta)
	}
	f.Add([]byte(`<Kontener/>`))
	f.Fuzz(func(t *testing.T, meta []byte) {
		p, err := decodeMeta(meta, set, "TBK_x.es3")
		if err == nil && p == nil {
			t.Fatal("no error and no result")
		}
		if err == nil {
			if verr := set.ValidateBytes(schema.Container, meta); verr != nil {
				t.Fatalf("decoded without passing kontener.xsd: %v", verr)
			}
		}
	})
}
