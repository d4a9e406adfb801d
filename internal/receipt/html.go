package receipt

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
)

var page = template.Must(template.New("receipt").Parse(`<!DOCTYPE html>
<html lang="hu">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nyugta / Receipt {{.ID}}</title>
<style>
  @page { size: A4 portrait; margin: 14mm; }
  body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 10pt; color: #000; margin: 16px; max-width: 60em; }
  h1, h2 { font-size: 13pt; margin: 0.8em 0 0.3em; }
  .en { color: #555; font-weight: normal; font-size: 88%; }
  .result { font-size: 15pt; font-weight: bold; padding: 8px 12px; margin: 10px 0; border: 3px solid; }
  .result.ok { border-color: #070; color: #070; }
  .result.bad { border-color: #b00; color: #b00; }
  table { border-collapse: collapse; margin-bottom: 0.5em; }
  th, td { border: 1px solid #888; padding: 2px 5px; vertical-align: top; text-align: left; }
  th { background: #eee; }
  table.meta th { width: 16em; }
  .mono { font-family: "DejaVu Sans Mono", Consolas, monospace; word-break: break-all; }
  .small { font-size: 88%; color: #333; }
  .ok { color: #070; } .bad { color: #b00; } .wait { color: #a60; }
  tr.E0 td.sev { color: #b00; font-weight: bold; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .note { border: 2px solid #a60; padding: 4px 8px; }
  @media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>Nyugta <span class="en">Receipt</span></h1>
<p class="result {{.ResultClass}}">{{.Result.HU}}<br><span lang="en">{{.Result.EN}}</span></p>
{{if .ZoneNote.HU}}<p class="note">{{.ZoneNote.HU}}<br><span lang="en">{{.ZoneNote.EN}}</span></p>
{{end}}{{template "facts" .Facts}}
<h2>Beérkezett csomag <span class="en">Received package</span></h2>
{{template "facts" .Package}}
<h2>Előzetes ellenőrzés <span class="en">Pre-check</span></h2>
<table class="meta">
<tr><th>Állapot <span class="en">State</span></th><td class="{{.StateClass}}">{{.State.HU}} <span class="en" lang="en">{{.State.EN}}</span></td></tr>
{{range .Policy}}<tr><th>{{.Label.HU}} <span class="en">{{.Label.EN}}</span></th><td{{if .Mono}} class="mono"{{end}}>{{.Value}}</td></tr>
{{end}}</table>
<h2>Aláírások <span class="en">Signatures</span> ({{len .Signatures}})</h2>
{{if .Signatures}}<table class="sigs">
<thead><tr><th>#</th><th>Azonosító<br><span class="en">Id</span></th><th>Aláíró<br><span class="en">Signer</span></th>
<th>Szerep<br><span class="en">Role</span></th><th>Aláírás ideje<br><span class="en">Signing time</span></th>
<th>Időbélyeg<br><span class="en">Timestamp</span></th><th>Állapot<br><span class="en">State</span></th>
<th>Jelzés<br><span class="en">Indication</span></th></tr></thead>
<tbody>
{{range .Signatures}}<tr><td>{{.N}}</td><td class="mono">{{.ID}}</td>
<td>{{.Signer}}{{if .Subject}}<div class="small">Alany <span class="en">Subject</span>: <span class="mono">{{.Subject}}</span><br>Kiadó <span class="en">Issuer</span>: <span class="mono">{{.Issuer}}</span><br>Sorozatszám <span class="en">Serial</span>: <span class="mono">{{.Serial}}</span></div>{{end}}</td>
<td>{{.Role.HU}}<br><span class="en">{{.Role.EN}}</span></td><td>{{.Signed}}</td><td>{{.Stamped}}</td>
<td class="{{.StateClass}}">{{.State.HU}}<br><span class="en">{{.State.EN}}</span></td><td class="mono">{{.Indication}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p>Nincs aláírás-eredmény. <span class="en" lang="en">No signature results.</span></p>
{{end}}
<h2>Hibák és figyelmeztetések <span class="en">Errors and warnings</span> ({{len .Errors}})</h2>
{{if .Errors}}<table class="errors">
<thead><tr><th>Súlyosság<br><span class="en">Severity</span></th><th>Kód<br><span class="en">Code</span></th>
<th>Hely<br><span class="en">Location</span></th><th>Leírás<br><span class="en">Description</span></th></tr></thead>
<tbody>
{{range .Errors}}<tr class="{{if .Error}}E0{{else}}W0{{end}}"><td class="sev">{{.Severity}}</td><td class="mono">{{.Code}}</td><td>{{.Location}}</td>
<td>{{.HU}}<br><span class="en" lang="en">{{.EN}}</span></td></tr>
{{end}}</tbody>
</table>
<p class="small">E0: elutasító hiba, W0: figyelmeztetés. <span lang="en">E0: rejecting error, W0: warning.</span></p>
{{else}}<p>Nincs. <span class="en" lang="en">None.</span></p>
{{end}}</body>
</html>
{{define "facts"}}<table class="meta">
{{range .}}<tr><th>{{.Label.HU}}{{if ne .Label.HU .Label.EN}} <span class="en">{{.Label.EN}}</span>{{end}}</th><td{{if .Mono}} class="mono"{{end}}>{{if .Words.HU}}{{.Words.HU}}{{if ne .Words.HU .Words.EN}} <span class="en" lang="en">{{.Words.EN}}</span>{{end}}{{else}}{{.Value}}{{end}}{{range .Extra}}<br>{{.}}{{end}}</td></tr>
{{end}}</table>
{{end}}`))

// HTML writes r as a standalone printable page in Hungarian and English (SND-28: print and save): the
// same content as Text, with the result at the top. Every value from the receipt is escaped by
// html/template (after the same clean-up as Text), and the page loads nothing from outside, so a saved
// copy shows the same thing years later. Like Text, it renders any receipt, also one that fails Check.
func HTML(w io.Writer, r *Receipt) error {
	if r == nil {
		return fmt.Errorf("receipt: HTML of a nil receipt")
	}
	loc, err := localZone()
	return writeHTML(w, newView(r, loc, err))
}

func writeHTML(w io.Writer, v view) error {
	bw := bufio.NewWriter(w)
	if err := page.Execute(bw, v); err != nil {
		return fmt.Errorf("receipt: rendering HTML: %w", err)
	}
	return bw.Flush()
}
