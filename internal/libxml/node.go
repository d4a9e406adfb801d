package libxml

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Node is an element of a Document. The zero Node stands for "no node" (the whole document where a
// root is expected). A Node is valid only while its Document is open.
type Node struct {
	doc *Document
	p   *C.xmlNode
}

// IsZero reports whether n is the zero Node.
func (n Node) IsZero() bool { return n.p == nil }

// dead reports whether n cannot be read: the zero Node, or a Node of a closed Document. Every accessor
// checks it, so a Node used after Close reads nothing instead of freed memory, and every accessor
// keeps the Document alive until it returns (runtime.KeepAlive): the Document's cleanup must not free
// the tree while C memory of it is being read.
func (n Node) dead() bool { return n.p == nil || n.doc == nil || n.doc.doc == nil }

// Root returns the document element.
func (d *Document) Root() Node {
	if d == nil || d.doc == nil {
		return Node{}
	}
	defer runtime.KeepAlive(d)
	for c := d.doc.children; c != nil; c = c.next {
		if c._type == C.XML_ELEMENT_NODE {
			return Node{doc: d, p: c}
		}
	}
	return Node{}
}

func goStr(s *C.xmlChar) string {
	if s == nil {
		return ""
	}
	return C.GoString((*C.char)(unsafe.Pointer(s)))
}

// LocalName is the element's local name.
func (n Node) LocalName() string {
	if n.dead() {
		return ""
	}
	defer runtime.KeepAlive(n.doc)
	return goStr(n.p.name)
}

// NamespaceURI is the element's namespace name ("" for none).
func (n Node) NamespaceURI() string {
	if n.dead() {
		return ""
	}
	defer runtime.KeepAlive(n.doc)
	if n.p.ns == nil {
		return ""
	}
	return goStr(n.p.ns.href)
}

// Is reports whether n is the element {ns}local. It compares in place, allocating nothing.
func (n Node) Is(ns, local string) bool {
	if n.dead() {
		return false
	}
	defer runtime.KeepAlive(n.doc)
	if !cStrEqual(n.p.name, local) {
		return false
	}
	if n.p.ns == nil {
		return ns == ""
	}
	return cStrEqual(n.p.ns.href, ns)
}

// InNamespace reports whether n is an element in the namespace ns ("" for none). Like Is, it compares
// in place and allocates nothing (NamespaceURI copies the name).
func (n Node) InNamespace(ns string) bool {
	if n.dead() {
		return false
	}
	defer runtime.KeepAlive(n.doc)
	if n.p.ns == nil {
		return ns == ""
	}
	return cStrEqual(n.p.ns.href, ns)
}

// cStrEqual reports whether the NUL-terminated C string s equals g. It reads C memory from Go (a plain
// load per byte), so it costs no cgo call and no allocation; it never reads past s's terminator.
func cStrEqual(s *C.xmlChar, g string) bool {
	if s == nil {
		return g == ""
	}
	p := unsafe.Pointer(s)
	for i := 0; i < len(g); i++ {
		c := *(*byte)(unsafe.Add(p, i))
		if c != g[i] || c == 0 {
			return false
		}
	}
	return *(*byte)(unsafe.Add(p, len(g))) == 0
}

// appendCStr appends the NUL-terminated C string s to dst without a cgo call.
func appendCStr(dst []byte, s *C.xmlChar) []byte {
	if s == nil {
		return dst
	}
	p := unsafe.Pointer(s)
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return append(dst, unsafe.Slice((*byte)(p), n)...)
}

// Line is the line the element starts on (1-based; 0 if libxml2 did not record it).
func (n Node) Line() int {
	if n.dead() {
		return 0
	}
	defer runtime.KeepAlive(n.doc)
	return int(C.xmlGetLineNo(n.p))
}

// Parent returns the parent element, or the zero Node at the document element.
func (n Node) Parent() Node {
	if n.dead() {
		return Node{}
	}
	defer runtime.KeepAlive(n.doc)
	if p := n.p.parent; p != nil && p._type == C.XML_ELEMENT_NODE {
		return Node{doc: n.doc, p: p}
	}
	return Node{}
}

// FirstChildElement returns the first child element, or the zero Node if there is none. With
// NextSiblingElement it walks the children without allocating:
//
//	for c := n.FirstChildElement(); !c.IsZero(); c = c.NextSiblingElement() { … }
func (n Node) FirstChildElement() Node {
	if n.dead() {
		return Node{}
	}
	defer runtime.KeepAlive(n.doc)
	if c := firstElement(n.p.children); c != nil {
		return Node{doc: n.doc, p: c}
	}
	return Node{}
}

// NextSiblingElement returns the next element sharing n's parent, or the zero Node after the last.
func (n Node) NextSiblingElement() Node {
	if n.dead() {
		return Node{}
	}
	defer runtime.KeepAlive(n.doc)
	if c := firstElement(n.p.next); c != nil {
		return Node{doc: n.doc, p: c}
	}
	return Node{}
}

// Children returns the child elements in document order.
func (n Node) Children() []Node {
	if n.dead() {
		return nil
	}
	defer runtime.KeepAlive(n.doc)
	var out []Node
	for c := n.p.children; c != nil; c = c.next {
		if c._type == C.XML_ELEMENT_NODE {
			out = append(out, Node{doc: n.doc, p: c})
		}
	}
	return out
}

// Attr returns the value of the attribute with the given local name and no namespace.
func (n Node) Attr(name string) (string, bool) {
	defer runtime.KeepAlive(n.doc)
	if a := n.attr(name); a != nil {
		return attrValue(a), true
	}
	return "", false
}

// AppendAttr appends the value of the attribute with the given local name and no namespace to dst; ok
// reports whether the element has it. It is Attr without the string allocation.
func (n Node) AppendAttr(dst []byte, name string) (_ []byte, ok bool) {
	defer runtime.KeepAlive(n.doc)
	a := n.attr(name)
	if a == nil {
		return dst, false
	}
	for t := a.children; t != nil; t = t.next {
		if t._type == C.XML_TEXT_NODE {
			dst = appendCStr(dst, t.content)
		}
	}
	return dst, true
}

// AttrValue is one attribute of an element: its namespace URI ("" for none), local name and value.
type AttrValue struct{ Space, Local, Value string }

// Attrs returns the element's attributes in document order (namespace declarations are not attributes).
func (n Node) Attrs() []AttrValue {
	if n.dead() {
		return nil
	}
	defer runtime.KeepAlive(n.doc)
	var out []AttrValue
	for a := n.p.properties; a != nil; a = a.next {
		v := AttrValue{Local: goStr(a.name), Value: attrValue(a)}
		if a.ns != nil {
			v.Space = goStr(a.ns.href)
		}
		out = append(out, v)
	}
	return out
}

func (n Node) attr(name string) *C.xmlAttr {
	if n.dead() {
		return nil
	}
	for a := n.p.properties; a != nil; a = a.next {
		if a.ns == nil && cStrEqual(a.name, name) {
			return a
		}
	}
	return nil
}

func attrValue(a *C.xmlAttr) string {
	var b []byte
	for t := a.children; t != nil; t = t.next {
		if t._type == C.XML_TEXT_NODE {
			b = appendCStr(b, t.content)
		}
	}
	return string(b)
}

// Text returns the concatenated character data of the element's direct text and CDATA children.
func (n Node) Text() string {
	if n.dead() {
		return ""
	}
	defer runtime.KeepAlive(n.doc)
	if c := n.p.children; c != nil && c.next == nil && (c._type == C.XML_TEXT_NODE || c._type == C.XML_CDATA_SECTION_NODE) {
		return goStr(c.content) // the common case: one text child, one copy
	}
	return string(n.AppendText(nil))
}

// AppendText appends the character data of the element's direct text and CDATA children to dst: Text
// without the string allocation, for callers that parse the value or reuse a buffer.
func (n Node) AppendText(dst []byte) []byte {
	if n.dead() {
		return dst
	}
	defer runtime.KeepAlive(n.doc)
	for c := n.p.children; c != nil; c = c.next {
		if c._type == C.XML_TEXT_NODE || c._type == C.XML_CDATA_SECTION_NODE {
			dst = appendCStr(dst, c.content)
		}
	}
	return dst
}

// Contains reports whether m is n or one of its descendants.
func (n Node) Contains(m Node) bool {
	if n.dead() || m.dead() || n.doc != m.doc {
		return false
	}
	defer runtime.KeepAlive(n.doc)
	for p := m.p; p != nil; p = p.parent {
		if p == n.p {
			return true
		}
	}
	return false
}

// Walk calls fn for every element in document order until fn returns false.
func (d *Document) Walk(fn func(Node) bool) {
	defer runtime.KeepAlive(d)
	root := d.Root()
	if root.IsZero() {
		return
	}
	// Iterative pre-order walk: depth is bounded by Limits, but recursion is not needed.
	cur := root.p
	for cur != nil {
		if !fn(Node{doc: d, p: cur}) {
			return
		}
		if c := firstElement(cur.children); c != nil {
			cur = c
			continue
		}
		for cur != nil && cur != root.p {
			if s := firstElement(cur.next); s != nil {
				cur = s
				break
			}
			cur = cur.parent
		}
		if cur == root.p {
			return
		}
	}
}

func firstElement(c *C.xmlNode) *C.xmlNode {
	for ; c != nil; c = c.next {
		if c._type == C.XML_ELEMENT_NODE {
			return c
		}
	}
	return nil
}

// DuplicateIDError reports an identifier carried by more than one element: a signature-wrapping sign.
type DuplicateIDError struct {
	ID          string
	First, Then int // lines of the two elements
}

func (e *DuplicateIDError) Error() string {
	return fmt.Sprintf("xml: identifier %q appears twice (lines %d and %d)", e.ID, e.First, e.Then)
}

// IDs indexes every element by the values of the given unqualified attributes (for XMLDSig "Id", "ID",
// "id") and of xml:id. It fails on the first value carried twice, so no reference can be resolved to an
// element an attacker added alongside the signed one.
func (d *Document) IDs(attrNames ...string) (map[string]Node, error) {
	defer runtime.KeepAlive(d)
	ids := make(map[string]Node)
	var dup error
	d.Walk(func(n Node) bool {
		for a := n.p.properties; a != nil; a = a.next {
			// Names are compared in place: most attributes are not identifiers, and copying every
			// attribute name of a document was most of what this walk allocated.
			match := false
			if a.ns == nil {
				for _, want := range attrNames {
					if cStrEqual(a.name, want) {
						match = true
						break
					}
				}
			} else if cStrEqual(a.name, "id") && cStrEqual(a.ns.href, "http://www.w3.org/XML/1998/namespace") {
				match = true
			}
			if !match {
				continue
			}
			v := attrValue(a)
			if prev, ok := ids[v]; ok {
				dup = &DuplicateIDError{ID: v, First: prev.Line(), Then: n.Line()}
				return false
			}
			ids[v] = n
		}
		return true
	})
	if dup != nil {
		return nil, dup
	}
	return ids, nil
}
