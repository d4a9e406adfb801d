package libxml

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sharedDir locates the project's shared directory: $TAGDIJ_SHARED if set, otherwise <root>/shared
// next to the repository at <root>/main (three levels up from this package). It skips the test with
// the path it looked at when the directory is missing, so a bare checkout still runs everything else.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TAGDIJ_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("shared dir: %v", err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		t.Skipf("shared directory %s not found (set TAGDIJ_SHARED): conformance vectors unavailable", abs)
	}
	return abs
}

// mustParse parses data with the default limits or fails the test; the document is closed at cleanup.
func mustParse(t testing.TB, data []byte) *Document {
	t.Helper()
	d, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// canon canonicalizes the subtree at root (zero: whole document) into a byte slice.
func canon(t testing.TB, d *Document, root Node, c C14N, exclude ...Node) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := d.CanonicalizeTo(&b, root, c, exclude...); err != nil {
		t.Fatalf("CanonicalizeTo(%s): %v", c.URI(), err)
	}
	return b.Bytes()
}

// xmllintPath returns the xmllint binary or skips the test.
func xmllintPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (make deps installs it): cannot compare with the reference implementation")
	}
	return p
}

// xmllintC14N runs xmllint with one of its canonicalization flags on a file. All three xmllint flags
// keep comments (xmllint --help: "save in W3C canonical format ... (with comments)").
func xmllintC14N(t testing.TB, bin, flag, path string) []byte {
	t.Helper()
	cmd := exec.Command(bin, "--nonet", flag, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xmllint %s %s: %v: %s", flag, path, err, stderr.String())
	}
	return out
}

// stripComments removes the comment nodes from a canonical form produced with comments, which yields
// the canonical form without comments: C14N renders every comment as "<!--...-->" (a comment cannot
// contain "--"), text and attribute values escape '<', and a comment outside the document element is
// separated from it by exactly one '\n' (before the element: after the comment; after it: before the
// comment). Processing instructions are copied verbatim, so their data is skipped as opaque. This is
// the oracle for the "without comments" modes, for which xmllint has no flag.
func stripComments(c []byte) ([]byte, error) {
	var out []byte
	depth := 0
	seenRoot := false
	for i := 0; i < len(c); {
		switch {
		case bytes.HasPrefix(c[i:], []byte("<!--")):
			end := bytes.Index(c[i+4:], []byte("-->"))
			if end < 0 {
				return nil, errors.New("unterminated comment")
			}
			j := i + 4 + end + 3
			if depth == 0 {
				if !seenRoot {
					if j < len(c) && c[j] == '\n' {
						j++
					}
				} else if len(out) > 0 && out[len(out)-1] == '\n' {
					out = out[:len(out)-1]
				}
			}
			i = j
		case bytes.HasPrefix(c[i:], []byte("<?")):
			end := bytes.Index(c[i:], []byte("?>"))
			if end < 0 {
				return nil, errors.New("unterminated PI")
			}
			out = append(out, c[i:i+end+2]...)
			i += end + 2
		case bytes.HasPrefix(c[i:], []byte("</")):
			end := bytes.IndexByte(c[i:], '>')
			out = append(out, c[i:i+end+1]...)
			i += end + 1
			depth--
		case c[i] == '<':
			// A start tag; attribute values never contain a raw '>'? They may (C14N escapes only
			// '<', '&', '"', TAB, CR, LF), so skip quoted values.
			j := i + 1
			for j < len(c) && c[j] != '>' {
				if c[j] == '"' {
					j += 1 + bytes.IndexByte(c[j+1:], '"')
				}
				j++
			}
			out = append(out, c[i:j+1]...)
			i = j + 1
			depth++
			seenRoot = true
		default:
			out = append(out, c[i])
			i++
		}
	}
	return out, nil
}
