package es3

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/google/uuid"

	"github.com/tagdij/tagdij/schema"
)

// DossierSpec describes a dossier to build.
type DossierSpec struct {
	// Title is the dossier's file name (SPEC §4), written to es:DossierProfile/es:Title.
	Title string
	// Created is written, in UTC and whole seconds, to es:CreationDate of the dossier and (unless a
	// document gives its own) of every document. It must not be zero.
	Created time.Time
	// Metadata, for packages, is written as cs:Csomag into es:Metadata and checked first (Check: the
	// F009 rules, and the schema when Schemas is set).
	Metadata *Metadata
	// OtherMetadata is any other single element for es:Metadata (receipts, containers, exports may
	// carry their own); it is copied, never adopted. At most one of Metadata and OtherMetadata may be
	// set; with neither, the dossier has no es:Metadata.
	OtherMetadata *etree.Element
	// Documents are the documents, in order; at least one.
	Documents []DocumentSpec
	// Rand is the source of the random Ids (nil: crypto/rand). Tests pass a seeded stream to get
	// reproducible output.
	Rand io.Reader
	// Schemas, when set, validates Metadata against the cs:Csomag schema.
	Schemas *schema.Set
}

// DocumentSpec describes one es:Document.
type DocumentSpec struct {
	// Title is the document's file name (bevallas.xml, nyugta.xml, kontener.xml, TBA_….es3).
	Title string
	// MIMEType is the source document's type, "type/subtype" (text/xml, or MediaType for a dossier kept
	// inside a container).
	MIMEType string
	// Extension goes to MIME-Type/@extension; empty: taken from Title.
	Extension string
	// Created is the document's es:CreationDate; zero: the dossier's.
	Created time.Time
	// SourceSize is the size in bytes of the source document before any transform.
	SourceSize int64
	// Transforms lists the BaseTransform algorithms in the order they were applied to the source:
	// exactly [TransformZip, TransformEncrypt, TransformBase64] (an encrypted package) or
	// [TransformBase64] (a plain document, SEC-01).
	Transforms []string
	// Content is what the final base64 encodes: the CMS EnvelopedData (DER) for an encrypted document,
	// the source itself for a plain one. Build does not retain it.
	Content []byte
}

// encryptedTransforms and plainTransforms are the two BaseTransform lists a Tagdíj dossier uses.
var (
	encryptedTransforms = []string{TransformZip, TransformEncrypt, TransformBase64}
	plainTransforms     = []string{TransformBase64}
)

// EncryptedTransforms returns the transform list of an encrypted document (zip, encrypt, base64).
func EncryptedTransforms() []string { return slices.Clone(encryptedTransforms) }

// PlainTransforms returns the transform list of a plain document (base64 only).
func PlainTransforms() []string { return slices.Clone(plainTransforms) }

// dateLayout is es:CreationDate as Build writes it.
const dateLayout = "2006-01-02T15:04:05Z"

// base64Line is the number of base64 characters per line of a payload object, as in MIME.
const base64Line = 76

// Id prefixes. An Id is a prefix and a random UUID: unique within the dossier with overwhelming
// probability, an NCName, and not guessable before the dossier exists.
const (
	idDossierProfile  = "DossierProfile-"
	idDocuments       = "Documents-"
	idDocumentProfile = "DocumentProfile-"
	idObject          = "Object-"
)

// NewID returns prefix followed by a random (version 4) UUID read from r (nil: crypto/rand). prefix must
// start an NCName (a letter or underscore first) for the result to be a valid XML Id.
func NewID(r io.Reader, prefix string) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	u, err := uuid.NewRandomFromReader(r)
	if err != nil {
		return "", fmt.Errorf("es3: random Id: %w", err)
	}
	return prefix + u.String(), nil
}

// Build creates the dossier of spec, without signatures, as an etree document beginning with an XML
// declaration and containing no whitespace between elements. What Write makes of it is, after the
// declaration, already in canonical form (exclusive C14N and C14N 1.0 alike): each namespace is declared
// on the outermost element that uses it (es on es:Dossier, ds on each ds:Object, cs on cs:Csomag),
// attributes stand in canonical order, end tags and escapes are canonical. The signature layer keeps
// that property by declaring xmlns:ds on each ds:Signature it adds. The payload of each document is written as
// base64 in lines of 76 characters separated by LF (no leading or trailing line break); the signature
// over the object covers that text as it is.
//
// Memory: the base64 text of each payload is built once, in a string of exactly its final size; etree
// then holds that string without copying, and Write streams it. A 50 MB payload therefore costs about
// 68 MB while the document lives (see BenchmarkRoundTrip).
func Build(spec DossierSpec) (*etree.Document, error) {
	if err := checkText("Title", spec.Title); err != nil {
		return nil, err
	}
	if spec.Created.IsZero() {
		return nil, errors.New("es3: build: Created is zero")
	}
	if spec.Metadata != nil && spec.OtherMetadata != nil {
		return nil, errors.New("es3: build: both Metadata and OtherMetadata are set")
	}
	if spec.Metadata != nil {
		if f := spec.Metadata.Check(spec.Schemas); len(f) > 0 {
			return nil, &Error{Finding: f[0], Err: fmt.Errorf("%d metadata finding(s)", len(f))}
		}
	}
	if len(spec.Documents) == 0 {
		return nil, errors.New("es3: build: no documents")
	}
	seen := make(map[string]bool, 2+2*len(spec.Documents))
	newID := func(prefix string) (string, error) {
		id, err := NewID(spec.Rand, "")
		if err != nil {
			return "", err
		}
		if seen[id] { // only a broken random source repeats itself
			return "", fmt.Errorf("es3: build: random source repeated the UUID %s", id)
		}
		seen[id] = true
		return prefix + id, nil
	}
	dpID, err := newID(idDossierProfile)
	if err != nil {
		return nil, err
	}
	docsID, err := newID(idDocuments)
	if err != nil {
		return nil, err
	}

	doc := etree.NewDocument()
	doc.WriteSettings = writeSettings()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement(PrefixES + ":Dossier")
	root.CreateAttr("xmlns:"+PrefixES, NSES)

	created := spec.Created.UTC().Truncate(time.Second)
	dp := root.CreateElement(PrefixES + ":DossierProfile")
	dp.CreateAttr("Id", dpID)
	dp.CreateAttr("OBJREF", docsID)
	esText(dp, "Title", spec.Title)
	esText(dp, "CreationDate", created.Format(dateLayout))
	switch {
	case spec.Metadata != nil:
		dp.CreateElement(PrefixES + ":Metadata").AddChild(spec.Metadata.Element())
	case spec.OtherMetadata != nil:
		dp.CreateElement(PrefixES + ":Metadata").AddChild(spec.OtherMetadata.Copy())
	}

	docs := root.CreateElement(PrefixES + ":Documents")
	docs.CreateAttr("Id", docsID)
	for i, ds := range spec.Documents {
		if err := ds.check(); err != nil {
			return nil, fmt.Errorf("es3: build: document %d: %w", i+1, err)
		}
		profID, err := newID(idDocumentProfile)
		if err != nil {
			return nil, err
		}
		objID, err := newID(idObject)
		if err != nil {
			return nil, err
		}
		d := docs.CreateElement(PrefixES + ":Document")
		prof := d.CreateElement(PrefixES + ":DocumentProfile")
		prof.CreateAttr("Id", profID)
		prof.CreateAttr("OBJREF", objID)
		esText(prof, "Title", ds.Title)
		dc := created
		if !ds.Created.IsZero() {
			dc = ds.Created.UTC().Truncate(time.Second)
		}
		esText(prof, "CreationDate", dc.Format(dateLayout))
		typ, sub, _ := strings.Cut(ds.MIMEType, "/")
		mt := prof.CreateElement(PrefixES + ":Format").CreateElement(PrefixES + ":MIME-Type")
		// Attribute order as in the sample (and as canonicalization sorts them).
		if ext := ds.extension(); ext != "" {
			mt.CreateAttr("extension", ext)
		}
		mt.CreateAttr("subtype", sub)
		mt.CreateAttr("type", typ)
		ss := prof.CreateElement(PrefixES + ":SourceSize")
		ss.CreateAttr("sizeUnit", "B")
		ss.CreateAttr("sizeValue", strconv.FormatInt(ds.SourceSize, 10))
		bt := prof.CreateElement(PrefixES + ":BaseTransform")
		for _, alg := range ds.Transforms {
			bt.CreateElement(PrefixES+":Transform").CreateAttr("Algorithm", alg)
		}
		obj := d.CreateElement(PrefixDS + ":Object")
		obj.CreateAttr("xmlns:"+PrefixDS, NSDS)
		obj.CreateAttr("Id", objID)
		obj.SetText(encodeBase64Lines(ds.Content))
	}
	return doc, nil
}

func esText(parent *etree.Element, name, text string) {
	parent.CreateElement(PrefixES + ":" + name).SetText(text)
}

func (ds *DocumentSpec) check() error {
	if err := checkText("Title", ds.Title); err != nil {
		return err
	}
	if !validMIME(ds.MIMEType) {
		return fmt.Errorf("MIME type %q is not type/subtype", ds.MIMEType)
	}
	if ds.Extension != "" && !validToken(ds.Extension) {
		return fmt.Errorf("extension %q is not a token", ds.Extension)
	}
	if ds.SourceSize < 0 {
		return fmt.Errorf("negative source size %d", ds.SourceSize)
	}
	switch {
	case slices.Equal(ds.Transforms, encryptedTransforms):
	case slices.Equal(ds.Transforms, plainTransforms):
		if int64(len(ds.Content)) != ds.SourceSize {
			return fmt.Errorf("plain document: source size %d but content is %d bytes", ds.SourceSize, len(ds.Content))
		}
	default:
		return fmt.Errorf("transforms %q: want %q or %q", ds.Transforms, encryptedTransforms, plainTransforms)
	}
	return nil
}

func (ds *DocumentSpec) extension() string {
	if ds.Extension != "" {
		return ds.Extension
	}
	ext := strings.TrimPrefix(path.Ext(ds.Title), ".")
	if !validToken(ext) {
		return ""
	}
	return ext
}

// checkText refuses what cannot be written as XML text unchanged (etree would silently replace it):
// empty text, invalid UTF-8, characters outside the XML Char production.
func checkText(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("es3: build: %s is empty", field)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("es3: build: %s is not valid UTF-8", field)
	}
	for _, r := range s {
		if !isXMLChar(r) || r == '\r' { // a raw CR would not survive a parse
			return fmt.Errorf("es3: build: %s contains character U+%04X, not allowed in XML", field, r)
		}
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// validToken reports whether s is an RFC 2045 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

func validMIME(s string) bool {
	t, sub, ok := strings.Cut(s, "/")
	return ok && validToken(t) && validToken(sub)
}

// encodeBase64Lines encodes b as base64 in lines of base64Line characters joined by LF, into one string
// allocated at its exact final size.
func encodeBase64Lines(b []byte) string {
	n := base64.StdEncoding.EncodedLen(len(b))
	if n == 0 {
		return ""
	}
	lines := (n + base64Line - 1) / base64Line
	var sb strings.Builder
	sb.Grow(n + lines - 1)
	var line [base64Line]byte
	const in = base64Line / 4 * 3 // 57 source bytes per line
	for i := 0; i < len(b); i += in {
		end := min(i+in, len(b))
		if i > 0 {
			sb.WriteByte('\n')
		}
		k := base64.StdEncoding.EncodedLen(end - i)
		base64.StdEncoding.Encode(line[:k], b[i:end])
		sb.Write(line[:k])
	}
	return sb.String()
}

// writeSettings make etree write end tags and escapes as canonicalization does, so written bytes stay
// close to their canonical form and are stable across etree versions' defaults.
func writeSettings() etree.WriteSettings {
	return etree.WriteSettings{CanonicalEndTags: true, CanonicalText: true, CanonicalAttrVal: true}
}

// Write serializes doc to w exactly as it is: UTF-8, the XML declaration first (Write adds one if doc
// has none, and refuses one that declares another encoding), no indentation added, end tags and
// escaping in canonical style whatever doc.WriteSettings say. doc is not modified. Call it once and
// sign or send those bytes; Write does not remove whitespace a caller added.
func Write(w io.Writer, doc *etree.Document) error {
	if doc == nil || doc.Root() == nil {
		return errors.New("es3: write: empty document")
	}
	hasDecl := false
	for _, t := range doc.Child {
		if pi, ok := t.(*etree.ProcInst); ok && pi.Target == "xml" {
			if enc := declaredEncoding(pi.Inst); enc != "" && !strings.EqualFold(enc, "UTF-8") {
				return fmt.Errorf("es3: write: the XML declaration says %s; Write writes UTF-8 only", enc)
			}
			hasDecl = true
			break
		}
		if _, ok := t.(*etree.Element); ok {
			break
		}
	}
	settings := writeSettings()
	if buf, ok := w.(*bytes.Buffer); ok {
		// Into memory (the receiver's receipts, the signer's packages): no 64 KB buffer in between,
		// and a bytes.Buffer write cannot fail.
		if !hasDecl {
			buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		}
		for _, t := range doc.Child {
			t.WriteTo(buf, &settings)
		}
		return nil
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if !hasDecl {
		bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	}
	for _, t := range doc.Child {
		t.WriteTo(bw, &settings)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("es3: write: %w", err)
	}
	return nil
}

// declaredEncoding extracts the encoding pseudo-attribute of an XML declaration's content.
func declaredEncoding(inst string) string {
	i := strings.Index(inst, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(inst[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return ""
	}
	return rest[1 : 1+end]
}
