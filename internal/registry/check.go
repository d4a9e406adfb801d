package registry

import (
	"crypto/x509"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/xades/props"
)

// Problem is one reason a sheet was refused: where (an element path such as
// "Bejelentkezes/Alairok/Alairo[@azonosito='a1']/Tarsalairo", or a source line for a problem the
// parser or the XSD found) and why, in Hungarian and English.
type Problem struct {
	Path string // element path; "" when only Line is known
	Line int    // line in the decoded document; 0 when unknown or for a sheet built in code
	HU   string
	EN   string
}

// String formats p as "path (line n): hu / en".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Path)
	if p.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "(sor/line %d)", p.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.HU + " / " + p.EN)
	return b.String()
}

// Error is why Decode, Encode, Check or a Store refused a sheet. Problems lists every problem found
// (at least one); Err is the underlying cause when there is one (ErrTooLarge, a *libxml.Error, a
// *libxml.ValidationError), reachable with errors.Is and errors.As.
type Error struct {
	Problems []Problem
	Err      error
}

// Error summarises the problems bilingually (the first five in full).
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "registry: érvénytelen bejelentkezési adatlap / invalid registration sheet: %d hiba/problem(s)", len(e.Problems))
	for i, p := range e.Problems {
		if i == 5 {
			b.WriteString("; …")
			break
		}
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Element paths.
const (
	pathRoot      = "Bejelentkezes"
	pathDeclarant = pathRoot + "/Bevallo"
	pathContact   = pathRoot + "/Kapcsolattarto"
	pathSigners   = pathRoot + "/Alairok"
	pathWithdraw  = pathRoot + "/Visszavonas"
)

// signerPath is the path of the i-th signer (0-based), by local id when it has a usable one.
func signerPath(i int, id string) string {
	if isRef(id) {
		return fmt.Sprintf("%s/Alairo[@azonosito='%s']", pathSigners, id)
	}
	return fmt.Sprintf("%s/Alairo[%d]", pathSigners, i+1)
}

// checker collects problems.
type checker struct{ problems []Problem }

func (c *checker) add(path, hu, en string) {
	c.problems = append(c.problems, Problem{Path: path, HU: hu, EN: en})
}

// Check reports whether s is a sheet the registry accepts: everything bejelentkezes.xsd requires
// (patterns, lengths, 1 to MaxSigners signers with unique local ids, co-signer and deputy references
// that name a signer of the sheet, at least an e-mail or a postal address for the contact, text that
// XML can carry), and the rules its documentation leaves to the registry:
//
//   - a signer with Role Jointly has a CoSigner, one with Role Alone has none;
//   - no signer names itself as co-signer or deputy, and deputy chains have no cycle (A deputy of B
//     deputy of A); co-signers may name each other, as two jointly signing directors do;
//   - ValidTo is not before ValidFrom;
//   - the declarant identifier's length fits its type (adoszam 8 or 11 digits, adoazonosito 10, taj 9)
//     and its check digits are right (hunid; for an 11-digit adoszam also the VAT and territorial codes,
//     as the package metadata check applies them);
//   - the encryption certificate is one DER X.509 certificate that parses;
//   - an issuer DN is a string props.NameMatches can compare (props.CheckNameString);
//   - names and other collapsed text are already white-space collapsed, so that Encode writes what
//     Decode returns;
//   - a withdrawal is not dated before the sheet was filed.
//
// It returns nil or an *Error listing every problem.
func (s *Sheet) Check() error {
	if s == nil {
		return &Error{Problems: []Problem{{Path: pathRoot, HU: "hiányzó adatlap", EN: "no sheet"}}}
	}
	var c checker
	if !isUUID(s.ID) {
		c.add(pathRoot+"/Azonosito", "nem kisbetűs kanonikus UUID", "not a lower-case canonical UUID")
	}
	c.declarant(&s.Declarant)
	if !digits(s.Fund, 4) {
		c.add(pathRoot+"/Penztar", "a pénztárkód nem négy számjegy", "the fund code is not four digits")
	}
	if !s.FirstPeriod.Valid() {
		c.add(pathRoot+"/ElsoIdoszak", "érvénytelen időszak", "invalid period")
	}
	if !s.Filed.Valid() {
		c.add(pathRoot+"/BenyujtasDatuma", "érvénytelen dátum", "invalid date")
	}
	c.contact(&s.Contact)
	if len(s.EncryptionCert) == 0 {
		c.add(pathRoot+"/TitkositoTanusitvany", "hiányzó titkosító tanúsítvány", "missing encryption certificate")
	} else if _, err := x509.ParseCertificate(s.EncryptionCert); err != nil {
		c.add(pathRoot+"/TitkositoTanusitvany", "a titkosító tanúsítvány nem értelmezhető: "+err.Error(),
			"the encryption certificate does not parse: "+err.Error())
	}
	c.signers(s.Signers)
	if w := s.Withdrawal; w != nil {
		if !w.Date.Valid() {
			c.add(pathWithdraw+"/Datum", "érvénytelen dátum", "invalid date")
		} else if s.Filed.Valid() && w.Date.Before(s.Filed) {
			c.add(pathWithdraw+"/Datum", "a visszavonás dátuma korábbi a benyújtásénál ("+s.Filed.String()+")",
				"the withdrawal is dated before the sheet was filed ("+s.Filed.String()+")")
		}
		c.text(pathWithdraw+"/Indoklas", w.Reason, MaxReasonChars, false)
	}
	if len(c.problems) > 0 {
		return &Error{Problems: c.problems}
	}
	return nil
}

func (c *checker) declarant(d *Declarant) {
	path := pathDeclarant + "/@azonosito"
	switch d.IDType {
	case declaration.IDAdoszam:
		if !(digits(d.ID, 8) || digits(d.ID, 11)) {
			c.add(path, "az adószám 8 vagy 11 számjegy", "a tax number has 8 or 11 digits")
		} else if !hunid.ValidAdoszam(d.ID) {
			c.add(path, "érvénytelen adószám (ellenőrző szám, ÁFA-kód vagy területi kód)",
				"invalid tax number (check digit, VAT code or territorial code)")
		}
	case declaration.IDAdoazonosito:
		if !digits(d.ID, 10) || d.ID[0] != '8' {
			c.add(path, "az adóazonosító jel 10 számjegy, 8-as kezdettel", "a personal tax id has 10 digits starting with 8")
		} else if !hunid.ValidAdoazonosito(d.ID) {
			c.add(path, "hibás ellenőrző szám az adóazonosító jelben", "wrong check digit in the personal tax id")
		}
	case declaration.IDTAJ:
		if !digits(d.ID, 9) {
			c.add(path, "a TAJ szám 9 számjegy", "a TAJ number has 9 digits")
		} else if !hunid.ValidTAJ(d.ID) {
			c.add(path, "hibás ellenőrző szám a TAJ számban", "wrong check digit in the TAJ number")
		}
	default:
		c.add(pathDeclarant+"/@azonositoTipus", fmt.Sprintf("ismeretlen azonosítótípus: %q", string(d.IDType)),
			fmt.Sprintf("unknown identifier type %q", string(d.IDType)))
	}
	c.name(pathDeclarant+"/@nev", d.Name)
	if p := d.Address.PostalCode; len(p) != 4 || p[0] < '1' || p[0] > '9' || !digits(p, 4) {
		c.add(pathDeclarant+"/Cim/Iranyitoszam", "az irányítószám négy számjegy, nem 0-val kezdődik",
			"the postcode is four digits not starting with 0")
	}
	c.name(pathDeclarant+"/Cim/Telepules", d.Address.City)
	c.name(pathDeclarant+"/Cim/Kozterulet", d.Address.Street)
}

func (c *checker) contact(k *Contact) {
	c.name(pathContact+"/Nev", k.Name)
	if !isPhone(k.Phone) {
		c.add(pathContact+"/Telefon", "hibás telefonszám", "invalid phone number")
	}
	if k.Email != "" && !isEmail(k.Email) {
		c.add(pathContact+"/Email", "hibás e-mail cím", "invalid e-mail address")
	}
	if k.Address != "" {
		c.name(pathContact+"/Cim", k.Address)
	}
	if k.Email == "" && k.Address == "" {
		c.add(pathContact, "e-mail cím vagy postacím kell", "an e-mail address or a postal address is required")
	}
}

func (c *checker) signers(ss []Signer) {
	if len(ss) == 0 || len(ss) > MaxSigners {
		c.add(pathSigners, fmt.Sprintf("1–%d aláíró kell, %d van megadva", MaxSigners, len(ss)),
			fmt.Sprintf("1 to %d signers required, %d given", MaxSigners, len(ss)))
	}
	index := make(map[string]int, len(ss))
	for i := range ss {
		id := ss[i].ID
		if !isRef(id) {
			c.add(signerPath(i, id)+"/@azonosito", fmt.Sprintf("hibás helyi azonosító: %q", id), fmt.Sprintf("invalid local id %q", id))
			continue
		}
		if _, dup := index[id]; dup {
			c.add(signerPath(i, id)+"/@azonosito", "ismétlődő helyi azonosító", "duplicate local id")
			continue
		}
		index[id] = i
	}
	for i := range ss {
		c.signer(i, &ss[i], index)
	}
	c.deputyCycles(ss, index)
}

func (c *checker) signer(i int, s *Signer, index map[string]int) {
	path := signerPath(i, s.ID)
	c.name(path+"/Nev", s.Name)
	c.certID(path+"/Tanusitvany", &s.Cert)
	switch s.Role {
	case Alone:
		if s.CoSigner != "" {
			c.add(path+"/Tarsalairo", "önálló (ONALLO) aláírónak nincs társaláírója", "a signer with role ONALLO (alone) has no co-signer")
		}
	case Jointly:
		if s.CoSigner == "" {
			c.add(path+"/Tarsalairo", "együttes (EGYUTTES) aláírónak társaláíró kell", "a signer with role EGYUTTES (jointly) needs a co-signer")
		}
	default:
		c.add(path+"/Szerep", fmt.Sprintf("ismeretlen szerep: %q", string(s.Role)), fmt.Sprintf("unknown role %q", string(s.Role)))
	}
	ref := func(elem, ref, hu, en string) {
		switch _, ok := index[ref]; {
		case ref == "":
		case !isRef(ref):
			c.add(path+"/"+elem, fmt.Sprintf("hibás hivatkozás: %q", ref), fmt.Sprintf("invalid reference %q", ref))
		case ref == s.ID:
			c.add(path+"/"+elem, hu, en)
		case !ok:
			c.add(path+"/"+elem, fmt.Sprintf("nincs %q azonosítójú aláíró", ref), fmt.Sprintf("no signer with local id %q", ref))
		}
	}
	ref("Tarsalairo", s.CoSigner, "az aláíró nem lehet saját maga társaláírója", "a signer cannot be its own co-signer")
	ref("Helyettes", s.Deputy, "az aláíró nem lehet saját maga helyettese", "a signer cannot be its own deputy")
	if !s.ValidFrom.Valid() {
		c.add(path+"/ErvenyesTol", "érvénytelen dátum", "invalid date")
	}
	if !s.ValidTo.IsZero() {
		if !s.ValidTo.Valid() {
			c.add(path+"/ErvenyesIg", "érvénytelen dátum", "invalid date")
		} else if s.ValidFrom.Valid() && s.ValidTo.Before(s.ValidFrom) {
			c.add(path+"/ErvenyesIg", "az érvényesség vége korábbi a kezdeténél ("+s.ValidFrom.String()+")",
				"validity ends before it starts ("+s.ValidFrom.String()+")")
		}
	}
}

func (c *checker) certID(path string, id *CertID) {
	if id.IssuerDN == "" && len(id.SHA256) == 0 {
		c.add(path, "kiadó és sorozatszám, vagy SHA-256 lenyomat kell", "an issuer and serial, or a SHA-256 digest, is required")
	}
	if id.SHA256 != nil && len(id.SHA256) != 32 {
		c.add(path+"/SHA256", "az SHA-256 lenyomat 32 bájt", "a SHA-256 digest is 32 bytes")
	}
	if id.IssuerDN == "" {
		if id.Serial != "" {
			c.add(path+"/Sorozatszam", "sorozatszám csak kiadóval együtt adható meg", "a serial number needs an issuer")
		}
		return
	}
	switch n := utf8.RuneCountInString(id.IssuerDN); {
	case !xmlText(id.IssuerDN):
		c.add(path+"/KiadoDN", "XML-ben nem ábrázolható karakter", "a character XML cannot carry")
	case n > MaxDNChars:
		c.add(path+"/KiadoDN", fmt.Sprintf("legfeljebb %d karakter", MaxDNChars), fmt.Sprintf("at most %d characters", MaxDNChars))
	default:
		if err := props.CheckNameString(id.IssuerDN); err != nil {
			c.add(path+"/KiadoDN", "nem értelmezhető megkülönböztető név (RFC 4514): "+err.Error(),
				"not a distinguished name RFC 4514 can parse: "+err.Error())
		}
	}
	if !isSerial(id.Serial) {
		c.add(path+"/Sorozatszam", "a sorozatszám előjel és vezető nullák nélküli tízes számrendszerbeli szám",
			"the serial number is decimal without sign or leading zeros")
	}
}

// deputyCycles reports every cycle of deputy references once, at its first signer in document order.
func (c *checker) deputyCycles(ss []Signer, index map[string]int) {
	for i := range ss {
		chain := []string{ss[i].ID}
		seen := map[int]bool{i: true}
		min := i
		for j := i; ; {
			next, ok := index[ss[j].Deputy]
			if !ok || ss[j].Deputy == ss[j].ID {
				break // no deputy, an unresolved one, or a self reference (reported by signer)
			}
			chain = append(chain, ss[next].ID)
			if next == i {
				if min == i {
					c.add(signerPath(i, ss[i].ID)+"/Helyettes", "körkörös helyettesítés: "+strings.Join(chain, " → "),
						"deputy cycle: "+strings.Join(chain, " → "))
				}
				break
			}
			if seen[next] {
				break // a cycle further on, not through i
			}
			seen[next] = true
			if next < min {
				min = next
			}
			j = next
		}
	}
}

// name checks a value of the schema's Nev type.
func (c *checker) name(path, v string) { c.text(path, v, MaxNameChars, true) }

// text checks text XML can carry, 1 to max characters; collapsed text must already be collapsed.
func (c *checker) text(path, v string, max int, collapsed bool) {
	switch n := utf8.RuneCountInString(v); {
	case !xmlText(v):
		c.add(path, "XML-ben nem ábrázolható karakter", "a character XML cannot carry")
	case collapsed && collapse(v) != v:
		c.add(path, "a szóközök nincsenek összevonva (kezdő, záró vagy ismételt szóköz, tabulátor, sortörés)",
			"white space is not collapsed (leading, trailing or repeated spaces, tabs, line breaks)")
	case n == 0:
		c.add(path, "üres érték", "empty value")
	case n > max:
		c.add(path, fmt.Sprintf("legfeljebb %d karakter", max), fmt.Sprintf("at most %d characters", max))
	}
}

// collapse applies XSD whiteSpace="collapse": runs of space, tab, CR and LF become one space, leading and
// trailing ones go; other Unicode spaces stay, as XSD keeps them.
func collapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, isXMLSpace), " ")
}

func isXMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// xmlText reports whether s is UTF-8 made only of characters XML 1.0 admits.
func xmlText(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return false
			}
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
	}
	return true
}

// digits reports whether s is exactly n ASCII digits.
func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUUID matches the schema's UUID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// isRef matches the schema's Hivatkozas: [A-Za-z_][A-Za-z0-9_.\-]{0,63}.
func isRef(s string) bool {
	if len(s) == 0 || len(s) > MaxRefChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isSerial matches the schema's Sorozatszam: 0|[1-9][0-9]{0,49}.
func isSerial(s string) bool {
	if s == "0" {
		return true
	}
	return len(s) >= 1 && len(s) <= MaxSerialDigits && s[0] != '0' && digits(s, len(s))
}

// isPhone matches the schema's Telefon: \+?[0-9 ()/\-]{6,20}.
func isPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 6 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == ' ' || c == '(' || c == ')' || c == '/' || c == '-') {
			return false
		}
	}
	return true
}

// isEmail matches the schema's Email: at most 254 characters of
// [A-Za-z0-9.!#$%&'*+/=?\^_`{|}~\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+.
func isEmail(s string) bool {
	if len(s) > MaxEmailChars {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(alnum(c) || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !(alnum(l[i]) || l[i] == '-') {
				return false
			}
		}
	}
	return true
}

func alnum(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
