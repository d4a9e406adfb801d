package es3

import (
	"bytes"
	"errors"
	"testing"

	"github.com/beevik/etree"
)

// plainWriter hides bytes.Buffer's type: Write takes its buffered path.
type plainWriter struct{ b bytes.Buffer }

func (w *plainWriter) Write(p []byte) (int, error) { return w.b.Write(p) }

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestWriteInMemory: into a bytes.Buffer Write writes the same bytes as through any other writer,
// with and without an XML declaration in the document; a failing writer is an error.
func TestWriteInMemory(t *testing.T) {
	doc, err := Build(packageSpec(pseudoPayload(70000, 5))) // more than the 64 KB buffer
	if err != nil {
		t.Fatal(err)
	}
	bare := etree.NewDocument()
	bare.CreateElement("x").SetText("a&b")
	for name, d := range map[string]*etree.Document{"package": doc, "no declaration": bare} {
		var mem bytes.Buffer
		var other plainWriter
		if err := Write(&mem, d); err != nil {
			t.Fatal(err)
		}
		if err := Write(&other, d); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mem.Bytes(), other.b.Bytes()) || !bytes.HasPrefix(mem.Bytes(), []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
			t.Fatalf("%s: in memory %d bytes, through a writer %d bytes, or no declaration", name, mem.Len(), other.b.Len())
		}
	}
	if err := Write(failingWriter{}, doc); err == nil {
		t.Fatal("a failing writer wrote")
	}
}
