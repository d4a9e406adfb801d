package libxml

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// memDoc is a document with namespaces, comments, IDs and text, so that a parse + canonicalize cycle
// touches the dictionary, the namespace machinery and the subset visibility callback.
func memDoc(i int) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<r xmlns="urn:r" xmlns:p="urn:p" xml:lang="hu"><!-- %d -->
  <p:data Id="d%d" p:k="v">Kovács Ődön &amp; társa <x/><![CDATA[<cdata>]]></p:data>
  <sig Id="s"><v>%s</v></sig>
</r>`, i, i, strings.Repeat("z", i%64))
}

// cycle parses one document and canonicalizes it whole, as a subtree, and with an exclusion.
func cycle(t testing.TB, i int) {
	d, err := Parse(memDoc(i))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := d.IDs("Id")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CanonicalizeTo(io.Discard, Node{}, C14N{Method: C14N11, WithComments: true}); err != nil {
		t.Fatal(err)
	}
	if err := d.CanonicalizeTo(io.Discard, ids[fmt.Sprintf("d%d", i)], C14N{Method: ExcC14N10, InclusivePrefixes: []string{"#default", "p"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.CanonicalizeTo(io.Discard, Node{}, C14N{Method: C14N10}, ids["s"]); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// TestCloseReleasesCMemory runs 10,000 parse + canonicalize + Close cycles and checks that the C
// heap in use afterwards is within 256 KiB of its level after a warm-up: Close, not the garbage
// collector, frees each document. GC is not run between cycles, so cleanups cannot be what frees.
func TestCloseReleasesCMemory(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	for i := range 200 {
		cycle(t, i)
	}
	runtime.GC()
	base := cHeapInUse()
	for i := range n {
		cycle(t, i)
	}
	after := cHeapInUse()
	t.Logf("C heap: %d B after warm-up, %d B after %d cycles (%+d B)", base, after, n, int64(after)-int64(base))
	if after > base+256<<10 {
		t.Fatalf("C heap grew by %d bytes over %d cycles", after-base, n)
	}
}

// TestLeakDetectorDetects shows the measurement used above can fail: documents that are parsed and
// not closed (until their cleanup runs, which needs a GC) do raise cHeapInUse.
func TestLeakDetectorDetects(t *testing.T) {
	runtime.GC()
	base := cHeapInUse()
	var keep []*Document
	for i := range 200 {
		d, err := Parse(memDoc(i))
		if err != nil {
			t.Fatal(err)
		}
		keep = append(keep, d)
	}
	grown := cHeapInUse()
	if grown < base+64<<10 {
		t.Fatalf("200 open documents raised the C heap by only %d bytes: the detector is blind", int64(grown)-int64(base))
	}
	for _, d := range keep {
		d.Close()
	}
	if after := cHeapInUse(); after > base+64<<10 {
		t.Fatalf("after Close the C heap is still %d bytes above the base", after-base)
	}
}

// TestCleanupSafetyNet: a Document dropped without Close is freed by its cleanup once unreachable.
func TestCleanupSafetyNet(t *testing.T) {
	runtime.GC()
	base := cHeapInUse()
	for i := range 500 {
		if _, err := Parse(memDoc(i)); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		runtime.GC()
	}
	// Cleanups run on a separate goroutine; give them a moment.
	for range 50 {
		if cHeapInUse() < base+128<<10 {
			break
		}
		runtime.Gosched()
		runtime.GC()
	}
	if after := cHeapInUse(); after > base+128<<10 {
		t.Fatalf("unclosed documents not reclaimed: %d bytes above base", after-base)
	}
}

const memXSD = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:r" xmlns="urn:r" elementFormDefault="qualified">
  <xs:element name="r"><xs:complexType><xs:sequence>
    <xs:element name="n" type="xs:positiveInteger" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>`

// TestSchemaCyclesReleaseCMemory compiles, validates (valid and invalid documents, so that problem
// messages are allocated and freed) and closes schemas 10,000 times.
func TestSchemaCyclesReleaseCMemory(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	good := []byte(`<r xmlns="urn:r"><n>1</n><n>2</n></r>`)
	bad := []byte(`<r xmlns="urn:r"><n>0</n><n>x</n><m/></r>`)
	run := func() {
		s, err := CompileSchema("mem", []byte(memXSD))
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range [][]byte{good, bad} {
			d, err := Parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate(d)
			if (err == nil) != bytes.Equal(doc, good) {
				t.Fatalf("validation of %s: %v", doc, err)
			}
			d.Close()
		}
		s.Close()
		if _, err := CompileSchema("broken", []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element/></xs:schema>`)); err == nil {
			t.Fatal("broken schema compiled")
		}
	}
	for range 50 {
		run()
	}
	runtime.GC()
	base := cHeapInUse()
	for range n {
		run()
	}
	after := cHeapInUse()
	t.Logf("C heap: %d B after warm-up, %d B after %d schema cycles (%+d B)", base, after, n, int64(after)-int64(base))
	if after > base+256<<10 {
		t.Fatalf("C heap grew by %d bytes over %d schema cycles", after-base, n)
	}
}
