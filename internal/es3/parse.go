package es3

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/schema"
)

// Mode selects how much of the e-akta format Parse accepts.
type Mode int

const (
	// Strict accepts exactly the shape Build writes (a Tagdíj package, receipt, container or export):
	// every DossierProfile and DocumentProfile field present and in order, a UTC CreationDate, at most
	// one metadata element, the transform list zip/encrypt/base64 or base64, signatures only directly
	// under es:Dossier and each with an Id.
	Strict Mode = iota
	// Generic accepts any e-akta dossier of the same vocabulary, for auditors: CreationDate, Format,
	// SourceSize and BaseTransform may be missing, CreationDate may carry an offset, any transform
	// names, any metadata, and document-level signatures inside es:Document (as in the conformance
	// sample). Every wrapping defence of Strict still applies.
	Generic
)

func (m Mode) String() string {
	switch m {
	case Strict:
		return "strict"
	case Generic:
		return "generic"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Defaults of ParseOptions.
const (
	DefaultMaxDocuments    = 256
	DefaultMaxPayloadBytes = 128 << 20 // decoded bytes per document: a 50 MB payload with room to spare
)

// ParseOptions configure Parse. The zero value is Strict with the default limits.
type ParseOptions struct {
	Mode            Mode
	Limits          libxml.Limits // for the XML parser; zero fields take libxml.DefaultLimits
	MaxDocuments    int           // es:Document elements; 0: DefaultMaxDocuments
	MaxPayloadBytes int64         // decoded bytes Payload returns per document; 0: DefaultMaxPayloadBytes
}

// Dossier is a parsed, structurally checked dossier. It keeps the libxml2 document open for the
// signature layer: call Close when done. Nodes are valid only until Close.
//
// Everything here is read from unauthenticated input. The signature layer must verify, before any of
// it is trusted, that every signature covers Profile, DocumentsNode and each document's Object (and that
// references resolve through Lookup only).
type Dossier struct {
	doc        *libxml.Document
	ids        map[string]libxml.Node
	mode       Mode
	maxPayload int64
	inputSize  int
	metadata   libxml.Node
	owned      bool // Close closes doc: Parse made it

	Root          libxml.Node // es:Dossier
	Profile       libxml.Node // es:DossierProfile
	ProfileID     string
	DocumentsNode libxml.Node // es:Documents
	DocumentsID   string
	Title         string    // es:DossierProfile/es:Title, verbatim
	CreationDate  time.Time // zero when absent (Generic only)
	Documents     []Document
	Signatures    []Signature // in document order
}

// Document is one es:Document.
type Document struct {
	Node         libxml.Node // es:Document
	Profile      libxml.Node // es:DocumentProfile
	ProfileID    string
	Object       libxml.Node // the payload ds:Object, the one the profile's OBJREF names
	ObjectID     string
	Title        string
	CreationDate time.Time // zero when absent
	MIMEType     string    // "type/subtype"; "" when there is no es:Format (Generic only)
	Extension    string    // MIME-Type/@extension, may be ""
	SourceSize   int64     // bytes; -1 when absent or not in bytes (Generic only)
	Transforms   []string  // BaseTransform algorithms in the order applied to the source
}

// Encrypted reports whether the document's transforms are zip, encrypt, base64.
func (d *Document) Encrypted() bool { return slices.Equal(d.Transforms, encryptedTransforms) }

// Signature is a ds:Signature the parser found in a dossier position: directly under es:Dossier
// (Document == -1) or, in Generic mode, inside the es:Document with that index. Signatures nested in
// other signatures (XAdES counter-signatures) are not listed.
type Signature struct {
	Node     libxml.Node
	ID       string // "" only in Generic mode
	Document int
}

// Parse reads data (UTF-8 or ISO-8859-2) with the hardened libxml2 parser and checks the dossier
// structure of SPEC §2 under opts. Refusals are *Error values: T006 for a forbidden construct or an
// exceeded parser limit, T005 for anything that is not a well-formed dossier of the expected shape
// (including every signature-wrapping sign: duplicate Ids, a second DossierProfile or Documents, an
// OBJREF that leaves its document, an object without a profile, es: elements the format does not know
// or in the wrong place), F011 for a missing document or payload object, T003 for too many documents.
func Parse(data []byte, opts ParseOptions) (*Dossier, error) {
	// Dossiers are signed documents: the verifier's memory bound applies (libxml.VerifierLimits).
	doc, err := libxml.Parser{Limits: opts.Limits.ForSigned()}.Parse(data)
	if err != nil {
		return nil, ParseRefusal(err)
	}
	d, err := check(doc, len(data), opts)
	if err != nil {
		doc.Close()
		return nil, err
	}
	d.owned = true
	return d, nil
}

// FromDocument checks the dossier structure of an already parsed document (the bytes of size
// inputSize that doc was parsed from) exactly as Parse does, so that a caller that parsed once (to
// tell what a file is, say) need not parse again. The Dossier borrows doc: its Close leaves doc open,
// and the caller closes doc after the Dossier is no longer used. On error doc is untouched, so it can
// be checked again in another mode. opts.Limits is not used (the document is already parsed).
func FromDocument(doc *libxml.Document, inputSize int, opts ParseOptions) (*Dossier, error) {
	if doc == nil {
		return nil, errors.New("es3: no document")
	}
	return check(doc, inputSize, opts)
}

// check builds a Dossier over doc; it never closes doc.
func check(doc *libxml.Document, inputSize int, opts ParseOptions) (*Dossier, error) {
	d := &Dossier{doc: doc, mode: opts.Mode, maxPayload: opts.MaxPayloadBytes, inputSize: inputSize}
	if d.maxPayload <= 0 {
		d.maxPayload = DefaultMaxPayloadBytes
	}
	maxDocs := opts.MaxDocuments
	if maxDocs <= 0 {
		maxDocs = DefaultMaxDocuments
	}
	if opts.Mode != Strict && opts.Mode != Generic {
		return nil, fmt.Errorf("es3: parse: unknown mode %d", int(opts.Mode))
	}
	if err := d.check(maxDocs); err != nil {
		return nil, err
	}
	return d, nil
}

// ParseRefusal turns a libxml parse error into the *Error Parse returns for it: T006 for a forbidden
// construct or an exceeded limit, R001 for an internal failure, T005 for anything else.
func ParseRefusal(err error) error {
	var xe *libxml.Error
	loc := ""
	if errors.As(err, &xe) && xe.Line > 0 {
		loc = fmt.Sprintf("sor/line %d, oszlop/column %d", xe.Line, xe.Column)
	}
	msg := err.Error()
	if xe != nil {
		msg = xe.Msg
	}
	switch {
	case errors.Is(err, libxml.ErrForbidden), errors.Is(err, libxml.ErrLimit):
		return &Error{Finding: bilingual(errcode.T006, loc, msg, msg), Err: err}
	case errors.Is(err, libxml.ErrInternal):
		return &Error{Finding: bilingual(errcode.R001, loc, msg, msg), Err: err}
	}
	return &Error{Finding: bilingual(errcode.T005, loc, "nem jól formált XML: "+msg, "not well-formed XML: "+msg), Err: err}
}

// Close releases the parsed document. Nodes of the Dossier must not be used afterwards.
// A Dossier from FromDocument borrows its document and leaves it open.
func (d *Dossier) Close() {
	if d != nil && d.owned {
		d.doc.Close()
	}
}

// Doc is the parsed document, for canonicalization by the signature layer. It is owned by d.
func (d *Dossier) Doc() *libxml.Document { return d.doc }

// Mode is the mode d was parsed in.
func (d *Dossier) Mode() Mode { return d.mode }

// Lookup resolves a same-document reference ("#id" without the '#') by the Id attribute. Ids are
// unique (Parse refuses duplicates), so the answer is never ambiguous.
func (d *Dossier) Lookup(id string) (libxml.Node, bool) {
	n, ok := d.ids[id]
	return n, ok
}

// MetadataNode returns es:DossierProfile/es:Metadata, if present, for generic inspection. Its content
// is unauthenticated until the signature layer has verified a reference covering Profile.
func (d *Dossier) MetadataNode() (libxml.Node, bool) {
	return d.metadata, !d.metadata.IsZero()
}

// Metadata decodes the package metadata cs:Csomag from es:Metadata: its exclusive canonical form (so
// exactly the bytes a signature over the profile covers) is parsed, validated against the schema and
// checked against the rules of Metadata.Check. Every problem, including absent metadata, is an F009
// finding.
//
// Contract: call it only after the signature layer has verified that the signatures cover Profile;
// before that the metadata are attacker-controlled and must not steer anything.
func (d *Dossier) Metadata(set *schema.Set) (*Metadata, []errcode.Finding) {
	if d.metadata.IsZero() {
		return nil, []errcode.Finding{bilingual(errcode.F009, where(d.Profile), "hiányzik az es:Metadata", "es:Metadata is missing")}
	}
	kids := d.metadata.Children()
	if len(kids) != 1 || !kids[0].Is(NSCsomag, "Csomag") {
		return nil, []errcode.Finding{bilingual(errcode.F009, where(d.metadata),
			"az es:Metadata pontosan egy cs:Csomag elemet tartalmazhat", "es:Metadata must hold exactly one cs:Csomag")}
	}
	data, err := canonicalSubtree(d.doc, kids[0])
	if err != nil {
		return nil, []errcode.Finding{bilingual(errcode.F009, where(kids[0]), "nem kanonizálható", "cannot be canonicalized: "+err.Error())}
	}
	return DecodeMetadata(data, set)
}

// check verifies the structure and fills d.
func (d *Dossier) check(maxDocs int) error {
	root := d.doc.Root()
	if !root.Is(NSES, "Dossier") {
		return refuse(errcode.T005, where(root),
			fmt.Sprintf("a gyökérelem %s, nem es:Dossier", qname(root)), fmt.Sprintf("document element is %s, not es:Dossier", qname(root)))
	}
	d.Root = root
	ids, err := d.doc.IDs("Id")
	if err == nil {
		// Also refuse a value shared between Id and the other common identifier spellings: a resolver
		// elsewhere that honours them must not find a second element.
		_, err = d.doc.IDs("Id", "ID", "id")
	}
	if err != nil {
		var dup *libxml.DuplicateIDError
		if errors.As(err, &dup) {
			return &Error{Finding: bilingual(errcode.T005, fmt.Sprintf("sor/line %d, %d", dup.First, dup.Then),
				fmt.Sprintf("ismétlődő azonosító: %q", dup.ID), fmt.Sprintf("duplicate Id %q", dup.ID)), Err: err}
		}
		return &Error{Finding: bilingual(errcode.T005, "", err.Error(), err.Error()), Err: err}
	}
	d.ids = ids
	if err := d.checkPlacement(); err != nil {
		return err
	}
	return d.checkSkeleton(maxDocs)
}

// esParents says under which es: element each es: element may appear ("" for the document element).
// SignatureProfile is handled apart.
var esParents = map[string][]string{
	"Dossier":         {""},
	"DossierProfile":  {"Dossier"},
	"Documents":       {"Dossier"},
	"Title":           {"DossierProfile", "DocumentProfile"},
	"CreationDate":    {"DossierProfile", "DocumentProfile"},
	"Metadata":        {"DossierProfile", "DocumentProfile"}, // DocumentProfile: Generic only
	"Document":        {"Documents"},
	"DocumentProfile": {"Document"},
	"Format":          {"DocumentProfile"},
	"MIME-Type":       {"Format"},
	"SourceSize":      {"DocumentProfile"},
	"BaseTransform":   {"DocumentProfile"},
	"Transform":       {"BaseTransform"},
	"SignerName":      {"SignatureProfile"},
	"Type":            {"SignatureProfile"},
	"Generator":       {"SignatureProfile"},
}

// checkPlacement walks the whole document once: every es: element must be one the format knows, under
// the parent the format gives it; ds:Signature and ds:Object outside signatures may stand only where the
// dossier puts them. This is what makes a second es:Documents inside metadata, an object or a signature
// a refusal rather than something a careless reader might pick up.
func (d *Dossier) checkPlacement() error {
	var bad error
	d.doc.Walk(func(n libxml.Node) bool {
		if err := d.placed(n); err != nil {
			bad = err
			return false
		}
		return true
	})
	return bad
}

func (d *Dossier) placed(n libxml.Node) error {
	p := n.Parent()
	// Namespaces are compared in place (InNamespace): this runs for every element of the dossier.
	switch {
	case n.InNamespace(NSES):
		local := n.LocalName()
		if local == "SignatureProfile" {
			if p.Is(NSDS, "Object") && p.Parent().Is(NSDS, "Signature") {
				return nil
			}
			return misplaced(n)
		}
		parents, known := esParents[local]
		if !known {
			return refuse(errcode.T005, where(n), "ismeretlen e-akta elem: es:"+local, "unknown e-dossier element es:"+local)
		}
		if local == "Metadata" && d.mode == Strict && !p.Is(NSES, "DossierProfile") {
			return misplaced(n)
		}
		want := ""
		if !p.IsZero() {
			if !p.InNamespace(NSES) {
				return misplaced(n)
			}
			want = p.LocalName()
		}
		if !slices.Contains(parents, want) {
			return misplaced(n)
		}
	case n.InNamespace(NSDS):
		object := n.Is(NSDS, "Object")
		if !object && !n.Is(NSDS, "Signature") {
			return nil
		}
		if insideSignature(p) {
			return nil
		}
		if object {
			if p.Is(NSES, "Document") {
				return nil
			}
			return misplaced(n)
		}
		if p.Is(NSES, "Dossier") || (d.mode == Generic && p.Is(NSES, "Document")) {
			return nil
		}
		return misplaced(n)
	}
	return nil
}

func misplaced(n libxml.Node) error {
	parent := "(gyökér/root)"
	if p := n.Parent(); !p.IsZero() {
		parent = qname(p)
	}
	return refuse(errcode.T005, where(n),
		fmt.Sprintf("%s nem állhat itt: %s alatt", qname(n), parent), fmt.Sprintf("%s is not allowed inside %s", qname(n), parent))
}

func insideSignature(n libxml.Node) bool {
	for ; !n.IsZero(); n = n.Parent() {
		if n.Is(NSDS, "Signature") {
			return true
		}
	}
	return false
}

// checkSkeleton checks the dossier's children, profile and documents.
func (d *Dossier) checkSkeleton(maxDocs int) error {
	var profiles, documents []libxml.Node
	stage := 0 // 0 before DossierProfile, 1 after it, 2 after Documents
	for _, c := range d.Root.Children() {
		switch {
		case c.Is(NSES, "DossierProfile"):
			profiles = append(profiles, c)
			if len(profiles) > 1 {
				return refuse(errcode.T005, where(c), "második es:DossierProfile", "a second es:DossierProfile")
			}
			if stage != 0 {
				return outOfOrder(c)
			}
			stage = 1
		case c.Is(NSES, "Documents"):
			documents = append(documents, c)
			if len(documents) > 1 {
				return refuse(errcode.T005, where(c), "második es:Documents", "a second es:Documents")
			}
			if stage != 1 {
				return outOfOrder(c)
			}
			stage = 2
		case c.Is(NSDS, "Signature"):
			if stage != 2 {
				return outOfOrder(c)
			}
			id, _ := c.Attr("Id")
			if id == "" && d.mode == Strict {
				return refuse(errcode.T005, where(c), "az aláírásnak nincs Id attribútuma", "the signature has no Id attribute")
			}
			d.Signatures = append(d.Signatures, Signature{Node: c, ID: id, Document: -1})
		default:
			return unexpected(c)
		}
	}
	if len(profiles) == 0 {
		return refuse(errcode.T005, where(d.Root), "hiányzik az es:DossierProfile", "es:DossierProfile is missing")
	}
	if len(documents) == 0 {
		return refuse(errcode.T005, where(d.Root), "hiányzik az es:Documents", "es:Documents is missing")
	}
	d.Profile, d.DocumentsNode = profiles[0], documents[0]
	var err error
	if d.DocumentsID, err = requiredAttr(d.DocumentsNode, "Id"); err != nil {
		return err
	}
	if err := d.checkProfile(); err != nil {
		return err
	}
	return d.checkDocuments(maxDocs)
}

func outOfOrder(n libxml.Node) error {
	return refuse(errcode.T005, where(n),
		fmt.Sprintf("%s rossz helyen: a sorrend es:DossierProfile, es:Documents, ds:Signature", qname(n)),
		fmt.Sprintf("%s out of order: expected es:DossierProfile, es:Documents, ds:Signature", qname(n)))
}

func unexpected(n libxml.Node) error {
	parent := qname(n.Parent())
	return refuse(errcode.T005, where(n),
		fmt.Sprintf("váratlan elem %s alatt: %s", parent, qname(n)), fmt.Sprintf("unexpected element %s in %s", qname(n), parent))
}

func requiredAttr(n libxml.Node, name string) (string, error) {
	v, ok := n.Attr(name)
	if !ok || v == "" {
		return "", refuse(errcode.T005, where(n),
			fmt.Sprintf("%s: hiányzik a(z) %s attribútum", qname(n), name), fmt.Sprintf("%s lacks the %s attribute", qname(n), name))
	}
	return v, nil
}

// field is one position of an ordered child sequence.
type field struct {
	local    string
	min, max int
}

// sequence matches the es: children of n against fields in order and returns them by local name. Any
// non-es child is refused (the placement walk has already refused es: children that do not belong).
func sequence(n libxml.Node, fields []field) (map[string][]libxml.Node, error) {
	got := make(map[string][]libxml.Node)
	pos := 0
	for _, c := range n.Children() {
		if c.NamespaceURI() != NSES {
			return nil, unexpected(c)
		}
		for pos < len(fields) && fields[pos].local != c.LocalName() {
			pos++
		}
		if pos == len(fields) {
			if slices.ContainsFunc(fields, func(f field) bool { return f.local == c.LocalName() }) {
				return nil, refuse(errcode.T005, where(c),
					fmt.Sprintf("%s ismétlődik vagy rossz helyen áll", qname(c)), fmt.Sprintf("%s repeated or out of order", qname(c)))
			}
			return nil, unexpected(c)
		}
		got[c.LocalName()] = append(got[c.LocalName()], c)
		if len(got[c.LocalName()]) > fields[pos].max {
			return nil, refuse(errcode.T005, where(c),
				fmt.Sprintf("%s ismétlődik", qname(c)), fmt.Sprintf("%s repeated", qname(c)))
		}
	}
	for _, f := range fields {
		if len(got[f.local]) < f.min {
			return nil, refuse(errcode.T005, where(n),
				fmt.Sprintf("%s: hiányzik az es:%s", qname(n), f.local), fmt.Sprintf("%s lacks es:%s", qname(n), f.local))
		}
	}
	return got, nil
}

func (d *Dossier) opt() int {
	if d.mode == Strict {
		return 1
	}
	return 0
}

func (d *Dossier) checkProfile() error {
	var err error
	if d.ProfileID, err = requiredAttr(d.Profile, "Id"); err != nil {
		return err
	}
	ref, err := requiredAttr(d.Profile, "OBJREF")
	if err != nil {
		return err
	}
	if ref != d.DocumentsID {
		return refuse(errcode.T005, where(d.Profile),
			fmt.Sprintf("az OBJREF (%q) nem az es:Documents azonosítója (%q)", ref, d.DocumentsID),
			fmt.Sprintf("OBJREF %q is not the Id of es:Documents (%q)", ref, d.DocumentsID))
	}
	got, err := sequence(d.Profile, []field{{"Title", 1, 1}, {"CreationDate", d.opt(), 1}, {"Metadata", 0, 1}})
	if err != nil {
		return err
	}
	if d.Title, err = title(got["Title"][0]); err != nil {
		return err
	}
	if cd := got["CreationDate"]; len(cd) == 1 {
		if d.CreationDate, err = d.creationDate(cd[0]); err != nil {
			return err
		}
	}
	if md := got["Metadata"]; len(md) == 1 {
		d.metadata = md[0]
		if d.mode == Strict && len(md[0].Children()) != 1 {
			return refuse(errcode.T005, where(md[0]),
				"az es:Metadata pontosan egy elemet tartalmazhat", "es:Metadata must hold exactly one element")
		}
	}
	return nil
}

func title(n libxml.Node) (string, error) {
	if len(n.Children()) > 0 {
		return "", refuse(errcode.T005, where(n), "az es:Title csak szöveg lehet", "es:Title must hold text only")
	}
	t := n.Text()
	if strings.TrimSpace(t) == "" {
		return "", refuse(errcode.T005, where(n), "üres es:Title", "empty es:Title")
	}
	return t, nil
}

// creationDate reads es:CreationDate: Strict wants UTC with the Z suffix; Generic any RFC 3339 time.
func (d *Dossier) creationDate(n libxml.Node) (time.Time, error) {
	s := n.Text()
	if len(n.Children()) == 0 {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && (d.mode == Generic || strings.HasSuffix(s, "Z")) {
			return t.UTC(), nil
		}
	}
	return time.Time{}, refuse(errcode.T005, where(n),
		fmt.Sprintf("hibás időpont: %q (UTC, ÉÉÉÉ-HH-NNTóó:pp:mmZ az elvárt)", short(s)),
		fmt.Sprintf("bad time %q (UTC YYYY-MM-DDThh:mm:ssZ expected)", short(s)))
}

func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (d *Dossier) checkDocuments(maxDocs int) error {
	kids := d.DocumentsNode.Children()
	if len(kids) == 0 {
		return refuse(errcode.F011, where(d.DocumentsNode), "az es:Documents üres", "es:Documents holds no es:Document")
	}
	if len(kids) > maxDocs {
		return refuse(errcode.T003, where(d.DocumentsNode),
			fmt.Sprintf("%d dokumentum, legfeljebb %d megengedett", len(kids), maxDocs),
			fmt.Sprintf("%d documents, at most %d allowed", len(kids), maxDocs))
	}
	for i, k := range kids {
		if !k.Is(NSES, "Document") {
			return unexpected(k)
		}
		doc, err := d.checkDocument(i, k)
		if err != nil {
			return err
		}
		d.Documents = append(d.Documents, doc)
	}
	return nil
}

func (d *Dossier) checkDocument(index int, n libxml.Node) (Document, error) {
	doc := Document{Node: n, SourceSize: -1}
	var profiles, objects []libxml.Node
	for _, c := range n.Children() {
		switch {
		case c.Is(NSES, "DocumentProfile"):
			if d.mode == Strict && (len(profiles) > 0 || len(objects) > 0) {
				return doc, refuse(errcode.T005, where(c), "az es:DocumentProfile az első elem", "es:DocumentProfile must come first")
			}
			profiles = append(profiles, c)
		case c.Is(NSDS, "Object"):
			if d.mode == Strict && len(objects) > 0 {
				return doc, refuse(errcode.T005, where(c), "második ds:Object a dokumentumban", "a second ds:Object in the document")
			}
			objects = append(objects, c)
		case c.Is(NSDS, "Signature"): // placement admitted it: Generic only
			id, _ := c.Attr("Id")
			d.Signatures = append(d.Signatures, Signature{Node: c, ID: id, Document: index})
		default:
			return doc, unexpected(c)
		}
	}
	switch {
	case len(profiles) == 0:
		return doc, refuse(errcode.T005, where(n), "a dokumentumnak nincs es:DocumentProfile eleme", "the document has no es:DocumentProfile")
	case len(profiles) > 1:
		return doc, refuse(errcode.T005, where(profiles[1]), "második es:DocumentProfile", "a second es:DocumentProfile")
	case len(objects) == 0:
		return doc, refuse(errcode.F011, where(n), "a dokumentumnak nincs ds:Object eleme", "the document has no ds:Object")
	case len(objects) > 1:
		return doc, refuse(errcode.T005, where(objects[1]), "ds:Object profil nélkül", "a ds:Object without a profile")
	}
	prof, obj := profiles[0], objects[0]
	doc.Profile, doc.Object = prof, obj
	var err error
	if doc.ProfileID, err = requiredAttr(prof, "Id"); err != nil {
		return doc, err
	}
	ref, err := requiredAttr(prof, "OBJREF")
	if err != nil {
		return doc, err
	}
	target, ok := d.ids[ref]
	if !ok {
		return doc, refuse(errcode.F011, where(prof),
			fmt.Sprintf("az OBJREF (%q) nem létező objektumra mutat", ref), fmt.Sprintf("OBJREF %q names no element", ref))
	}
	if !target.Is(NSDS, "Object") || target.Parent() != n {
		return doc, refuse(errcode.T005, where(prof),
			fmt.Sprintf("az OBJREF (%q) nem a dokumentum saját ds:Object elemére mutat", ref),
			fmt.Sprintf("OBJREF %q does not name the document's own ds:Object", ref))
	}
	if target != obj {
		return doc, refuse(errcode.T005, where(obj), "ds:Object profil nélkül", "a ds:Object without a profile")
	}
	doc.ObjectID = ref
	if len(obj.Children()) > 0 {
		return doc, refuse(errcode.T005, where(obj.Children()[0]),
			"a ds:Object csak base64 szöveget tartalmazhat", "the payload ds:Object must hold base64 text only")
	}
	return doc, d.checkDocumentProfile(&doc)
}

func (d *Dossier) checkDocumentProfile(doc *Document) error {
	fields := []field{{"Title", 1, 1}, {"CreationDate", 0, 1}, {"Format", d.opt(), 1}, {"SourceSize", d.opt(), 1},
		{"BaseTransform", d.opt(), 1}}
	if d.mode == Generic {
		fields = append(fields, field{"Metadata", 0, 1})
	}
	got, err := sequence(doc.Profile, fields)
	if err != nil {
		return err
	}
	if doc.Title, err = title(got["Title"][0]); err != nil {
		return err
	}
	if cd := got["CreationDate"]; len(cd) == 1 {
		if doc.CreationDate, err = d.creationDate(cd[0]); err != nil {
			return err
		}
	}
	if f := got["Format"]; len(f) == 1 {
		if err := d.format(doc, f[0]); err != nil {
			return err
		}
	}
	if s := got["SourceSize"]; len(s) == 1 {
		if err := d.sourceSize(doc, s[0]); err != nil {
			return err
		}
	}
	if bt := got["BaseTransform"]; len(bt) == 1 {
		if err := d.transforms(doc, bt[0]); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dossier) format(doc *Document, n libxml.Node) error {
	kids := n.Children()
	if len(kids) != 1 || !kids[0].Is(NSES, "MIME-Type") {
		return refuse(errcode.T005, where(n), "az es:Format egy es:MIME-Type elemet tartalmaz", "es:Format must hold one es:MIME-Type")
	}
	mt := kids[0]
	typ, _ := mt.Attr("type")
	sub, _ := mt.Attr("subtype")
	ext, hasExt := mt.Attr("extension")
	if !validToken(typ) || !validToken(sub) || (hasExt && !validToken(ext)) {
		return refuse(errcode.T005, where(mt),
			fmt.Sprintf("hibás MIME-típus: %q/%q", short(typ), short(sub)), fmt.Sprintf("bad MIME type %q/%q", short(typ), short(sub)))
	}
	doc.MIMEType, doc.Extension = typ+"/"+sub, ext
	return nil
}

func (d *Dossier) sourceSize(doc *Document, n libxml.Node) error {
	unit, _ := n.Attr("sizeUnit")
	val, _ := n.Attr("sizeValue")
	size, err := strconv.ParseInt(val, 10, 64)
	ok := err == nil && size >= 0 && val != "" && val[0] >= '0' && val[0] <= '9'
	switch {
	case unit == "B" && ok:
		doc.SourceSize = size
	case d.mode == Generic && unit != "B":
		doc.SourceSize = -1 // another unit: informational only
	default:
		return refuse(errcode.T005, where(n),
			fmt.Sprintf("hibás es:SourceSize: %q %q", short(val), short(unit)), fmt.Sprintf("bad es:SourceSize %q %q", short(val), short(unit)))
	}
	return nil
}

func (d *Dossier) transforms(doc *Document, n libxml.Node) error {
	for _, t := range n.Children() {
		if !t.Is(NSES, "Transform") {
			return unexpected(t)
		}
		alg, err := requiredAttr(t, "Algorithm")
		if err != nil {
			return err
		}
		doc.Transforms = append(doc.Transforms, alg)
	}
	if d.mode == Strict && !slices.Equal(doc.Transforms, encryptedTransforms) && !slices.Equal(doc.Transforms, plainTransforms) {
		return refuse(errcode.T005, where(n),
			fmt.Sprintf("ismeretlen átalakítás-sorozat: %q", doc.Transforms), fmt.Sprintf("unknown transform list %q", doc.Transforms))
	}
	return nil
}
