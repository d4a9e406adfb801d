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

// TestPayloadSizes: payloads whose base64 ends just below, at and just above the sink's buffer sizes
// (4 KB doubled up to the 64 KB chunk, then chunks) decode to the same bytes, and a bad character
// after a buffer boundary is still refused.
func TestPayloadSizes(t *testing.T) {
	var sizes []int
	for _, chars := range []int{4, sinkFirst, 2 * sinkFirst, sinkChunk, 2 * sinkChunk} {
		for _, d := range []int{-8, -4, 0, 4, 8} {
			if n := (chars + d) / 4 * 3; n > 0 {
				sizes = append(sizes, n, n-1, n-2)
			}
		}
	}
	for _, n := range sizes {
		payload := pseudoPayload(n, 3)
		d := mustParse(t, written(t, packageSpec(payload)), ParseOptions{})
		got, err := d.Payload(0)
		d.Close()
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("%d bytes: %v (equal %v)", n, err, bytes.Equal(got, payload))
		}
	}
	// A '!' after the first buffer's worth of base64 is found.
	data := written(t, packageSpec(pseudoPayload(3*sinkFirst, 3)))
	i := bytes.Index(data, []byte("<ds:Object"))
	i += bytes.IndexByte(data[i:], '>') + 1 + sinkFirst + 10
	bad := bytes.Clone(data)
	bad[i] = '!'
	d := mustParse(t, bad, ParseOptions{})
	defer d.Close()
	if _, err := d.Payload(0); err == nil {
		t.Fatal("a bad character after the first buffer decoded")
	}
}
