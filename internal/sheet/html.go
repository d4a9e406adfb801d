package sheet

import (
	"bufio"
	"fmt"
	"html/template"
	"io"

	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/hunid"
)

const nbsp = "\u00a0"

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"ft":  func(n int64) string { return Forint(n, nbsp) },
	"taj": hunid.FormatTAJ,
	"to": func(d *declaration.Date) string {
		if d == nil {
			return ""
		}
		return d.String()
	},
}).Parse(`<!DOCTYPE html>
<html lang="hu">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tagdíjbevallás {{.D.Header.Period}} – {{.D.Declarant.Name}}</title>
<style>
  @page { size: A4 landscape; margin: 12mm; }
  body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 10pt; color: #000; margin: 16px; }
  h1, h2 { font-size: 13pt; margin: 0.6em 0 0.3em; }
  .en { color: #555; font-weight: normal; font-size: 88%; }
  table { border-collapse: collapse; }
  th, td { border: 1px solid #888; padding: 2px 5px; vertical-align: top; }
  th { background: #eee; text-align: left; }
  td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
  td.id { white-space: nowrap; font-variant-numeric: tabular-nums; }
  table.meta th { width: 18em; }
  table.items { width: 100%; }
  table.items thead { display: table-header-group; }
  table.items tr { page-break-inside: avoid; break-inside: avoid; }
  tfoot td { font-weight: bold; background: #f4f4f4; }
  .notice { border: 2px solid #b00; padding: 6px 10px; margin: 10px 0; max-width: 60em; }
  .warn { color: #b00; font-weight: bold; }
  tr.bad td { background: #fde8e8; }
  td.codes { font-size: 90%; }
  .ok { color: #060; font-weight: bold; }
  section.items { break-before: page; page-break-before: always; }
  @media print { body { margin: 0; } .notice { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<h1>Tagdíjbevallás <span class="en">Pension contribution declaration</span></h1>
<table class="meta">
{{range .Fields}}<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
<div class="notice">
<p><strong>Mit ír alá?</strong> {{.HU}}</p>
<p lang="en"><strong>What will you sign?</strong> {{.EN}}</p>
</div>
</header>
{{if .Checked}}<section class="check">
<h2>Ellenőrzés <span class="en">Check</span></h2>
{{if .Invalid}}<p class="warn">ÉRVÉNYTELEN: {{.Errors}} hiba, {{.Warnings}} figyelmeztetés; így nem csomagolható. <span lang="en">INVALID: {{.Errors}} errors, {{.Warnings}} warnings; it cannot be packed as it is.</span></p>
{{else if .Warnings}}<p>Érvényes, {{.Warnings}} figyelmeztetéssel. <span class="en">Valid, with {{.Warnings}} warnings.</span></p>
{{else}}<p class="ok">Érvényes. <span class="en">Valid.</span></p>{{end}}
{{if .Other}}<table class="findings">
<thead><tr><th>Súlyosság<br><span class="en">Severity</span></th><th>Kód<br><span class="en">Code</span></th><th>Hely<br><span class="en">Location</span></th><th>Megállapítás<br><span class="en">Finding</span></th></tr></thead>
<tbody>
{{range .Other}}<tr class="bad"><td>{{.Severity}}</td><td>{{.Code}}</td><td>{{.Location}}</td><td>{{.HU}}<br><span class="en" lang="en">{{.EN}}</span></td></tr>
{{end}}</tbody></table>{{end}}
{{if .ItemFindings}}<p>A tételek hibái a tételes listában, a soruk végén. <span class="en">Item findings are in the itemised list, at the end of their rows.</span></p>{{end}}
</section>{{end}}
<section class="summary">
<h2>Összesítő adatlap <span class="en">Summary sheet</span></h2>
<table class="meta">
{{range .Totals}}<tr><th>{{.Label}}</th><td class="num">{{ft .Value}}{{"\u00a0"}}{{.Unit}}</td></tr>
{{end}}</table>
{{if .Mismatch}}<p class="warn">A tételek összege eltér az összesítő adatlaptól. <span lang="en">The items do not add up to the summary sheet.</span></p>{{end}}
</section>
<section class="items">
<h2>Tételes lista <span class="en">Itemised list</span> ({{ft .Computed.HeadCount}} tétel / items)</h2>
<table class="items">
<thead><tr>
<th class="num">Ssz.<br><span class="en">Row</span></th><th>Név<br><span class="en">Name</span></th>
<th>Születési dátum<br><span class="en">Birth date</span></th><th>TAJ<br><span class="en">TAJ no.</span></th>
<th>Adóazonosító jel<br><span class="en">Tax id</span></th><th>Jogviszony kezdete<br><span class="en">Employed from</span></th>
<th>Jogviszony vége<br><span class="en">Employed to</span></th><th class="num">Járulékalap<br><span class="en">Base</span></th>
<th class="num">Tagdíj<br><span class="en">Member contr.</span></th><th class="num">Munkáltatói kiegészítés<br><span class="en">Employer suppl.</span></th>
{{if .ItemFindings}}<th>Hibák<br><span class="en">Findings</span></th>{{end}}
</tr></thead>
<tbody>
{{$codes := .ItemFindings}}{{range .Rows}}{{with .Item}}<tr{{if $.Bad .}} class="bad"{{end}}><td class="num">{{.Row}}</td><td>{{.Name}}</td><td class="id">{{.BirthDate}}</td><td class="id">{{taj .TAJ}}</td><td class="id">{{.TaxID}}</td><td class="id">{{.EmploymentFrom}}</td><td class="id">{{to .EmploymentTo}}</td><td class="num">{{ft .Base}}</td><td class="num">{{ft .MemberContribution}}</td><td class="num">{{ft .Supplement}}</td>{{if $codes}}<td class="codes">{{range $.Of .}}<b>{{.Severity}} {{.Code}}</b> {{.HU}} <span class="en" lang="en">{{.EN}}</span><br>{{end}}</td>{{end}}</tr>
{{end}}{{end}}</tbody>
<tfoot><tr><td></td><td colspan="6">Összesen / Total ({{ft .Computed.HeadCount}})</td><td class="num">{{ft .Computed.BaseTotal}}</td><td class="num">{{ft .Computed.MemberTotal}}</td><td class="num">{{ft .Computed.SupplementTotal}}</td>{{if $codes}}<td></td>{{end}}</tr></tfoot>
</table>
</section>
</body>
</html>
`))

type htmlField struct{ Label, Value string }
type htmlTotal struct {
	Label string
	Value int64
	Unit  string
}

// htmlRow is one item of the page.
type htmlRow struct{ Item *declaration.Item }

// htmlPage is the page's data.
type htmlPage struct {
	D        *declaration.Declaration
	Rows     []htmlRow
	Fields   []htmlField
	Totals   []htmlTotal
	Computed declaration.Summary
	Mismatch bool
	HU, EN   string
	// The check: whether findings were given, the verdict, the findings not about one item, and the
	// item findings by row number.
	Checked          bool
	Invalid          bool
	Errors, Warnings int
	Other            []errcode.Finding
	ItemFindings     map[int][]errcode.Finding
}

// Of returns the findings located on it.
func (p *htmlPage) Of(it *declaration.Item) []errcode.Finding { return p.ItemFindings[it.Row] }

// Bad reports whether it has an error finding.
func (p *htmlPage) Bad(it *declaration.Item) bool {
	for _, f := range p.ItemFindings[it.Row] {
		if f.Severity == errcode.Error {
			return true
		}
	}
	return false
}

// HTML writes a standalone printable page: header (declarant, period, fund, type, submission id), the
// SIG-20 notice, the check (with o.Findings: valid or invalid, the findings that are not about one item),
// the summary sheet, then every item with a total row, each item with the codes and texts of its own
// findings. All document text is escaped by html/template; the page loads nothing from outside.
func HTML(w io.Writer, d *declaration.Declaration, o Options) error {
	var fields []htmlField
	for _, f := range headerFields(d, o) {
		fields = append(fields, htmlField{f.label, clean(f.value)})
	}
	var totals []htmlTotal
	for _, t := range summaryLines(d.Summary) {
		totals = append(totals, htmlTotal{t.label, t.value, t.unit})
	}
	computed := d.ComputeSummary()
	p := &htmlPage{D: d, Fields: fields, Totals: totals, Computed: computed, Mismatch: computed != d.Summary, HU: wysiwysHU, EN: wysiwysEN}
	p.Rows = make([]htmlRow, len(d.Items))
	for i := range d.Items {
		p.Rows[i] = htmlRow{&d.Items[i]}
	}
	if o.Findings != nil {
		p.Checked = true
		p.Invalid = declaration.Rejects(o.Findings)
		p.Errors, p.Warnings = declaration.Count(o.Findings)
		for _, f := range o.Findings {
			if row, ok := declaration.ItemOf(f.Location); ok {
				if p.ItemFindings == nil {
					p.ItemFindings = map[int][]errcode.Finding{}
				}
				p.ItemFindings[row] = append(p.ItemFindings[row], f)
			} else {
				p.Other = append(p.Other, f)
			}
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	err := page.Execute(bw, p)
	if err != nil {
		return fmt.Errorf("sheet: rendering HTML: %w", err)
	}
	return bw.Flush()
}
