package libxml

/*
#cgo pkg-config: libxml-2.0
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

func init() {
	// libxml2 wants its global tables set up once before any thread parses; the entity loader that
	// refuses every external resource is installed here, once, and never changed.
	C.tg_init()
}

// Limits bound what Parse accepts. A zero field takes the value of DefaultLimits.
type Limits struct {
	MaxBytes     int64 // size of the input in bytes
	MaxDepth     int   // element nesting depth
	MaxNodes     int64 // elements, comments and processing instructions
	MaxAttrs     int   // attributes plus namespace declarations on one element
	MaxTextBytes int64 // bytes of character data (text and CDATA) between two markup nodes
	// MaxNamespaces bounds the namespace declarations of the whole document. libxml2 resolves every
	// prefix by a linear search of the declarations in scope, so many nested declarations followed
	// by many prefixed names cost far more CPU per byte than any real document (about 1.2 s per MB).
	MaxNamespaces int
	// MaxNamespacesInScope bounds the namespace declarations in scope at any element. Inclusive
	// canonicalization does work quadratic in that number for every element (15 s for 90 KB with
	// 504 in scope), whatever the document's total.
	MaxNamespacesInScope int
}

// DefaultLimits are safe for every document Tagdíj exchanges: a 100,000-member declaration, and a
// package carrying a 50 MB payload as base64.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:      256 << 20,
		MaxDepth:      64,
		MaxNodes:      8_000_000,
		MaxAttrs:      64,
		MaxTextBytes:  200 << 20,
		MaxNamespaces: 512,
		// e-akta dossiers use a handful (es, ds, xades, xades141, cs); XMLDSig samples a few more.
		MaxNamespacesInScope: 32,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = d.MaxNodes
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = d.MaxAttrs
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = d.MaxTextBytes
	}
	if l.MaxNamespaces <= 0 {
		l.MaxNamespaces = d.MaxNamespaces
	}
	if l.MaxNamespacesInScope <= 0 {
		l.MaxNamespacesInScope = d.MaxNamespacesInScope
	}
	return l
}

// Kind classifies why input was refused.
type Kind int

const (
	// KindMalformed: not well-formed XML, or an encoding we do not read.
	KindMalformed Kind = iota + 1
	// KindForbidden: a construct we never accept (DOCTYPE, entity declaration or reference, external load).
	KindForbidden
	// KindLimit: a Limits bound was exceeded.
	KindLimit
	// KindInternal: libxml2 failed for a reason unrelated to the input (out of memory).
	KindInternal
)

func (k Kind) String() string {
	switch k {
	case KindMalformed:
		return "malformed"
	case KindForbidden:
		return "forbidden"
	case KindLimit:
		return "limit"
	case KindInternal:
		return "internal"
	}
	return "unknown"
}

// Sentinel errors for errors.Is; every *Error matches exactly one of them.
var (
	ErrMalformed = errors.New("xml: malformed")
	ErrForbidden = errors.New("xml: forbidden construct")
	ErrLimit     = errors.New("xml: limit exceeded")
	ErrInternal  = errors.New("xml: internal error")
)

// Error is a refusal of input, with the position where it was detected (1-based; 0 when unknown).
type Error struct {
	Kind   Kind
	Line   int
	Column int
	Msg    string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("xml %s: line %d, column %d: %s", e.Kind, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("xml %s: %s", e.Kind, e.Msg)
}

// Is lets errors.Is match the sentinel of the error's Kind.
func (e *Error) Is(target error) bool {
	switch e.Kind {
	case KindMalformed:
		return target == ErrMalformed
	case KindForbidden:
		return target == ErrForbidden
	case KindLimit:
		return target == ErrLimit
	case KindInternal:
		return target == ErrInternal
	}
	return false
}

// Parser parses untrusted XML. The zero value uses DefaultLimits.
type Parser struct {
	Limits Limits
}

// Document is a parsed XML document held in C memory. Close it when done.
type Document struct {
	doc     *C.xmlDoc
	cleanup runtime.Cleanup
}

// Parse parses data with DefaultLimits.
func Parse(data []byte) (*Document, error) {
	return Parser{}.Parse(data)
}

// Parse parses data under p's limits. It guarantees that the returned Document came from well-formed
// UTF-8 or ISO-8859-2 input with no DOCTYPE, no entity other than the five predefined ones and character
// references, and no part beyond the limits; otherwise it returns an *Error and allocates nothing that
// outlives the call.
func (p Parser) Parse(data []byte) (*Document, error) {
	lim := p.Limits.withDefaults()
	if err := prescan(data, lim); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, &Error{Kind: KindMalformed, Msg: "empty input"}
	}
	st := (*C.tg_parse_state)(C.calloc(1, C.size_t(unsafe.Sizeof(C.tg_parse_state{}))))
	if st == nil {
		return nil, &Error{Kind: KindInternal, Msg: "out of memory"}
	}
	defer C.free(unsafe.Pointer(st))
	st.max_depth = C.int(lim.MaxDepth)
	st.max_attrs = C.int(lim.MaxAttrs)
	st.max_namespaces = C.long(lim.MaxNamespaces)
	st.max_ns_scope = C.int(lim.MaxNamespacesInScope)
	st.max_nodes = C.long(lim.MaxNodes)
	st.max_text = C.long(lim.MaxTextBytes)
	doc := C.tg_parse((*C.char)(unsafe.Pointer(&data[0])), C.int(len(data)), st)
	if doc == nil {
		kind := KindMalformed
		switch st.kind {
		case C.TG_FORBIDDEN:
			kind = KindForbidden
		case C.TG_LIMIT:
			kind = KindLimit
		case C.TG_INTERNAL:
			kind = KindInternal
		}
		return nil, &Error{Kind: kind, Line: int(st.line), Column: int(st.col), Msg: C.GoString(&st.msg[0])}
	}
	d := &Document{doc: doc}
	d.cleanup = runtime.AddCleanup(d, func(p C.xmlDocPtr) { C.xmlFreeDoc(p) }, doc)
	return d, nil
}

// Close releases the document's C memory. It is safe to call more than once; the Document and every
// Node from it must not be used afterwards.
func (d *Document) Close() {
	if d == nil || d.doc == nil {
		return
	}
	d.cleanup.Stop()
	C.xmlFreeDoc(d.doc)
	d.doc = nil
}

// cHeapInUse reports the bytes the C allocator has handed out; tests use it to prove Close frees.
func cHeapInUse() uint64 { return uint64(C.tg_heap_in_use()) }
