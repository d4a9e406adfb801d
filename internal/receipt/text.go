package receipt

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tagdij/tagdij/internal/sheet"
)

// Text writes r for a terminal (SND-28): the result first and prominent, then the receipt id, fund,
// declarant, arrival time in UTC and in Hungarian local time, the earliest final-check time, the
// received package's identity (file name, size, SHA-256, submission id, period, type), the pre-check
// state and policy, a table of the signatures and a table of the findings with their codes. lang is
// "hu", "en", or "" for both languages (Hungarian first). Text from the receipt is normalized to NFC
// and stripped of control and bidirectional formatting characters, so it cannot disturb the terminal.
// Text renders any receipt, also one that fails Check, so that a broken receipt can still be shown.
func Text(w io.Writer, r *Receipt, lang string) error {
	if lang != "" && lang != "hu" && lang != "en" {
		return fmt.Errorf("receipt: language %q: want \"hu\", \"en\" or \"\" for both", lang)
	}
	if r == nil {
		return fmt.Errorf("receipt: Text of a nil receipt")
	}
	loc, err := localZone()
	return writeText(w, newView(r, loc, err), lang)
}

func writeText(w io.Writer, v view, lang string) error {
	bw := bufio.NewWriter(w)
	title := bi{"NYUGTA", "RECEIPT"}.in(lang)
	fmt.Fprintf(bw, "%s\n%s\n\n", title, strings.Repeat("=", sheet.Width(title)))

	banner := "*** " + strings.ToUpper(bi{"Eredmény", "Result"}.in(lang)) + ": " + v.Result.in(lang) + " ***"
	line := strings.Repeat("*", sheet.Width(banner))
	fmt.Fprintf(bw, "%s\n%s\n%s\n\n", line, banner, line)

	if v.ZoneNote.HU != "" {
		fmt.Fprintf(bw, "! %s\n\n", v.ZoneNote.in(lang))
	}
	writeFacts(bw, v.Facts, lang, "")

	heading(bw, bi{"Beérkezett csomag", "Received package"}, lang, -1)
	writeFacts(bw, v.Package, lang, "  ")

	heading(bw, bi{"Előzetes ellenőrzés", "Pre-check"}, lang, -1)
	writeFacts(bw, append([]fact{{Label: bi{"Állapot", "State"}, Value: v.State.in(lang)}}, v.Policy...), lang, "  ")

	heading(bw, bi{"Aláírások", "Signatures"}, lang, len(v.Signatures))
	if len(v.Signatures) == 0 {
		fmt.Fprintf(bw, "  %s\n", bi{"Nincs aláírás-eredmény.", "No signature results."}.in(lang))
	} else {
		cols := []tcol{
			{bi{"#", "#"}, 3, true},
			{bi{"Azonosító", "Id"}, 16, false},
			{bi{"Aláíró", "Signer"}, 28, false},
			{bi{"Szerep", "Role"}, 30, false},
			{bi{"Aláírás (UTC)", "Signed (UTC)"}, 30, false},
			{bi{"Időbélyeg (UTC)", "Timestamp (UTC)"}, 30, false},
			{bi{"Állapot", "State"}, 12, false},
			{bi{"Jelzés", "Indication"}, 60, false},
		}
		var rows, extra [][]string
		for _, s := range v.Signatures {
			rows = append(rows, []string{fmt.Sprint(s.N), s.ID, s.Signer, s.Role.in(lang), s.Signed, s.Stamped, s.StateCode, s.Indication})
			var x []string
			if s.Subject != "" {
				x = append(x,
					"     "+bi{"Alany", "Subject"}.in(lang)+": "+s.Subject,
					"     "+bi{"Kiadó", "Issuer"}.in(lang)+": "+s.Issuer,
					"     "+bi{"Sorozatszám", "Serial"}.in(lang)+": "+s.Serial)
			}
			extra = append(extra, x)
		}
		writeTable(bw, cols, lang, rows, extra)
	}

	heading(bw, bi{"Hibák és figyelmeztetések", "Errors and warnings"}, lang, len(v.Errors))
	if len(v.Errors) == 0 {
		fmt.Fprintf(bw, "  %s\n", bi{"Nincs.", "None."}.in(lang))
	} else {
		cols := []tcol{
			{bi{"Súly.", "Sev."}, 5, false},
			{bi{"Kód", "Code"}, 5, false},
			{bi{"Hely", "Location"}, 60, false},
		}
		var rows, extra [][]string
		for _, e := range v.Errors {
			loc := e.Location
			if loc == "" {
				loc = "–"
			}
			rows = append(rows, []string{e.Severity, e.Code, loc})
			var x []string
			if lang != "en" {
				x = append(x, "    "+e.HU)
			}
			if lang != "hu" {
				x = append(x, "    "+e.EN)
			}
			extra = append(extra, x)
		}
		writeTable(bw, cols, lang, rows, extra)
		fmt.Fprintf(bw, "\n  %s\n", bi{"E0: elutasító hiba, W0: figyelmeztetés.", "E0: rejecting error, W0: warning."}.in(lang))
	}
	return bw.Flush()
}

func heading(w *bufio.Writer, h bi, lang string, n int) {
	s := strings.ToUpper(h.in(lang))
	if n >= 0 {
		s += fmt.Sprintf(" (%d)", n)
	}
	fmt.Fprintf(w, "\n%s\n", s)
}

func writeFacts(w *bufio.Writer, facts []fact, lang, indent string) {
	lw := 0
	for _, f := range facts {
		lw = max(lw, sheet.Width(f.Label.in(lang)))
	}
	for _, f := range facts {
		l := f.Label.in(lang)
		fmt.Fprintf(w, "%s%s%s  %s\n", indent, l, strings.Repeat(" ", lw-sheet.Width(l)), f.text(lang))
		for _, x := range f.Extra {
			fmt.Fprintf(w, "%s%s  %s\n", indent, strings.Repeat(" ", lw), x)
		}
	}
}

// tcol is a column of a terminal table: its heading and its widest allowed width; the table shrinks a
// column to its widest cell.
type tcol struct {
	head  bi
	max   int
	right bool
}

// writeTable writes a table: the heading (two lines, Hungarian and English, when both languages are
// shown), a rule, then each row followed by its extra lines. Cells wider than their column are cut
// with "…".
func writeTable(w *bufio.Writer, cols []tcol, lang string, rows [][]string, extra [][]string) {
	var heads [][]string
	switch lang {
	case "hu", "en":
		heads = [][]string{make([]string, len(cols))}
		for i, c := range cols {
			heads[0][i] = c.head.in(lang)
		}
	default:
		heads = [][]string{make([]string, len(cols)), make([]string, len(cols))}
		for i, c := range cols {
			heads[0][i], heads[1][i] = c.head.HU, c.head.EN
		}
	}
	widths := make([]int, len(cols))
	for _, row := range append(append([][]string{}, heads...), rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], min(cols[i].max, sheet.Width(cell)))
		}
	}
	for _, h := range heads {
		tableRow(w, cols, widths, h)
	}
	n := 0
	for _, wd := range widths {
		n += wd + 2
	}
	fmt.Fprintf(w, "  %s\n", strings.Repeat("─", n-2))
	for i, row := range rows {
		tableRow(w, cols, widths, row)
		for _, x := range extra[i] {
			fmt.Fprintf(w, "  %s\n", x)
		}
	}
}

func tableRow(w *bufio.Writer, cols []tcol, widths []int, cells []string) {
	var b strings.Builder
	b.WriteString("  ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString("  ")
		}
		cell := sheet.Fit(cells[i], widths[i])
		gap := strings.Repeat(" ", max(0, widths[i]-sheet.Width(cell)))
		if c.right {
			b.WriteString(gap + cell)
		} else {
			b.WriteString(cell + gap)
		}
	}
	w.WriteString(strings.TrimRight(b.String(), " "))
	w.WriteByte('\n')
}
