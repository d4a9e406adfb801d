// Package xmlsplice locates elements in the raw bytes of a well-formed XML document and inserts bytes
// between them, so that a document can be extended (a signature added, unsigned properties appended)
// without re-serializing it: every byte outside the insertion points stays exactly as it was, and so
// does every digest and signature over it.
//
// Index is a small, fast scanner, not a validating parser. It is meant for documents that the hardened
// libxml2 parser (internal/libxml) has already accepted: it knows elements, attributes, comments,
// processing instructions and CDATA sections, resolves namespace prefixes, and refuses a DOCTYPE and
// anything it cannot match up (mismatched end tags, unterminated markup). Text is skipped with a byte
// search, so a 50 MB base64 payload costs a few milliseconds.
package xmlsplice

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrSyntax is wrapped by every error Index returns.
var ErrSyntax = errors.New("xmlsplice: not a well-formed document")

// Attr is an attribute as written, with its value decoded (entity and character references).
type Attr struct {
	Name  string // qualified name as written, e.g. "Id" or "xmlns:ds"
	Value string
}

// Element is one element of the document with the byte offsets of its tags.
type Element struct {
	Name        string // qualified name as written, e.g. "ds:Signature"
	Space       string // namespace name the prefix resolves to ("" for none)
	Local       string // local name
	Parent      *Element
	Children    []*Element
	Attrs       []Attr
	Start       int // offset of '<' of the start tag
	StartEnd    int // offset just past the start tag's '>'
	End         int // offset of "</" of the end tag; StartEnd-2 ("/>") for an empty-element tag
	EndEnd      int // offset just past the end tag's '>' (StartEnd for an empty-element tag)
	SelfClosing bool
}

// Attr returns the value of the unprefixed attribute name.
func (e *Element) Attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Is reports whether e is {space}local.
func (e *Element) Is(space, local string) bool {
	return e != nil && e.Space == space && e.Local == local
}

// Child returns the first child element {space}local, or nil.
func (e *Element) Child(space, local string) *Element {
	for _, c := range e.Children {
		if c.Is(space, local) {
			return c
		}
	}
	return nil
}

// Prefix returns the prefix of e's name as written ("" for an unprefixed name).
func (e *Element) Prefix() string {
	if i := strings.IndexByte(e.Name, ':'); i >= 0 {
		return e.Name[:i]
	}
	return ""
}

// LookupPrefix returns the namespace bound to prefix in e's scope ("" prefix: the default namespace)
// and whether a binding exists. The xml prefix is always bound.
func (e *Element) LookupPrefix(prefix string) (string, bool) {
	if prefix == "xml" {
		return "http://www.w3.org/XML/1998/namespace", true
	}
	want := "xmlns"
	if prefix != "" {
		want = "xmlns:" + prefix
	}
	for n := e; n != nil; n = n.Parent {
		for _, a := range n.Attrs {
			if a.Name == want {
				return a.Value, a.Value != "" || prefix == ""
			}
		}
	}
	return "", false
}

// Document is an indexed document.
type Document struct {
	Root *Element
}

// Walk calls fn for every element in document order until fn returns false.
func (d *Document) Walk(fn func(*Element) bool) {
	var rec func(*Element) bool
	rec = func(e *Element) bool {
		if !fn(e) {
			return false
		}
		for _, c := range e.Children {
			if !rec(c) {
				return false
			}
		}
		return true
	}
	if d.Root != nil {
		rec(d.Root)
	}
}

// ByID returns the element whose unprefixed Id attribute is id, and whether exactly one has it.
func (d *Document) ByID(id string) (*Element, bool) {
	var found *Element
	n := 0
	d.Walk(func(e *Element) bool {
		if v, ok := e.Attr("Id"); ok && v == id {
			found = e
			n++
		}
		return n < 2
	})
	return found, n == 1
}

func syntax(pos int, format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrSyntax, pos, fmt.Sprintf(format, args...))
}

// Index scans doc and returns its element tree with byte offsets. doc must be UTF-8 (an initial
// byte-order mark is skipped).
func Index(doc []byte) (*Document, error) {
	pos := 0
	if bytes.HasPrefix(doc, []byte("\xEF\xBB\xBF")) {
		pos = 3
	}
	var stack []*Element
	var root *Element
	var sc scanState
	// Namespace bindings in scope, kept as the scan opens and closes elements, so that resolving a
	// name costs one map lookup: walking the ancestors' attributes (LookupPrefix) made a deeply nested
	// document quadratic (256 KB of "<a>" took 3 s, 1 MB 45 s).
	var ns scope
	for {
		lt := bytes.IndexByte(doc[pos:], '<')
		if lt < 0 {
			break
		}
		if len(stack) == 0 && len(bytes.TrimSpace(doc[pos:pos+lt])) > 0 {
			return nil, syntax(pos, "text outside the document element")
		}
		pos += lt
		rest := doc[pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest, []byte("?>"))
			if end < 0 {
				return nil, syntax(pos, "unterminated processing instruction")
			}
			pos += end + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return nil, syntax(pos, "unterminated comment")
			}
			pos += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if len(stack) == 0 {
				return nil, syntax(pos, "CDATA outside the document element")
			}
			end := bytes.Index(rest, []byte("]]>"))
			if end < 0 {
				return nil, syntax(pos, "unterminated CDATA section")
			}
			pos += end + 3
		case bytes.HasPrefix(rest, []byte("<!")):
			return nil, syntax(pos, "DOCTYPE and other declarations are not supported")
		case bytes.HasPrefix(rest, []byte("</")):
			i := 2
			for i < len(rest) && !isSpace(rest[i]) && rest[i] != '>' {
				i++
			}
			name := rest[2:i]
			for i < len(rest) && isSpace(rest[i]) {
				i++
			}
			if i >= len(rest) || rest[i] != '>' {
				return nil, syntax(pos, "unterminated end tag")
			}
			if len(stack) == 0 || stack[len(stack)-1].Name != string(name) {
				return nil, syntax(pos, "end tag </%s> does not match", clip(string(name)))
			}
			e := stack[len(stack)-1]
			e.End, e.EndEnd = pos, pos+i+1
			stack = stack[:len(stack)-1]
			ns.leave()
			pos += i + 1
		default:
			if len(stack) == 0 && root != nil {
				return nil, syntax(pos, "a second document element")
			}
			e, n, err := sc.startTag(rest, pos)
			if err != nil {
				return nil, err
			}
			if len(stack) > 0 {
				e.Parent = stack[len(stack)-1]
				e.Parent.Children = append(e.Parent.Children, e)
			} else {
				root = e
			}
			ns.enter(e)
			if err := ns.resolve(e); err != nil {
				return nil, syntax(pos, "%v", err)
			}
			pos += n
			if e.SelfClosing {
				e.End, e.EndEnd = e.StartEnd-2, e.StartEnd
				ns.leave()
			} else {
				stack = append(stack, e)
			}
		}
	}
	if len(bytes.TrimSpace(doc[pos:])) > 0 {
		return nil, syntax(pos, "text after the document element")
	}
	if len(stack) > 0 {
		return nil, syntax(len(doc), "element <%s> is not closed", clip(stack[len(stack)-1].Name))
	}
	if root == nil {
		return nil, syntax(0, "no document element")
	}
	return &Document{Root: root}, nil
}

// scanState holds what Index reuses across elements, so that a document of many small elements (a
// 100,000-member declaration has millions) costs few allocations: Elements are carved from blocks,
// and element and attribute names, which repeat, are stored once.
type scanState struct {
	block     []Element
	blockSize int // size of the last block allocated
	names     map[string]string
}

// newElement returns a zeroed Element from the current block. Blocks grow from 16 to 256 elements:
// most documents scanned are small (a template, a canonical SignedInfo), and a first block of 256
// cost them 50 KB allocated and zeroed per scan.
func (sc *scanState) newElement() *Element {
	if len(sc.block) == 0 {
		sc.blockSize = min(max(2*sc.blockSize, 16), 256)
		sc.block = make([]Element, sc.blockSize)
	}
	e := &sc.block[0]
	sc.block = sc.block[1:]
	return e
}

// name returns b as a string, the same string for every occurrence of the same bytes.
func (sc *scanState) name(b []byte) string {
	if s, ok := sc.names[string(b)]; ok {
		return s
	}
	if sc.names == nil {
		sc.names = make(map[string]string)
	}
	if len(sc.names) >= 4096 { // a document of ever-new names: stop remembering them
		return string(b)
	}
	s := string(b)
	sc.names[s] = s
	return s
}

// startTag reads a start tag at the beginning of b (absolute offset off) and returns the element
// (unresolved) and the tag's length.
func (sc *scanState) startTag(b []byte, off int) (*Element, int, error) {
	i := 1
	for i < len(b) && !isSpace(b[i]) && b[i] != '>' && b[i] != '/' {
		i++
	}
	if i == 1 {
		return nil, 0, syntax(off, "empty element name")
	}
	e := sc.newElement()
	e.Name, e.Start = sc.name(b[1:i]), off
	for {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return nil, 0, syntax(off, "unterminated start tag")
		}
		switch b[i] {
		case '>':
			e.StartEnd = off + i + 1
			return e, i + 1, nil
		case '/':
			if i+1 < len(b) && b[i+1] == '>' {
				e.SelfClosing = true
				e.StartEnd = off + i + 2
				return e, i + 2, nil
			}
			return nil, 0, syntax(off+i, "stray '/' in start tag")
		}
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != '=' && b[j] != '>' && b[j] != '/' {
			j++
		}
		name := sc.name(b[i:j])
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if name == "" || j >= len(b) || b[j] != '=' {
			return nil, 0, syntax(off+i, "attribute without value")
		}
		j++
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) || (b[j] != '"' && b[j] != '\'') {
			return nil, 0, syntax(off+j, "unquoted attribute value")
		}
		q := b[j]
		end := bytes.IndexByte(b[j+1:], q)
		if end < 0 {
			return nil, 0, syntax(off+j, "unterminated attribute value")
		}
		val, err := decodeAttr(b[j+1 : j+1+end])
		if err != nil {
			return nil, 0, syntax(off+j, "%v", err)
		}
		e.Attrs = append(e.Attrs, Attr{Name: name, Value: val})
		i = j + 1 + end + 1
	}
}

// scope holds the namespace bindings in scope at the scanner's position: for each declaring attribute
// name ("xmlns", "xmlns:p") the value of its innermost declaration, and for each open element the
// bindings it replaced, restored when the element closes. It answers what LookupPrefix would, in
// constant time.
type scope struct {
	bound map[string]string
	saved []savedBinding
	marks []int // len(saved) when each open element was entered
}

type savedBinding struct {
	name  string
	value string
	had   bool
}

// enter opens e's scope with the namespace declarations among its attributes. Of two declarations
// of one prefix on one element the first counts, as in LookupPrefix: they are applied last to first,
// each saving what it replaced, and leave undoes them in the opposite order.
func (s *scope) enter(e *Element) {
	s.marks = append(s.marks, len(s.saved))
	for i := len(e.Attrs) - 1; i >= 0; i-- {
		a := e.Attrs[i]
		if a.Name != "xmlns" && !strings.HasPrefix(a.Name, "xmlns:") {
			continue
		}
		if s.bound == nil {
			s.bound = make(map[string]string)
		}
		old, had := s.bound[a.Name]
		s.saved = append(s.saved, savedBinding{name: a.Name, value: old, had: had})
		s.bound[a.Name] = a.Value
	}
}

// leave closes the innermost open element's scope.
func (s *scope) leave() {
	mark := s.marks[len(s.marks)-1]
	s.marks = s.marks[:len(s.marks)-1]
	for i := len(s.saved) - 1; i >= mark; i-- {
		b := s.saved[i]
		if b.had {
			s.bound[b.name] = b.value
		} else {
			delete(s.bound, b.name)
		}
	}
	s.saved = s.saved[:mark]
}

// lookup answers LookupPrefix for the element whose scope was entered last.
func (s *scope) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return "http://www.w3.org/XML/1998/namespace", true
	}
	want := "xmlns"
	if prefix != "" {
		want = "xmlns:" + prefix
	}
	v, ok := s.bound[want]
	if !ok {
		return "", false
	}
	return v, v != "" || prefix == ""
}

// resolve sets Space and Local of e, whose scope was entered last, from the in-scope bindings.
func (s *scope) resolve(e *Element) error {
	prefix, local := "", e.Name
	if i := strings.IndexByte(e.Name, ':'); i >= 0 {
		prefix, local = e.Name[:i], e.Name[i+1:]
	}
	e.Local = local
	ns, ok := s.lookup(prefix)
	if prefix != "" && !ok {
		return fmt.Errorf("prefix %q is not bound", clip(prefix))
	}
	e.Space = ns
	return nil
}

// decodeAttr decodes the references of an attribute value and normalizes white space as XML 1.0
// §3.3.3 does for CDATA attributes.
func decodeAttr(raw []byte) (string, error) {
	if bytes.IndexAny(raw, "&\t\n\r<") < 0 {
		return string(raw), nil
	}
	if bytes.IndexByte(raw, '<') >= 0 {
		return "", errors.New("'<' in an attribute value")
	}
	var sb strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\t', '\n', '\r':
			sb.WriteByte(' ')
		case '&':
			end := bytes.IndexByte(raw[i:], ';')
			if end < 0 {
				return "", errors.New("unterminated reference")
			}
			ref := string(raw[i+1 : i+end])
			switch {
			case ref == "lt":
				sb.WriteByte('<')
			case ref == "gt":
				sb.WriteByte('>')
			case ref == "amp":
				sb.WriteByte('&')
			case ref == "quot":
				sb.WriteByte('"')
			case ref == "apos":
				sb.WriteByte('\'')
			case strings.HasPrefix(ref, "#x"):
				n, err := strconv.ParseUint(ref[2:], 16, 32)
				if err != nil || !utf8.ValidRune(rune(n)) {
					return "", fmt.Errorf("bad character reference &%s;", clip(ref))
				}
				sb.WriteRune(rune(n))
			case strings.HasPrefix(ref, "#"):
				n, err := strconv.ParseUint(ref[1:], 10, 32)
				if err != nil || !utf8.ValidRune(rune(n)) {
					return "", fmt.Errorf("bad character reference &%s;", clip(ref))
				}
				sb.WriteRune(rune(n))
			default:
				return "", fmt.Errorf("undeclared entity &%s;", clip(ref))
			}
			i += end
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), nil
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Insertion is a byte string to insert at an offset of the original document.
type Insertion struct {
	At   int
	Text []byte
}

// Splice returns doc with every insertion applied. Offsets refer to the original doc; insertions at
// the same offset keep their order. Nothing of doc is changed or removed.
func Splice(doc []byte, ins ...Insertion) ([]byte, error) {
	extra := 0
	for i, in := range ins {
		if in.At < 0 || in.At > len(doc) {
			return nil, fmt.Errorf("xmlsplice: insertion %d at %d outside the document", i, in.At)
		}
		if i > 0 && in.At < ins[i-1].At {
			return nil, fmt.Errorf("xmlsplice: insertions out of order")
		}
		extra += len(in.Text)
	}
	out := make([]byte, 0, len(doc)+extra)
	prev := 0
	for _, in := range ins {
		out = append(out, doc[prev:in.At]...)
		out = append(out, in.Text...)
		prev = in.At
	}
	return append(out, doc[prev:]...), nil
}

// ContentEnd is the offset where a new last child of e is inserted: before its end tag. An
// empty-element tag ("<x/>") has no such place and is an error.
func (e *Element) ContentEnd() (int, error) {
	if e.SelfClosing {
		return 0, fmt.Errorf("xmlsplice: <%s/> is an empty-element tag", clip(e.Name))
	}
	return e.End, nil
}
