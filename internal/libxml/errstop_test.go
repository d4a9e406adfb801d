package libxml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// errorStormDocs are documents whose first well-formedness error is followed by a great many more
// of the same kind. libxml2 2.9 goes on parsing after a fatal error and reports each later one; for
// these, every report copied everything parsed so far in the construct, which made refusing them
// quadratic in their size (the "--" comment took 2.7 s at 130 KB before parsing stopped at the first
// error). want is the first error, the one the caller must see.
func errorStormDocs(size int) map[string]struct {
	data []byte
	want string
} {
	return map[string]struct {
		data []byte
		want string
	}{
		"hyphens in a comment":            {[]byte("<r><!--" + strings.Repeat("--", size/2) + "--></r>"), "Double hyphen within comment"},
		"unterminated comment of hyphens": {[]byte("<r>" + strings.Repeat("-<!-", size/4) + "</r>"), "Double hyphen within comment"},
		"undefined prefixes":              {[]byte("<r>" + strings.Repeat("<p:x/>", size/6) + "</r>"), "Namespace prefix p on x is not defined"},
		"bare ampersands":                 {[]byte("<r>" + strings.Repeat("& ", size/2) + "</r>"), "xmlParseEntityRef: no name"},
		"'<' in attribute values":         {[]byte("<r>" + strings.Repeat(`<x a="<"/>`, size/10) + "</r>"), "Unescaped '<' not allowed"},
	}
}

// TestParseStopsAtFirstError: a document with a storm of errors after the first is refused with the
// first one, at its position, in time that does not grow with the storm.
func TestParseStopsAtFirstError(t *testing.T) {
	small, big := errorStormDocs(16<<10), errorStormDocs(1<<20)
	for name, doc := range big {
		t.Run(name, func(t *testing.T) {
			_, errSmall := Parse(small[name].data)
			start := time.Now()
			d, err := Parse(doc.data)
			elapsed := time.Since(start)
			if err == nil {
				d.Close()
				t.Fatal("accepted")
			}
			var xe, xeSmall *Error
			if !errors.As(err, &xe) || !errors.Is(err, ErrMalformed) || !strings.Contains(xe.Msg, doc.want) {
				t.Fatalf("got %v, want a malformed error %q", err, doc.want)
			}
			// The first error is reported wherever the document stops being well-formed, not at the
			// last one: the 16 KB and the 1 MB document report the same place.
			if !errors.As(errSmall, &xeSmall) || xeSmall.Line != xe.Line || xeSmall.Column != xe.Column {
				t.Fatalf("1 MB reports %v, 16 KB %v: not the first error", err, errSmall)
			}
			// Quadratic refusal took minutes at 1 MB; a linear one takes milliseconds. The bound
			// leaves room for -race and a loaded machine.
			if elapsed > 2*time.Second {
				t.Fatalf("refusing %d bytes took %v", len(doc.data), elapsed)
			}
			t.Logf("%d bytes refused in %v: %v", len(doc.data), elapsed, err)
		})
	}
}

// TestErrorInsideElementIsSafe: an error raised while libxml2 is building an element (an xml:id that
// is not an NCName, reported from xmlSAX2StartElementNs before the element's other attributes are
// copied from the input buffer) refuses the document with that error, and the attributes after it
// are still read from live memory. Stopping with xmlStopParser there freed the input buffer under
// them (valgrind: invalid reads in xmlSAX2AttributeNs); under valgrind this test shows none.
func TestErrorInsideElementIsSafe(t *testing.T) {
	for _, n := range []int{1, 3000, 300 << 10} {
		doc := []byte(`<r><e xml:id="1bad" b="` + strings.Repeat("v", n) + `" c="w"/><f/></r>`)
		d, err := Parse(doc)
		if err == nil {
			d.Close()
			t.Fatalf("%d: accepted", n)
		}
		var xe *Error
		if !errors.As(err, &xe) || xe.Kind != KindMalformed || !strings.Contains(xe.Msg, "xml:id") {
			t.Fatalf("%d: got %v, want the xml:id error", n, err)
		}
	}
}
