package libxml

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// EventKind is the kind of one Event of a streamed document.
type EventKind uint8

// The events of a record. A document is StartElement, its Attributes, then either its CharData (an
// element without child elements whose text is not empty) or its children's events, then EndElement.
const (
	StartElement EventKind = C.TG_EV_START
	Attribute    EventKind = C.TG_EV_ATTR
	CharData     EventKind = C.TG_EV_TEXT
	EndElement   EventKind = C.TG_EV_END
)

// Event is one step of a streamed document.
type Event struct {
	Kind EventKind
	// Space and Local name the element (StartElement) or attribute (Attribute); Space is the namespace
	// URI, "" for none. The strings are shared by every event with the same name.
	Space, Local string
	// Line is the line of the element's start tag (StartElement only).
	Line int
	// Value is the attribute's value or the element's character data (text and CDATA sections, in
	// document order, comments left out), exactly as an element's AppendText would read it. It points
	// into the record: valid until Close, and must not be modified.
	Value []byte
}

// Events is the record of a document that ValidateStream read: its elements, attributes and the
// character data of elements without child elements, in document order, without a tree. It lives in
// C memory; Close releases it. Not safe for concurrent use.
type Events struct {
	// Truncated reports that the record of an invalid document ended early (too many names).
	Truncated bool

	ev      *C.tg_events
	data    []byte // view of ev.buf
	pos     int
	names   []name
	cleanup runtime.Cleanup
}

type name struct{ space, local string }

// ErrEventRecord: the record of a valid document could not be read back (more distinct names or
// deeper nesting than the recorder keeps, or a malformed record). It is never a verdict on the input.
var ErrEventRecord = errors.New("xml: event record")

// ValidateStream parses data under p's limits (the same pre-scan and the same refusals as Parse) and
// validates it against s while it is read, without building a tree: memory stays about the input plus
// the record, whatever the document's size, where Parse's tree is about ten times the input for a
// declaration. It returns the record of the document, or a *Error when the parse was refused (no
// record), or a *ValidationError together with the record of the whole document (from which the caller
// may read the document element's name and check what the schema left to it, not decode a model).
// The caller closes the record in both cases. A record that would define more than 256 distinct names
// ends early and makes ValidateStream return ErrEventRecord for an otherwise valid document (the
// schemas this serves declare a few dozen).
//
// Validation is libxml2's streaming XSD validator, the one `xmllint --sax --schema` runs; it checks
// what tree validation checks, identity constraints (xs:unique, xs:key) included. Problem lines are
// where the parser was when it found the problem: the start tag's line for an element or attribute,
// the end tag's line for missing content.
func (p Parser) ValidateStream(data []byte, s *Schema) (*Events, error) {
	if s == nil || s.s == nil {
		return nil, errors.New("xsd: schema is closed")
	}
	lim := p.Limits.withDefaults()
	if err := prescan(data, lim); err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, &Error{Kind: KindMalformed, Msg: "empty input"}
	}
	if len(data) > math.MaxInt32 {
		return nil, &Error{Kind: KindLimit, Msg: fmt.Sprintf("input is %d bytes, more than libxml2 reads", len(data))}
	}
	st := newParseState(lim, len(data))
	ev := (*C.tg_events)(C.calloc(1, C.size_t(unsafe.Sizeof(C.tg_events{}))))
	if st == nil || ev == nil {
		C.free(unsafe.Pointer(st))
		C.free(unsafe.Pointer(ev))
		return nil, &Error{Kind: KindInternal, Msg: "out of memory"}
	}
	defer C.free(unsafe.Pointer(st))
	var probs C.tg_problems
	rc := C.tg_stream((*C.char)(unsafe.Pointer(&data[0])), C.int(len(data)), st, s.s, &probs, ev)
	runtime.KeepAlive(s)
	runtime.KeepAlive(data)
	problems, dropped := collect(&probs)
	C.tg_problems_free(&probs)
	if rc < 0 {
		C.tg_events_free(ev)
		C.free(unsafe.Pointer(ev))
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
	e := &Events{ev: ev}
	if ev.len > 0 {
		e.data = unsafe.Slice((*byte)(unsafe.Pointer(ev.buf)), int(ev.len))
	}
	e.cleanup = runtime.AddCleanup(e, func(p *C.tg_events) { C.tg_events_free(p); C.free(unsafe.Pointer(p)) }, ev)
	if rc != 0 {
		if len(problems) == 0 && dropped == 0 {
			problems = []Problem{{Msg: "internal validation failure"}}
		}
		e.Truncated = ev.overflow != 0
		return e, &ValidationError{Schema: s.name, Problems: problems, Dropped: dropped}
	}
	if ev.overflow != 0 {
		e.Close()
		return nil, fmt.Errorf("%w: more than %d distinct names or nesting beyond the depth limit", ErrEventRecord, C.TG_EV_MAX_NAMES)
	}
	return e, nil
}

// Next returns the next event, and false at the end of the record. A malformed record (which the
// recorder never writes) ends it with an ErrEventRecord from Err.
func (e *Events) Next() (Event, bool) {
	for e != nil && e.ev != nil && e.pos < len(e.data) {
		kind := e.data[e.pos]
		e.pos++
		switch kind {
		case C.TG_EV_NAME:
			space, ok1 := e.bytes()
			local, ok2 := e.bytes()
			if !ok1 || !ok2 {
				return e.corrupt()
			}
			e.names = append(e.names, name{string(space), string(local)})
		case C.TG_EV_START:
			n, ok1 := e.name()
			line, ok2 := e.uvarint()
			if !ok1 || !ok2 {
				return e.corrupt()
			}
			return Event{Kind: StartElement, Space: n.space, Local: n.local, Line: int(min(line, math.MaxInt32))}, true
		case C.TG_EV_ATTR:
			n, ok1 := e.name()
			v, ok2 := e.bytes()
			if !ok1 || !ok2 {
				return e.corrupt()
			}
			return Event{Kind: Attribute, Space: n.space, Local: n.local, Value: v}, true
		case C.TG_EV_TEXT:
			v, ok := e.bytes()
			if !ok {
				return e.corrupt()
			}
			return Event{Kind: CharData, Value: v}, true
		case C.TG_EV_END:
			return Event{Kind: EndElement}, true
		default:
			return e.corrupt()
		}
	}
	return Event{}, false
}

// Err reports a malformed record found by Next.
func (e *Events) Err() error {
	if e != nil && e.pos > len(e.data) {
		return fmt.Errorf("%w: malformed", ErrEventRecord)
	}
	return nil
}

func (e *Events) corrupt() (Event, bool) {
	e.pos = len(e.data) + 1
	return Event{}, false
}

func (e *Events) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(e.data[e.pos:])
	if n <= 0 {
		return 0, false
	}
	e.pos += n
	return v, true
}

func (e *Events) bytes() ([]byte, bool) {
	n, ok := e.uvarint()
	if !ok || n > uint64(len(e.data)-e.pos) {
		return nil, false
	}
	b := e.data[e.pos : e.pos+int(n) : e.pos+int(n)]
	e.pos += int(n)
	return b, true
}

func (e *Events) name() (name, bool) {
	i, ok := e.uvarint()
	if !ok || i >= uint64(len(e.names)) {
		return name{}, false
	}
	return e.names[i], true
}

// Rewind makes Next start again from the first event.
func (e *Events) Rewind() {
	if e == nil || e.pos > len(e.data) {
		return
	}
	e.pos = 0
	e.names = e.names[:0]
}

// Len is the size of the record in bytes (for memory accounting).
func (e *Events) Len() int { return len(e.data) }

// Close releases the record; every Value read from it becomes invalid. Safe to call more than once.
func (e *Events) Close() {
	if e == nil || e.ev == nil {
		return
	}
	e.cleanup.Stop()
	C.tg_events_free(e.ev)
	C.free(unsafe.Pointer(e.ev))
	e.ev = nil
	e.data = nil
}
