package sheet

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/synth"
)

func gen(n int) *declaration.Declaration {
	return synth.Generate(synth.Options{Members: n, Seed: 5, Period: declaration.Period{Year: 2026, Month: time.October}})
}

func TestForint(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1 000"}, {1234567, "1 234 567"}, {-1234, "-1 234"}, {100000, "100 000"}} {
		if got := Forint(tc.n, " "); got != tc.want {
			t.Errorf("Forint(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := Forint(1234, "\u00a0"); got != "1\u00a0234" {
		t.Errorf("Forint with NBSP = %q", got)
	}
}

func TestWidth(t *testing.T) {
	for _, tc := range []struct {
		s string
		w int
	}{
		{"Kovács", 6},
		{"Őri Ünige", 9},
		{"Szu\u0308cs", 5}, // ü as u + combining diaeresis
		{"日本", 4},          // wide
		{"a\u200db", 2},    // zero-width joiner
		{"", 0},
	} {
		if got := Width(tc.s); got != tc.w {
			t.Errorf("Width(%q) = %d, want %d", tc.s, got, tc.w)
		}
	}
}

func TestFit(t *testing.T) {
	if got := Fit("Hegedűs Boglárka Enikő", 10); got != "Hegedűs B…" || Width(got) != 10 {
		t.Errorf("Fit = %q", got)
	}
	if got := Fit("Kiss Éva", 10); got != "Kiss Éva" {
		t.Errorf("Fit short = %q", got)
	}
	if got := Fit("\x1b[2JTörök\x07", 20); got != "[2JTörök" {
		t.Errorf("Fit did not strip controls: %q", got)
	}
}

// Every line of the wide table (both header lines, the items and the total row) must have the same
// display width although accented names have more bytes than columns.
func TestTextAlignment(t *testing.T) {
	d := gen(40)
	d.Items[3].Name = "Őri Ünige Emőke"
	var b bytes.Buffer
	if err := Text(&b, d, Options{Width: WideWidth}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "Ssz.") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("no table header in\n%s", b.String())
	}
	want := Width(lines[start])
	rows := 0
	for _, l := range lines[start:] {
		if l == "" {
			break
		}
		if strings.HasPrefix(l, "─") {
			continue
		}
		if Width(l) != want {
			t.Errorf("line width %d ≠ %d: %q", Width(l), want, l)
		}
		rows++
	}
	if rows != 2+40+1 {
		t.Errorf("%d table lines, want %d", rows, 43)
	}
	out := b.String()
	for _, s := range []string{"ÖSSZESÍTŐ ADATLAP / SUMMARY SHEET", "Őri Ünige Emőke", "Fizetendő összesen / Payable total",
		Forint(d.Summary.PayableTotal, " ") + " Ft", "Összesen / Total (40)", d.Header.ID, "bevallas.xml"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// TestTextNarrow: below WideWidth columns every line fits the width, each item takes two lines, and
// the lines of each kind align (identity lines end with the 10-digit tax id, amount lines with the
// right-aligned supplement).
func TestTextNarrow(t *testing.T) {
	d := gen(30)
	d.Items[2].Name = "Őri Ünige Emőke Hajnalka Boglárka"
	d.Declarant.Address.Street = strings.Repeat("Hosszú utca ", 8) + "1."
	for _, width := range []int{0, 80, 64, WideWidth - 1} {
		var b bytes.Buffer
		if err := Text(&b, d, Options{Width: width, Source: "/a/very/long/path/to/the/file/bevallas.xml", SHA256: strings.Repeat("ab", 32)}); err != nil {
			t.Fatal(err)
		}
		max := width
		if max == 0 {
			max = 80
		}
		lines := strings.Split(b.String(), "\n")
		for _, l := range lines {
			if Width(l) > max {
				t.Errorf("width %d: line of %d columns: %q", width, Width(l), l)
			}
		}
		var first, second []int
		for i, l := range lines {
			if m := strings.Fields(l); len(m) > 1 && len(m[0]) <= 3 && m[0][0] >= '1' && m[0][0] <= '9' && strings.HasPrefix(l, "     ") &&
				unicode.IsLetter([]rune(m[1])[0]) {
				first = append(first, Width(l))
				second = append(second, Width(lines[i+1]))
			}
		}
		if len(first) != 30 {
			t.Fatalf("width %d: %d item rows, want 30\n%s", width, len(first), b.String())
		}
		for i := range first {
			if first[i] != first[0] || second[i] != second[0] {
				t.Errorf("width %d: row %d lines %d/%d columns, row 1 %d/%d", width, i+1, first[i], second[i], first[0], second[0])
			}
		}
		if !strings.Contains(b.String(), "Őri Ünige") {
			t.Errorf("width %d: the long name is not shown at all", width)
		}
	}
}

func TestTextLimit(t *testing.T) {
	d := gen(1234)
	var b bytes.Buffer
	if err := Text(&b, d, Options{Limit: 10, Width: WideWidth}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "… és további 1 224 sor / … and 1,224 more rows") {
		t.Errorf("no 'more rows' line:\n%s", out)
	}
	if strings.Contains(out, "\n     11  ") || !strings.Contains(out, "\n     10  ") {
		t.Error("wrong number of rows shown")
	}
	// The total covers all items, not only those shown.
	if !strings.Contains(out, Forint(d.Summary.BaseTotal, " ")) {
		t.Error("total row does not cover every item")
	}
}

func TestTextSanitizesNames(t *testing.T) {
	d := gen(2)
	d.Items[0].Name = "\x1b]0;pwned\x07Kiss Éva"
	d.Declarant.Name = "Evil\x1b[2J Kft."
	var b bytes.Buffer
	if err := Text(&b, d, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Error("control characters reached the terminal")
	}
}

func TestTextMismatchNotice(t *testing.T) {
	d := gen(3)
	d.Summary.BaseTotal++
	var b bytes.Buffer
	Text(&b, d, Options{})
	if !strings.Contains(b.String(), "The items do not add up") {
		t.Error("no mismatch notice")
	}
}

func TestHTML(t *testing.T) {
	d := gen(25)
	d.Items[0].Name = `<script>alert("x")</script>`
	d.Declarant.Name = `Kft. "<img src=x onerror=alert(1)>"`
	var b bytes.Buffer
	if err := HTML(&b, d, Options{Source: "bevallas.xml", SHA256: "ab12"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") || strings.Contains(out, "<img") {
		t.Fatal("document text was not escaped")
	}
	if !strings.Contains(out, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("escaped name missing")
	}
	iSummary := strings.Index(out, "Összesítő adatlap")
	iItems := strings.Index(out, "Tételes lista")
	if iSummary < 0 || iItems < 0 || iSummary > iItems {
		t.Error("summary must come before the items")
	}
	for _, s := range []string{d.Header.ID, d.Header.Period.String(), d.Fund.Code, "ab12", "What will you sign?",
		"Összesen / Total (25)", Forint(d.Summary.BaseTotal, "\u00a0"), "@page", "page-break-before"} {
		if !strings.Contains(out, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	if got := strings.Count(out, "<tr><td class=\"num\">"); got != 25 {
		t.Errorf("%d item rows, want 25", got)
	}
	if strings.Contains(out, "http://") || strings.Contains(out, "https://") {
		t.Error("the page must not load anything from outside")
	}
}

// TestHTMLFindings: with findings the page gives the verdict, lists the findings that are not about
// one item, and shows each item's own codes and texts on its row (and only there).
func TestHTMLFindings(t *testing.T) {
	d := gen(6)
	bad := declaration.LocItem(d.Items[2].Row)
	findings := []errcode.Finding{
		errcode.New(errcode.D004, declaration.LocSummary, "TagdijOsszesen: 1 ≠ Σ 5"),
		errcode.New(errcode.D005, bad, "TAJ 123456789"),
		errcode.New(errcode.D006, bad, "Adoazonosito 1"),
	}
	var b bytes.Buffer
	if err := HTML(&b, d, Options{Findings: findings}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"ÉRVÉNYTELEN: 3 hiba", "INVALID: 3 errors", "D004", declaration.LocSummary, "Hibák<br>"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	rows := regexp.MustCompile(`(?s)<tr( class="bad")?><td class="num">(\d+)</td>.*?</tr>`).FindAllStringSubmatch(out, -1)
	if len(rows) != 6 {
		t.Fatalf("%d item rows", len(rows))
	}
	for _, r := range rows {
		mine := r[2] == fmt.Sprint(d.Items[2].Row)
		if mine != (r[1] != "") || mine != strings.Contains(r[0], "E0 D005") || mine != strings.Contains(r[0], "E0 D006") {
			t.Errorf("row %s: marked %q, codes D005 %v D006 %v", r[2], r[1], strings.Contains(r[0], "D005"), strings.Contains(r[0], "D006"))
		}
	}
	// Without findings (nil) the page has no check section; with none found, it says valid.
	b.Reset()
	HTML(&b, d, Options{})
	if strings.Contains(b.String(), "Ellenőrzés") {
		t.Error("a check section without findings")
	}
	b.Reset()
	HTML(&b, d, Options{Findings: []errcode.Finding{}})
	if !strings.Contains(b.String(), "Érvényes.") {
		t.Error("no verdict for a valid declaration")
	}
}
