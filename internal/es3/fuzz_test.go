package es3

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
)

// FuzzParse feeds hostile bytes to Parse in both modes, seeded with built packages, receipts, a
// container and the conformance sample. It checks that Parse never panics, that every refusal is an
// *Error with one of the codes Parse documents, that an accepted dossier keeps the invariants the
// signature layer relies on (unique Ids resolving to the parsed nodes, one object per document, the
// profile's OBJREF naming es:Documents), and that Payload and Metadata never panic either.
func FuzzParse(f *testing.F) {
	pkg := written(f, packageSpec(pseudoPayload(200, 1)))
	rcpt := written(f, receiptSpec())
	f.Add(pkg, false)
	f.Add(rcpt, false)
	f.Add(written(f, containerSpec(pkg, rcpt)), false)
	f.Add(bytes.Replace(pkg, []byte("</es:Dossier>"), []byte(sig+"</es:Dossier>"), 1), false)
	dir := os.Getenv("TAGDIJ_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	if sample, err := os.ReadFile(filepath.Join(dir, "conformance", "es3-sample.es3")); err == nil {
		f.Add(sample, true)
	}
	set := testSchemas(f)
	allowed := map[errcode.Code]bool{errcode.T003: true, errcode.T005: true, errcode.T006: true, errcode.F011: true, errcode.R001: true}
	f.Fuzz(func(t *testing.T, data []byte, generic bool) {
		opts := ParseOptions{Limits: libxml.Limits{MaxBytes: 1 << 20}, MaxPayloadBytes: 1 << 20}
		if generic {
			opts.Mode = Generic
		}
		d, err := Parse(data, opts)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || !allowed[e.Code()] {
				t.Fatalf("refusal %T %v", err, err)
			}
			return
		}
		defer d.Close()
		if n, ok := d.Lookup(d.ProfileID); !ok || n != d.Profile {
			t.Fatal("ProfileID does not resolve to the profile")
		}
		if n, ok := d.Lookup(d.DocumentsID); !ok || n != d.DocumentsNode {
			t.Fatal("DocumentsID does not resolve to es:Documents")
		}
		if ref, _ := d.Profile.Attr("OBJREF"); ref != d.DocumentsID {
			t.Fatal("OBJREF differs from the Documents Id")
		}
		if len(d.Documents) == 0 {
			t.Fatal("accepted a dossier without documents")
		}
		for i, doc := range d.Documents {
			if n, ok := d.Lookup(doc.ObjectID); !ok || n != doc.Object || doc.Object.Parent() != doc.Node {
				t.Fatalf("document %d: object Id does not resolve to its own object", i)
			}
			if p, err := d.Payload(i); err == nil && len(p) == 0 {
				t.Fatalf("document %d: empty payload without error", i)
			}
		}
		_, _ = d.Metadata(set)
	})
}
