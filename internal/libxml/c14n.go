package libxml

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Method is a canonicalization algorithm.
type Method int

const (
	C14N10    Method = iota // Canonical XML 1.0
	C14N11                  // Canonical XML 1.1
	ExcC14N10               // Exclusive XML Canonicalization 1.0
)

// Algorithm URIs of XMLDSig for the methods Tagdíj implements.
const (
	URIC14N10             = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	URIC14N10WithComments = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
	URIC14N11             = "http://www.w3.org/2006/12/xml-c14n11"
	URIC14N11WithComments = "http://www.w3.org/2006/12/xml-c14n11#WithComments"
	URIExcC14N            = "http://www.w3.org/2001/10/xml-exc-c14n#"
	URIExcC14NWithComment = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
)

// C14N selects a canonicalization: the method, whether comments are kept, and for exclusive
// canonicalization the InclusiveNamespaces PrefixList ("#default" names the default namespace).
type C14N struct {
	Method            Method
	WithComments      bool
	InclusivePrefixes []string
}

// ParseC14NURI maps an XMLDSig algorithm URI to a C14N; ok is false for anything else.
func ParseC14NURI(uri string) (c C14N, ok bool) {
	switch uri {
	case URIC14N10:
		return C14N{Method: C14N10}, true
	case URIC14N10WithComments:
		return C14N{Method: C14N10, WithComments: true}, true
	case URIC14N11:
		return C14N{Method: C14N11}, true
	case URIC14N11WithComments:
		return C14N{Method: C14N11, WithComments: true}, true
	case URIExcC14N:
		return C14N{Method: ExcC14N10}, true
	case URIExcC14NWithComment:
		return C14N{Method: ExcC14N10, WithComments: true}, true
	}
	return C14N{}, false
}

// URI is the XMLDSig algorithm identifier of c.
func (c C14N) URI() string {
	switch {
	case c.Method == C14N10 && !c.WithComments:
		return URIC14N10
	case c.Method == C14N10:
		return URIC14N10WithComments
	case c.Method == C14N11 && !c.WithComments:
		return URIC14N11
	case c.Method == C14N11:
		return URIC14N11WithComments
	case !c.WithComments:
		return URIExcC14N
	default:
		return URIExcC14NWithComment
	}
}

func (m Method) mode() (C.int, error) {
	switch m {
	case C14N10:
		return C.XML_C14N_1_0, nil
	case C14N11:
		return C.XML_C14N_1_1, nil
	case ExcC14N10:
		return C.XML_C14N_EXCLUSIVE_1_0, nil
	}
	return 0, fmt.Errorf("c14n: unknown method %d", m)
}

// ErrC14N reports that libxml2 could not canonicalize (for example a relative namespace URI, which the
// canonicalization recommendations leave undefined).
var ErrC14N = errors.New("c14n: canonicalization failed")

// Canonicalize returns the canonical form of the whole document.
func (d *Document) Canonicalize(c C14N) ([]byte, error) {
	var buf bytes.Buffer
	if err := d.CanonicalizeTo(&buf, Node{}, c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// CanonicalizeTo writes the canonical form of the subtree rooted at root to w, leaving out the subtrees
// rooted at exclude (the enveloped-signature transform). A zero root means the whole document. The
// subtree is canonicalized as a document subset in the sense of XMLDSig same-document references: the
// in-scope namespaces of root's ancestors (and, for C14N 1.0/1.1, their xml:* attributes) are rendered
// as the recommendations require. Output is streamed in chunks: the canonical form is never held whole.
func (d *Document) CanonicalizeTo(w io.Writer, root Node, c C14N, exclude ...Node) error {
	if d == nil || d.doc == nil {
		return errors.New("c14n: document is closed")
	}
	mode, err := c.Method.mode()
	if err != nil {
		return err
	}
	var prefixes **C.xmlChar
	if c.Method == ExcC14N10 && len(c.InclusivePrefixes) > 0 {
		arr := (*[1 << 20]*C.xmlChar)(C.calloc(C.size_t(len(c.InclusivePrefixes)+1), C.size_t(unsafe.Sizeof((*C.xmlChar)(nil)))))
		for i, p := range c.InclusivePrefixes {
			if p == "#default" {
				p = ""
			}
			arr[i] = (*C.xmlChar)(unsafe.Pointer(C.CString(p)))
		}
		defer func() {
			for i := range c.InclusivePrefixes {
				C.free(unsafe.Pointer(arr[i]))
			}
			C.free(unsafe.Pointer(arr))
		}()
		prefixes = &arr[0]
	}
	var excl *C.xmlNodePtr
	if len(exclude) > 0 {
		arr := (*[1 << 20]C.xmlNodePtr)(C.calloc(C.size_t(len(exclude)), C.size_t(unsafe.Sizeof(C.xmlNodePtr(nil)))))
		defer C.free(unsafe.Pointer(arr))
		for i, n := range exclude {
			if n.doc != d {
				return errors.New("c14n: excluded node from another document")
			}
			arr[i] = n.p
		}
		excl = &arr[0]
	}
	var rp *C.xmlNode
	if root.p != nil {
		if root.doc != d {
			return errors.New("c14n: node from another document")
		}
		rp = root.p
	}
	sink := &writeSink{w: w}
	h := cgo.NewHandle(sink)
	defer h.Delete()
	withComments := C.int(0)
	if c.WithComments {
		withComments = 1
	}
	rc := C.tg_c14n(d.doc, rp, excl, C.int(len(exclude)), mode, withComments, prefixes, C.uintptr_t(h))
	// Only d.doc went to C: without this the Document could become unreachable during the call and
	// its cleanup free the tree under xmlC14NExecute.
	runtime.KeepAlive(d)
	if sink.err != nil {
		return fmt.Errorf("c14n: writing output: %w", sink.err)
	}
	if rc != 0 {
		return ErrC14N
	}
	return nil
}

type writeSink struct {
	w   io.Writer
	err error
}

//export tgGoWrite
func tgGoWrite(h C.uintptr_t, buf *C.char, n C.int) (ret C.int) {
	s := cgo.Handle(h).Value().(*writeSink)
	if s.err != nil {
		return -1
	}
	// A panic must not unwind through libxml2's frames (its output buffer and c14n state would leak):
	// it becomes the write error.
	defer func() {
		if r := recover(); r != nil {
			s.err = fmt.Errorf("writer panicked: %v", r)
			ret = -1
		}
	}()
	if n <= 0 {
		return 0
	}
	if _, err := s.w.Write(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))); err != nil {
		s.err = err
		return -1
	}
	return n
}
