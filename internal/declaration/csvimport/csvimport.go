// Package csvimport builds a contribution declaration from a payroll system's CSV export (issue 10,
// SND-05): one member per line, the columns named in a header line, in UTF-8 (a byte-order mark is
// allowed), Windows-1250 or ISO-8859-2, separated by ";" or ",", with amounts in the Hungarian forms
// payroll programs write. Every line is checked and every problem reported at once, by line number
// and D-code; the declaration is returned only when there is none.
//
// # Columns
//
// The header names the columns, in any order; names are matched without regard to case, accents,
// spaces, hyphens and underscores, in Hungarian or English:
//
//	column (Hungarian / English)                    required  content
//	sorszam / row                                   no        the item's row number (1–1 000 000, unique); default: the line's position
//	nev / name                                      yes       the member's name, family name first (at most 120 characters)
//	szuletesi_datum / birth_date                    yes       a date: 1980-05-20, 1980.05.20, 1980.05.20. or 1980. 05. 20.
//	taj / taj_szam                                  yes       TAJ number, 9 digits; spaces and hyphens are ignored (123 456 788)
//	adoazonosito / adoazonosito_jel / tax_id        yes       the member's tax id (adóazonosító jel), 10 digits
//	jogviszony_kezdete / employment_from            yes       a date: the employment's start
//	jogviszony_vege / employment_to                 no        a date: its end; empty while employed
//	jarulekalap / base                              yes       the contribution base, whole forints
//	tagdij / member_contribution                    yes       the member contribution withheld, whole forints
//	munkaltatoi_kiegeszites / supplement            no        the employer's supplement, whole forints; default 0
//
// Other columns are ignored with a warning. Amounts may be written 1234567, 1 234 567 (space, no-break
// space or narrow no-break space between groups of three), 1.234.567, with "Ft" or "HUF" after them,
// and with a decimal comma only when the fraction is zero (1 234,00): a fraction of a forint is
// refused (D004), as is a dot or comma that is not a thousands separator.
//
// # Codes
//
// Problems are errcode findings located "sor N / line N" (the file's line, the header being line 1):
// D003 for the file and the format (encoding, separator, columns, a missing or malformed field, a name,
// a date, a duplicate row number), D004 for an amount, D005 for a TAJ number, D006 for a tax id, and
// the content rules of declaration.Check (check digits, the birth date in the tax id, employment
// dates, the period, the declarant) on the line of the item they concern.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
)

// Encoding is a character encoding of the CSV file.
type Encoding string

// The encodings Import reads. Auto takes UTF-8 when the bytes are valid UTF-8, else Windows-1250 when
// any byte is in 0x80–0x9F (printable there, control characters in ISO-8859-2), else ISO-8859-2;
// the two agree on every Hungarian letter.
const (
	Auto        Encoding = "auto"
	UTF8        Encoding = "utf-8"
	Windows1250 Encoding = "windows-1250"
	ISO88592    Encoding = "iso-8859-2"
)

// ParseEncoding reads an --encoding value.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "utf-8", "utf8":
		return UTF8, nil
	case "windows-1250", "cp1250", "win1250":
		return Windows1250, nil
	case "iso-8859-2", "iso8859-2", "latin2", "latin-2":
		return ISO88592, nil
	}
	return "", fmt.Errorf("ismeretlen kódolás / unknown encoding %q (auto, utf-8, windows-1250, iso-8859-2)", s)
}

// Limits of the import.
const (
	// MaxBytes is the largest file read: a million members take about 150 MB.
	MaxBytes = 256 << 20
	// MaxFieldBytes bounds one field (a name is at most 120 characters).
	MaxFieldBytes = 1024
	// DefaultMaxFindings is how many findings are kept; the rest are counted (Result.Dropped).
	DefaultMaxFindings = 10_000
)

// Options describe what the CSV file does not say: the header of the declaration, the declarant
// and the fund (from the sender's configuration), and how to read the file.
type Options struct {
	Header    declaration.Header // ID, Type, PredecessorID, Period, Created, Program
	Declarant declaration.Declarant
	Fund      declaration.Fund
	// Encoding of the file; "" or Auto detects it.
	Encoding Encoding
	// Separator is ';' or ','; 0 detects it from the header line (the one of the two it has more of).
	Separator rune
	// Now is the reference time of declaration.Check ("period not in the future"); zero: time.Now().
	Now time.Time
	// MaxFindings bounds the findings kept (0: DefaultMaxFindings).
	MaxFindings int
	// Progress, when set, is called with the number of lines read so far, now and then.
	Progress func(lines int)
}

// Result is what Import made of a file.
type Result struct {
	// Declaration is the declaration built, nil when any finding is an error.
	Declaration *declaration.Declaration
	// Findings are every problem in file order: those about the file first, then by line.
	Findings []errcode.Finding
	// Dropped counts the findings beyond Options.MaxFindings.
	Dropped int
	// Encoding and Separator are what the file was read as.
	Encoding  Encoding
	Separator rune
	// Lines is the number of lines read (the header included), Items the number of members.
	Lines, Items int
}

// OK reports whether the declaration was built (no error finding).
func (r *Result) OK() bool { return r.Declaration != nil }

// column identifies a known column.
type column int

const (
	colRow column = iota
	colName
	colBirth
	colTAJ
	colTaxID
	colFrom
	colTo
	colBase
	colMember
	colSupplement
	numColumns
)

// columnNames maps the normalized header names to columns (normalizeName).
var columnNames = map[string]column{
	"sorszam": colRow, "ssz": colRow, "row": colRow,
	"nev": colName, "name": colName,
	"szuletesidatum": colBirth, "szuldatum": colBirth, "birthdate": colBirth,
	"taj": colTAJ, "tajszam": colTAJ,
	"adoazonosito": colTaxID, "adoazonositojel": colTaxID, "taxid": colTaxID,
	"jogviszonykezdete": colFrom, "employmentfrom": colFrom,
	"jogviszonyvege": colTo, "employmentto": colTo,
	"jarulekalap": colBase, "base": colBase,
	"tagdij": colMember, "membercontribution": colMember,
	"munkaltatoikiegeszites": colSupplement, "kiegeszites": colSupplement, "supplement": colSupplement,
}

var columnLabel = [numColumns]string{"sorszam", "nev", "szuletesi_datum", "taj", "adoazonosito", "jogviszony_kezdete",
	"jogviszony_vege", "jarulekalap", "tagdij", "munkaltatoi_kiegeszites"}

var required = []column{colName, colBirth, colTAJ, colTaxID, colFrom, colBase, colMember}

// normalizeName folds a header name: lower case, accents removed, spaces, hyphens, underscores and
// dots dropped.
func normalizeName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		switch {
		case unicode.Is(unicode.Mn, r), r == ' ', r == '-', r == '_', r == '.', r == '\u00a0':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// importer holds one run's state.
type importer struct {
	opts     Options
	findings []errcode.Finding
	dropped  int
	dropErr  int // errors among the dropped
	max      int
	lineOf   map[int]int // item row → line
}

func lineLoc(line int) string { return fmt.Sprintf("sor %d / line %d", line, line) }

func (im *importer) add(code errcode.Code, severity errcode.Severity, line int, detail string) {
	if len(im.findings) >= im.max {
		im.dropped++
		if severity == errcode.Error {
			im.dropErr++
		}
		return
	}
	loc := ""
	if line > 0 {
		loc = lineLoc(line)
	}
	f := errcode.New(code, loc, detail)
	f.Severity = severity
	im.findings = append(im.findings, f)
}

func (im *importer) fail(code errcode.Code, line int, format string, args ...any) {
	im.add(code, errcode.Error, line, fmt.Sprintf(format, args...))
}

// Import reads a CSV export and builds the declaration. The error is only for options it cannot work
// with; everything about the file is in Result.Findings.
func Import(data []byte, opts Options) (*Result, error) {
	sep := opts.Separator
	if sep != 0 && sep != ';' && sep != ',' {
		return nil, fmt.Errorf("csvimport: separator %q: ';' or ',' only", sep)
	}
	enc := opts.Encoding
	if enc == "" {
		enc = Auto
	}
	if _, err := ParseEncoding(string(enc)); err != nil {
		return nil, fmt.Errorf("csvimport: %w", err)
	}
	im := &importer{opts: opts, max: opts.MaxFindings, lineOf: map[int]int{}}
	if im.max <= 0 {
		im.max = DefaultMaxFindings
	}
	res := &Result{}
	finish := func() *Result {
		res.Findings, res.Dropped = im.findings, im.dropped
		sortFindings(res.Findings)
		return res
	}
	if len(data) > MaxBytes {
		im.fail(errcode.D003, 0, "a fájl nagyobb, mint %d bájt / the file is larger than %d bytes", MaxBytes, MaxBytes)
		return finish(), nil
	}
	text, enc, err := decode(data, enc)
	res.Encoding = enc
	if err != nil {
		im.fail(errcode.D003, 0, "%v", err)
		return finish(), nil
	}
	if sep == 0 {
		if sep = detectSeparator(text); sep == 0 {
			im.fail(errcode.D003, 1, "a fejléc nem tagolt („;” vagy „,” kell az oszlopnevek között) / the header line has no separator (\";\" or \",\" between the column names)")
			return finish(), nil
		}
	}
	res.Separator = sep

	r := csv.NewReader(strings.NewReader(text))
	r.Comma = sep
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		im.fail(errcode.D003, 1, "a fejléc nem olvasható / the header line cannot be read: %v", csvErr(err))
		return finish(), nil
	}
	cols, ok := im.header(header)
	if !ok {
		return finish(), nil
	}
	d := &declaration.Declaration{Version: declaration.Version, Header: opts.Header, Declarant: opts.Declarant, Fund: opts.Fund}
	rows := map[int]int{} // row number → line
	lines := 1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := lineOfErr(err, lines+1)
			lines = max(lines, line)
			im.fail(errcode.D003, line, "a sor nem olvasható CSV-ként / the line is not valid CSV: %v", csvErr(err))
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				break // not a per-record problem: nothing more can be read
			}
			continue
		}
		line, _ := r.FieldPos(0) // a record read without error has at least one field
		lines = max(lines, line)
		if opts.Progress != nil && lines%4096 == 0 {
			opts.Progress(lines)
		}
		if len(d.Items) >= declaration.MaxItems {
			im.fail(errcode.D003, line, "több mint %d tétel / more than %d items", declaration.MaxItems, declaration.MaxItems)
			break
		}
		if blank(rec) {
			continue
		}
		it, ok := im.item(rec, cols, line, len(d.Items)+1)
		if !ok {
			continue
		}
		if prev, dup := rows[it.Row]; dup {
			im.fail(errcode.D003, line, "a %d. sorszám már szerepel a(z) %d. sorban / row number %d is already used on line %d", it.Row, prev, it.Row, prev)
			continue
		}
		rows[it.Row] = line
		im.lineOf[it.Row] = line
		d.Items = append(d.Items, it)
	}
	if opts.Progress != nil {
		opts.Progress(lines)
	}
	res.Lines, res.Items = lines, len(d.Items)
	if len(d.Items) == 0 && !declaration.Rejects(im.findings) {
		im.add(errcode.D003, errcode.Warning, 0, "a fájlban nincs tétel: nemleges bevallás / the file has no items: a nil declaration")
	}
	d.Summary = d.ComputeSummary()
	// The content rules, on the lines of the items they concern.
	for _, f := range declaration.Check(d, declaration.CheckContext{Now: opts.Now}) {
		if row, ok := declaration.ItemOf(f.Location); ok {
			if line, ok := im.lineOf[row]; ok {
				f.Location = lineLoc(line) + " (" + f.Location + ")"
			}
		}
		if len(im.findings) >= im.max {
			im.dropped++
			if f.Severity == errcode.Error {
				im.dropErr++
			}
			continue
		}
		im.findings = append(im.findings, f)
	}
	if !declaration.Rejects(im.findings) && im.dropErr == 0 {
		res.Declaration = d
	}
	return finish(), nil
}

// sortFindings orders findings by line; those without a line (about the file or the declaration)
// first, each group in the order found.
func sortFindings(fs []errcode.Finding) {
	lineOf := func(f errcode.Finding) int {
		var n int
		if _, err := fmt.Sscanf(f.Location, "sor %d /", &n); err != nil {
			return 0
		}
		return n
	}
	sort.SliceStable(fs, func(i, j int) bool { return lineOf(fs[i]) < lineOf(fs[j]) })
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func lineOfErr(err error, fallback int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) && pe.StartLine > 0 {
		return pe.StartLine
	}
	return fallback
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// decode returns the file as UTF-8 text, without a byte-order mark.
func decode(data []byte, enc Encoding) (string, Encoding, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if enc == Auto {
		switch {
		case utf8.Valid(data):
			enc = UTF8
		case hasC1(data):
			enc = Windows1250
		default:
			enc = ISO88592
		}
	}
	var text string
	switch enc {
	case UTF8:
		if !utf8.Valid(data) {
			i := firstInvalidUTF8(data)
			return "", enc, fmt.Errorf("a fájl nem érvényes UTF-8 (a %d. sorban); adja meg a kódolását: --encoding windows-1250 vagy iso-8859-2 / "+
				"the file is not valid UTF-8 (on line %d); give its encoding: --encoding windows-1250 or iso-8859-2",
				lineAt(data, i), lineAt(data, i))
		}
		text = string(data)
	case Windows1250:
		b, err := charmap.Windows1250.NewDecoder().Bytes(data)
		if err != nil {
			return "", enc, fmt.Errorf("a fájl nem Windows-1250 kódolású / the file is not Windows-1250: %v", err)
		}
		text = string(b)
	case ISO88592:
		b, err := charmap.ISO8859_2.NewDecoder().Bytes(data)
		if err != nil {
			return "", enc, fmt.Errorf("a fájl nem ISO-8859-2 kódolású / the file is not ISO-8859-2: %v", err)
		}
		text = string(b)
	}
	if i := strings.IndexByte(text, 0); i >= 0 {
		return "", enc, fmt.Errorf("a fájlban NUL bájt van (a %d. sorban): nem szöveges CSV / the file has a NUL byte (on line %d): not a text CSV",
			lineAt([]byte(text), i), lineAt([]byte(text), i))
	}
	return text, enc, nil
}

// hasC1 reports whether data has a byte in 0x80–0x9F.
func hasC1(data []byte) bool {
	for _, c := range data {
		if c >= 0x80 && c <= 0x9f {
			return true
		}
	}
	return false
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

func lineAt(data []byte, i int) int { return bytes.Count(data[:min(i, len(data))], []byte("\n")) + 1 }

// detectSeparator picks ';' or ',' by the header line: the one it has more of (';' on a tie, as
// Hungarian spreadsheet programs write it); 0 when it has neither.
func detectSeparator(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	semi, comma := strings.Count(line, ";"), strings.Count(line, ",")
	switch {
	case semi == 0 && comma == 0:
		return 0
	case comma > semi:
		return ','
	}
	return ';'
}

// header maps the columns; it reports every problem with the header line.
func (im *importer) header(names []string) ([]int, bool) {
	cols := make([]int, numColumns)
	for i := range cols {
		cols[i] = -1
	}
	ok := true
	for i, name := range names {
		c, known := columnNames[normalizeName(name)]
		switch {
		case !known && strings.TrimSpace(name) == "":
			im.add(errcode.D003, errcode.Warning, 1, fmt.Sprintf("a(z) %d. oszlopnak nincs neve, kimarad / column %d has no name and is ignored", i+1, i+1))
		case !known:
			im.add(errcode.D003, errcode.Warning, 1, fmt.Sprintf("ismeretlen oszlop, kimarad: %.60q / unknown column, ignored: %.60q", name, name))
		case cols[c] >= 0:
			im.fail(errcode.D003, 1, "a(z) %s oszlop kétszer szerepel (%d. és %d.) / column %s appears twice (%d and %d)", columnLabel[c], cols[c]+1, i+1,
				columnLabel[c], cols[c]+1, i+1)
			ok = false
		default:
			cols[c] = i
		}
	}
	for _, c := range required {
		if cols[c] < 0 {
			im.fail(errcode.D003, 1, "hiányzó oszlop: %s / missing column: %s", columnLabel[c], columnLabel[c])
			ok = false
		}
	}
	return cols, ok
}

// item reads one line; it reports every problem of the line.
func (im *importer) item(rec []string, cols []int, line, position int) (declaration.Item, bool) {
	ok := true
	field := func(c column) string {
		i := cols[c]
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	bad := func(code errcode.Code, c column, format string, args ...any) {
		im.fail(code, line, "%s: %s", columnLabel[c], fmt.Sprintf(format, args...))
		ok = false
	}
	for i, f := range rec {
		if len(f) > MaxFieldBytes {
			im.fail(errcode.D003, line, "a(z) %d. mező hosszabb, mint %d bájt / field %d is longer than %d bytes", i+1, MaxFieldBytes, i+1, MaxFieldBytes)
			return declaration.Item{}, false
		}
	}
	need := 0
	for _, c := range required {
		need = max(need, cols[c]+1)
	}
	if len(rec) < need {
		im.fail(errcode.D003, line, "%d mező, legalább %d kell / %d fields, at least %d needed", len(rec), need, len(rec), need)
		return declaration.Item{}, false
	}
	var it declaration.Item
	it.Row = position
	if cols[colRow] >= 0 {
		s := field(colRow)
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > declaration.MaxItems {
			bad(errcode.D003, colRow, "%.30q nem sorszám (1–%d) / %.30q is not a row number (1–%d)", s, declaration.MaxItems, s, declaration.MaxItems)
		}
		it.Row = n
	}
	it.Name = collapse(field(colName))
	switch n := utf8.RuneCountInString(it.Name); {
	case n == 0:
		bad(errcode.D003, colName, "üres / empty")
	case n > 120:
		bad(errcode.D003, colName, "%d karakter, legfeljebb 120 / %d characters, at most 120", n, n)
	case !xmlText(it.Name):
		bad(errcode.D003, colName, "vezérlőkaraktert tartalmaz / contains a control character")
	}
	date := func(c column, optional bool) (declaration.Date, bool) {
		s := field(c)
		if s == "" {
			if !optional {
				bad(errcode.D003, c, "üres / empty")
			}
			return declaration.Date{}, false
		}
		d, err := parseDate(s)
		if err != nil {
			bad(errcode.D003, c, "%.30q: %v", s, err)
			return declaration.Date{}, false
		}
		return d, true
	}
	it.BirthDate, _ = date(colBirth, false)
	it.EmploymentFrom, _ = date(colFrom, false)
	if to, has := date(colTo, true); has {
		it.EmploymentTo = &to
	}
	if s := digitsOnly(field(colTAJ)); len(s) != 9 || !allDigits(s) {
		bad(errcode.D005, colTAJ, "%.30q: 9 számjegy kell / 9 digits needed", field(colTAJ))
	} else {
		it.TAJ = s
	}
	if s := digitsOnly(field(colTaxID)); len(s) != 10 || !allDigits(s) {
		bad(errcode.D006, colTaxID, "%.30q: 10 számjegy kell / 10 digits needed", field(colTaxID))
	} else {
		it.TaxID = s
	}
	amount := func(c column, optional bool) int64 {
		s := field(c)
		if s == "" {
			if !optional {
				bad(errcode.D004, c, "üres / empty")
			}
			return 0
		}
		v, err := ParseForint(s)
		if err != nil {
			bad(errcode.D004, c, "%.30q: %v", s, err)
		}
		return v
	}
	it.Base = amount(colBase, false)
	it.MemberContribution = amount(colMember, false)
	it.Supplement = amount(colSupplement, true)
	return it, ok
}

// collapse applies XSD white-space collapse (the schema's names) after turning no-break spaces into
// spaces, which payroll exports use between names.
func collapse(s string) string {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }), " ")
}

// xmlText reports whether s has only characters XML 1.0 allows.
func xmlText(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xfffe || r == 0xffff || r >= 0xd800 && r < 0xe000 {
			return false
		}
	}
	return true
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' || r == '\u202f' {
			return -1
		}
		return r
	}, s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseDate reads the date forms of Hungarian exports: 2026-10-15, 2026.10.15, 2026.10.15., 2026. 10. 15.
// and 2026/10/15, with one- or two-digit month and day; the date must exist and not be before
// 1867-01-01 (the schema's lower bound).
func parseDate(s string) (declaration.Date, error) {
	t := strings.TrimSuffix(strings.ReplaceAll(s, " ", ""), ".")
	parts := strings.FieldsFunc(t, func(r rune) bool { return r == '-' || r == '.' || r == '/' })
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) > 2 || len(parts[2]) > 2 || !allDigits(parts[0]) || !allDigits(parts[1]) || !allDigits(parts[2]) ||
		strings.Count(t, "-")+strings.Count(t, ".")+strings.Count(t, "/") != 2 {
		return declaration.Date{}, errors.New("nem dátum (ÉÉÉÉ-HH-NN vagy ÉÉÉÉ.HH.NN.) / not a date (YYYY-MM-DD or YYYY.MM.DD.)")
	}
	y, _ := strconv.Atoi(parts[0])
	m, _ := strconv.Atoi(parts[1])
	dd, _ := strconv.Atoi(parts[2])
	d := declaration.Date{Year: y, Month: time.Month(m), Day: dd}
	if !d.Valid() {
		return declaration.Date{}, errors.New("nincs ilyen nap / no such day")
	}
	if d.Before(declaration.Date{Year: 1867, Month: time.January, Day: 1}) {
		return declaration.Date{}, errors.New("1867 előtti / before 1867")
	}
	return d, nil
}

// ParseForint reads a whole-forint amount as Hungarian payroll exports write it: 1234567,
// 1 234 567 (space, no-break space or narrow no-break space), 1.234.567, optionally followed by "Ft"
// or "HUF", with a decimal comma only for a zero fraction (1 234,00). It refuses a fraction of a
// forint, a negative amount, a thousands separator not followed by groups of three digits, mixed
// separators, and more than 99 999 999 999 (the schema's bound on an item).
func ParseForint(s string) (int64, error) {
	t := strings.TrimSpace(s)
	low := strings.ToLower(t)
	for _, unit := range []string{"huf", "ft.", "ft"} {
		if strings.HasSuffix(low, unit) {
			t = strings.TrimSpace(t[:len(t)-len(unit)])
			break
		}
	}
	t = strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(t)
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "−") {
		return 0, errors.New("negatív összeg / a negative amount")
	}
	t = strings.TrimPrefix(t, "+")
	if intPart, frac, ok := strings.Cut(t, ","); ok {
		if frac == "" || !allDigits(frac) || strings.Contains(frac, ",") {
			return 0, errors.New("nem összeg / not an amount")
		}
		if strings.Trim(frac, "0") != "" {
			return 0, errors.New("tört forint: csak egész forint adható meg / a fraction of a forint: whole forints only")
		}
		t = intPart
	}
	var groups []string
	switch {
	case strings.Contains(t, " ") && strings.Contains(t, "."):
		return 0, errors.New("vegyes ezres tagolás / mixed thousands separators")
	case strings.Contains(t, " "):
		groups = strings.Split(t, " ")
	case strings.Contains(t, "."):
		groups = strings.Split(t, ".")
	default:
		groups = []string{t}
	}
	for i, g := range groups {
		if !allDigits(g) || (len(groups) > 1 && (i == 0 && len(g) > 3 || i > 0 && len(g) != 3)) {
			if len(groups) > 1 {
				return 0, errors.New("hibás ezres tagolás (hármas csoportok kellenek) / bad thousands grouping (groups of three digits)")
			}
			return 0, errors.New("nem egész forint / not a whole-forint amount")
		}
	}
	digits := strings.Join(groups, "")
	if len(strings.TrimLeft(digits, "0")) > 11 {
		return 0, fmt.Errorf("több mint %d Ft / more than %d forints", declaration.MaxItemAmount, declaration.MaxItemAmount)
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v > declaration.MaxItemAmount {
		return 0, fmt.Errorf("több mint %d Ft / more than %d forints", declaration.MaxItemAmount, declaration.MaxItemAmount)
	}
	return v, nil
}
