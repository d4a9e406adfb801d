package sheet

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tagdij/tagdij/internal/declaration"
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

func writeRow(w *bufio.Writer, cells []string) {
	for i, c := range columns {
		if i > 0 {
			w.WriteString("  ")
		}
		cell := Fit(cells[i], c.width)
		if i == len(columns)-1 {
			w.WriteString(strings.TrimRight(pad(cell, c.width, c.right), " "))
		} else {
			w.WriteString(pad(cell, c.width, c.right))
		}
	}
	w.WriteByte('\n')
}

func rule(w *bufio.Writer) {
	n := 0
	for _, c := range columns {
		n += c.width + 2
	}
	w.WriteString(strings.Repeat("─", n-2))
	w.WriteByte('\n')
}

// Text writes the summary sheet and the itemised list as an aligned table for a terminal. Text from the
// document is normalized to NFC and stripped of control characters, so it cannot disturb the terminal.
func Text(w io.Writer, d *declaration.Declaration, o Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("ÖSSZESÍTŐ ADATLAP / SUMMARY SHEET\n\n")
	hf := headerFields(d, o)
	lw := 0
	for _, f := range hf {
		lw = max(lw, Width(f.label))
	}
	for _, f := range hf {
		fmt.Fprintf(bw, "  %s  %s\n", pad(f.label, lw, false), clean(f.value))
	}
	bw.WriteByte('\n')
	sl := summaryLines(d.Summary)
	lw, vw := 0, 0
	for _, s := range sl {
		lw = max(lw, Width(s.label))
		vw = max(vw, Width(Forint(s.value, " ")))
	}
	for _, s := range sl {
		fmt.Fprintf(bw, "  %s  %s %s\n", pad(s.label, lw, false), pad(Forint(s.value, " "), vw, true), s.unit)
	}

	fmt.Fprintf(bw, "\nTÉTELES LISTA / ITEMISED LIST (%s tétel / items)\n\n", Forint(int64(len(d.Items)), " "))
	hu := make([]string, len(columns))
	en := make([]string, len(columns))
	for i, c := range columns {
		hu[i], en[i] = c.hu, c.en
	}
	writeRow(bw, hu)
	writeRow(bw, en)
	rule(bw)
	shown := len(d.Items)
	if o.Limit > 0 && o.Limit < shown {
		shown = o.Limit
	}
	for i := 0; i < shown; i++ {
		writeRow(bw, itemCells(&d.Items[i]))
	}
	if rest := len(d.Items) - shown; rest > 0 {
		fmt.Fprintf(bw, "  … és további %s sor / … and %s more rows (--limit 0: mind / all)\n",
			Forint(int64(rest), " "), Forint(int64(rest), ","))
	}
	rule(bw)
	sum := d.ComputeSummary()
	writeRow(bw, []string{"", fmt.Sprintf("Összesen / Total (%s)", Forint(sum.HeadCount, " ")), "", "", "", "",
		Forint(sum.BaseTotal, " "), Forint(sum.MemberTotal, " "), Forint(sum.SupplementTotal, " ")})
	if sum != d.Summary {
		bw.WriteString("\n  ! A tételek összege eltér az összesítő adatlaptól. / The items do not add up to the summary sheet.\n")
	}
	fmt.Fprintf(bw, "\n%s\n%s\n", wrap(wysiwysHU, 100), wrap(wysiwysEN, 100))
	return bw.Flush()
}

// wrap breaks s into lines of at most n columns at spaces.
func wrap(s string, n int) string {
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(s) {
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
