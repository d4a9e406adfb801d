package sheet

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/hunid"
)

// Options control both views.
type Options struct {
	// Limit is the number of item rows the terminal table shows; ≤ 0 shows all. A line then says how many
	// rows were left out; the total row always covers every item. The HTML page always lists every item,
	// because it is the document the signer approves.
	Limit int
	// Source names the file shown, and SHA256 is the hex SHA-256 of its bytes; both are optional and, when
	// set, are printed so the signer can tie the view to the file that will be signed.
	Source string
	SHA256 string
	// Width is the terminal's width in columns (≤ 0: 80). The item table takes one line per item when
	// that fits (WideWidth columns), two lines per item otherwise; labelled values that do not fit
	// beside their label go on the next line.
	Width int
	// Findings are the declaration's findings (declaration.Check or Validate). The HTML page says
	// whether the declaration is valid, shows every finding and marks each item row with the codes
	// located on it; the terminal view leaves them to the caller.
	Findings []errcode.Finding
}

// WideWidth is the width of the one-line item table.
const WideWidth = 145

func (o Options) width() int {
	if o.Width <= 0 {
		return 80
	}
	return o.Width
}

// WYSIWYS is the SIG-20 notice both views carry.
const (
	wysiwysHU = "Az aláírás a bevallás tömörített és titkosított formájára vonatkozik, amely közvetlenül nem jeleníthető meg. " +
		"Ez a kimutatás annak a bevallás-fájlnak (bevallas.xml) a tartalmát mutatja, amelyből a tömörítés és titkosítás után az aláírt dokumentum készül."
	wysiwysEN = "The signature covers the compressed and encrypted form of the declaration, which cannot be displayed as such. " +
		"This view shows the content of the declaration file (bevallas.xml) from which, after compression and encryption, the signed document is made."
)

// field is one labelled line of the header block.
type field struct{ label, value string }

func headerFields(d *declaration.Declaration, o Options) []field {
	h := d.Header
	f := []field{
		{"Beküldési azonosító / Submission id", h.ID},
		{"Típus / Type", h.Type.Label()},
	}
	if h.PredecessorID != "" {
		f = append(f, field{"Előzmény / Predecessor", h.PredecessorID})
	}
	f = append(f,
		field{"Időszak / Period", h.Period.String()},
		field{"Bevalló / Declarant", d.Declarant.Name},
		field{d.Declarant.ID.Type.Label(), declarantID(d.Declarant.ID)},
		field{"Cím / Address", d.Declarant.Address.String()},
		field{"Pénztár / Fund", d.Fund.Code + " " + d.Fund.Name},
		field{"Létrehozva / Created", h.Created.UTC().Format("2006-01-02 15:04:05") + " UTC"},
		field{"Program", h.Program.Name + " " + h.Program.Version},
	)
	if o.Source != "" {
		f = append(f, field{"Fájl / File", o.Source})
	}
	if o.SHA256 != "" {
		f = append(f, field{"SHA-256", o.SHA256})
	}
	return f
}

func declarantID(id declaration.DeclarantID) string {
	switch id.Type {
	case declaration.IDAdoszam:
		return hunid.FormatAdoszam(id.Value)
	case declaration.IDTAJ:
		return hunid.FormatTAJ(id.Value)
	}
	return id.Value
}

type total struct {
	label string
	value int64
	unit  string
}

func summaryLines(s declaration.Summary) []total {
	return []total{
		{"Létszám / Head count", s.HeadCount, "fő"},
		{"Járulékalap összesen / Contribution base total", s.BaseTotal, "Ft"},
		{"Tagdíj összesen / Member contribution total", s.MemberTotal, "Ft"},
		{"Munkáltatói kiegészítés összesen / Employer supplement total", s.SupplementTotal, "Ft"},
		{"Fizetendő összesen / Payable total", s.PayableTotal, "Ft"},
	}
}

// column of the itemised list.
type column struct {
	hu, en string
	width  int
	right  bool
}

var columns = []column{
	{"Ssz.", "Row", 7, true},
	{"Név", "Name", 30, false},
	{"Szül. dátum", "Birth date", 11, false},
	{"TAJ", "TAJ no.", 11, false},
	{"Adóazonosító", "Tax id", 12, false},
	{"Jogviszony", "Employment", 23, false},
	{"Járulékalap", "Base", 13, true},
	{"Tagdíj", "Member", 11, true},
	{"Kiegészítés", "Supplement", 11, true},
}

func itemCells(it *declaration.Item) []string {
	to := ""
	if it.EmploymentTo != nil {
		to = it.EmploymentTo.String()
	}
	return []string{
		fmt.Sprint(it.Row),
		it.Name,
		it.BirthDate.String(),
		hunid.FormatTAJ(it.TAJ),
		it.TaxID,
		it.EmploymentFrom.String() + " – " + to,
		Forint(it.Base, " "),
		Forint(it.MemberContribution, " "),
		Forint(it.Supplement, " "),
	}
}

// Text writes the summary sheet and the itemised list as an aligned table for a terminal of
// o.Width columns. Text from the document is normalized to NFC and stripped of control characters, so
// it cannot disturb the terminal.
func Text(w io.Writer, d *declaration.Declaration, o Options) error {
	return TextExcerpt(w, d.Excerpt(-1), o)
}

// TextExcerpt is Text for an excerpt: the rows it holds (at most o.Limit of them), a line saying how
// many of the e.Count items are not shown, and the total row from e.Sums.
func TextExcerpt(w io.Writer, e *declaration.Excerpt, o Options) error {
	width := o.width()
	d := &e.Declaration
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("ÖSSZESÍTŐ ADATLAP / SUMMARY SHEET\n\n")
	hf := headerFields(d, o)
	lw := 0
	for _, f := range hf {
		lw = max(lw, Width(f.label))
	}
	for _, f := range hf {
		labelled(bw, pad(f.label, lw, false), clean(f.value), width)
	}
	bw.WriteByte('\n')
	sl := summaryLines(d.Summary)
	lw, vw := 0, 0
	for _, s := range sl {
		lw = max(lw, Width(s.label))
		vw = max(vw, Width(Forint(s.value, " ")))
	}
	for _, s := range sl {
		labelled(bw, pad(s.label, lw, false), pad(Forint(s.value, " "), vw, true)+" "+s.unit, width)
	}

	fmt.Fprintf(bw, "\nTÉTELES LISTA / ITEMISED LIST (%s tétel / items)\n\n", Forint(int64(e.Count), " "))
	t := newTable(width)
	t.header(bw)
	shown := len(d.Items)
	if o.Limit > 0 && o.Limit < shown {
		shown = o.Limit
	}
	for i := 0; i < shown; i++ {
		t.row(bw, itemCells(&d.Items[i]))
	}
	if rest := e.Count - shown; rest > 0 {
		fmt.Fprintf(bw, "  … és további %s sor / … and %s more rows (--limit 0: mind / all)\n",
			Forint(int64(rest), " "), Forint(int64(rest), ","))
	}
	t.rule(bw)
	sum := e.Sums
	t.row(bw, []string{"", fmt.Sprintf("Összesen / Total (%s)", Forint(sum.HeadCount, " ")), "", "", "", "",
		Forint(sum.BaseTotal, " "), Forint(sum.MemberTotal, " "), Forint(sum.SupplementTotal, " ")})
	if sum != d.Summary {
		fmt.Fprintf(bw, "\n%s\n", indent(wrap("! A tételek összege eltér az összesítő adatlaptól. / The items do not add up to the summary sheet.", width-2), "  "))
	}
	n := min(width, 100)
	fmt.Fprintf(bw, "\n%s\n%s\n", wrap(wysiwysHU, n), wrap(wysiwysEN, n))
	return bw.Flush()
}

// labelled writes "  label  value", or, when both do not fit, the value on the next lines, indented
// and wrapped at spaces (a word longer than a line is cut into pieces).
func labelled(w *bufio.Writer, label, value string, width int) {
	if 2+Width(label)+2+Width(value) <= width {
		fmt.Fprintf(w, "  %s  %s\n", label, value)
		return
	}
	fmt.Fprintf(w, "  %s\n%s\n", strings.TrimRight(label, " "), indent(wrap(value, max(width-4, 10)), "    "))
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// table lays out the item columns: one line per item when the terminal is wide enough, else two
// (identity on the first, employment and amounts on the second, indented), with the name column
// narrowed to what is left (at least 10 columns).
type table struct {
	lines [][]int // per line, the indices into columns
	width []int   // per column
	lead  []int   // per line, the indentation
}

// wideLayout and narrowLayout are the column groups of the two layouts.
var (
	wideLayout   = [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8}}
	narrowLayout = [][]int{{0, 1, 2, 3, 4}, {5, 6, 7, 8}}
)

func newTable(width int) *table {
	t := &table{width: make([]int, len(columns))}
	for i, c := range columns {
		t.width[i] = c.width
	}
	if width >= WideWidth {
		t.lines, t.lead = wideLayout, []int{0}
		return t
	}
	// The second line is indented under the name when there is room (64 columns of amounts).
	t.lines, t.lead = narrowLayout, []int{0, max(0, min(columns[0].width+2, width-64))}
	// The name takes what the first line leaves.
	rest := width
	for _, i := range narrowLayout[0] {
		if i != 1 {
			rest -= columns[i].width + 2
		}
	}
	t.width[1] = max(10, min(columns[1].width, rest))
	return t
}

// lineWidth is the width of line l of the table.
func (t *table) lineWidth(l int) int {
	n := t.lead[l] - 2
	for _, i := range t.lines[l] {
		n += t.width[i] + 2
	}
	return n
}

func (t *table) header(w *bufio.Writer) {
	hu := make([]string, len(columns))
	en := make([]string, len(columns))
	for i, c := range columns {
		hu[i], en[i] = c.hu, c.en
	}
	for l := range t.lines {
		t.line(w, l, hu)
		t.line(w, l, en)
	}
	t.rule(w)
}

func (t *table) row(w *bufio.Writer, cells []string) {
	for l := range t.lines {
		t.line(w, l, cells)
	}
}

// line writes line l of a row; every line of the table is padded to the same width as its kind, so
// the columns align whatever the cells hold.
func (t *table) line(w *bufio.Writer, l int, cells []string) {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", t.lead[l]))
	for k, i := range t.lines[l] {
		if k > 0 {
			b.WriteString("  ")
		}
		c := columns[i]
		b.WriteString(pad(Fit(cells[i], t.width[i]), t.width[i], c.right))
	}
	w.WriteString(strings.TrimRight(b.String(), " "))
	w.WriteByte('\n')
}

func (t *table) rule(w *bufio.Writer) {
	n := 0
	for l := range t.lines {
		n = max(n, t.lineWidth(l))
	}
	w.WriteString(strings.Repeat("─", n))
	w.WriteByte('\n')
}

// wrap breaks s into lines of at most n columns at spaces; a word longer than n is cut into pieces.
func wrap(s string, n int) string {
	var b strings.Builder
	col := 0
	var words []string
	for _, word := range strings.Fields(s) {
		for Width(word) > n {
			cut := cutAt(word, n)
			words = append(words, word[:cut])
			word = word[cut:]
		}
		words = append(words, word)
	}
	for i, word := range words {
		ww := Width(word)
		if i > 0 {
			if col+1+ww > n {
				b.WriteByte('\n')
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += ww
	}
	return b.String()
}

// cutAt is the byte index in s after its first n columns (at least one rune).
func cutAt(s string, n int) int {
	w := 0
	for i, r := range s {
		rw := runeWidth(r)
		if w+rw > n && i > 0 {
			return i
		}
		w += rw
	}
	return len(s)
}
