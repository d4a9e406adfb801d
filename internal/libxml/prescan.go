package libxml

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"strings"
)

// scanStats are what the pre-scan counted, in the units of Limits (tests compare them with what
// libxml2's callbacks count).
type scanStats struct {
	depth      int   // deepest element nesting
	nodes      int64 // elements, comments and processing instructions (MaxNodes)
	attrs      int64 // attributes and namespace declarations of the whole document (MaxTotalAttrs)
	tree       int64 // tree nodes, weighted as Limits.BaseTreeNodes describes
	names      int   // distinct names beyond "xml" and "xmlns" (MaxNames)
	namespaces int64 // namespace declarations (MaxNamespaces)
}

// prescan makes one linear pass over raw input and refuses, before libxml2 allocates anything, the
// shapes that could make parsing expensive: oversize input, encodings we do not read, a DOCTYPE, deep
// nesting, too many attributes on one element or in all, too many tree nodes for the input's size,
// too many distinct names, or an over-long text run; and, because libxml2 2.9 would silently ignore
// them, a NUL byte anywhere and anything but white space, comments and processing instructions after
// the root element. It is a lexer, not a parser: it leaves well-formedness to libxml2, which enforces
// the same limits again in its callbacks (shim.c), counting the same way (see FuzzPrescanAgrees for
// the exact relation). On a well-formed document within the limits it never refuses.
func prescan(data []byte, lim Limits) error {
	_, err := scan(data, lim)
	return err
}

// scan is prescan returning its counts too (complete only when err is nil).
func scan(data []byte, lim Limits) (scanStats, error) {
	if int64(len(data)) > lim.MaxBytes {
		return scanStats{}, &Error{Kind: KindLimit, Msg: fmt.Sprintf("input is %d bytes, more than the limit of %d", len(data), lim.MaxBytes)}
	}
	if err := checkEncoding(data); err != nil {
		return scanStats{}, err
	}
	// libxml2 2.9 takes a NUL byte for the end of its input: whatever follows one after the root
	// element (a second document, say) would be ignored and the file would pass as the first part.
	// U+0000 is not an XML character, so a NUL is refused wherever it is.
	if k := bytes.IndexByte(data, 0); k >= 0 {
		line, col := position(data, k)
		return scanStats{}, &Error{Kind: KindMalformed, Line: line, Column: col, Msg: "NUL byte: not allowed anywhere in XML"}
	}
	s := &scanner{data: data, lim: lim, maxTree: lim.treeBudget(len(data)), seed: maphash.MakeSeed(), names: map[uint64]struct{}{}}
	// libxml2's dictionary holds these from the start (see tg_parse); they are not new names.
	for _, name := range []string{"xml", "xmlns", "http://www.w3.org/XML/1998/namespace"} {
		s.names[maphash.String(s.seed, name)] = struct{}{}
	}
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		s.i = 3
	}
	err := s.run()
	return s.stats, err
}

// scanner is the state of one pre-scan.
type scanner struct {
	data    []byte
	lim     Limits
	maxTree int64
	i       int // next byte to read
	depth   int
	// rootDone is set once the root element has ended: only white space, comments and processing
	// instructions may follow.
	rootDone bool
	// afterCDATA is set when the last thing read was a CDATA section: libxml2 appends an adjacent one
	// to the same node.
	afterCDATA bool
	// scope holds the namespace declarations of each open element; inScope is their sum.
	scope   []int
	inScope int
	stats   scanStats
	// names holds a hash of every distinct name seen (a collision can only undercount by one; the
	// callbacks count exactly).
	seed  maphash.Seed
	names map[uint64]struct{}
	// recent caches names already counted (slices of data), indexed by a cheap function of the name.
	recent [64][]byte
}

func (s *scanner) fail(pos int, kind Kind, format string, args ...any) error {
	line, col := position(s.data, pos)
	return &Error{Kind: kind, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// addTree counts n tree nodes for the construct at pos.
func (s *scanner) addTree(pos int, n int64) error {
	if s.stats.tree += n; s.stats.tree > s.maxTree {
		return s.fail(pos, KindLimit, "more than %d tree nodes for %d bytes of input (%d plus one per %d bytes)",
			s.maxTree, len(s.data), s.lim.BaseTreeNodes, s.lim.BytesPerTreeNode)
	}
	return nil
}

// addNode counts an element, comment or processing instruction at pos: one node for MaxNodes and
// tree tree nodes.
func (s *scanner) addNode(pos int, tree int64) error {
	if s.stats.nodes++; s.stats.nodes > s.lim.MaxNodes {
		return s.fail(pos, KindLimit, "more than %d nodes", s.lim.MaxNodes)
	}
	return s.addTree(pos, tree)
}

// addName records a name libxml2 will put in its dictionary.
func (s *scanner) addName(pos int, name []byte) error {
	if len(name) == 0 {
		return nil // not a name: libxml2 refuses the document
	}
	return s.intern(pos, name)
}

// intern counts str as a dictionary entry unless it was seen before.
func (s *scanner) intern(pos int, str []byte) error {
	// A real document repeats a few dozen names: most are found in the small cache without hashing.
	k := 0
	if len(str) > 0 {
		k = (len(str)*31 + int(str[0])*7 + int(str[len(str)-1])) % len(s.recent)
	}
	if r := s.recent[k]; r != nil && bytes.Equal(r, str) {
		return nil
	}
	s.recent[k] = str
	h := maphash.Bytes(s.seed, str)
	if _, ok := s.names[h]; ok {
		return nil
	}
	s.names[h] = struct{}{}
	if s.stats.names++; s.stats.names > s.lim.MaxNames {
		return s.fail(pos, KindLimit, "more than %d distinct names", s.lim.MaxNames)
	}
	return nil
}

// addURI records a namespace URI, which libxml2 interns as the attribute value it decodes; the empty
// one too. A value with a reference or white space other than ' ' may decode to one already seen, so
// it is not counted (an undercount the callbacks make up for).
func (s *scanner) addURI(pos int, uri []byte) error {
	if uri == nil || bytes.ContainsAny(uri, "&\t\r\n") {
		return nil
	}
	return s.intern(pos, uri)
}

// addQName records the prefix and the local part of a qualified name (libxml2 interns each).
func (s *scanner) addQName(pos int, qname []byte) error {
	if k := bytes.IndexByte(qname, ':'); k >= 0 {
		if err := s.addName(pos, qname[:k]); err != nil {
			return err
		}
		qname = qname[k+1:]
	}
	return s.addName(pos, qname)
}

func (s *scanner) run() error {
	data, n := s.data, len(s.data)
	for s.i < n {
		lt := bytes.IndexByte(data[s.i:], '<')
		if lt < 0 {
			lt = n - s.i
		}
		if lt > 0 {
			if err := s.text(data[s.i : s.i+lt]); err != nil {
				return err
			}
			s.i += lt
		}
		if s.i >= n {
			break
		}
		start := s.i
		if start+1 >= n {
			return nil // truncated: libxml2 reports it
		}
		var (
			done bool
			err  error
		)
		switch c := data[start+1]; {
		case c == '/':
			done, err = s.endTag(start)
		case c == '?':
			done, err = s.pi(start)
		case c == '!':
			done, err = s.bang(start)
		default:
			done, err = s.startTag(start)
		}
		if err != nil || done {
			return err
		}
	}
	return nil
}

// text handles the character data run at s.i. Inside the root element it is one text node (libxml2
// coalesces everything up to the next markup, references included); outside it only white space is
// allowed, and it makes no node.
func (s *scanner) text(run []byte) error {
	if s.depth > 0 {
		if int64(len(run)) > s.lim.MaxTextBytes {
			return s.fail(s.i, KindLimit, "text longer than %d bytes", s.lim.MaxTextBytes)
		}
		s.afterCDATA = false
		return s.addTree(s.i, 1)
	}
	for k, b := range run {
		if !isSpace(b) {
			if s.rootDone {
				return s.fail(s.i+k, KindMalformed, "text after the root element")
			}
			return s.fail(s.i+k, KindMalformed, "text before the root element")
		}
	}
	return nil
}

// endTag handles "</" at start; done reports a truncated input (libxml2 reports it).
func (s *scanner) endTag(start int) (done bool, err error) {
	end := bytes.IndexByte(s.data[start:], '>')
	if end < 0 {
		return true, nil
	}
	if s.depth == 0 {
		if s.rootDone {
			return true, s.fail(start, KindMalformed, "end tag after the root element")
		}
		return true, s.fail(start, KindMalformed, "end tag before the root element")
	}
	s.i = start + end + 1
	s.depth--
	s.inScope -= s.scope[len(s.scope)-1]
	s.scope = s.scope[:len(s.scope)-1]
	if s.depth == 0 {
		s.rootDone = true
	}
	s.afterCDATA = false
	return false, nil
}

// pi handles "<?" at start: the XML declaration, or a processing instruction (a node and a copy of
// its data: two tree nodes).
func (s *scanner) pi(start int) (done bool, err error) {
	end := bytes.Index(s.data[start+2:], []byte("?>"))
	if end < 0 {
		return true, nil
	}
	s.i = start + 2 + end + 2
	s.afterCDATA = false
	// The XML declaration looks like a PI but is not a node (libxml2 does not count it).
	if isXMLDecl(s.data, start) {
		return false, nil
	}
	body := s.data[start+2 : start+2+end]
	target := body
	if k := bytes.IndexAny(body, " \t\r\n"); k >= 0 {
		target = body[:k]
	}
	// Targets spelled "xml" in any case are reserved: an XML declaration anywhere but at the start
	// (where a second document would begin) is not well-formed.
	if bytes.EqualFold(target, []byte("xml")) {
		return true, s.fail(start, KindMalformed, "XML declaration allowed only at the start of the document")
	}
	if err := s.addName(start, target); err != nil {
		return true, err
	}
	return false, s.addNode(start, 2)
}

// bang handles "<!" at start: a comment, a CDATA section, or a declaration (refused).
func (s *scanner) bang(start int) (done bool, err error) {
	data := s.data
	rest := data[start:]
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		end := bytes.Index(data[start+4:], []byte("-->"))
		if end < 0 {
			return true, nil
		}
		s.i = start + 4 + end + 3
		s.afterCDATA = false
		// A comment node and a copy of its text: two tree nodes.
		return false, s.addNode(start, 2)
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		end := bytes.Index(data[start+9:], []byte("]]>"))
		if end < 0 {
			return true, nil
		}
		if s.depth == 0 {
			if s.rootDone {
				return true, s.fail(start, KindMalformed, "CDATA section after the root element")
			}
			return true, s.fail(start, KindMalformed, "CDATA section before the root element")
		}
		if int64(end) > s.lim.MaxTextBytes {
			return true, s.fail(start, KindLimit, "CDATA section longer than %d bytes", s.lim.MaxTextBytes)
		}
		s.i = start + 9 + end + 3
		if s.afterCDATA {
			return false, nil // appended to the previous section's node
		}
		s.afterCDATA = true
		// A CDATA node and a copy of its text: two tree nodes.
		return false, s.addTree(start, 2)
	case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
		return true, s.fail(start, KindForbidden, "DOCTYPE declarations are not accepted")
	case bytes.HasPrefix(rest, []byte("<!ENTITY")):
		return true, s.fail(start, KindForbidden, "entity declarations are not accepted")
	default:
		return true, s.fail(start, KindForbidden, "markup declarations are not accepted")
	}
}

// startTag handles a start tag or empty-element tag at start. It counts the element and its
// attributes (each '=' outside quoted values is one) up to the closing '>'.
func (s *scanner) startTag(start int) (done bool, err error) {
	data, n := s.data, len(s.data)
	if s.rootDone {
		return true, s.fail(start, KindMalformed, "element after the root element")
	}
	j := start + 1
	for j < n && !isSpace(data[j]) && data[j] != '/' && data[j] != '>' {
		j++
	}
	if err := s.addQName(start, data[start+1:j]); err != nil {
		return true, err
	}
	attrs, nsHere := 0, 0
	for j < n {
		// Skip to the next byte that matters: a quote, '=' or the closing '>'.
		for j < n && data[j] != '>' && data[j] != '"' && data[j] != '\'' && data[j] != '=' {
			j++
		}
		if j >= n || data[j] == '>' {
			break
		}
		switch data[j] {
		case '"', '\'':
			q := bytes.IndexByte(data[j+1:], data[j])
			if q < 0 {
				return true, nil
			}
			j += q + 1
		case '=':
			name := attrName(data[start+1 : j])
			// libxml2 drops the (redundant, allowed) declaration of the xml prefix: no attribute,
			// no namespace, nothing allocated.
			if bytes.Equal(name, []byte("xmlns:xml")) {
				break
			}
			if attrs++; attrs > s.lim.MaxAttrs {
				return true, s.fail(start, KindLimit, "more than %d attributes on one element", s.lim.MaxAttrs)
			}
			if s.stats.attrs++; s.stats.attrs > s.lim.MaxTotalAttrs {
				return true, s.fail(start, KindLimit, "more than %d attributes in the document", s.lim.MaxTotalAttrs)
			}
			// An attribute and the text node of its value (a namespace declaration and the copies
			// of its prefix and URI): two tree nodes.
			if err := s.addTree(start, 2); err != nil {
				return true, err
			}
			if err := s.addQName(start, name); err != nil {
				return true, err
			}
			if bytes.Equal(name, []byte("xmlns")) || bytes.HasPrefix(name, []byte("xmlns:")) {
				if err := s.addURI(start, quotedValue(data[j+1:])); err != nil {
					return true, err
				}
				if s.stats.namespaces++; s.stats.namespaces > int64(s.lim.MaxNamespaces) {
					return true, s.fail(start, KindLimit, "more than %d namespace declarations", s.lim.MaxNamespaces)
				}
				if nsHere++; s.inScope+nsHere > s.lim.MaxNamespacesInScope {
					return true, s.fail(start, KindLimit, "more than %d namespace declarations in scope", s.lim.MaxNamespacesInScope)
				}
			}
		}
		j++
	}
	if j >= n {
		return true, nil
	}
	if err := s.addNode(start, 1); err != nil {
		return true, err
	}
	s.i = j + 1
	s.afterCDATA = false
	// "/>" ends an empty-element tag (libxml2 refuses anything between the two).
	if data[j-1] == '/' {
		if s.depth == 0 {
			s.rootDone = true
		}
		return false, nil
	}
	if s.depth++; s.depth > s.lim.MaxDepth {
		return true, s.fail(start, KindLimit, "elements nested deeper than %d", s.lim.MaxDepth)
	}
	s.stats.depth = max(s.stats.depth, s.depth)
	s.scope = append(s.scope, nsHere)
	s.inScope += nsHere
	return false, nil
}

// quotedValue returns the quoted value at the start of rest (the bytes after an attribute's '='), or
// nil when there is none (libxml2 refuses the document).
func quotedValue(rest []byte) []byte {
	k := 0
	for k < len(rest) && isSpace(rest[k]) {
		k++
	}
	if k == len(rest) || (rest[k] != '"' && rest[k] != '\'') {
		return nil
	}
	end := bytes.IndexByte(rest[k+1:], rest[k])
	if end < 0 {
		return nil
	}
	return rest[k+1 : k+1+end]
}

// attrName returns the name of the attribute whose '=' ends tag (the bytes of the start tag up to
// that '='): the last word before it.
func attrName(tag []byte) []byte {
	end := len(tag)
	for end > 0 && isSpace(tag[end-1]) {
		end--
	}
	start := end
	for start > 0 && !isSpace(tag[start-1]) && tag[start-1] != '"' && tag[start-1] != '\'' {
		start--
	}
	return tag[start:end]
}

// checkEncoding accepts UTF-8 (with or without BOM), ISO-8859-2 and its ASCII subset, as declared in
// the XML declaration; everything else, UTF-16 and UTF-32 included, is refused.
func checkEncoding(data []byte) error {
	if len(data) >= 2 && (data[0] == 0 || data[1] == 0 || (data[0] == 0xFE && data[1] == 0xFF) || (data[0] == 0xFF && data[1] == 0xFE)) {
		return &Error{Kind: KindMalformed, Line: 1, Column: 1, Msg: "only UTF-8 and ISO-8859-2 input is accepted (UTF-16/32 found)"}
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	// A document in UTF-8 or ISO-8859-2 starts with '<' or white space. Anything else is either not
	// XML or an encoding libxml2 would detect from the first bytes on its own (EBCDIC starts with
	// 0x4C 0x6F 0xA7 0x94), which this lexer could not read: its markup has no '<' byte at all.
	if len(data) > 0 && data[0] != '<' && !isSpace(data[0]) {
		return &Error{Kind: KindMalformed, Line: 1, Column: 1, Msg: "input does not start with '<' or white space: only UTF-8 and ISO-8859-2 XML is accepted"}
	}
	if !isXMLDecl(data, 0) {
		return nil
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return nil
	}
	decl := string(data[:end])
	// XML 1.0 only: libxml2 2.9 also parses "1.1" and even the malformed "1." as 1.0 with a warning,
	// so a document could mean one thing to it and another to any stricter reader.
	if v, ok := declValue(decl, "version"); ok && v != "1.0" {
		return &Error{Kind: KindMalformed, Line: 1, Column: 1, Msg: fmt.Sprintf("XML version %q is not accepted: only 1.0", v)}
	}
	enc, ok := declValue(decl, "encoding")
	if !ok {
		return nil
	}
	switch strings.ToUpper(enc) {
	case "UTF-8", "UTF8", "ISO-8859-2", "ISO8859-2", "ISO_8859-2", "LATIN2", "US-ASCII", "ASCII":
		return nil
	default:
		return &Error{Kind: KindMalformed, Line: 1, Column: 1, Msg: fmt.Sprintf("encoding %q is not accepted: use UTF-8 or ISO-8859-2", enc)}
	}
}

// declValue returns the quoted value of the pseudo-attribute name in an XML declaration; ok is false
// when it is absent or not quoted (libxml2 then reports the malformed declaration itself).
func declValue(decl, name string) (string, bool) {
	k := strings.Index(decl, name)
	if k < 0 {
		return "", false
	}
	rest := strings.TrimLeft(decl[k+len(name):], " \t\r\n")
	rest = strings.TrimPrefix(rest, "=")
	rest = strings.TrimLeft(rest, " \t\r\n")
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
		return "", false
	}
	q := strings.IndexByte(rest[1:], rest[0])
	if q < 0 {
		return "", false
	}
	return rest[1 : 1+q], true
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// isXMLDecl reports whether the markup at pos is the XML declaration: "<?xml" and white space at the
// start of the document (after a UTF-8 byte order mark).
func isXMLDecl(data []byte, pos int) bool {
	if pos != 0 && !(pos == 3 && bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF})) {
		return false
	}
	d := data[pos:]
	return len(d) >= 6 && bytes.HasPrefix(d, []byte("<?xml")) && isSpace(d[5])
}

// position turns a byte offset into a 1-based line and column (columns count bytes).
func position(data []byte, pos int) (line, col int) {
	if pos > len(data) {
		pos = len(data)
	}
	line = 1 + bytes.Count(data[:pos], []byte{'\n'})
	col = pos - bytes.LastIndexByte(data[:pos], '\n')
	return line, col
}
