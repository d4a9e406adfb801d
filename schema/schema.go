// Package schema embeds the XML Schemas of Tagdíj's business documents (SPEC §2, §5) and validates
// documents against them with libxml2. Every schema is self-contained (no xs:import or xs:include), so
// validation never needs anything but these bytes.
package schema

import (
	"embed"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/beevik/etree"

	"github.com/tagdij/tagdij/internal/libxml"
)

//go:embed *.xsd
var files embed.FS

// Name identifies one schema; it is the XSD's file name without extension.
type Name string

// The schemas of SPEC §2 and §5.
const (
	Declaration  Name = "tagdijbevallas" // bevallas.xml, urn:x-mnyp:tagdijbevallas:1
	Receipt      Name = "nyugta"         // nyugta.xml, urn:x-mnyp:nyugta:1
	Registration Name = "bejelentkezes"  // registration data sheet, urn:x-mnyp:bejelentkezes:1
	Package      Name = "csomag"         // cs:Csomag package metadata, urn:x-mnyp:csomag:1
	Container    Name = "kontener"       // kontener.xml of the sender container, urn:x-mnyp:kontener:1
	Export       Name = "export"         // export.xml of the tax-authority export, urn:x-mnyp:export:1
)

// Namespaces maps each schema to its target namespace.
var namespaces = map[Name]string{
	Declaration:  "urn:x-mnyp:tagdijbevallas:1",
	Receipt:      "urn:x-mnyp:nyugta:1",
	Registration: "urn:x-mnyp:bejelentkezes:1",
	Package:      "urn:x-mnyp:csomag:1",
	Container:    "urn:x-mnyp:kontener:1",
	Export:       "urn:x-mnyp:export:1",
}

// Namespace is the target namespace of n.
func Namespace(n Name) string { return namespaces[n] }

// ForNamespace returns the schema whose target namespace is ns.
func ForNamespace(ns string) (Name, bool) {
	for n, u := range namespaces {
		if u == ns {
			return n, true
		}
	}
	return "", false
}

// Source returns the XSD bytes of n.
func Source(n Name) ([]byte, error) {
	b, err := files.ReadFile(string(n) + ".xsd")
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", n, err)
	}
	return b, nil
}

// Names lists the embedded schemas in alphabetical order.
func Names() []Name {
	entries, _ := files.ReadDir(".")
	var out []Name
	for _, e := range entries {
		out = append(out, Name(strings.TrimSuffix(e.Name(), path.Ext(e.Name()))))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Set is a compiled set of every embedded schema. It is immutable and safe for concurrent use; Close
// releases the compiled schemas.
type Set struct {
	compiled map[Name]*libxml.Schema
	// streamed are the schemas ValidateStream validates against: streamedSchemas compiled without
	// their identity constraints, whose names deferred lists.
	streamed map[Name]*libxml.Schema
	deferred map[Name][]string
	parser   libxml.Parser
}

// streamedSchemas are the schemas ValidateStream serves: the documents large enough to be validated
// without a tree.
var streamedSchemas = []Name{Declaration}

// Load compiles every embedded schema; parser sets the limits ValidateBytes parses under (zero value:
// the defaults).
func Load(parser libxml.Parser) (*Set, error) {
	s := &Set{compiled: make(map[Name]*libxml.Schema), streamed: make(map[Name]*libxml.Schema), deferred: make(map[Name][]string),
		parser: parser}
	for _, n := range streamedSchemas {
		src, err := Source(n)
		if err != nil {
			s.Close()
			return nil, err
		}
		free, names, err := withoutIdentityConstraints(src)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("schema %s: %w", n, err)
		}
		c, err := libxml.CompileSchema(string(n)+".xsd", free)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("schema %s without identity constraints does not compile: %w", n, err)
		}
		s.streamed[n], s.deferred[n] = c, names
	}
	for _, n := range Names() {
		src, err := Source(n)
		if err != nil {
			s.Close()
			return nil, err
		}
		c, err := libxml.CompileSchema(string(n)+".xsd", src)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("schema %s does not compile: %w", n, err)
		}
		s.compiled[n] = c
	}
	return s, nil
}

// ErrUnknownSchema reports a schema name that is not embedded.
var ErrUnknownSchema = errors.New("schema: unknown schema")

// Validate checks an already parsed document against n. A *libxml.ValidationError lists the problems.
func (s *Set) Validate(n Name, d *libxml.Document) error {
	c, ok := s.compiled[n]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownSchema, n)
	}
	return c.Validate(d)
}

// ValidateBytes parses data with the hardened parser and validates it against n. Parse refusals are
// *libxml.Error values, schema problems a *libxml.ValidationError.
func (s *Set) ValidateBytes(n Name, data []byte) error {
	d, err := s.parser.Parse(data)
	if err != nil {
		return err
	}
	defer d.Close()
	if root := d.Root(); root.NamespaceURI() != Namespace(n) {
		return &libxml.ValidationError{Schema: string(n), Problems: []libxml.Problem{{Line: root.Line(),
			Msg: fmt.Sprintf("document element is in namespace %q, expected %q", root.NamespaceURI(), Namespace(n))}}}
	}
	return s.Validate(n, d)
}

// ValidateStream parses data under the set's parser limits and validates it against n while reading
// it, without building a tree (libxml.Parser.ValidateStream): it returns the document's record, a
// *libxml.Error for a refused parse, or a *libxml.ValidationError with the record. Unlike ValidateBytes
// it does not check the document element's namespace first: the caller reads it from the record. The
// caller closes the record. Only Declaration is streamed.
//
// The identity constraints of n (xs:unique, xs:key, xs:keyref; Deferred names them) are NOT checked:
// the caller checks them on the record, in the same pass. libxml2's identity-constraint tables took 40%
// of the validation time of a 100,000-member declaration and 30 MB for its one xs:unique on row numbers,
// which a map over the record checks in milliseconds.
func (s *Set) ValidateStream(n Name, data []byte) (*libxml.Events, error) {
	c, ok := s.streamed[n]
	if !ok {
		return nil, fmt.Errorf("%w %q for streaming", ErrUnknownSchema, n)
	}
	return s.parser.ValidateStream(data, c)
}

// Deferred names the identity constraints of n that ValidateStream leaves to its caller, in the
// order the schema declares them.
func (s *Set) Deferred(n Name) []string { return append([]string(nil), s.deferred[n]...) }

// withoutIdentityConstraints returns the XSD src with every xs:unique, xs:key and xs:keyref removed,
// and their names.
func withoutIdentityConstraints(src []byte) ([]byte, []string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(src); err != nil {
		return nil, nil, err
	}
	var names []string
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, c := range e.ChildElements() {
			if c.NamespaceURI() == xsdNamespace && (c.Tag == "unique" || c.Tag == "key" || c.Tag == "keyref") {
				names = append(names, c.SelectAttrValue("name", ""))
				e.RemoveChild(c)
				continue
			}
			walk(c)
		}
	}
	walk(doc.Root())
	out, err := doc.WriteToBytes()
	return out, names, err
}

const xsdNamespace = "http://www.w3.org/2001/XMLSchema"

// Close frees the compiled schemas.
func (s *Set) Close() {
	for _, c := range s.compiled {
		c.Close()
	}
	for _, c := range s.streamed {
		c.Close()
	}
	s.compiled, s.streamed = nil, nil
}
