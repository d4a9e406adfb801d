package props

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// ErrMalformed is wrapped by every error about a property that is present but not well formed.
var ErrMalformed = errors.New("malformed qualifying property")

// ErrLimit is wrapped by every error about input beyond Limits.
var ErrLimit = errors.New("qualifying properties exceed a limit")

// PropertyError says which property (as a path of local names, e.g.
// "UnsignedSignatureProperties/SignatureTimeStamp[1]/EncapsulatedTimeStamp") is malformed and why.
// errors.Is(err, ErrMalformed) or errors.Is(err, ErrLimit) holds for it.
type PropertyError struct {
	Property string
	Err      error
	limit    bool
}

func (e *PropertyError) Error() string {
	return fmt.Sprintf("xades: %s: %v", e.Property, e.Err)
}

func (e *PropertyError) Unwrap() []error {
	if e.limit {
		return []error{ErrLimit, e.Err}
	}
	return []error{ErrMalformed, e.Err}
}

// Limits bound what the parser accepts. The input normally comes from libxml2's canonicalization of
// verified content and has passed libxml's own limits; these are a second line against hostile input.
type Limits struct {
	// MaxBytes is the largest input; default 64 MiB (RevocationValues may carry large CRLs).
	MaxBytes int
	// MaxElements is the largest number of elements; default 20000.
	MaxElements int
	// MaxDepth is the deepest element nesting; default 32.
	MaxDepth int
	// MaxItems is the most entries in any list (Cert, CRLRef, encapsulated values, unsigned
	// properties …); default 1000.
	MaxItems int
	// MaxText is the longest text of a name, URI, MIME type or description; default 8 KiB.
	MaxText int
	// MaxBinary is the longest decoded binary value (certificate, CRL, token); default 32 MiB.
	MaxBinary int
}

// DefaultLimits returns the limits used when a field of Limits is zero.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 64 << 20, MaxElements: 20000, MaxDepth: 32, MaxItems: 1000, MaxText: 8 << 10, MaxBinary: 32 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxElements <= 0 {
		l.MaxElements = d.MaxElements
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxItems <= 0 {
		l.MaxItems = d.MaxItems
	}
	if l.MaxText <= 0 {
		l.MaxText = d.MaxText
	}
	if l.MaxBinary <= 0 {
		l.MaxBinary = d.MaxBinary
	}
	return l
}

// Parser parses qualifying properties under Limits. The zero Parser uses DefaultLimits.
type Parser struct {
	Limits Limits
}

// ParseQualifyingProperties parses xades:QualifyingProperties with DefaultLimits; see
// Parser.ParseQualifyingProperties.
func ParseQualifyingProperties(b []byte) (*QualifyingProperties, error) {
	return Parser{}.ParseQualifyingProperties(b)
}

// ParseSignedProperties parses xades:SignedProperties with DefaultLimits.
func ParseSignedProperties(b []byte) (*SignedProperties, error) {
	return Parser{}.ParseSignedProperties(b)
}

// ParseUnsignedProperties parses xades:UnsignedProperties with DefaultLimits.
func ParseUnsignedProperties(b []byte) (*UnsignedProperties, error) {
	return Parser{}.ParseUnsignedProperties(b)
}

// ParseQualifyingProperties parses b, whose root is xades:QualifyingProperties or a ds:Object with
// exactly one element child that is xades:QualifyingProperties (the canonical bytes of the verified
// object). Missing properties are not errors; a property that is present but malformed is a
// *PropertyError. Elements the parser does not interpret are skipped only where the schema allows
// extension (SignedSignatureProperties, SignedDataObjectProperties, UnsignedSignatureProperties).
func (p Parser) ParseQualifyingProperties(b []byte) (*QualifyingProperties, error) {
	ps, root, err := p.load(b)
	if err != nil {
		return nil, err
	}
	if is(root, NSDS, "Object") {
		kids := root.ChildElements()
		if len(kids) != 1 {
			return nil, ps.errf("Object", "holds %d elements, want exactly one QualifyingProperties", len(kids))
		}
		root = kids[0]
	}
	if !is(root, NS, "QualifyingProperties") {
		return nil, ps.errf("QualifyingProperties", "root is {%s}%s", root.NamespaceURI(), root.Tag)
	}
	return ps.qualifyingProperties(root)
}

// ParseSignedProperties parses b whose root is xades:SignedProperties (the canonical bytes of the
// element a verified ds:Reference of Type SignedPropertiesType covers).
func (p Parser) ParseSignedProperties(b []byte) (*SignedProperties, error) {
	ps, root, err := p.load(b)
	if err != nil {
		return nil, err
	}
	if !is(root, NS, "SignedProperties") {
		return nil, ps.errf("SignedProperties", "root is {%s}%s", root.NamespaceURI(), root.Tag)
	}
	return ps.signedProperties(root)
}

// ParseUnsignedProperties parses b whose root is xades:UnsignedProperties.
func (p Parser) ParseUnsignedProperties(b []byte) (*UnsignedProperties, error) {
	ps, root, err := p.load(b)
	if err != nil {
		return nil, err
	}
	if !is(root, NS, "UnsignedProperties") {
		return nil, ps.errf("UnsignedProperties", "root is {%s}%s", root.NamespaceURI(), root.Tag)
	}
	return ps.unsignedProperties(root)
}

// state carries the limits through one parse.
type state struct {
	lim Limits
}

func (ps *state) errf(prop, format string, args ...any) *PropertyError {
	return &PropertyError{Property: prop, Err: fmt.Errorf(format, args...)}
}

func (ps *state) limitf(prop, format string, args ...any) *PropertyError {
	return &PropertyError{Property: prop, Err: fmt.Errorf(format, args...), limit: true}
}

// load checks the raw limits, parses with etree and walks the tree once (iteratively) to enforce the
// element, depth and attribute rules before any interpretation.
func (p Parser) load(b []byte) (*state, *etree.Element, error) {
	ps := &state{lim: p.Limits.withDefaults()}
	if len(b) > ps.lim.MaxBytes {
		return nil, nil, ps.limitf("input", "%d bytes, limit %d", len(b), ps.lim.MaxBytes)
	}
	if !utf8.Valid(b) {
		return nil, nil, ps.errf("input", "not UTF-8")
	}
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveDuplicateAttrs = true
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, nil, ps.errf("input", "not well-formed: %v", err)
	}
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return nil, nil, ps.errf("input", "DOCTYPE or other directive is not accepted")
		case *etree.ProcInst:
			if t.Target == "xml" && !strings.Contains(strings.ToLower(t.Inst), "utf-8") && strings.Contains(t.Inst, "encoding") {
				return nil, nil, ps.errf("input", "only UTF-8 is accepted")
			}
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, nil, ps.errf("input", "text outside the root element")
			}
		}
	}
	root := doc.Root()
	if root == nil {
		return nil, nil, ps.errf("input", "no root element")
	}
	type item struct {
		e     *etree.Element
		depth int
	}
	stack := []item{{root, 1}}
	n := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		if n > ps.lim.MaxElements {
			return nil, nil, ps.limitf("input", "more than %d elements", ps.lim.MaxElements)
		}
		if it.depth > ps.lim.MaxDepth {
			return nil, nil, ps.limitf("input", "nesting deeper than %d", ps.lim.MaxDepth)
		}
		seen := make(map[string]bool, len(it.e.Attr))
		for _, a := range it.e.Attr {
			k := a.Space + ":" + a.Key
			if seen[k] {
				return nil, nil, ps.errf(it.e.Tag, "duplicate attribute %s", a.FullKey())
			}
			seen[k] = true
		}
		if it.e.Space != "" && it.e.NamespaceURI() == "" {
			return nil, nil, ps.errf(it.e.Tag, "undeclared prefix %q", it.e.Space)
		}
		for _, c := range it.e.ChildElements() {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return ps, root, nil
}

func is(e *etree.Element, ns, local string) bool {
	return e != nil && e.Tag == local && e.NamespaceURI() == ns
}

func qname(e *etree.Element) string {
	return "{" + e.NamespaceURI() + "}" + e.Tag
}

// seq reads the child elements of an element in schema sequence order.
type seq struct {
	ps   *state
	path string
	kids []*etree.Element
	i    int
}

func (ps *state) seq(e *etree.Element, path string) (*seq, error) {
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok && !cd.IsWhitespace() {
			return nil, ps.errf(path, "unexpected text %q", clip(cd.Data))
		}
	}
	return &seq{ps: ps, path: path, kids: e.ChildElements()}, nil
}

func (s *seq) peek(ns, local string) bool {
	return s.i < len(s.kids) && is(s.kids[s.i], ns, local)
}

// opt returns the next child if it is {ns}local, else nil.
func (s *seq) opt(ns, local string) *etree.Element {
	if s.peek(ns, local) {
		s.i++
		return s.kids[s.i-1]
	}
	return nil
}

// req returns the next child, which must be {ns}local.
func (s *seq) req(ns, local string) (*etree.Element, error) {
	if e := s.opt(ns, local); e != nil {
		return e, nil
	}
	if s.i < len(s.kids) {
		return nil, s.ps.errf(s.path, "expected %s, found %s", local, qname(s.kids[s.i]))
	}
	return nil, s.ps.errf(s.path, "expected %s", local)
}

// many returns the following children named {ns}local, at most MaxItems.
func (s *seq) many(ns, local string) ([]*etree.Element, error) {
	var out []*etree.Element
	for s.peek(ns, local) {
		if len(out) >= s.ps.lim.MaxItems {
			return nil, s.ps.limitf(s.path+"/"+local, "more than %d", s.ps.lim.MaxItems)
		}
		out = append(out, s.kids[s.i])
		s.i++
	}
	return out, nil
}

// end fails if children remain.
func (s *seq) end() error {
	if s.i < len(s.kids) {
		return s.ps.errf(s.path, "unexpected %s", qname(s.kids[s.i]))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// attr returns an attribute value bounded by MaxText; only unprefixed attributes are XAdES's.
func (ps *state) attr(e *etree.Element, path, key string) (string, error) {
	for _, a := range e.Attr {
		if a.Space == "" && a.Key == key {
			if len(a.Value) > ps.lim.MaxText {
				return "", ps.limitf(path+"/@"+key, "longer than %d bytes", ps.lim.MaxText)
			}
			return a.Value, nil
		}
	}
	return "", nil
}

// text returns the text content of a simple element (no child elements), bounded by MaxText, with
// XML white space trimmed (xsd:anyURI, xsd:dateTime, xsd:integer collapse it; for xsd:string values
// such as MimeType or X509IssuerName leading/trailing white space carries no meaning here either).
func (ps *state) text(e *etree.Element, path string) (string, error) {
	t, err := ps.chars(e, path, ps.lim.MaxText)
	if err != nil {
		return "", err
	}
	if len(t) > ps.lim.MaxText {
		return "", ps.limitf(path, "longer than %d bytes", ps.lim.MaxText)
	}
	return strings.Trim(t, " \t\r\n"), nil
}

// chars concatenates the character data of a simple element. Child elements, comments and processing
// instructions are refused: a comment inside a value could otherwise hide part of it from one reader
// and not from another (etree's Text stops at the first non-text token).
func (ps *state) chars(e *etree.Element, path string, max int) (string, error) {
	var b strings.Builder
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.CharData:
			if b.Len()+len(t.Data) > max {
				return "", ps.limitf(path, "value longer than %d bytes", max)
			}
			b.WriteString(t.Data)
		case *etree.Element:
			return "", ps.errf(path, "has child element %s, want a value", qname(t))
		default:
			return "", ps.errf(path, "comment or processing instruction inside a value")
		}
	}
	return b.String(), nil
}

// nonEmpty is text that must not be empty.
func (ps *state) nonEmpty(e *etree.Element, path string) (string, error) {
	t, err := ps.text(e, path)
	if err == nil && t == "" {
		err = ps.errf(path, "empty")
	}
	return t, err
}

// binary decodes a base64Binary element (white space allowed, as xsd:base64Binary permits line breaks)
// bounded by MaxBinary; empty values are malformed.
func (ps *state) binary(e *etree.Element, path string) ([]byte, error) {
	t, err := ps.chars(e, path, ps.lim.MaxBinary/3*4+ps.lim.MaxBinary/32+64)
	if err != nil {
		return nil, err
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, t)
	if clean == "" {
		return nil, ps.errf(path, "empty value")
	}
	v, err := base64.StdEncoding.Strict().DecodeString(clean)
	if err != nil {
		return nil, ps.errf(path, "bad base64: %v", err)
	}
	if len(v) > ps.lim.MaxBinary {
		return nil, ps.limitf(path, "value larger than %d bytes", ps.lim.MaxBinary)
	}
	return v, nil
}

// encapsulated decodes an EncapsulatedPKIDataType element: base64 DER, Encoding absent or DER.
func (ps *state) encapsulated(e *etree.Element, path string) ([]byte, error) {
	enc, err := ps.attr(e, path, "Encoding")
	if err != nil {
		return nil, err
	}
	if enc != "" && enc != EncodingDER {
		return nil, ps.errf(path, "unsupported Encoding %q", enc)
	}
	return ps.binary(e, path)
}

// dateTime parses an xsd:dateTime that carries a time zone ("Z" or ±hh:mm). A dateTime without a time
// zone is ambiguous for an instant and is refused.
func (ps *state) dateTime(e *etree.Element, path string) (time.Time, error) {
	s, err := ps.nonEmpty(e, path)
	if err != nil {
		return time.Time{}, err
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, ps.errf(path, "%v", err)
	}
	return t, nil
}

// ParseTime parses an xsd:dateTime with a time zone into UTC: "2006-01-02T15:04:05Z",
// fractional seconds and numeric offsets allowed; no time zone, a year outside 0001–9999 or a lower-case
// "t"/"z" is an error.
func ParseTime(s string) (time.Time, error) {
	if len(s) < 20 || len(s) > 40 {
		return time.Time{}, fmt.Errorf("dateTime %q: bad length", clip(s))
	}
	last := s[len(s)-1]
	if last != 'Z' && !(len(s) >= 6 && (s[len(s)-6] == '+' || s[len(s)-6] == '-') && s[len(s)-3] == ':') {
		return time.Time{}, fmt.Errorf("dateTime %q has no time zone", s)
	}
	if s[10] != 'T' {
		return time.Time{}, fmt.Errorf("dateTime %q: want 'T' between date and time", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("dateTime %q: %v", s, err)
	}
	return t.UTC(), nil
}

// integer parses an xsd:integer (decimal, optional sign) of at most 100 digits.
func (ps *state) integer(e *etree.Element, path string) (*big.Int, error) {
	s, err := ps.nonEmpty(e, path)
	if err != nil {
		return nil, err
	}
	if len(s) > 101 {
		return nil, ps.limitf(path, "integer longer than 100 digits")
	}
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return nil, ps.errf(path, "not a decimal integer: %q", clip(s))
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, ps.errf(path, "not a decimal integer: %q", clip(s))
	}
	return v, nil
}

// digest parses a DigestAlgAndValueType: the algorithm must be known and the value of its size.
func (ps *state) digest(e *etree.Element, path string) (Digest, error) {
	s, err := ps.seq(e, path)
	if err != nil {
		return Digest{}, err
	}
	dm, err := s.req(NSDS, "DigestMethod")
	if err != nil {
		return Digest{}, err
	}
	dv, err := s.req(NSDS, "DigestValue")
	if err != nil {
		return Digest{}, err
	}
	if err := s.end(); err != nil {
		return Digest{}, err
	}
	alg, err := ps.attr(dm, path+"/DigestMethod", "Algorithm")
	if err != nil {
		return Digest{}, err
	}
	h, ok := digestHash(alg)
	if !ok {
		return Digest{}, ps.errf(path+"/DigestMethod", "unknown digest algorithm %q", clip(alg))
	}
	v, err := ps.binary(dv, path+"/DigestValue")
	if err != nil {
		return Digest{}, err
	}
	if len(v) != h.Size() {
		return Digest{}, ps.errf(path+"/DigestValue", "%d bytes, %v digests have %d", len(v), h, h.Size())
	}
	return Digest{Hash: h, Value: v}, nil
}

func (ps *state) qualifyingProperties(root *etree.Element) (*QualifyingProperties, error) {
	qp := &QualifyingProperties{}
	var err error
	if qp.Target, err = ps.attr(root, "QualifyingProperties", "Target"); err != nil {
		return nil, err
	}
	if qp.Target == "" {
		return nil, ps.errf("QualifyingProperties", "no Target")
	}
	if qp.ID, err = ps.attr(root, "QualifyingProperties", "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(root, "QualifyingProperties")
	if err != nil {
		return nil, err
	}
	if sp := s.opt(NS, "SignedProperties"); sp != nil {
		if qp.Signed, err = ps.signedProperties(sp); err != nil {
			return nil, err
		}
	}
	if up := s.opt(NS, "UnsignedProperties"); up != nil {
		if qp.Unsigned, err = ps.unsignedProperties(up); err != nil {
			return nil, err
		}
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	return qp, nil
}

func (ps *state) signedProperties(e *etree.Element) (*SignedProperties, error) {
	sp := &SignedProperties{}
	var err error
	if sp.ID, err = ps.attr(e, "SignedProperties", "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, "SignedProperties")
	if err != nil {
		return nil, err
	}
	if ssp := s.opt(NS, "SignedSignatureProperties"); ssp != nil {
		if err := ps.signedSignatureProperties(ssp, sp); err != nil {
			return nil, err
		}
	}
	if sdop := s.opt(NS, "SignedDataObjectProperties"); sdop != nil {
		if err := ps.signedDataObjectProperties(sdop, sp); err != nil {
			return nil, err
		}
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	return sp, nil
}

// signedSignatureProperties follows the EN 319 132-1 (2016) sequence, a superset of 1.3.2's:
// SigningTime, SigningCertificate, SigningCertificateV2, SignaturePolicyIdentifier,
// SignatureProductionPlace, SignatureProductionPlaceV2, SignerRole, SignerRoleV2, then foreign elements.
func (ps *state) signedSignatureProperties(e *etree.Element, sp *SignedProperties) error {
	const path = "SignedSignatureProperties"
	s, err := ps.seq(e, path)
	if err != nil {
		return err
	}
	if st := s.opt(NS, "SigningTime"); st != nil {
		if sp.SigningTime, err = ps.dateTime(st, path+"/SigningTime"); err != nil {
			return err
		}
	}
	sc := s.opt(NS, "SigningCertificate")
	sc2 := s.opt(NS, "SigningCertificateV2")
	switch {
	case sc != nil && sc2 != nil:
		return ps.errf(path, "both SigningCertificate and SigningCertificateV2")
	case sc != nil:
		sp.HasSigningCertificate = true
		if sp.SigningCertificate, err = ps.certIDList(sc, path+"/SigningCertificate", false); err != nil {
			return err
		}
	case sc2 != nil:
		sp.HasSigningCertificate, sp.SigningCertificateV2 = true, true
		if sp.SigningCertificate, err = ps.certIDList(sc2, path+"/SigningCertificateV2", true); err != nil {
			return err
		}
	}
	if pol := s.opt(NS, "SignaturePolicyIdentifier"); pol != nil {
		if sp.Policy, err = ps.policy(pol, path+"/SignaturePolicyIdentifier"); err != nil {
			return err
		}
	}
	for _, name := range []string{"SignatureProductionPlace", "SignatureProductionPlaceV2", "SignerRole", "SignerRoleV2"} {
		if x := s.opt(NS, name); x != nil {
			sp.Ignored = append(sp.Ignored, qname(x))
		}
	}
	return ps.foreignTail(s, &sp.Ignored)
}

// foreignTail accepts the schema's trailing xsd:any namespace="##other": elements outside the XAdES
// and XMLDSig namespaces, recorded as ignored.
func (ps *state) foreignTail(s *seq, ignored *[]string) error {
	for ; s.i < len(s.kids); s.i++ {
		k := s.kids[s.i]
		ns := k.NamespaceURI()
		if ns == NS || ns == NS141 || ns == "" {
			return ps.errf(s.path, "unexpected %s", qname(k))
		}
		if len(*ignored) >= ps.lim.MaxItems {
			return ps.limitf(s.path, "more than %d unknown elements", ps.lim.MaxItems)
		}
		*ignored = append(*ignored, qname(k))
	}
	return nil
}

func (ps *state) certIDList(e *etree.Element, path string, v2 bool) ([]CertRef, error) {
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	certs, err := s.many(NS, "Cert")
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, ps.errf(path, "no Cert")
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	out := make([]CertRef, 0, len(certs))
	for i, c := range certs {
		p := fmt.Sprintf("%s/Cert[%d]", path, i+1)
		r, err := ps.certID(c, p, v2)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (ps *state) certID(c *etree.Element, p string, v2 bool) (CertRef, error) {
	var r CertRef
	var err error
	r.V2 = v2
	if r.URI, err = ps.attr(c, p, "URI"); err != nil {
		return r, err
	}
	s, err := ps.seq(c, p)
	if err != nil {
		return r, err
	}
	cd, err := s.req(NS, "CertDigest")
	if err != nil {
		return r, err
	}
	if r.Digest, err = ps.digest(cd, p+"/CertDigest"); err != nil {
		return r, err
	}
	if v2 {
		if is2 := s.opt(NS, "IssuerSerialV2"); is2 != nil {
			if r.IssuerSerialV2, err = ps.binary(is2, p+"/IssuerSerialV2"); err != nil {
				return r, err
			}
			_, serial, err := parseIssuerSerialV2(r.IssuerSerialV2)
			if err != nil {
				return r, ps.errf(p+"/IssuerSerialV2", "not a DER IssuerSerial with a directoryName: %v", err)
			}
			r.SerialNumber = serial
		}
	} else {
		is, err := s.req(NS, "IssuerSerial")
		if err != nil {
			return r, err
		}
		ip := p + "/IssuerSerial"
		is1, err := ps.seq(is, ip)
		if err != nil {
			return r, err
		}
		n, err := is1.req(NSDS, "X509IssuerName")
		if err != nil {
			return r, err
		}
		sn, err := is1.req(NSDS, "X509SerialNumber")
		if err != nil {
			return r, err
		}
		if err := is1.end(); err != nil {
			return r, err
		}
		if r.IssuerName, err = ps.nonEmpty(n, ip+"/X509IssuerName"); err != nil {
			return r, err
		}
		if r.SerialNumber, err = ps.integer(sn, ip+"/X509SerialNumber"); err != nil {
			return r, err
		}
	}
	return r, s.end()
}

// objectIdentifier parses an ObjectIdentifierType (Identifier, Description, DocumentationReferences).
func (ps *state) objectIdentifier(e *etree.Element, path string) (id, qualifier, descr string, err error) {
	s, err := ps.seq(e, path)
	if err != nil {
		return
	}
	ie, err := s.req(NS, "Identifier")
	if err != nil {
		return
	}
	if id, err = ps.nonEmpty(ie, path+"/Identifier"); err != nil {
		return
	}
	if qualifier, err = ps.attr(ie, path+"/Identifier", "Qualifier"); err != nil {
		return
	}
	if qualifier != "" && qualifier != QualifierOIDAsURI && qualifier != QualifierOIDAsURN {
		err = ps.errf(path+"/Identifier", "unknown Qualifier %q", clip(qualifier))
		return
	}
	if d := s.opt(NS, "Description"); d != nil {
		if descr, err = ps.text(d, path+"/Description"); err != nil {
			return
		}
	}
	s.opt(NS, "DocumentationReferences")
	err = s.end()
	return
}

func (ps *state) policy(e *etree.Element, path string) (*SignaturePolicy, error) {
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	if s.opt(NS, "SignaturePolicyImplied") != nil {
		return &SignaturePolicy{Implied: true}, s.end()
	}
	id, err := s.req(NS, "SignaturePolicyId")
	if err != nil {
		return nil, err
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	path += "/SignaturePolicyId"
	pol := &SignaturePolicy{}
	s, err = ps.seq(id, path)
	if err != nil {
		return nil, err
	}
	spid, err := s.req(NS, "SigPolicyId")
	if err != nil {
		return nil, err
	}
	if pol.Identifier, pol.Qualifier, pol.Description, err = ps.objectIdentifier(spid, path+"/SigPolicyId"); err != nil {
		return nil, err
	}
	if tr := s.opt(NSDS, "Transforms"); tr != nil {
		ts, err := ps.seq(tr, path+"/Transforms")
		if err != nil {
			return nil, err
		}
		list, err := ts.many(NSDS, "Transform")
		if err != nil {
			return nil, err
		}
		if err := ts.end(); err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, ps.errf(path+"/Transforms", "empty")
		}
		for _, t := range list {
			alg, err := ps.attr(t, path+"/Transforms/Transform", "Algorithm")
			if err != nil {
				return nil, err
			}
			if alg == "" {
				return nil, ps.errf(path+"/Transforms/Transform", "no Algorithm")
			}
			pol.Transforms = append(pol.Transforms, alg)
		}
	}
	h, err := s.req(NS, "SigPolicyHash")
	if err != nil {
		return nil, err
	}
	if pol.Hash, err = ps.digest(h, path+"/SigPolicyHash"); err != nil {
		return nil, err
	}
	if q := s.opt(NS, "SigPolicyQualifiers"); q != nil {
		qs, err := ps.seq(q, path+"/SigPolicyQualifiers")
		if err != nil {
			return nil, err
		}
		list, err := qs.many(NS, "SigPolicyQualifier")
		if err != nil {
			return nil, err
		}
		if err := qs.end(); err != nil {
			return nil, err
		}
		for _, spq := range list {
			// SigPolicyQualifier is AnyType; only SPURI children are interpreted.
			for _, c := range spq.ChildElements() {
				if is(c, NS, "SPURI") {
					u, err := ps.nonEmpty(c, path+"/SigPolicyQualifiers/SPURI")
					if err != nil {
						return nil, err
					}
					if len(pol.SPURIs) >= ps.lim.MaxItems {
						return nil, ps.limitf(path+"/SigPolicyQualifiers", "more than %d SPURI", ps.lim.MaxItems)
					}
					pol.SPURIs = append(pol.SPURIs, u)
				}
			}
		}
	}
	return pol, s.end()
}

func (ps *state) signedDataObjectProperties(e *etree.Element, sp *SignedProperties) error {
	const path = "SignedDataObjectProperties"
	s, err := ps.seq(e, path)
	if err != nil {
		return err
	}
	dofs, err := s.many(NS, "DataObjectFormat")
	if err != nil {
		return err
	}
	for i, d := range dofs {
		p := fmt.Sprintf("%s/DataObjectFormat[%d]", path, i+1)
		f, err := ps.dataObjectFormat(d, p)
		if err != nil {
			return err
		}
		sp.DataObjectFormats = append(sp.DataObjectFormats, f)
	}
	ctis, err := s.many(NS, "CommitmentTypeIndication")
	if err != nil {
		return err
	}
	for i, c := range ctis {
		p := fmt.Sprintf("%s/CommitmentTypeIndication[%d]", path, i+1)
		cti, err := ps.commitment(c, p)
		if err != nil {
			return err
		}
		sp.Commitments = append(sp.Commitments, cti)
	}
	for _, name := range []string{"AllDataObjectsTimeStamp", "IndividualDataObjectsTimeStamp"} {
		list, err := s.many(NS, name)
		if err != nil {
			return err
		}
		for _, x := range list {
			sp.Ignored = append(sp.Ignored, qname(x))
		}
	}
	return ps.foreignTail(s, &sp.Ignored)
}

func (ps *state) dataObjectFormat(d *etree.Element, p string) (DataObjectFormat, error) {
	var f DataObjectFormat
	var err error
	if f.ObjectReference, err = ps.attr(d, p, "ObjectReference"); err != nil {
		return f, err
	}
	if f.ObjectReference == "" {
		return f, ps.errf(p, "no ObjectReference")
	}
	s, err := ps.seq(d, p)
	if err != nil {
		return f, err
	}
	if x := s.opt(NS, "Description"); x != nil {
		if f.Description, err = ps.text(x, p+"/Description"); err != nil {
			return f, err
		}
	}
	if x := s.opt(NS, "ObjectIdentifier"); x != nil {
		if f.ObjectIdentifier, _, _, err = ps.objectIdentifier(x, p+"/ObjectIdentifier"); err != nil {
			return f, err
		}
	}
	if x := s.opt(NS, "MimeType"); x != nil {
		if f.MimeType, err = ps.text(x, p+"/MimeType"); err != nil {
			return f, err
		}
	}
	if x := s.opt(NS, "Encoding"); x != nil {
		if f.Encoding, err = ps.text(x, p+"/Encoding"); err != nil {
			return f, err
		}
	}
	return f, s.end()
}

func (ps *state) commitment(c *etree.Element, p string) (CommitmentTypeIndication, error) {
	var cti CommitmentTypeIndication
	s, err := ps.seq(c, p)
	if err != nil {
		return cti, err
	}
	id, err := s.req(NS, "CommitmentTypeId")
	if err != nil {
		return cti, err
	}
	if cti.Identifier, cti.Qualifier, cti.Description, err = ps.objectIdentifier(id, p+"/CommitmentTypeId"); err != nil {
		return cti, err
	}
	if all := s.opt(NS, "AllSignedDataObjects"); all != nil {
		if len(all.ChildElements()) > 0 || strings.TrimSpace(all.Text()) != "" {
			return cti, ps.errf(p+"/AllSignedDataObjects", "must be empty")
		}
		cti.AllSignedDataObjects = true
	} else {
		refs, err := s.many(NS, "ObjectReference")
		if err != nil {
			return cti, err
		}
		if len(refs) == 0 {
			return cti, ps.errf(p, "neither ObjectReference nor AllSignedDataObjects")
		}
		for _, r := range refs {
			v, err := ps.nonEmpty(r, p+"/ObjectReference")
			if err != nil {
				return cti, err
			}
			cti.ObjectReferences = append(cti.ObjectReferences, v)
		}
	}
	s.opt(NS, "CommitmentTypeQualifiers")
	return cti, s.end()
}

func (ps *state) unsignedProperties(e *etree.Element) (*UnsignedProperties, error) {
	up := &UnsignedProperties{}
	var err error
	if up.ID, err = ps.attr(e, "UnsignedProperties", "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, "UnsignedProperties")
	if err != nil {
		return nil, err
	}
	if usp := s.opt(NS, "UnsignedSignatureProperties"); usp != nil {
		if up.SignaturePropertiesID, err = ps.attr(usp, "UnsignedSignatureProperties", "Id"); err != nil {
			return nil, err
		}
		if err := ps.unsignedSignatureProperties(usp, up); err != nil {
			return nil, err
		}
	}
	if s.opt(NS, "UnsignedDataObjectProperties") != nil {
		up.HasDataObjectProperties = true
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	return up, nil
}

func (ps *state) unsignedSignatureProperties(e *etree.Element, up *UnsignedProperties) error {
	const path = "UnsignedSignatureProperties"
	s, err := ps.seq(e, path)
	if err != nil {
		return err
	}
	if len(s.kids) > ps.lim.MaxItems {
		return ps.limitf(path, "more than %d properties", ps.lim.MaxItems)
	}
	counts := map[Kind]int{}
	for _, k := range s.kids {
		kind := KindOf(k.NamespaceURI(), k.Tag)
		counts[kind]++
		p := fmt.Sprintf("%s/%s[%d]", path, k.Tag, counts[kind])
		prop := UnsignedProperty{Kind: kind, Name: qname(k)}
		switch kind {
		case KindOther:
			if ns := k.NamespaceURI(); ns == NS || ns == NS141 || ns == "" {
				return ps.errf(p, "not an unsigned signature property")
			}
		case KindCounterSignature:
		case KindSignatureTimeStamp, KindSigAndRefsTimeStamp, KindRefsOnlyTimeStamp, KindArchiveTimeStampV132, KindArchiveTimeStamp:
			if prop.TimeStamp, err = ps.timeStamp(k, p); err != nil {
				return err
			}
		case KindCompleteCertificateRefs, KindAttributeCertificateRefs:
			if prop.CertificateRefs, err = ps.certificateRefs(k, p); err != nil {
				return err
			}
		case KindCompleteRevocationRefs, KindAttributeRevocationRefs:
			if prop.RevocationRefs, err = ps.revocationRefs(k, p); err != nil {
				return err
			}
		case KindCertificateValues, KindAttrAuthoritiesCertValues:
			if prop.CertificateValues, err = ps.certificateValues(k, p); err != nil {
				return err
			}
		case KindRevocationValues, KindAttributeRevocationValues:
			if prop.RevocationValues, err = ps.revocationValues(k, p); err != nil {
				return err
			}
		case KindTimeStampValidationData:
			if prop.ValidationData, err = ps.validationData(k, p); err != nil {
				return err
			}
		}
		up.Properties = append(up.Properties, prop)
	}
	return nil
}

// timeStamp parses a XAdESTimeStampType: Include*, ds:CanonicalizationMethod?, then one or more of
// EncapsulatedTimeStamp / XMLTimeStamp (children in the 1.3.2 namespace, also for the 1.4.1
// ArchiveTimeStamp).
func (ps *state) timeStamp(e *etree.Element, path string) (*TimeStamp, error) {
	ts := &TimeStamp{}
	var err error
	if ts.ID, err = ps.attr(e, path, "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	incs, err := s.many(NS, "Include")
	if err != nil {
		return nil, err
	}
	for _, inc := range incs {
		u, err := ps.attr(inc, path+"/Include", "URI")
		if err != nil {
			return nil, err
		}
		if u == "" {
			return nil, ps.errf(path+"/Include", "no URI")
		}
		ts.Includes = append(ts.Includes, u)
	}
	if cm := s.opt(NSDS, "CanonicalizationMethod"); cm != nil {
		if ts.CanonicalizationMethod, err = ps.attr(cm, path+"/CanonicalizationMethod", "Algorithm"); err != nil {
			return nil, err
		}
		if ts.CanonicalizationMethod == "" {
			return nil, ps.errf(path+"/CanonicalizationMethod", "no Algorithm")
		}
	}
	for s.i < len(s.kids) {
		k := s.kids[s.i]
		switch {
		case is(k, NS, "EncapsulatedTimeStamp"):
			if len(ts.Tokens) >= ps.lim.MaxItems {
				return nil, ps.limitf(path, "more than %d tokens", ps.lim.MaxItems)
			}
			tok, err := ps.encapsulated(k, path+"/EncapsulatedTimeStamp")
			if err != nil {
				return nil, err
			}
			ts.Tokens = append(ts.Tokens, tok)
		case is(k, NS, "XMLTimeStamp"):
			ts.XMLTimeStamps++
		default:
			return nil, ps.errf(path, "unexpected %s", qname(k))
		}
		s.i++
	}
	if len(ts.Tokens) == 0 && ts.XMLTimeStamps == 0 {
		return nil, ps.errf(path, "no EncapsulatedTimeStamp")
	}
	return ts, nil
}

func (ps *state) certificateRefs(e *etree.Element, path string) (*CertificateRefs, error) {
	cr := &CertificateRefs{}
	var err error
	if cr.ID, err = ps.attr(e, path, "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	l, err := s.req(NS, "CertRefs")
	if err != nil {
		return nil, err
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	if cr.Certs, err = ps.certIDList(l, path+"/CertRefs", false); err != nil {
		return nil, err
	}
	return cr, nil
}

func (ps *state) revocationRefs(e *etree.Element, path string) (*RevocationRefs, error) {
	rr := &RevocationRefs{}
	var err error
	if rr.ID, err = ps.attr(e, path, "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	if crls := s.opt(NS, "CRLRefs"); crls != nil {
		ls, err := ps.seq(crls, path+"/CRLRefs")
		if err != nil {
			return nil, err
		}
		list, err := ls.many(NS, "CRLRef")
		if err != nil {
			return nil, err
		}
		if err := ls.end(); err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, ps.errf(path+"/CRLRefs", "no CRLRef")
		}
		for i, c := range list {
			r, err := ps.crlRef(c, fmt.Sprintf("%s/CRLRefs/CRLRef[%d]", path, i+1))
			if err != nil {
				return nil, err
			}
			rr.CRLs = append(rr.CRLs, r)
		}
	}
	if ocsps := s.opt(NS, "OCSPRefs"); ocsps != nil {
		ls, err := ps.seq(ocsps, path+"/OCSPRefs")
		if err != nil {
			return nil, err
		}
		list, err := ls.many(NS, "OCSPRef")
		if err != nil {
			return nil, err
		}
		if err := ls.end(); err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, ps.errf(path+"/OCSPRefs", "no OCSPRef")
		}
		for i, o := range list {
			r, err := ps.ocspRef(o, fmt.Sprintf("%s/OCSPRefs/OCSPRef[%d]", path, i+1))
			if err != nil {
				return nil, err
			}
			rr.OCSP = append(rr.OCSP, r)
		}
	}
	if other := s.opt(NS, "OtherRefs"); other != nil {
		rr.OtherRefs = len(other.ChildElements())
	}
	return rr, s.end()
}

func (ps *state) crlRef(e *etree.Element, p string) (CRLRef, error) {
	var r CRLRef
	s, err := ps.seq(e, p)
	if err != nil {
		return r, err
	}
	d, err := s.req(NS, "DigestAlgAndValue")
	if err != nil {
		return r, err
	}
	if r.Digest, err = ps.digest(d, p+"/DigestAlgAndValue"); err != nil {
		return r, err
	}
	if id := s.opt(NS, "CRLIdentifier"); id != nil {
		ip := p + "/CRLIdentifier"
		r.HasIdentifier = true
		if r.URI, err = ps.attr(id, ip, "URI"); err != nil {
			return r, err
		}
		is, err := ps.seq(id, ip)
		if err != nil {
			return r, err
		}
		iss, err := is.req(NS, "Issuer")
		if err != nil {
			return r, err
		}
		if r.Issuer, err = ps.nonEmpty(iss, ip+"/Issuer"); err != nil {
			return r, err
		}
		it, err := is.req(NS, "IssueTime")
		if err != nil {
			return r, err
		}
		if r.IssueTime, err = ps.dateTime(it, ip+"/IssueTime"); err != nil {
			return r, err
		}
		if n := is.opt(NS, "Number"); n != nil {
			if r.Number, err = ps.integer(n, ip+"/Number"); err != nil {
				return r, err
			}
		}
		if err := is.end(); err != nil {
			return r, err
		}
	}
	return r, s.end()
}

func (ps *state) ocspRef(e *etree.Element, p string) (OCSPRef, error) {
	var r OCSPRef
	s, err := ps.seq(e, p)
	if err != nil {
		return r, err
	}
	id, err := s.req(NS, "OCSPIdentifier")
	if err != nil {
		return r, err
	}
	ip := p + "/OCSPIdentifier"
	if r.URI, err = ps.attr(id, ip, "URI"); err != nil {
		return r, err
	}
	is, err := ps.seq(id, ip)
	if err != nil {
		return r, err
	}
	rid, err := is.req(NS, "ResponderID")
	if err != nil {
		return r, err
	}
	rs, err := ps.seq(rid, ip+"/ResponderID")
	if err != nil {
		return r, err
	}
	if bn := rs.opt(NS, "ByName"); bn != nil {
		if r.ResponderName, err = ps.nonEmpty(bn, ip+"/ResponderID/ByName"); err != nil {
			return r, err
		}
	} else if bk := rs.opt(NS, "ByKey"); bk != nil {
		if r.ResponderKey, err = ps.binary(bk, ip+"/ResponderID/ByKey"); err != nil {
			return r, err
		}
	} else {
		return r, ps.errf(ip+"/ResponderID", "neither ByName nor ByKey")
	}
	if err := rs.end(); err != nil {
		return r, err
	}
	pa, err := is.req(NS, "ProducedAt")
	if err != nil {
		return r, err
	}
	if r.ProducedAt, err = ps.dateTime(pa, ip+"/ProducedAt"); err != nil {
		return r, err
	}
	if err := is.end(); err != nil {
		return r, err
	}
	if d := s.opt(NS, "DigestAlgAndValue"); d != nil {
		dg, err := ps.digest(d, p+"/DigestAlgAndValue")
		if err != nil {
			return r, err
		}
		r.Digest = &dg
	}
	return r, s.end()
}

func (ps *state) certificateValues(e *etree.Element, path string) (*CertificateValues, error) {
	cv := &CertificateValues{}
	var err error
	if cv.ID, err = ps.attr(e, path, "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	if len(s.kids) > ps.lim.MaxItems {
		return nil, ps.limitf(path, "more than %d certificates", ps.lim.MaxItems)
	}
	for i, k := range s.kids {
		switch {
		case is(k, NS, "EncapsulatedX509Certificate"):
			p := fmt.Sprintf("%s/EncapsulatedX509Certificate[%d]", path, i+1)
			der, err := ps.encapsulated(k, p)
			if err != nil {
				return nil, err
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, ps.errf(p, "not a certificate: %v", err)
			}
			cv.Certs = append(cv.Certs, c)
		case is(k, NS, "OtherCertificate"):
			cv.OtherCertificates++
		default:
			return nil, ps.errf(path, "unexpected %s", qname(k))
		}
	}
	return cv, nil
}

func (ps *state) revocationValues(e *etree.Element, path string) (*RevocationValues, error) {
	rv := &RevocationValues{}
	var err error
	if rv.ID, err = ps.attr(e, path, "Id"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	read := func(list, item string) ([][]byte, error) {
		l := s.opt(NS, list)
		if l == nil {
			return nil, nil
		}
		ls, err := ps.seq(l, path+"/"+list)
		if err != nil {
			return nil, err
		}
		items, err := ls.many(NS, item)
		if err != nil {
			return nil, err
		}
		if err := ls.end(); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, ps.errf(path+"/"+list, "no %s", item)
		}
		var out [][]byte
		for i, it := range items {
			der, err := ps.encapsulated(it, fmt.Sprintf("%s/%s/%s[%d]", path, list, item, i+1))
			if err != nil {
				return nil, err
			}
			out = append(out, der)
		}
		return out, nil
	}
	if rv.CRLs, err = read("CRLValues", "EncapsulatedCRLValue"); err != nil {
		return nil, err
	}
	if rv.OCSP, err = read("OCSPValues", "EncapsulatedOCSPValue"); err != nil {
		return nil, err
	}
	if o := s.opt(NS, "OtherValues"); o != nil {
		rv.OtherValues = len(o.ChildElements())
	}
	return rv, s.end()
}

func (ps *state) validationData(e *etree.Element, path string) (*ValidationData, error) {
	vd := &ValidationData{}
	var err error
	if vd.ID, err = ps.attr(e, path, "Id"); err != nil {
		return nil, err
	}
	if vd.URI, err = ps.attr(e, path, "URI"); err != nil {
		return nil, err
	}
	s, err := ps.seq(e, path)
	if err != nil {
		return nil, err
	}
	if cv := s.opt(NS, "CertificateValues"); cv != nil {
		if vd.CertificateValues, err = ps.certificateValues(cv, path+"/CertificateValues"); err != nil {
			return nil, err
		}
	}
	if rv := s.opt(NS, "RevocationValues"); rv != nil {
		if vd.RevocationValues, err = ps.revocationValues(rv, path+"/RevocationValues"); err != nil {
			return nil, err
		}
	}
	return vd, s.end()
}
