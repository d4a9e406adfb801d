package libxml

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// Schema is a compiled W3C XML Schema. It is immutable after compilation and safe for concurrent use.
type Schema struct {
	name    string
	s       *C.xmlSchema
	cleanup runtime.Cleanup
}

// Problem is one schema-validity error.
type Problem struct {
	Line int
	Msg  string
}

// ValidationError lists the problems found (at most 64; Dropped counts the rest).
type ValidationError struct {
	Schema   string
	Problems []Problem
	Dropped  int
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "xsd %s: %d problem(s)", e.Schema, len(e.Problems)+e.Dropped)
	for i, p := range e.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; line %d: %s", p.Line, p.Msg)
	}
	return b.String()
}

func collect(p *C.tg_problems) ([]Problem, int) {
	out := make([]Problem, 0, int(p.count))
	for i := 0; i < int(p.count); i++ {
		out = append(out, Problem{Line: int(p.line[i]), Msg: C.GoString(p.msg[i])})
	}
	return out, int(p.dropped)
}

// CompileSchema compiles a self-contained XSD held in memory. Imports and includes cannot be loaded
// (every external resource is refused), so schemas must not use them.
func CompileSchema(name string, xsd []byte) (*Schema, error) {
	if len(xsd) == 0 {
		return nil, errors.New("xsd: empty schema")
	}
	var p C.tg_problems
	s := C.tg_schema_compile((*C.char)(unsafe.Pointer(&xsd[0])), C.int(len(xsd)), &p)
	probs, dropped := collect(&p)
	C.tg_problems_free(&p)
	if s == nil {
		return nil, &ValidationError{Schema: name, Problems: probs, Dropped: dropped}
	}
	sc := &Schema{name: name, s: s}
	sc.cleanup = runtime.AddCleanup(sc, func(p C.xmlSchemaPtr) { C.xmlSchemaFree(p) }, s)
	return sc, nil
}

// Name is the name the schema was compiled under.
func (s *Schema) Name() string { return s.name }

// Validate checks d against the schema; a *ValidationError lists what is wrong.
func (s *Schema) Validate(d *Document) error {
	if d == nil || d.doc == nil {
		return errors.New("xsd: document is closed")
	}
	var p C.tg_problems
	rc := C.tg_schema_validate(s.s, d.doc, &p)
	probs, dropped := collect(&p)
	C.tg_problems_free(&p)
	runtime.KeepAlive(s)
	runtime.KeepAlive(d) // only d.doc went to C; the cleanup must not free it during validation
	if rc == 0 {
		return nil
	}
	if rc < 0 && len(probs) == 0 {
		return fmt.Errorf("xsd %s: internal validation failure", s.name)
	}
	return &ValidationError{Schema: s.name, Problems: probs, Dropped: dropped}
}

// Close frees the compiled schema. Safe to call more than once.
func (s *Schema) Close() {
	if s == nil || s.s == nil {
		return
	}
	s.cleanup.Stop()
	C.xmlSchemaFree(s.s)
	s.s = nil
}
