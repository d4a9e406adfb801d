package xmldsig

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/tagdij/tagdij/internal/libxml"
)

// transformKind classifies a supported transform.
type transformKind int

const (
	tEnveloped transformKind = iota + 1
	tC14N
	tBase64
)

type transform struct {
	uri  string
	kind transformKind
	c14n libxml.C14N
}

// reference is a parsed ds:Reference.
type reference struct {
	node        libxml.Node
	uri         string
	hasURI      bool
	id, typ     string
	transforms  []transform
	digestURI   string
	digest      digestAlg
	digestValue libxml.Node
	err         error // an unsupported transform or digest: the reference cannot be checked
}

// nodeSet is the result of dereferencing a same-document URI: the subtree at root (the zero Node for
// the whole document), minus the subtrees in exclude, with or without comments.
type nodeSet struct {
	root     libxml.Node
	whole    bool
	comments bool
	exclude  []libxml.Node
}

// covers reports whether n lies in the node set.
func (s nodeSet) covers(n libxml.Node) bool {
	if !s.whole && !s.root.Contains(n) {
		return false
	}
	for _, x := range s.exclude {
		if x.Contains(n) {
			return false
		}
	}
	return true
}

// resolveURI dereferences a Reference URI. Only same-document references are accepted; anything that
// would need fetching is ErrUnsupported and is never touched.
func resolveURI(d *libxml.Document, ids map[string]libxml.Node, uri string, hasURI bool) (nodeSet, error) {
	if !hasURI {
		return nodeSet{}, fmt.Errorf("%w: reference without URI (the application would have to supply the data)", ErrUnsupported)
	}
	if uri == "" {
		return nodeSet{whole: true}, nil
	}
	if !strings.HasPrefix(uri, "#") {
		return nodeSet{}, fmt.Errorf("%w: reference to %q outside the document is never fetched", ErrUnsupported, truncate(uri))
	}
	frag := uri[1:]
	comments := false
	if strings.HasPrefix(frag, "xpointer(") {
		switch {
		case frag == "xpointer(/)":
			return nodeSet{whole: true, comments: true}, nil
		case strings.HasPrefix(frag, "xpointer(id(") && strings.HasSuffix(frag, "))"):
			arg := frag[len("xpointer(id(") : len(frag)-2]
			if len(arg) < 2 || (arg[0] != '\'' && arg[0] != '"') || arg[len(arg)-1] != arg[0] {
				return nodeSet{}, fmt.Errorf("%w: XPointer %q", ErrUnsupported, truncate(uri))
			}
			frag = arg[1 : len(arg)-1]
			comments = true
		default:
			return nodeSet{}, fmt.Errorf("%w: XPointer %q (only xpointer(/) and xpointer(id('…')) are supported)", ErrUnsupported, truncate(uri))
		}
	}
	if frag == "" || strings.ContainsAny(frag, " \t\r\n'\"()") {
		return nodeSet{}, fmt.Errorf("%w: malformed same-document reference %q", ErrReference, truncate(uri))
	}
	n, ok := ids[frag]
	if !ok {
		return nodeSet{}, fmt.Errorf("%w: no element with identifier %q", ErrReference, truncate(frag))
	}
	return nodeSet{root: n, comments: comments}, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// digestReference runs the reference's transforms over its node set and writes the resulting octets
// to h. The common case (node set, optional enveloped-signature, one canonicalization) is streamed
// from libxml2 straight into the hash; octets are materialized only when a transform needs them.
func digestReference(d *libxml.Document, sig libxml.Node, ns *nodeSet, ts []transform, h io.Writer) error {
	var (
		octets   []byte
		isOctets bool
	)
	for i, t := range ts {
		last := i == len(ts)-1
		switch t.kind {
		case tEnveloped:
			if isOctets {
				return fmt.Errorf("%w: enveloped-signature transform after conversion to octets", ErrUnsupported)
			}
			ns.exclude = append(ns.exclude, sig)
		case tC14N:
			var out io.Writer = h
			var buf bytes.Buffer
			if !last {
				out = &buf
			}
			if !isOctets {
				c := t.c14n
				// A node set without comments cannot get them back from a #WithComments transform.
				c.WithComments = c.WithComments && ns.comments
				if err := d.CanonicalizeTo(out, ns.root, c, ns.exclude...); err != nil {
					return fmt.Errorf("xmldsig: transform %s: %w", t.uri, err)
				}
			} else {
				if err := canonicalizeOctets(octets, t.c14n, out); err != nil {
					return fmt.Errorf("xmldsig: transform %s: %w", t.uri, err)
				}
			}
			if last {
				return nil
			}
			octets, isOctets = buf.Bytes(), true
		case tBase64:
			var text []byte
			if isOctets {
				text = octets
			} else {
				if ns.whole {
					return fmt.Errorf("%w: base64 transform over a whole document", ErrUnsupported)
				}
				if len(ns.root.Children()) > 0 {
					return fmt.Errorf("%w: base64 transform over an element with child elements", ErrUnsupported)
				}
				text = []byte(ns.root.Text())
			}
			dec, err := decodeBase64(string(text))
			if err != nil {
				return fmt.Errorf("xmldsig: base64 transform: %w", err)
			}
			octets, isOctets = dec, true
		}
	}
	if isOctets {
		_, err := h.Write(octets)
		return err
	}
	// The default conversion of a node set to octets is Canonical XML 1.0 (XMLDSig §4.4.3.2), the
	// algorithm without comments: comments an #xpointer reference keeps in its node set reach the
	// digest only through an explicit #WithComments canonicalization transform.
	if err := d.CanonicalizeTo(h, ns.root, libxml.C14N{Method: libxml.C14N10}, ns.exclude...); err != nil {
		return fmt.Errorf("xmldsig: canonicalization: %w", err)
	}
	return nil
}

// canonicalizeOctets parses the octets of a previous transform as a document and canonicalizes it.
func canonicalizeOctets(data []byte, c libxml.C14N, w io.Writer) error {
	d, err := libxml.Parse(data)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.CanonicalizeTo(w, libxml.Node{}, c)
}

// decodeBase64 decodes base64 text, ignoring XML white space (line breaks are usual in XML).
func decodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(clean)
}

// computeDigest resolves a reference and returns its digest and node set.
func computeDigest(d *libxml.Document, ids map[string]libxml.Node, sig libxml.Node, r *reference) ([]byte, nodeSet, error) {
	ns, err := resolveURI(d, ids, r.uri, r.hasURI)
	if err != nil {
		return nil, ns, err
	}
	if r.err != nil {
		return nil, ns, r.err
	}
	var h hash.Hash = r.digest.hash.New()
	if err := digestReference(d, sig, &ns, r.transforms, h); err != nil {
		return nil, ns, err
	}
	return h.Sum(nil), ns, nil
}
