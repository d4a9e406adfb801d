package libxml

import (
	"bytes"
	"fmt"
	"strings"
)

// prescan makes one linear pass over raw input and refuses, before libxml2 allocates anything, the
// shapes that could make parsing expensive: oversize input, encodings we do not read, a DOCTYPE, deep
// nesting, many attributes on one element, too many nodes or an over-long text run. It is a lexer, not
// a parser: it decides nothing about well-formedness, which libxml2 checks afterwards under the same
// limits, so a disagreement can only make it stricter, never let a document through.
func prescan(data []byte, lim Limits) error {
	if int64(len(data)) > lim.MaxBytes {
		return &Error{Kind: KindLimit, Msg: fmt.Sprintf("input is %d bytes, more than the limit of %d", len(data), lim.MaxBytes)}
	}
	if err := checkEncoding(data); err != nil {
		return err
	}
	var (
		depth      int
		nodes      int64
		namespaces int64
		// scope holds the namespace declarations of each open element; inScope is their sum.
		scope   []int
		inScope int
		i       int
		n       = len(data)
	)
	fail := func(pos int, kind Kind, format string, args ...any) error {
		line, col := position(data, pos)
		return &Error{Kind: kind, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	for i < n {
		lt := bytes.IndexByte(data[i:], '<')
		if lt < 0 {
			lt = n - i
		}
		if int64(lt) > lim.MaxTextBytes {
			return fail(i, KindLimit, "text longer than %d bytes", lim.MaxTextBytes)
		}
		i += lt
		if i >= n {
			break
		}
		start := i
		if i+1 >= n {
			return nil // truncated: libxml2 reports it
		}
		switch c := data[i+1]; {
		case c == '/':
			end := bytes.IndexByte(data[i:], '>')
			if end < 0 {
				return nil
			}
			i += end + 1
			if depth > 0 {
				depth--
			}
			if len(scope) > 0 {
				inScope -= scope[len(scope)-1]
				scope = scope[:len(scope)-1]
			}
		case c == '?':
			end := bytes.Index(data[i+2:], []byte("?>"))
			if end < 0 {
				return nil
			}
			i += 2 + end + 2
			// The XML declaration looks like a PI but is not a node (libxml2 does not count it).
			if isXMLDecl(data, start) {
				continue
			}
			if nodes++; nodes > lim.MaxNodes {
				return fail(start, KindLimit, "more than %d nodes", lim.MaxNodes)
			}
		case c == '!':
			rest := data[i:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				end := bytes.Index(data[i+4:], []byte("-->"))
				if end < 0 {
					return nil
				}
				i += 4 + end + 3
				if nodes++; nodes > lim.MaxNodes {
					return fail(start, KindLimit, "more than %d nodes", lim.MaxNodes)
				}
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				end := bytes.Index(data[i+9:], []byte("]]>"))
				if end < 0 {
					return nil
				}
				if int64(end) > lim.MaxTextBytes {
					return fail(start, KindLimit, "CDATA section longer than %d bytes", lim.MaxTextBytes)
				}
				i += 9 + end + 3
			case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
				return fail(start, KindForbidden, "DOCTYPE declarations are not accepted")
			case bytes.HasPrefix(rest, []byte("<!ENTITY")):
				return fail(start, KindForbidden, "entity declarations are not accepted")
			default:
				return fail(start, KindForbidden, "markup declarations are not accepted")
			}
		default:
			// Start tag: count attributes ('=' outside quoted values) up to the closing '>'.
			attrs, nsHere := 0, 0
			j := i + 1
			var last byte
			for j < n && data[j] != '>' {
				switch data[j] {
				case '"', '\'':
					q := bytes.IndexByte(data[j+1:], data[j])
					if q < 0 {
						return nil
					}
					j += q + 1
				case '=':
					if attrs++; attrs > lim.MaxAttrs {
						return fail(start, KindLimit, "more than %d attributes on one element", lim.MaxAttrs)
					}
					if isNamespaceDecl(data[i+1 : j]) {
						if namespaces++; namespaces > int64(lim.MaxNamespaces) {
							return fail(start, KindLimit, "more than %d namespace declarations", lim.MaxNamespaces)
						}
						if nsHere++; inScope+nsHere > lim.MaxNamespacesInScope {
							return fail(start, KindLimit, "more than %d namespace declarations in scope", lim.MaxNamespacesInScope)
						}
					}
				}
				if data[j] != ' ' && data[j] != '\t' && data[j] != '\r' && data[j] != '\n' {
					last = data[j]
				}
				j++
			}
			if j >= n {
				return nil
			}
			if nodes++; nodes > lim.MaxNodes {
				return fail(start, KindLimit, "more than %d nodes", lim.MaxNodes)
			}
			if last != '/' {
				if depth++; depth > lim.MaxDepth {
					return fail(start, KindLimit, "elements nested deeper than %d", lim.MaxDepth)
				}
				scope = append(scope, nsHere)
				inScope += nsHere
			}
			i = j + 1
		}
	}
	return nil
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

// isNamespaceDecl reports whether the attribute whose '=' ends tag (the bytes of the start tag up to
// that '=') is a namespace declaration: its name, the last word before '=', is xmlns or xmlns:….
func isNamespaceDecl(tag []byte) bool {
	end := len(tag)
	for end > 0 && isSpace(tag[end-1]) {
		end--
	}
	start := end
	for start > 0 && !isSpace(tag[start-1]) && tag[start-1] != '"' && tag[start-1] != '\'' {
		start--
	}
	name := tag[start:end]
	return bytes.Equal(name, []byte("xmlns")) || bytes.HasPrefix(name, []byte("xmlns:"))
}
