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
	parser   libxml.Parser
}

// Load compiles every embedded schema; parser sets the limits ValidateBytes parses under (zero value:
// the defaults).
func Load(parser libxml.Parser) (*Set, error) {
	s := &Set{compiled: make(map[Name]*libxml.Schema), parser: parser}
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
// *libxml.Error for a refused parse, or a *libxml.ValidationError with the record up to the first
// problem. Unlike ValidateBytes it does not check the document element's namespace first: the caller
// reads it from the record. The caller closes the record.
func (s *Set) ValidateStream(n Name, data []byte) (*libxml.Events, error) {
	c, ok := s.compiled[n]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownSchema, n)
	}
	return s.parser.ValidateStream(data, c)
}

// Close frees the compiled schemas.
func (s *Set) Close() {
	for _, c := range s.compiled {
		c.Close()
	}
	s.compiled = nil
}
