package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/durable"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/upload"
	"github.com/tagdij/tagdij/internal/workspace"
)

var receiptsCmd = &cli.Command{
	Name:    "receipts",
	Summary: "a kapott nyugták: lista, megjelenítés, újraellenőrzés / the receipts received: list, show, check again",
	Help:    "A helyi nyilvántartás nyugtái (SND-27…SND-30). / The receipts in the local records (SND-27…SND-30).",
	Sub:     []*cli.Command{receiptsListCmd, receiptsShowCmd, receiptsVerifyCmd},
}

var receiptsListCmd = &cli.Command{
	Name:    "list",
	Summary: "minden nyugta egy sorban / every receipt on one line",
	Usage:   "[--config FILE] [--json]",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 0 {
			return cli.Usagef("nem vár argumentumot / takes no arguments")
		}
		st, err := openOutbox(ctx, env, fs, false, true)
		if err != nil {
			return err
		}
		defer st.close()
		rs, err := st.ws.Receipts(ctx)
		if err != nil {
			return err
		}
		if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
			out := []*receiptView{}
			for i := range rs {
				out = append(out, viewReceipt(&rs[i]))
			}
			return cli.WriteJSON(env.Stdout, out)
		}
		if len(rs) == 0 {
			fmt.Fprintln(env.Stdout, "Nincs nyugta. / No receipts.")
			return nil
		}
		for _, r := range rs {
			flag := ""
			if r.Flagged() {
				flag = "  !!! HIBÁS / DEFECTIVE"
			}
			result := r.Result
			if result == "" {
				result = "?"
			}
			fmt.Fprintf(env.Stdout, "%s  %-10s  %-12s  %s  %s%s\n", fmtTime(r.Received), result, r.State, r.Name, r.ReceiptID, flag)
		}
		return nil
	},
}

var receiptsShowCmd = &cli.Command{
	Name:    "show",
	Summary: "egy nyugta megjelenítése, nyomtatható HTML, mentés / show a receipt, printable HTML, save it",
	Usage:   "RECEIPT [--config FILE] [--lang hu|en] [--html OUT.html] [--save OUT.es3] [--json]",
	Help: "RECEIPT: a nyugta azonosítója, fájlneve, vagy a nyugta vagy a csomag SHA-256-jának legalább 8 jegye.\n" +
		"Megjeleníti a nyugtát a hibakódokkal és szövegeikkel, a pénztár aláírásának ellenőrzését, és a hibás nyugta\n" +
		"értesítéseit (SND-28, SND-30). --html: nyomtatható oldal; --save: a nyugtacsomag változatlan másolata.\n" +
		"/ RECEIPT: the receipt id, its file name, or at least 8 hex digits of the receipt's or the package's SHA-256.\n" +
		"Shows the receipt with its error codes and their texts, the check of the fund's signature, and a defective\n" +
		"receipt's notifications (SND-28, SND-30). --html: a printable page; --save: an unchanged copy of the receipt package.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.String("lang", "", "nyelv: hu, en, üres = mindkettő / language: hu, en, empty = both")
		fs.String("html", "", "nyomtatható HTML oldal ide / write a printable page to `OUT.html`")
		fs.String("save", "", "a nyugtacsomag mentése ide / save the receipt package to `OUT.es3`")
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runReceiptsShow,
}

func runReceiptsShow(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy nyugta kell / exactly one receipt is needed")
	}
	lang := fs.Lookup("lang").Value.String()
	if lang != "" && lang != "hu" && lang != "en" {
		return cli.Usagef("--lang: hu, en vagy üres / hu, en or empty")
	}
	st, err := openOutbox(ctx, env, fs, false, true)
	if err != nil {
		return err
	}
	defer st.close()
	r, err := st.ws.ReceiptByKey(ctx, args[0])
	if err != nil {
		return notFoundExit(err, args[0])
	}
	content, rep, ns, err := loadStored(ctx, st, r)
	if err != nil {
		return err
	}
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		return cli.WriteJSON(env.Stdout, struct {
			*receiptView
			Content       *receipt.Receipt         `json:"content,omitempty"`
			Check         report.Document          `json:"check"`
			Notifications []workspace.Notification `json:"notifications,omitempty"`
		}{viewReceipt(r), content, rep, ns})
	}
	if content != nil {
		if err := receipt.Text(env.Stdout, content, lang); err != nil {
			return err
		}
	}
	writeCheck(env.Stdout, r, &rep)
	if r.Flagged() {
		fmt.Fprintf(env.Stdout, "\n!!! HIBÁS NYUGTA / DEFECTIVE RECEIPT: %s\n", r.Problem)
		for _, n := range ns {
			fmt.Fprintf(env.Stdout, "!!! értesítés / notification %s → %s (%s): %s\n", n.Recipient, n.Address, fmtTime(n.Created), filepath.Join(st.ws.Dir(), n.File))
		}
	}
	if out := fs.Lookup("save").Value.String(); out != "" {
		body, err := st.ws.Blob(r.SHA256)
		if err != nil {
			return err
		}
		if err := writeNew(out, body); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Mentve / Saved: %s\n", out)
	}
	if out := fs.Lookup("html").Value.String(); out != "" {
		if err := cli.CreateFile(out, func(w io.Writer) error { return receiptHTML(w, r, content, &rep, ns) }); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "HTML: %s\n", out)
	}
	return receiptExit(r)
}

// loadStored reads what the display of a stored receipt needs: its content (decodeStored), the stored
// check of the fund's signature and the SND-30 notifications. A stored check that does not decode (a
// damaged or doctored record) is an error, not an empty check.
func loadStored(ctx context.Context, st *outboxStack, r *workspace.Receipt) (*receipt.Receipt, report.Document, []workspace.Notification, error) {
	var rep report.Document
	body, err := st.ws.Blob(r.SHA256)
	if err != nil {
		return nil, rep, nil, err
	}
	ns, err := st.ws.Notifications(ctx, r.SHA256)
	if err != nil {
		return nil, rep, nil, err
	}
	if len(r.Report) > 0 {
		if err := json.Unmarshal(r.Report, &rep); err != nil {
			return nil, rep, nil, fmt.Errorf("a nyugta tárolt ellenőrzése olvashatatlan / the receipt's stored check cannot be read (%s): %w", r.Name, err)
		}
	}
	return decodeStored(body, st), rep, ns, nil
}

// decodeStored reads a stored receipt's content for display only when its signature allows (the
// stored check said so): nothing unauthenticated is shown as the fund's word.
func decodeStored(body []byte, st *outboxStack) *receipt.Receipt {
	r, rep, err := receiptpkg.Verify(context.Background(), body, receiptpkg.VerifyOptions{Env: st.sender.Env, Schemas: st.schemas})
	if err != nil || rep == nil || rep.Verdict.Indication == report.TotalFailed {
		return nil
	}
	return r
}

// writeCheck prints the check of the fund's signature with every finding, both languages.
func writeCheck(w io.Writer, r *workspace.Receipt, rep *report.Document) {
	hu, en := report.Indication(r.Indication).Words()
	fmt.Fprintf(w, "\nA pénztár aláírásának ellenőrzése / Check of the fund's signature (%s): %s / %s (%s %s)\n", fmtTime(r.Checked), hu, en, r.Indication, r.SubIndication)
	cli.WriteFindings(w, findingsOf(rep))
}

func findingsOf(rep *report.Document) []errcode.Finding {
	fs := append([]errcode.Finding(nil), rep.Verdict.Findings...)
	for _, s := range rep.Signatures {
		for _, f := range s.Verdict.Findings {
			if f.Location == "" {
				f.Location = s.ID
			}
			fs = append(fs, f)
		}
	}
	return fs
}

var checkBlock = template.Must(template.New("check").Parse(`<section style="border:3px solid {{if .Flag}}#b00{{else}}#070{{end}};padding:6px 10px;margin:10px 16px">
<h2>A pénztár aláírásának ellenőrzése <span class="en">Check of the fund's signature</span></h2>
<p><b>{{.HU}}</b> / <span lang="en">{{.EN}}</span> ({{.Indication}} {{.Sub}}), {{.Checked}}</p>
{{if .Flag}}<p class="bad"><b>HIBÁS NYUGTA / DEFECTIVE RECEIPT:</b> {{.Flag}}</p>{{end}}
{{if .Findings}}<table><tr><th>Kód <span class="en">Code</span></th><th>Hely <span class="en">Location</span></th><th>Leírás <span class="en">Description</span></th></tr>
{{range .Findings}}<tr><td class="mono">{{.Severity}} {{.Code}}</td><td>{{.Location}}</td><td>{{.HU}}<br><span class="en" lang="en">{{.EN}}</span></td></tr>
{{end}}</table>{{end}}
{{if .Notes}}<h3>Értesítések <span class="en">Notifications</span> (SND-30)</h3><ul>{{range .Notes}}<li>{{.Recipient}} → {{.Address}}: {{.File}}</li>{{end}}</ul>{{end}}
</section>
`))

// receiptHTML writes the printable page (SND-28): the receipt's own page (receipt.HTML) with the check
// of the fund's signature on top; for a receipt whose content cannot be trusted, a page with the check
// alone.
func receiptHTML(w io.Writer, r *workspace.Receipt, content *receipt.Receipt, rep *report.Document, ns []workspace.Notification) error {
	hu, en := report.Indication(r.Indication).Words()
	var block bytes.Buffer
	if err := checkBlock.Execute(&block, map[string]any{"Flag": r.Problem, "HU": hu, "EN": en, "Indication": r.Indication, "Sub": r.SubIndication,
		"Checked": fmtTime(r.Checked), "Findings": findingsOf(rep), "Notes": ns}); err != nil {
		return err
	}
	var page bytes.Buffer
	if content != nil {
		if err := receipt.HTML(&page, content); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(&page, "<!DOCTYPE html>\n<html lang=\"hu\"><head><meta charset=\"utf-8\"><title>Nyugta / Receipt</title></head><body>\n"+
			"<h1>Nyugta <span class=\"en\">Receipt</span> %s</h1>\n<p>A nyugta tartalma az érvénytelen aláírás miatt nem olvasható. / "+
			"The receipt's content cannot be read: its signature is invalid.</p>\n</body></html>\n", template.HTMLEscapeString(r.Name))
	}
	out := strings.Replace(page.String(), "<body>\n", "<body>\n"+block.String(), 1)
	_, err := io.WriteString(w, out)
	return err
}

var receiptsVerifyCmd = &cli.Command{
	Name:    "verify",
	Summary: "a nyugta aláírásának újraellenőrzése (a kivárási idő után végleges) / check a receipt's signature again (final after the grace period)",
	Usage:   "RECEIPT [--config FILE] [--json]",
	Help: "Újra ellenőrzi a pénztár aláírását; ha az eredmény vagy az ellenőrzési adatok változtak, új konténerváltozatot épít.\n" +
		"/ Checks the fund's signature again; when the result or the validation data changed, builds a new container version.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("egy nyugta kell / exactly one receipt is needed")
		}
		st, err := openOutbox(ctx, env, fs, false, false)
		if err != nil {
			return err
		}
		defer st.close()
		r, err := st.ws.ReceiptByKey(ctx, args[0])
		if err != nil {
			return notFoundExit(err, args[0])
		}
		rc, err := st.sender.Recheck(ctx, r.Package)
		if err != nil {
			return err
		}
		if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
			return cli.WriteJSON(env.Stdout, struct {
				*receiptView
				Changed   bool   `json:"changed"`
				Container string `json:"container,omitempty"`
			}{viewReceipt(rc.Receipt), rc.Changed, containerName(rc)})
		}
		writeCheck(env.Stdout, rc.Receipt, rc.Report)
		if rc.Changed && rc.Container != nil {
			fmt.Fprintf(env.Stdout, "Új konténerváltozat / New container version: %s (v%d)\n", rc.Container.Name, rc.Container.Version)
		}
		return receiptExit(rc.Receipt)
	},
}

func containerName(rc *outbox.Recheck) string {
	if rc.Container == nil {
		return ""
	}
	return rc.Container.Name
}

var statusCmd = &cli.Command{
	Name:    "status",
	Summary: "a csomag állapota a pénztár fogadójánál / the package's status at the fund's receiver",
	Usage:   "PACKAGE [--config FILE] [--json]",
	Help: "PACKAGE: a csomagfájl, a csomag neve vagy SHA-256-ja. Megkérdezi a fogadót (GET /v1/packages/{sha256}/status):\n" +
		"beérkezett-e, befogadta-e, és hol tart a végleges ellenőrzés (awaiting-final-check, majd a feldolgozó eredménye).\n" +
		"Kilépési kód: 0 feldolgozva, 1 elutasítva, végleges ellenőrzés: érvénytelen, vagy a tartalom hibás (a kóddal), 2 a\n" +
		"végleges ellenőrzésre vár, 3 ismeretlen állapot vagy hiba.\n" +
		"/ PACKAGE: the package file, its name or its SHA-256. Asks the receiver (GET /v1/packages/{sha256}/status): whether\n" +
		"it arrived, whether it was accepted, and how far the final check is (awaiting-final-check, then the processor's\n" +
		"outcome: processed, final-invalid or content-rejected, with the codes). Exit status: 0 processed, 1 rejected,\n" +
		"final-invalid or content-rejected, 2 awaiting the final check, 3 an unknown status or an error.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runStatus,
}

// packageKey resolves PACKAGE (a file, a sent package's name, or a SHA-256 in hex) to its SHA-256.
func packageKey(ctx context.Context, ws *workspace.Workspace, key string) ([32]byte, error) {
	var sum [32]byte
	if b, err := hex.DecodeString(strings.ToLower(key)); err == nil && len(b) == 32 {
		copy(sum[:], b)
		return sum, nil
	}
	if p, err := ws.PackageByName(ctx, filepath.Base(key)); err == nil {
		if _, statErr := os.Stat(key); statErr != nil || filepath.Base(key) == key {
			return p.SHA256, nil
		}
	}
	if filepath.Base(key) == key {
		// A name packed here but not sent: the file pack wrote (signing keeps its path and name).
		if rec, err := ws.PackedByName(ctx, key); err == nil {
			if _, statErr := os.Stat(key); statErr != nil {
				key = rec.Path
			}
		}
	}
	data, err := cli.ReadFile(key, maxPackageBytes)
	if err != nil {
		return sum, err
	}
	return sha256.Sum256(data), nil
}

func runStatus(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy csomag kell / exactly one package is needed")
	}
	st, err := openOutbox(ctx, env, fs, true, true)
	if err != nil {
		return err
	}
	defer st.close()
	sum, err := packageKey(ctx, st.ws, args[0])
	if err != nil {
		return err
	}
	s, err := st.client.Status(ctx, sum)
	if errors.Is(err, upload.ErrUnknown) {
		msg := fmt.Sprintf("sender: a fogadó nem ismeri a csomagot (SHA-256 %s): nem érkezett meg / "+
			"the receiver does not know the package (SHA-256 %s): it has not arrived", hexSum(sum), hexSum(sum))
		if rec, perr := st.ws.PackedByName(ctx, filepath.Base(args[0])); perr == nil {
			state := packedState(ctx, st.ws, *rec)
			msg += fmt.Sprintf("\n  Ebben a munkaterületen csomagolva %s-kor (%s), állapota: %s; küldése: sender send %s\n"+
				"  Packed in this workspace at %s (%s), state: %s; to send it: sender send %s",
				fmtTime(rec.Packed), rec.Path, state, rec.Path, fmtTime(rec.Packed), rec.Path, state, rec.Path)
		}
		return &cli.ExitError{Code: cli.ExitUsage, Msg: msg}
	}
	if err != nil {
		return err
	}
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		if err := cli.WriteJSON(env.Stdout, s); err != nil {
			return err
		}
	} else {
		w := env.Stdout
		fmt.Fprintf(w, "Csomag / Package: SHA-256 %s\n", s.SHA256)
		fmt.Fprintf(w, "Beérkezett / Received: %s\n", fmtTime(s.Received))
		fmt.Fprintf(w, "Eredmény / Result: %s\n", s.Result)
		fmt.Fprintf(w, "Előellenőrzés / Pre-check: %s\n", s.PreCheck)
		hu, en := statusWords(s.Status)
		fmt.Fprintf(w, "Állapot / Status: %s — %s / %s\n", s.Status, hu, en)
		if !s.EarliestFinalCheck.IsZero() {
			fmt.Fprintf(w, "Legkorábbi végleges ellenőrzés / Earliest final check: %s\n", fmtTime(s.EarliestFinalCheck))
		}
		fmt.Fprintf(w, "Nyugta / Receipt: %s\n", s.ReceiptID)
		if len(s.Codes) > 0 {
			fmt.Fprintf(w, "A nyugta kódjai / The receipt's codes: %s\n", strings.Join(s.Codes, ", "))
			writeCodeTexts(w, s.Codes)
		}
		if fc := s.FinalCheck; fc != nil {
			writeFinalCheck(w, fc)
		}
	}
	return statusExit(s)
}

// statusExit maps the receiver's status to SPEC §9's exit statuses: 0 processed (the processor's
// final, successful outcome), 1 rejected at the receiver, final-invalid or content-rejected, 2 still
// awaiting the final check. A status this sender does not know is not taken for an outcome: 3.
func statusExit(s *upload.Status) error {
	switch s.Status {
	case "processed":
		return nil
	case "rejected", "final-invalid", "content-rejected":
		return cli.Exit(cli.ExitInvalid)
	case "awaiting-final-check":
		return cli.Exit(cli.ExitIncomplete)
	}
	return &cli.ExitError{Code: cli.ExitUsage, Msg: fmt.Sprintf("sender: a fogadó ismeretlen állapotot küldött (%.40q): frissítse a programot / "+
		"the receiver sent an unknown status (%.40q): update the program", s.Status, s.Status)}
}

// writeFinalCheck prints the processor's part of the status: the outcome's state, codes and time once
// done; the attempts, the next one, the last reason and any alert while waiting.
func writeFinalCheck(w io.Writer, fc *upload.FinalCheck) {
	if fc.Done {
		fmt.Fprintf(w, "Végleges ellenőrzés / Final check: %s, %s\n", fc.State, fmtTime(fc.Finished))
		if fc.ArchiveID != "" {
			fmt.Fprintf(w, "Archívum / Archive: %s\n", fc.ArchiveID)
		}
		if len(fc.Codes) > 0 {
			fmt.Fprintf(w, "A feldolgozás kódjai / The processing's codes: %s\n", strings.Join(fc.Codes, ", "))
			writeCodeTexts(w, fc.Codes)
		}
		return
	}
	fmt.Fprintf(w, "Végleges ellenőrzés / Final check: %d próbálkozás / attempt(s)", fc.Attempts)
	if !fc.NextAttempt.IsZero() {
		fmt.Fprintf(w, ", következő / next: %s", fmtTime(fc.NextAttempt))
	}
	fmt.Fprintln(w)
	if fc.LastError != "" {
		fmt.Fprintf(w, "Utolsó ok / Last reason: %s\n", fc.LastError)
	}
	if fc.Alert != "" {
		fmt.Fprintf(w, "FIGYELEM / ALERT: %s\n", fc.Alert)
	}
}

// writeCodeTexts prints each code with its bilingual text (the codes come from the receiver: only
// their known texts are printed, the code itself is limited in length).
func writeCodeTexts(w io.Writer, codes []string) {
	for _, c := range codes {
		f := errcode.New(errcode.Code(c), "", "")
		fmt.Fprintf(w, "  %.16s %s / %s\n", c, f.HU, f.EN)
	}
}

// statusWords explains the receiver's status values.
func statusWords(s string) (string, string) {
	switch s {
	case "rejected":
		return "elutasítva", "rejected"
	case "awaiting-final-check":
		return "befogadva, a végleges ellenőrzésre vár", "received, awaiting the final check"
	case "processed":
		return "feldolgozva: a végleges ellenőrzés és a tartalom rendben", "processed: the final check and the content are in order"
	case "final-invalid":
		return "végleges ellenőrzés: érvénytelen aláírás, a csomag nem került feldolgozásra",
			"final check: the signature is invalid, the package was not processed"
	case "content-rejected":
		return "a tartalom hibás: a pénztár elutasította a bevallást", "content rejected: the fund refused the declaration"
	}
	return "ismeretlen állapot", "unknown status"
}

// writeFileDurable writes a new file durably, owner-only.
func writeFileDurable(path string, data []byte) error { return durable.WriteFile(path, data, 0o600) }
