// Package pkgname parses, checks and builds the file names of Tagdíj dossiers (SPEC §4, RCV-15):
//
//	<kind>_<declarant>_<fund>_<YYYYMM>_<T><seq>_<yyyyMMddTHHmmssZ>.es3
//
// kind is TBA (package), TBN (receipt), TBK (sender container) or TBX (tax-authority export); declarant
// is the 8-digit tax-number core or the 10-digit personal tax id; fund 4 digits; T the declaration type
// B, O or H; seq 3 digits; the timestamp is UTC.
//
// A name arrives from outside (an upload's file name), so Parse treats it as hostile: path separators,
// NUL and other control characters and over-long input are refused before any pattern runs, and the
// returned error carries the SPEC §7 code a receipt needs: T002 when the extension is not exactly
// ".es3", T001 for anything else.
//
// Upper- or mixed-case extensions (".ES3", ".Es3") are T002. The convention fixes the extension in lower
// case, the receipt repeats the name byte for byte, and tolerating case variants would give one package
// two names (and two archive keys). The error tells the sender exactly what to rename.
package pkgname

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
)

// Extension is the only extension a Tagdíj dossier file name may carry.
const Extension = ".es3"

// MaxLen bounds the input Parse looks at. Valid names are 50 or 52 bytes; anything longer than a
// file-system name (255 bytes) is refused without further work and never echoed in full.
const MaxLen = 255

// PackagePattern is the SPEC §4 regular expression for package (TBA) names, verbatim. Go's RE2 \d
// matches ASCII digits only.
const PackagePattern = `^TBA_(\d{8}|\d{10})_\d{4}_\d{6}_[BOH]\d{3}_\d{8}T\d{6}Z\.es3$`

// namePattern generalises PackagePattern to every kind and captures the fields; for TBA names it
// accepts exactly what PackagePattern accepts (FuzzParse checks this).
var namePattern = regexp.MustCompile(`^(TBA|TBN|TBK|TBX)_(\d{8}|\d{10})_(\d{4})_(\d{6})_([BOH])(\d{3})_(\d{8}T\d{6}Z)\.es3$`)

// timeLayout is the name's UTC timestamp.
const timeLayout = "20060102T150405Z"

// Kind is the first field of a name: what the dossier is.
type Kind string

// The kinds of SPEC §4.
const (
	Package   Kind = "TBA" // adatszolgáltatás csomag
	Receipt   Kind = "TBN" // nyugta
	Container Kind = "TBK" // beküldői konténer
	Export    Kind = "TBX" // adóhatósági export
)

// Name is a parsed dossier file name. The zero Name is not valid; Parse returns only valid Names and
// Check tells whether a constructed one is.
type Name struct {
	Kind      Kind
	Declarant string    // 8-digit tax-number core or 10-digit personal tax id
	Fund      string    // 4-digit fund code
	Period    string    // YYYYMM, month 01–12
	Type      byte      // 'B' normal, 'O' self-revision, 'H' correction
	Seq       int       // 0–999, written with three digits
	Time      time.Time // UTC, whole seconds
}

// Error is a refused name. Code is T001 or T002; HU and EN say what is wrong in both languages.
type Error struct {
	Code   errcode.Code
	Name   string // the offending name, quoted and shortened for display
	HU, EN string
}

func (e *Error) Error() string {
	return fmt.Sprintf("pkgname: %s %s: %s", e.Code, e.Name, e.EN)
}

// ErrFinding returns the refusal as a SPEC §7 finding located at the (quoted) name (errcode.Carrier,
// for errcode.Of).
func (e *Error) ErrFinding() errcode.Finding {
	return bilingual(e.Code, e.Name, e.HU, e.EN)
}

// Finding is ErrFinding, for a caller that already holds the *Error.
func (e *Error) Finding() errcode.Finding { return e.ErrFinding() }

// bilingual builds a finding whose two texts get their own detail (errcode.New appends one detail to
// both).
func bilingual(c errcode.Code, loc, hu, en string) errcode.Finding {
	f := errcode.New(c, loc, "")
	if hu != "" {
		f.HU += " (" + hu + ")"
	}
	if en != "" {
		f.EN += " (" + en + ")"
	}
	return f
}

// display quotes s for a message, shortened so that a hostile name cannot flood a receipt or a log.
func display(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func refuse(c errcode.Code, name, hu, en string) *Error {
	return &Error{Code: c, Name: display(name), HU: hu, EN: en}
}

// Parse checks name against the convention and returns its fields. name must be a bare file name (no
// directory). Errors are *Error: T002 if the extension is not exactly ".es3", T001 otherwise.
func Parse(name string) (Name, error) {
	if name == "" {
		return Name{}, refuse(errcode.T001, name, "üres fájlnév", "empty file name")
	}
	if len(name) > MaxLen {
		return Name{}, refuse(errcode.T001, name,
			fmt.Sprintf("a fájlnév túl hosszú (%d bájt)", len(name)), fmt.Sprintf("file name too long (%d bytes)", len(name)))
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '/' || c == '\\':
			return Name{}, refuse(errcode.T001, name, "a fájlnév könyvtárat tartalmaz", "file name contains a directory separator")
		case c == 0 || c < 0x20 || c == 0x7f:
			return Name{}, refuse(errcode.T001, name, "a fájlnév vezérlőkaraktert tartalmaz", "file name contains a control character")
		case c >= 0x80:
			return Name{}, refuse(errcode.T001, name, "a fájlnév nem ASCII karaktert tartalmaz", "file name contains a non-ASCII character")
		}
	}
	if name == "." || name == ".." {
		return Name{}, refuse(errcode.T001, name, "érvénytelen fájlnév", "invalid file name")
	}
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return Name{}, refuse(errcode.T002, name, "hiányzik a .es3 kiterjesztés", "the .es3 extension is missing")
	}
	if ext := name[dot:]; ext != Extension {
		if strings.EqualFold(ext, Extension) {
			return Name{}, refuse(errcode.T002, name,
				"a kiterjesztést kisbetűvel kell írni: .es3", "the extension must be written in lower case: .es3")
		}
		return Name{}, refuse(errcode.T002, name,
			fmt.Sprintf("a kiterjesztés %s, elvárt: .es3", display(ext)), fmt.Sprintf("extension is %s, expected .es3", display(ext)))
	}
	m := namePattern.FindStringSubmatch(name)
	if m == nil {
		return Name{}, refuse(errcode.T001, name,
			"a név nem felel meg a <fajta>_<bevalló>_<pénztár>_<ÉÉÉÉHH>_<T><sorszám>_<ééééHHnnTóóppmmZ>.es3 mintának",
			"the name does not match <kind>_<declarant>_<fund>_<YYYYMM>_<T><seq>_<yyyyMMddTHHmmssZ>.es3")
	}
	n := Name{Kind: Kind(m[1]), Declarant: m[2], Fund: m[3], Period: m[4], Type: m[5][0]}
	n.Seq, _ = strconv.Atoi(m[6]) // three ASCII digits: cannot fail
	if mo, _ := strconv.Atoi(n.Period[4:]); mo < 1 || mo > 12 {
		return Name{}, refuse(errcode.T001, name,
			fmt.Sprintf("érvénytelen időszak: %s", n.Period), fmt.Sprintf("invalid period: %s", n.Period))
	}
	t, err := time.Parse(timeLayout, m[7])
	if err != nil {
		return Name{}, refuse(errcode.T001, name,
			fmt.Sprintf("érvénytelen időbélyeg: %s", m[7]), fmt.Sprintf("invalid timestamp: %s", m[7]))
	}
	n.Time = t.UTC()
	return n, nil
}

// Check reports whether n would print as a name Parse accepts with the same fields.
func (n Name) Check() error {
	s := n.String()
	p, err := Parse(s)
	if err != nil {
		return err
	}
	if p != n.normal() {
		return refuse(errcode.T001, s, "a mezők nem ábrázolhatók a névben", "the fields cannot be represented in a name")
	}
	return nil
}

// normal is n with its time in UTC, the form Parse returns.
func (n Name) normal() Name {
	n.Time = n.Time.UTC()
	return n
}

// String writes the name. It does not validate: use Check for names built from fields.
func (n Name) String() string {
	typ := string(rune(n.Type))
	if n.Type == 0 {
		typ = ""
	}
	return fmt.Sprintf("%s_%s_%s_%s_%s%03d_%s%s", n.Kind, n.Declarant, n.Fund, n.Period, typ, n.Seq,
		n.Time.UTC().Format(timeLayout), Extension)
}

// ReceiptName is the receipt's name for a package: the same fields with kind TBN (SPEC §4).
func ReceiptName(pkg Name) Name {
	pkg.Kind = Receipt
	return pkg
}

// ContainerName is the sender container's name for a package: the same fields with kind TBK, so a
// container sorts beside the package it keeps.
func ContainerName(pkg Name) Name {
	pkg.Kind = Container
	return pkg
}

// ExportName is the name of a tax-authority export. An export answers one request for one declarant and
// fund over a period range; its name carries the last period of the range (lastPeriod, YYYYMM), type B,
// a sequence number distinguishing exports made for the same declarant, fund and period, and the time
// the export was sealed. The result is checked.
func ExportName(declarant, fund, lastPeriod string, seq int, sealed time.Time) (Name, error) {
	n := Name{Kind: Export, Declarant: declarant, Fund: fund, Period: lastPeriod, Type: 'B', Seq: seq,
		Time: sealed.UTC().Truncate(time.Second)}
	if err := n.Check(); err != nil {
		return Name{}, err
	}
	return n, nil
}

// Metadata is the part of a package's signed metadata (cs:Csomag) that its name must agree with. The es3
// package fills it from the decoded cs:Csomag (es3.Metadata.NameFields).
type Metadata struct {
	IDType    declaration.IDType // cs:Bevallo/@azonositoTipus: adoszam, adoazonosito or taj
	Declarant string             // cs:Bevallo/@azonosito
	Fund      string             // cs:Penztar
	Period    string             // cs:Idoszak, YYYY-MM
	Type      string             // cs:Tipus, B/O/H
}

// Matches compares the name's fields with the signed metadata and returns one F010 finding per field
// that differs (declarant, fund, period, type); none when they agree.
//
// The declarant matches when the metadata identify the declarant by tax number (adoszam) whose first
// eight digits (the core, alone or of the 11-digit form) equal an 8-digit name field, or by personal tax
// id (adoazonosito) equal to a 10-digit name field. A declarant identified by TAJ number can never match:
// the convention has no field for a TAJ number.
func Matches(n Name, meta Metadata) []errcode.Finding {
	var out []errcode.Finding
	diff := func(field, hu, en, name, signed string) {
		out = append(out, bilingual(errcode.F010, field,
			fmt.Sprintf("%s: a névben %s, az aláírt metaadatokban %s", hu, display(name), display(signed)),
			fmt.Sprintf("%s: %s in the name, %s in the signed metadata", en, display(name), display(signed))))
	}
	if !declarantMatches(n.Declarant, meta.IDType, meta.Declarant) {
		diff("declarant", "bevalló", "declarant", n.Declarant, string(meta.IDType)+":"+meta.Declarant)
	}
	if n.Fund != meta.Fund {
		diff("fund", "pénztár", "fund", n.Fund, meta.Fund)
	}
	if want := periodOf(meta.Period); n.Period != want || want == "" {
		diff("period", "időszak", "period", n.Period, meta.Period)
	}
	if n.Type == 0 || string(rune(n.Type)) != meta.Type {
		diff("type", "típus", "type", string(rune(n.Type)), meta.Type)
	}
	return out
}

func declarantMatches(name string, idType declaration.IDType, id string) bool {
	switch idType {
	case declaration.IDAdoszam:
		return len(name) == 8 && (len(id) == 8 || len(id) == 11) && id[:8] == name
	case declaration.IDAdoazonosito:
		return len(name) == 10 && id == name
	}
	return false
}

// periodOf turns "YYYY-MM" into "YYYYMM"; "" for anything else.
func periodOf(p string) string {
	if len(p) != 7 || p[4] != '-' {
		return ""
	}
	return p[:4] + p[5:]
}
