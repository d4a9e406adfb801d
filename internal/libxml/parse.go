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
	"math"
	"runtime"
	"unsafe"
)

func init() {
	// libxml2 wants its global tables set up once before any thread parses; the entity loader that
	// refuses every external resource is installed here, once, and never changed.
	C.tg_init()
}

// Limits bound what Parse accepts. A zero field takes the value of DefaultLimits.
//
// # Memory
//
// A parsed Document lives in C memory, and its size depends on the document's shape far more than on
// its length: libxml2 2.9 allocates a 120-byte node (128 bytes with glibc's chunk header) for every
// element, text node, CDATA section, comment and processing instruction, and for every attribute an
// attribute node (112 B) plus a text node for its value, so that a 4-byte "<e/>" costs 128 bytes and a
// 5-byte ` a=""` 240 (measured with cHeapInUse: empty elements 32× their input, attributes 48×, text
// nodes between empty elements 51×; see TestFloodMemory). The tree-node budget (BaseTreeNodes plus one
// node per BytesPerTreeNode bytes of input) is what bounds that for every shape; MaxNodes,
// MaxTotalAttrs and MaxNames bound single kinds of node on top of it.
type Limits struct {
	MaxBytes     int64 // size of the input in bytes
	MaxDepth     int   // element nesting depth
	MaxNodes     int64 // elements, comments and processing instructions
	MaxAttrs     int   // attributes plus namespace declarations on one element (not xmlns:xml, which libxml2 drops)
	MaxTextBytes int64 // bytes of character data (text and CDATA) between two markup nodes
	// MaxNamespaces bounds the namespace declarations of the whole document. libxml2 resolves every
	// prefix by a linear search of the declarations in scope, so many nested declarations followed
	// by many prefixed names cost far more CPU per byte than any real document (about 1.2 s per MB).
	MaxNamespaces int
	// MaxNamespacesInScope bounds the namespace declarations in scope at any element. Inclusive
	// canonicalization does work quadratic in that number for every element (15 s for 90 KB with
	// 504 in scope), whatever the document's total.
	MaxNamespacesInScope int
	// MaxTotalAttrs bounds the attributes plus namespace declarations of the whole document (the
	// xmlns:xml declaration, which libxml2 drops, is not counted). Each costs 240 bytes of C heap.
	MaxTotalAttrs int64
	// BaseTreeNodes and BytesPerTreeNode make the tree-node budget: a document of n bytes may have at
	// most BaseTreeNodes + n/BytesPerTreeNode tree nodes, where an element or a text node counts one,
	// and an attribute (or namespace declaration), a comment, a processing instruction or a CDATA
	// section two (the node plus the text node or copy of the text that libxml2 allocates with it).
	// Text is counted as libxml2 builds it: one node per run of character data inside the root
	// element, whatever references it contains; adjacent CDATA sections share one node. Every tree
	// node so counted costs at most 128 bytes of C heap, so the tree of any accepted document
	// stays below 128·BaseTreeNodes + (128/BytesPerTreeNode)·n bytes, plus the copies of texts,
	// comments and attribute values (measured: at most 3 times their own bytes, while parsing).
	BaseTreeNodes    int64
	BytesPerTreeNode int64
	// MaxNames bounds the distinct strings in libxml2's dictionary: element, attribute and prefix
	// names, processing-instruction targets and namespace URIs (which the pre-scan counts too), and
	// also xml:id values and white-space text runs of 16 to 59 bytes, which libxml2 interns as well
	// (counted only by the callbacks). libxml2 2.9's dictionary stops growing its hash table at 4,608 buckets,
	// so interning n distinct names costs time quadratic in n: 1,000,000 distinct element names in
	// 10 MB took 25 s to parse (xmllint alike), 100,000 took 0.2 s.
	MaxNames int
}

// DefaultLimits are safe for every document Tagdíj exchanges: a 100,000-member declaration, and a
// package carrying a 50 MB payload as base64 (TestRealDocumentsWithinDefaults).
//
// The tree-node budget is chosen from what a declaration needs and what a node costs. A 100,000-member
// declaration as Tagdíj writes it (38.4 MB) has 2.93 million tree nodes, one per 13.1 bytes; its tree
// takes 377 MB of C heap, 9.8 times its size (xmllint --noout peaks at 373 MB on it). Indented with
// tabs or a single space it has one node per 12.2 or 11.6 bytes. One node per 12 bytes plus a base of
// 512 Ki nodes admits all three with 12 to 22% to spare, and bounds what any other shape can cost: at
// most 128/12 ≈ 10.7 bytes of tree per input byte plus 64 MiB (against 32 to 51 for the floods of
// issue 7). Measured in a fresh process, input and Go runtime included, the densest shapes the
// defaults accept peak at 12.1 to 13.5 times their size at 30 MB, the declaration at 11
// (TestFloodMemory, BenchmarkFlood). The goal of that issue, 8 times plus 64 MB, is out of reach of
// any budget that admits the declaration, whose tree alone is 9.8 times its size: one node per 16
// bytes (8×) leaves it 0.03% to spare and refuses the tab-indented one.
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
		// A declaration has one attribute per member: 670,000 at MaxBytes.
		MaxTotalAttrs:    2_000_000,
		BaseTreeNodes:    512 << 10, // 64 MiB of nodes
		BytesPerTreeNode: 12,
		// Tagdíj's vocabularies (declaration, receipt, XAdES, policy) use a few hundred names.
		MaxNames: 10_000,
	}
}

// VerifierLimits are the limits for signed documents the verifiers face — e-akta dossiers (packages,
// receipts, containers, exports) and foreign XMLDSig/XAdES documents — where the receiver and the
// auditor must bound memory by the input whatever its shape: DefaultLimits with one tree node per 24
// bytes instead of 12, so the tree stays below 128/24 ≈ 5.3 bytes per input byte plus 64 MiB and a
// whole parse, input and copies of texts included, below 8 times the input plus 64 MiB
// (TestFloodMemory's verifier cases). A dossier has a few hundred nodes whatever its payload; a
// declaration (one node per 13 bytes) is not a signed document and is parsed under DefaultLimits.
func VerifierLimits() Limits {
	l := DefaultLimits()
	l.BytesPerTreeNode = 24
	return l
}

// ForSigned returns l with VerifierLimits' tree-node density where l leaves it zero: what a caller that
// parses signed documents passes, so that raising another limit (MaxBytes for a large payload) keeps
// the verifier's memory bound.
func (l Limits) ForSigned() Limits {
	if l.BytesPerTreeNode <= 0 {
		l.BytesPerTreeNode = VerifierLimits().BytesPerTreeNode
	}
	return l
}

// treeBudget is the number of tree nodes a document of size bytes may have.
// newParseState allocates (C memory, freed by the caller) the shim's parse state carrying lim's limits
// for an input of size bytes: the one place the tree parser and the streaming validator get them from.
// Nil when out of memory.
func newParseState(lim Limits, size int) *C.tg_parse_state {
	st := (*C.tg_parse_state)(C.calloc(1, C.size_t(unsafe.Sizeof(C.tg_parse_state{}))))
	if st == nil {
		return nil
	}
	st.max_depth = C.int(lim.MaxDepth)
	st.max_attrs = C.int(lim.MaxAttrs)
	st.max_namespaces = C.long(lim.MaxNamespaces)
	st.max_ns_scope = C.int(lim.MaxNamespacesInScope)
	st.max_nodes = C.long(lim.MaxNodes)
	st.max_text = C.long(lim.MaxTextBytes)
	st.max_total_attrs = C.long(lim.MaxTotalAttrs)
	st.max_tree = C.long(lim.treeBudget(size))
	st.max_names = C.long(lim.MaxNames)
	return st
}

func (l Limits) treeBudget(size int) int64 {
	return l.BaseTreeNodes + int64(size)/l.BytesPerTreeNode
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
	if l.MaxTotalAttrs <= 0 {
		l.MaxTotalAttrs = d.MaxTotalAttrs
	}
	if l.BaseTreeNodes <= 0 {
		l.BaseTreeNodes = d.BaseTreeNodes
	}
	if l.BytesPerTreeNode <= 0 {
		l.BytesPerTreeNode = d.BytesPerTreeNode
	}
	if l.MaxNames <= 0 {
		l.MaxNames = d.MaxNames
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
// references, no NUL byte, nothing but white space, comments and processing instructions after the
// root element, and no part beyond the limits; otherwise it returns an *Error and allocates nothing that
// outlives the call.
func (p Parser) Parse(data []byte) (*Document, error) {
	d, _, err := p.parse(data, true)
	return d, err
}

// parse is Parse, also returning what libxml2's callbacks counted (in the pre-scan's units; depth is
// not tracked). With prescanFirst false it skips the pre-scan and leaves every check to libxml2 and
// the callbacks in shim.c: tests compare the two layers that way. MaxBytes is checked either way.
func (p Parser) parse(data []byte, prescanFirst bool) (*Document, scanStats, error) {
	lim := p.Limits.withDefaults()
	if prescanFirst {
		if err := prescan(data, lim); err != nil {
			return nil, scanStats{}, err
		}
	} else if int64(len(data)) > lim.MaxBytes {
		return nil, scanStats{}, &Error{Kind: KindLimit, Msg: fmt.Sprintf("input is %d bytes, more than the limit of %d", len(data), lim.MaxBytes)}
	}
	if len(data) == 0 {
		return nil, scanStats{}, &Error{Kind: KindMalformed, Msg: "empty input"}
	}
	if len(data) > math.MaxInt32 {
		return nil, scanStats{}, &Error{Kind: KindLimit, Msg: fmt.Sprintf("input is %d bytes, more than libxml2 reads", len(data))}
	}
	st := newParseState(lim, len(data))
	if st == nil {
		return nil, scanStats{}, &Error{Kind: KindInternal, Msg: "out of memory"}
	}
	defer C.free(unsafe.Pointer(st))
	doc := C.tg_parse((*C.char)(unsafe.Pointer(&data[0])), C.int(len(data)), st)
	counts := scanStats{nodes: int64(st.nodes), attrs: int64(st.total_attrs), tree: int64(st.tree), names: int(st.names),
		namespaces: int64(st.namespaces)}
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
		return nil, counts, &Error{Kind: kind, Line: int(st.line), Column: int(st.col), Msg: C.GoString(&st.msg[0])}
	}
	d := &Document{doc: doc}
	d.cleanup = runtime.AddCleanup(d, func(p C.xmlDocPtr) { C.xmlFreeDoc(p) }, doc)
	return d, counts, nil
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
