package policy

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tagdij/tagdij/internal/libxml"
)

// parseLimits bound the libxml2 parse of a policy document: far above any real policy, far below what
// could cost anything.
var parseLimits = libxml.Limits{
	MaxBytes:     MaxDocumentSize,
	MaxDepth:     12,
	MaxNodes:     20_000,
	MaxAttrs:     16,
	MaxTextBytes: 64 << 10,
}

// compiledSchema compiles the embedded XSD once. The compiled schema is immutable and safe for
// concurrent use; the package holds no other state.
var compiledSchema = sync.OnceValues(func() (*libxml.Schema, error) {
	return libxml.CompileSchema("szabalyzat.xsd", schemaDoc)
})

// Parse validates and decodes a policy document. The steps, each of which must pass:
//
//  1. the hardened libxml2 parser (no DOCTYPE or entities, UTF-8 or ISO-8859-2, limits as parseLimits);
//  2. the root element is {urn:x-mnyp:alairasi-szabalyzat:1}Szabalyzat and the document is valid
//     against szabalyzat.xsd;
//  3. encoding/xml decodes the same bytes (UTF-8 only);
//  4. the cross-field rules the schema cannot express: every text exactly once in Hungarian and once in
//     English; a test policy's identifier says TEST or TESZT and only a test policy's does; the package
//     kind requires a qualified signature with ProofOfOrigin and the receipt kind ProofOfReceipt; every
//     kind requires at least the properties of SPEC §2; the signer role of a qualified kind requires
//     QcCompliance and QcSSCD; the TSA role requires a critical timeStamping EKU; no list repeats a value;
//     durations are positive (the clock skew may be zero); canonicalization methods are known ones.
//
// Every error matches ErrInvalid. The returned Policy keeps a copy of data.
func Parse(data []byte) (*Policy, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalid, len(data), MaxDocumentSize)
	}
	doc, err := libxml.Parser{Limits: parseLimits}.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	defer doc.Close()
	if root := doc.Root(); !root.Is(Namespace, "Szabalyzat") {
		return nil, fmt.Errorf("%w: root element is {%s}%s, want {%s}Szabalyzat",
			ErrInvalid, root.NamespaceURI(), root.LocalName(), Namespace)
	}
	schema, err := compiledSchema()
	if err != nil {
		// The embedded schema is fixed at build time; a test compiles it, so this is unreachable in a
		// released binary, but it is still an error and not a panic.
		return nil, fmt.Errorf("policy: compiling the embedded schema: %w", err)
	}
	if err := schema.Validate(doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}

	var x xPolicy
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q: policy documents must be UTF-8", label)
	}
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p, err := x.decode()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p.raw = bytes.Clone(data)
	p.digest = sha256.Sum256(data)
	return p, nil
}

// The x* types mirror the schema for encoding/xml. Names are the schema's; the schema has already
// fixed the namespace, order and cardinality, so only values are interpreted here.
type xText struct {
	Lang  string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Value string `xml:",chardata"`
}

type xPolicy struct {
	XMLName      xml.Name `xml:"urn:x-mnyp:alairasi-szabalyzat:1 Szabalyzat"`
	Azonosito    string
	Verzio       string
	Megnevezes   []xText
	Kiado        struct{ Nev, URI string }
	KiadasDatuma string
	Ervenyesseg  struct{ Kezdete, Vege string }
	Teszt        string
	Leiras       []xText
	Hatokor      struct {
		Leiras     []xText
		Dokumentum []xDocument
	}
	Hitelesitok struct {
		Leiras []xText
		Szerep []xRole
	}
	Idobelyegzes struct {
		Leiras                                     []xText
		Szolgaltato                                string
		UtolsoAlairasUtan, Nonce, TanusitvanyKeres string
	}
	Visszavonas struct {
		Leiras  []xText
		Modszer []struct {
			Nev                string `xml:"nev,attr"`
			TurelmiIdo, MaxKor string
		}
	}
	Idokozok struct {
		Leiras                                           []xText
		AlairasIdobelyeg, IdobelyegBeerkezes, OraElteres string
	}
	Algoritmusok struct {
		Leiras                                         []xText
		Lenyomat, Alairas, Gorbe, Tiltott, Kanonizalas []string
		MinRSAMeret                                    string
	}
	Nyugta struct {
		Leiras                                      []xText
		TLSKulcsTilos, Idobelyeg, MindenFeltoltesre string
	}
}

type xDocument struct {
	Tipus            string `xml:"tipus,attr"`
	Leiras           []xText
	AlairasSzint     string
	Hitelesito       string
	Kotelezettseg    string
	Tartalomformatum []struct {
		Titkositott string `xml:"titkositott,attr"`
		CsakOlvasas string `xml:"csakOlvasas,attr"`
		Value       string `xml:",chardata"`
	}
	MaxMeret                string
	AlairtTulajdonsagok     struct{ Tulajdonsag []string }
	AlairatlanTulajdonsagok struct{ Tulajdonsag []string }
}

type xRole struct {
	Nev         string `xml:"nev,attr"`
	Leiras      []xText
	Minositett  string
	QcStatement []struct {
		OID  string `xml:"oid,attr"`
		Name string `xml:",chardata"`
	}
	KulcsHasznalat *struct {
		Feltetel string   `xml:"feltetel,attr"`
		Ertek    []string `xml:"Ertek"`
	}
	KiterjesztettKulcsHasznalat *struct {
		Kritikus string `xml:"kritikus,attr"`
		Value    string `xml:",chardata"`
	}
	Horgony []struct {
		Megnevezes, UjjlenyomatSHA256, Alany string
	}
}

// token applies xs:token whitespace collapsing.
func token(s string) string { return strings.Join(strings.Fields(s), " ") }

func boolean(s string) bool {
	s = token(s)
	return s == "true" || s == "1"
}

func text(xs []xText, where string) (Text, error) {
	var t Text
	for _, x := range xs {
		v := token(x.Value)
		switch x.Lang {
		case "hu":
			if t.HU != "" {
				return t, fmt.Errorf("%s: two Hungarian texts", where)
			}
			t.HU = v
		case "en":
			if t.EN != "" {
				return t, fmt.Errorf("%s: two English texts", where)
			}
			t.EN = v
		default:
			return t, fmt.Errorf("%s: text with xml:lang %q, want \"hu\" or \"en\"", where, x.Lang)
		}
	}
	if t.HU == "" || t.EN == "" {
		return t, fmt.Errorf("%s: needs one text with xml:lang=\"hu\" and one with xml:lang=\"en\"", where)
	}
	return t, nil
}

func parseTime(s, where string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, token(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", where, err)
	}
	return t.UTC(), nil
}

// ParseDuration parses the fixed-length subset of xs:duration that policy documents use:
// P[nD][T[nH][nM][n[.f]S]], at least one component, at most nine fractional digits. Years and months
// are refused because their length depends on the calendar.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("duration %q: %s", orig, why)
	}
	if !strings.HasPrefix(s, "P") {
		return bad("must start with P")
	}
	s = s[1:]
	var total time.Duration
	add := func(n int64, unit time.Duration) bool {
		if n < 0 || n > int64((1<<63-1)/unit) {
			return false
		}
		v := time.Duration(n) * unit
		if total > (1<<63-1)-v {
			return false
		}
		total += v
		return true
	}
	components := 0
	datePart, timePart, hasT := strings.Cut(s, "T")
	if datePart != "" {
		num, ok := strings.CutSuffix(datePart, "D")
		if !ok || !allDigits(num) {
			return bad("only days (nD) may precede T")
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || !add(n, 24*time.Hour) {
			return bad("out of range")
		}
		components++
	}
	if hasT {
		if timePart == "" {
			return bad("T with no hours, minutes or seconds")
		}
		rest := timePart
		for _, u := range []struct {
			suffix byte
			unit   time.Duration
		}{{'H', time.Hour}, {'M', time.Minute}} {
			i := strings.IndexByte(rest, u.suffix)
			if i < 0 {
				continue
			}
			if !allDigits(rest[:i]) {
				return bad("malformed number")
			}
			n, err := strconv.ParseInt(rest[:i], 10, 64)
			if err != nil || !add(n, u.unit) {
				return bad("out of range")
			}
			rest = rest[i+1:]
			components++
		}
		if rest != "" {
			num, ok := strings.CutSuffix(rest, "S")
			if !ok {
				return bad("unexpected text after the last component")
			}
			whole, frac, hasDot := strings.Cut(num, ".")
			if !allDigits(whole) || (hasDot && (!allDigits(frac) || len(frac) > 9)) {
				return bad("malformed seconds")
			}
			n, err := strconv.ParseInt(whole, 10, 64)
			if err != nil || !add(n, time.Second) {
				return bad("out of range")
			}
			if hasDot {
				f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
				if !add(f, time.Nanosecond) {
					return bad("out of range")
				}
			}
			components++
		}
	}
	if components == 0 {
		return bad("no component")
	}
	return total, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func duration(s, where string, allowZero bool) (time.Duration, error) {
	d, err := ParseDuration(token(s))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", where, err)
	}
	if d == 0 && !allowZero {
		return 0, fmt.Errorf("%s: duration must be positive", where)
	}
	return d, nil
}

var hashNames = map[string]crypto.Hash{
	"MD5":     crypto.MD5,
	"SHA-1":   crypto.SHA1,
	"SHA-224": crypto.SHA224,
	"SHA-256": crypto.SHA256,
	"SHA-384": crypto.SHA384,
	"SHA-512": crypto.SHA512,
}

func curveByName(name string) elliptic.Curve {
	switch name {
	case "P-256":
		return elliptic.P256()
	case "P-384":
		return elliptic.P384()
	case "P-521":
		return elliptic.P521()
	}
	return nil
}

// c14nMethods are the canonicalization URIs a verifier can implement (SPEC §2).
var c14nMethods = []string{
	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
	"http://www.w3.org/2006/12/xml-c14n11",
	"http://www.w3.org/2006/12/xml-c14n11#WithComments",
	"http://www.w3.org/2001/10/xml-exc-c14n#",
	"http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
}

// propertySpec is what the package knows of each XAdES property name the schema admits: whether it
// is signed, the names that satisfy it on read, and the SPEC §7 code for its absence.
type propertySpec struct {
	signed bool
	alts   []string
	code   Code
}

// properties maps XAdES property names to their specs. F001–F006 are the six properties in the order
// SPEC §2 lists them (SigningTime, SigningCertificate, SignaturePolicyIdentifier, DataObjectFormat,
// SignatureTimeStamp, CompleteCertificateRefs), as SPEC §7 numbers them and internal/errcode fixes; CommitmentTypeIndication has its own code, F008. Properties a
// policy may additionally require have no code of their own and report A010 (policy).
var properties = map[string]propertySpec{
	"SigningTime":               {signed: true, code: F001},
	"SigningCertificate":        {signed: true, alts: []string{"SigningCertificateV2"}, code: F002},
	"SignaturePolicyIdentifier": {signed: true, code: F003},
	"DataObjectFormat":          {signed: true, code: F004},
	"CommitmentTypeIndication":  {signed: true, code: F008},
	"SignerRole":                {signed: true, alts: []string{"SignerRoleV2"}, code: A010},
	"SignatureProductionPlace":  {signed: true, alts: []string{"SignatureProductionPlaceV2"}, code: A010},
	"SignatureTimeStamp":        {code: F005},
	"CompleteCertificateRefs":   {alts: []string{"CompleteCertificateRefsV2"}, code: F006},
	"CompleteRevocationRefs":    {code: A010},
	"CertificateValues":         {code: A010},
	"RevocationValues":          {code: A010},
}

// minimumProperties is the floor of SPEC §2 (SND-03, SND-19): no policy may drop one of these.
var minimumProperties = []string{
	"SigningTime", "SigningCertificate", "SignaturePolicyIdentifier", "DataObjectFormat",
	"CommitmentTypeIndication", "SignatureTimeStamp", "CompleteCertificateRefs",
}

var (
	oidQcCompliance = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}
	oidQcSSCD       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}
)

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("object identifier %q: malformed", s)
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("object identifier %q: too short", s)
	}
	return oid, nil
}

func (x *xPolicy) decode() (*Policy, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	txt := func(xs []xText, where string) Text {
		t, err := text(xs, where)
		if err != nil {
			errs = append(errs, err)
		}
		return t
	}
	dur := func(s, where string, allowZero bool) time.Duration {
		d, err := duration(s, where, allowZero)
		if err != nil {
			errs = append(errs, err)
		}
		return d
	}

	p := &Policy{
		id:          token(x.Azonosito),
		Version:     token(x.Verzio),
		Title:       txt(x.Megnevezes, "Megnevezes"),
		Issuer:      Issuer{Name: token(x.Kiado.Nev), URI: token(x.Kiado.URI)},
		Test:        boolean(x.Teszt),
		Description: txt(x.Leiras, "Leiras"),
		Scope:       txt(x.Hatokor.Leiras, "Hatokor/Leiras"),
	}
	upper := strings.ToUpper(p.id)
	saysTest := strings.Contains(upper, "TESZT") || strings.Contains(upper, "TEST")
	switch {
	case p.Test && !saysTest:
		fail("Azonosito %q: a test policy's identifier must contain TESZT or TEST", p.id)
	case !p.Test && saysTest:
		fail("Azonosito %q: names a test policy but Teszt is false", p.id)
	}
	if !strings.HasSuffix(p.id, ":"+p.Version) {
		fail("Azonosito %q must end with the version %q", p.id, ":"+p.Version)
	}
	if d, err := time.Parse(time.DateOnly, token(x.KiadasDatuma)); err != nil {
		fail("KiadasDatuma: %v", err)
	} else {
		p.IssuedOn = d
	}
	var err error
	if p.ValidFrom, err = parseTime(x.Ervenyesseg.Kezdete, "Ervenyesseg/Kezdete"); err != nil {
		errs = append(errs, err)
	}
	if token(x.Ervenyesseg.Vege) != "" {
		if p.ValidUntil, err = parseTime(x.Ervenyesseg.Vege, "Ervenyesseg/Vege"); err != nil {
			errs = append(errs, err)
		} else if !p.ValidUntil.After(p.ValidFrom) {
			fail("Ervenyesseg: Vege %s is not after Kezdete %s", p.ValidUntil.Format(time.RFC3339), p.ValidFrom.Format(time.RFC3339))
		}
	}

	// Authorities first: documents and timestamping refer to roles.
	p.Authorities.Description = txt(x.Hitelesitok.Leiras, "Hitelesitok/Leiras")
	for _, xr := range x.Hitelesitok.Szerep {
		r := AuthorityRole{
			Name:        Role(token(xr.Nev)),
			Description: txt(xr.Leiras, "Szerep "+xr.Nev+"/Leiras"),
			Qualified:   boolean(xr.Minositett),
		}
		if _, dup := p.Authorities.Role(r.Name); dup {
			fail("Szerep %q appears twice", r.Name)
		}
		for _, q := range xr.QcStatement {
			oid, err := parseOID(token(q.OID))
			if err != nil {
				errs = append(errs, fmt.Errorf("Szerep %q: %w", r.Name, err))
				continue
			}
			if slices.ContainsFunc(r.QCStatements, func(s QCStatement) bool { return s.OID.Equal(oid) }) {
				fail("Szerep %q: QcStatement %s appears twice", r.Name, oid)
			}
			r.QCStatements = append(r.QCStatements, QCStatement{OID: oid, Name: token(q.Name)})
		}
		if ku := xr.KulcsHasznalat; ku != nil {
			r.KeyUsageAll = token(ku.Feltetel) == "mind"
			for _, v := range ku.Ertek {
				var bit x509.KeyUsage
				switch token(v) {
				case "digitalSignature":
					bit = x509.KeyUsageDigitalSignature
				case "nonRepudiation":
					bit = x509.KeyUsageContentCommitment
				}
				if r.KeyUsage&bit != 0 {
					fail("Szerep %q: key usage %s appears twice", r.Name, token(v))
				}
				r.KeyUsage |= bit
			}
		}
		if eku := xr.KiterjesztettKulcsHasznalat; eku != nil {
			switch token(eku.Value) {
			case "timeStamping":
				r.ExtKeyUsage = x509.ExtKeyUsageTimeStamping
			case "OCSPSigning":
				r.ExtKeyUsage = x509.ExtKeyUsageOCSPSigning
			}
			r.EKUCritical = boolean(eku.Kritikus)
		}
		for _, h := range xr.Horgony {
			a := Anchor{Name: token(h.Megnevezes), Subject: token(h.Alany)}
			if fp := token(h.UjjlenyomatSHA256); fp != "" {
				a.SHA256, err = hex.DecodeString(fp)
				if err != nil || len(a.SHA256) != sha256.Size {
					fail("Szerep %q: Horgony %q: bad SHA-256 fingerprint", r.Name, a.Name)
				}
			}
			if a.SHA256 == nil && a.Subject == "" {
				fail("Szerep %q: Horgony %q pins neither a fingerprint nor a subject", r.Name, a.Name)
			}
			r.Pins = append(r.Pins, a)
		}
		p.Authorities.Roles = append(p.Authorities.Roles, r)
	}
	role := func(name Role, where string) (AuthorityRole, bool) {
		r, ok := p.Authorities.Role(name)
		if !ok {
			fail("%s: no Szerep named %q", where, name)
		}
		return r, ok
	}

	for _, xd := range x.Hatokor.Dokumentum {
		d := DocumentRules{
			Kind:        DocKind(token(xd.Tipus)),
			Description: txt(xd.Leiras, "Dokumentum "+xd.Tipus+"/Leiras"),
			Level:       Level(token(xd.AlairasSzint)),
			SignerRole:  Role(token(xd.Hitelesito)),
			Commitment:  token(xd.Kotelezettseg),
		}
		where := "Dokumentum " + string(d.Kind)
		if slices.ContainsFunc(p.Documents, func(o DocumentRules) bool { return o.Kind == d.Kind }) {
			fail("%s appears twice", where)
		}
		switch d.Kind {
		case KindPackage:
			if d.Level != LevelQualified {
				fail("%s: packages need a qualified signature (GEN-04), not %q", where, d.Level)
			}
			if d.Commitment != ProofOfOrigin {
				fail("%s: commitment must be %s (SND-19), not %q", where, ProofOfOrigin, d.Commitment)
			}
		case KindReceipt:
			if d.Commitment != ProofOfReceipt {
				fail("%s: commitment must be %s (SND-19), not %q", where, ProofOfReceipt, d.Commitment)
			}
		}
		if r, ok := role(d.SignerRole, where+"/Hitelesito"); ok && d.Level == LevelQualified {
			if !r.Qualified || !r.requires(oidQcCompliance) || !r.requires(oidQcSSCD) {
				fail("%s: role %q must be qualified and require QcCompliance and QcSSCD", where, r.Name)
			}
		}
		writable := false
		for _, f := range xd.Tartalomformatum {
			ff := Format{MIME: token(f.Value), Encrypted: boolean(f.Titkositott), ReadOnly: boolean(f.CsakOlvasas)}
			if slices.ContainsFunc(d.Formats, func(o Format) bool { return o.MIME == ff.MIME && o.Encrypted == ff.Encrypted }) {
				fail("%s: Tartalomformatum %s appears twice", where, ff.MIME)
			}
			writable = writable || !ff.ReadOnly
			d.Formats = append(d.Formats, ff)
		}
		if !writable {
			fail("%s: no Tartalomformatum that may be written", where)
		}
		if d.MaxSize, err = strconv.ParseInt(token(xd.MaxMeret), 10, 64); err != nil || d.MaxSize <= 0 {
			fail("%s: MaxMeret %q", where, xd.MaxMeret)
		}
		seen := map[string]bool{}
		addProps := func(names []string, signed bool) []Property {
			var out []Property
			for _, n := range names {
				n = token(n)
				spec, known := properties[n]
				switch {
				case !known:
					fail("%s: unknown property %q", where, n)
					continue
				case spec.signed != signed:
					fail("%s: property %s is in the wrong list (signed=%v)", where, n, spec.signed)
				case seen[n]:
					fail("%s: property %s appears twice", where, n)
				}
				seen[n] = true
				out = append(out, Property{Name: n, Alternatives: slices.Clone(spec.alts), Signed: spec.signed, Code: spec.code})
			}
			return out
		}
		d.Signed = addProps(xd.AlairtTulajdonsagok.Tulajdonsag, true)
		d.Unsigned = addProps(xd.AlairatlanTulajdonsagok.Tulajdonsag, false)
		for _, n := range minimumProperties {
			if !seen[n] {
				fail("%s: property %s is required by SPEC §2 and may not be left out", where, n)
			}
		}
		p.Documents = append(p.Documents, d)
	}
	for _, k := range []DocKind{KindPackage, KindReceipt} {
		if _, ok := p.Document(k); !ok {
			fail("Hatokor: no Dokumentum of kind %q", k)
		}
	}

	ts := x.Idobelyegzes
	p.Timestamp = TimestampRules{
		Description:     txt(ts.Leiras, "Idobelyegzes/Leiras"),
		Role:            Role(token(ts.Szolgaltato)),
		AfterLastSigner: boolean(ts.UtolsoAlairasUtan),
		Nonce:           boolean(ts.Nonce),
		CertReq:         boolean(ts.TanusitvanyKeres),
	}
	if r, ok := role(p.Timestamp.Role, "Idobelyegzes/Szolgaltato"); ok {
		if r.ExtKeyUsage != x509.ExtKeyUsageTimeStamping || !r.EKUCritical {
			fail("Idobelyegzes: role %q must require a critical timeStamping extended key usage (RFC 3161 2.3)", r.Name)
		}
	}
	if !p.Timestamp.AfterLastSigner {
		fail("Idobelyegzes/UtolsoAlairasUtan: timestamps must be requested after the last signature (SND-12)")
	}

	p.Revocation.Description = txt(x.Visszavonas.Leiras, "Visszavonas/Leiras")
	for _, m := range x.Visszavonas.Modszer {
		r := RevocationRule{Method: RevocationMethod(token(m.Nev))}
		if _, dup := p.Revocation.Rule(r.Method); dup {
			fail("Visszavonas: Modszer %s appears twice", r.Method)
		}
		r.Grace = dur(m.TurelmiIdo, "Visszavonas/"+string(r.Method)+"/TurelmiIdo", false)
		r.MaxAge = dur(m.MaxKor, "Visszavonas/"+string(r.Method)+"/MaxKor", false)
		p.Revocation.Methods = append(p.Revocation.Methods, r)
	}

	p.Gaps = TimeGaps{
		Description:        txt(x.Idokozok.Leiras, "Idokozok/Leiras"),
		SigningToTimestamp: dur(x.Idokozok.AlairasIdobelyeg, "Idokozok/AlairasIdobelyeg", false),
		TimestampToArrival: dur(x.Idokozok.IdobelyegBeerkezes, "Idokozok/IdobelyegBeerkezes", false),
		ClockSkew:          dur(x.Idokozok.OraElteres, "Idokozok/OraElteres", true),
	}

	al := x.Algoritmusok
	p.Algorithms.Description = txt(al.Leiras, "Algoritmusok/Leiras")
	for _, n := range al.Lenyomat {
		h, ok := hashNames[token(n)]
		if !ok || slices.Contains(p.Algorithms.Digests, h) {
			fail("Algoritmusok/Lenyomat %q: unknown or repeated", n)
			continue
		}
		p.Algorithms.Digests = append(p.Algorithms.Digests, h)
	}
	for _, n := range al.Tiltott {
		h, ok := hashNames[token(n)]
		if !ok || slices.Contains(p.Algorithms.Forbidden, h) || slices.Contains(p.Algorithms.Digests, h) {
			fail("Algoritmusok/Tiltott %q: unknown, repeated or also accepted", n)
			continue
		}
		p.Algorithms.Forbidden = append(p.Algorithms.Forbidden, h)
	}
	for _, n := range al.Alairas {
		s := SignatureScheme(token(n))
		if slices.Contains(p.Algorithms.Schemes, s) {
			fail("Algoritmusok/Alairas %q repeated", n)
		}
		p.Algorithms.Schemes = append(p.Algorithms.Schemes, s)
	}
	if p.Algorithms.MinRSABits, err = strconv.Atoi(token(al.MinRSAMeret)); err != nil || p.Algorithms.MinRSABits < 2048 {
		fail("Algoritmusok/MinRSAMeret %q: at least 2048", al.MinRSAMeret)
	}
	for _, n := range al.Gorbe {
		c := curveByName(token(n))
		if c == nil || slices.Contains(p.Algorithms.Curves, c) {
			fail("Algoritmusok/Gorbe %q: unknown or repeated", n)
			continue
		}
		p.Algorithms.Curves = append(p.Algorithms.Curves, c)
	}
	for _, u := range al.Kanonizalas {
		u = token(u)
		if !slices.Contains(c14nMethods, u) || slices.Contains(p.Algorithms.Canonicalization, u) {
			fail("Algoritmusok/Kanonizalas %q: unknown or repeated", u)
			continue
		}
		p.Algorithms.Canonicalization = append(p.Algorithms.Canonicalization, u)
	}

	p.Receipt = ReceiptRules{
		Description:     txt(x.Nyugta.Leiras, "Nyugta/Leiras"),
		TLSKeyForbidden: boolean(x.Nyugta.TLSKulcsTilos),
		Timestamp:       boolean(x.Nyugta.Idobelyeg),
		EveryUpload:     boolean(x.Nyugta.MindenFeltoltesre),
	}
	if !p.Receipt.TLSKeyForbidden {
		fail("Nyugta/TLSKulcsTilos: the receipt key may never be the TLS key (SEC-14)")
	}
	if !p.Receipt.Timestamp {
		fail("Nyugta/Idobelyeg: receipts carry a timestamp (DEF-07, RCV-02)")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func (r AuthorityRole) requires(oid asn1.ObjectIdentifier) bool {
	return slices.ContainsFunc(r.QCStatements, func(s QCStatement) bool { return s.OID.Equal(oid) })
}

// Document returns the rules of kind k.
func (p *Policy) Document(k DocKind) (DocumentRules, bool) {
	for _, d := range p.Documents {
		if d.Kind == k {
			return d, true
		}
	}
	return DocumentRules{}, false
}
