package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/workspace"
)

var sendCmd = &cli.Command{
	Name:    "send",
	Summary: "a csomag feltöltése a pénztárnak HTTPS-en, nyugta ellenőrzése és megőrzése / upload the package to the fund over HTTPS, verify and keep the receipt",
	Usage:   "PACKAGE.es3 [--config FILE] [--json]",
	Help: "Feltöltés előtt (SND-14, SND-15, SIG-23): a helyi nyilvántartás szerint elutasítja a már nyugtázott csomagot és a\n" +
		"más csomag által már használt beküldési azonosítót (kivéve, ha azt a pénztár elutasította); a kezdeti ellenőrzésnek\n" +
		"érvényesnek kell lennie. Feltöltés HTTPS-en, kérdés nélkül (SND-26): a pénztár tanúsítványát a beállított\n" +
		"fund.tlsCA-hoz ellenőrzi. Hálózati hiba, 408, 429 és 5xx esetén ugyanazokat a bájtokat küldi újra (a pénztár az\n" +
		"azonos feltöltésre az eredeti nyugtát adja), a Retry-After szerint vagy növekvő várakozással. Az 503-as válasz R001\n" +
		"nyugtája (a pénztár időbélyegzője nem elérhető) NEM nyugta: a küldési naplóba kerül, és a küldés ismétlődik.\n" +
		"A nyugta aláírását és időbélyegét ellenőrzi (SND-29), és a nyugtát mindenképp megőrzi (SND-27); érvénytelen aláírás\n" +
		"esetén értesítést ír a pénztárnak és a felügyeletnek (SND-30). Végül konténert (TBK_….es3) épít (SND-31).\n" +
		"Kilépési kód: 0 befogadva, érvényes nyugta; 1 elutasítva, vagy hibás nyugta, vagy helyben elutasítva (duplikátum,\n" +
		"érvénytelen csomag); 2 befejezetlen (a csomag kivárási ideje még tart, vagy a pénztár most nem nyugtázott: később\n" +
		"újra); 3 használati vagy rendszerhiba.\n" +
		"/ Before uploading (SND-14, SND-15, SIG-23) the local records refuse a package that already has a receipt and a\n" +
		"submission id another package already used (unless the fund rejected that one); the initial check must say valid.\n" +
		"Upload over HTTPS with no interaction (SND-26), the fund's certificate checked against fund.tlsCA. Network errors,\n" +
		"408, 429 and 5xx are retried with the same bytes (the fund answers an identical upload with its original receipt),\n" +
		"after Retry-After or with growing waits. A 503's R001 receipt (the fund's TSA is down) is NOT a receipt: it goes\n" +
		"to the send log and the upload is retried. The receipt's signature and time-stamp are verified (SND-29) and the\n" +
		"receipt is kept in every case (SND-27); an invalid signature produces notifications to the fund and the\n" +
		"supervisor (SND-30). Finally the container TBK_….es3 is built (SND-31).\n" +
		"Exit status: 0 accepted with a valid receipt; 1 rejected, a defective receipt, or refused locally (duplicate,\n" +
		"invalid package); 2 incomplete (the package's grace period is still running, or the fund did not acknowledge\n" +
		"now: try again later); 3 usage or system error.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runSend,
}

func runSend(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy csomagfájl kell / exactly one package file is needed")
	}
	st, err := openOutbox(ctx, env, fs, true, false)
	if err != nil {
		return err
	}
	defer st.close()
	return sendPackage(ctx, env, st, args[0], fs.Lookup("json").Value.(flag.Getter).Get().(bool))
}

// sendReport is the --json output of send and submit.
type sendReport struct {
	Package       string           `json:"package"`
	SHA256        string           `json:"sha256"`
	SubmissionID  string           `json:"submissionId,omitempty"`
	Attempts      []attemptView    `json:"attempts"`
	Receipt       *receiptView     `json:"receipt,omitempty"`
	Notifications []string         `json:"notifications,omitempty"`
	Container     string           `json:"container,omitempty"`
	Refused       string           `json:"refused,omitempty"`
	Check         *report.Document `json:"check,omitempty"`
}

type attemptView struct {
	Time       time.Time `json:"time"`
	URL        string    `json:"url"`
	HTTPStatus int       `json:"httpStatus,omitempty"`
	Outcome    string    `json:"outcome"`
	Detail     string    `json:"detail,omitempty"`
}

type receiptView struct {
	Name          string    `json:"name"`
	SHA256        string    `json:"sha256"`
	ID            string    `json:"id,omitempty"`
	Result        string    `json:"result,omitempty"`
	Received      time.Time `json:"received"`
	Signature     string    `json:"signatureState"`
	Indication    string    `json:"indication"`
	SubIndication string    `json:"subIndication,omitempty"`
	Problem       string    `json:"problem,omitempty"`
}

func viewAttempt(a workspace.Attempt) attemptView {
	return attemptView{Time: a.Started, URL: a.URL, HTTPStatus: a.HTTPStatus, Outcome: a.Outcome, Detail: a.Detail}
}

func viewReceipt(r *workspace.Receipt) *receiptView {
	return &receiptView{Name: r.Name, SHA256: hexSum(r.SHA256), ID: r.ReceiptID, Result: r.Result, Received: r.Received,
		Signature: r.State, Indication: r.Indication, SubIndication: r.SubIndication, Problem: r.Problem}
}

// sendPackage sends the package at path through st and reports the result.
func sendPackage(ctx context.Context, env *cli.Env, st *outboxStack, path string, asJSON bool) error {
	data, sum, err := readPackage(path)
	if err != nil {
		return err
	}
	name := filepath.Base(path)
	w := env.Stdout
	if !asJSON {
		fmt.Fprintf(w, "Küldés / Sending: %s (SHA-256 %s) → %s\n", name, hexSum(sum), st.client.URL())
		st.sender.Events = func(e outbox.Event) {
			switch {
			case e.Attempt != nil:
				status := "–"
				if e.Attempt.HTTPStatus != 0 {
					status = fmt.Sprint(e.Attempt.HTTPStatus)
				}
				fmt.Fprintf(w, "  kísérlet / attempt %s: HTTP %s, %s %s\n", fmtTime(e.Attempt.Started), status, e.Attempt.Outcome, e.Attempt.Detail)
			case e.Wait > 0:
				fmt.Fprintf(w, "  várakozás / waiting %s\n", e.Wait.Round(time.Millisecond))
			}
		}
	}
	res, err := st.sender.Send(ctx, data, name)
	rep := sendReport{Package: name, SHA256: hexSum(sum)}
	if res != nil {
		rep.SubmissionID = res.Package.SubmissionID
		for _, a := range res.Attempts {
			rep.Attempts = append(rep.Attempts, viewAttempt(a))
		}
	}
	if err != nil {
		return sendRefusal(ctx, env, st, path, err, rep, asJSON)
	}
	rep.Receipt = viewReceipt(res.Receipt)
	for _, n := range res.Notifications {
		rep.Notifications = append(rep.Notifications, filepath.Join(st.ws.Dir(), n.File))
	}
	if res.Container != nil {
		rep.Container = res.Container.Name
	}
	if asJSON {
		if err := cli.WriteJSON(w, rep); err != nil {
			return err
		}
	} else {
		writeReceiptSummary(env, st, res.Receipt, res.Content, res.Notifications)
		if res.Container != nil {
			fmt.Fprintf(w, "Konténer / Container: %s (v%d) — sender evidence %s\n", res.Container.Name, res.Container.Version, name)
		}
	}
	return receiptExit(res.Receipt)
}

// receiptExit is the exit status after a receipt: 1 when the fund rejected or the receipt is flagged,
// 2 when its signature check is incomplete for a reason other than the grace period, 0 otherwise.
func receiptExit(r *workspace.Receipt) error {
	switch {
	case r.Flagged() || r.Result == string(receipt.Rejected):
		return cli.Exit(cli.ExitInvalid)
	case r.Indication == string(report.Indeterminate) && r.SubIndication != string(report.TryLater):
		return cli.Exit(cli.ExitIncomplete)
	}
	return nil
}

// writeReceiptSummary prints a receipt for people: the receipt itself when readable, the check of the
// fund's signature, and — loudly, on stderr too — a flag with its notifications.
func writeReceiptSummary(env *cli.Env, st *outboxStack, r *workspace.Receipt, content *receipt.Receipt, ns []workspace.Notification) {
	w := env.Stdout
	if content != nil {
		fmt.Fprintln(w)
		receipt.Text(w, content, "")
	}
	fmt.Fprintf(w, "\nNyugta / Receipt: %s (SHA-256 %s)\n", r.Name, hexSum(r.SHA256))
	hu, en := report.Indication(r.Indication).Words()
	fmt.Fprintf(w, "A pénztár aláírása / The fund's signature: %s / %s (%s %s)\n", hu, en, r.Indication, r.SubIndication)
	if r.Indication == string(report.Indeterminate) && r.SubIndication == string(report.TryLater) {
		fmt.Fprintf(w, "  A nyugta aláírásának ellenőrzése a kivárási idő után lesz végleges: sender receipts verify %s\n"+
			"  The check of the receipt's signature becomes final after the grace period: sender receipts verify %s\n", r.Name, r.Name)
	}
	if r.Flagged() {
		msg := fmt.Sprintf("\n!!! FIGYELEM: HIBÁS NYUGTA — %s\n!!! WARNING: DEFECTIVE RECEIPT — the receipt was kept unchanged (SND-30).\n", r.Problem)
		if len(ns) > 0 {
			msg += "!!! Értesítések (juttassa el őket a címzettekhez) / Notifications (deliver them to their recipients):\n"
			for _, n := range ns {
				msg += fmt.Sprintf("!!!   %s → %s: %s\n", n.Recipient, n.Address, filepath.Join(st.ws.Dir(), n.File))
			}
		}
		fmt.Fprint(w, msg)
		if env.Stderr != w {
			fmt.Fprint(env.Stderr, msg)
		}
	}
}

// sendRefusal reports why nothing (more) was sent, with advice, and returns the exit status.
func sendRefusal(ctx context.Context, env *cli.Env, st *outboxStack, path string, err error, rep sendReport, asJSON bool) error {
	var already *outbox.ErrAlreadySent
	var dup *outbox.ErrDuplicateSubmission
	var notValid *outbox.ErrNotValid
	var later *outbox.ErrTryLater
	var refused *outbox.ErrRefused
	code := cli.ExitUsage
	var advice string
	switch {
	case errors.As(err, &already):
		code = cli.ExitInvalid
		advice = "A nyugta / The receipt: sender receipts show " + already.Receipt.Name
	case errors.As(err, &dup):
		code = cli.ExitInvalid
		if recs, perr := st.ws.PackedBySubmission(ctx, dup.SubmissionID); perr == nil && len(recs) > 0 {
			advice = "Ezzel az azonosítóval itt csomagolt csomagok / Packages packed here with this id: " + packedList(ctx, st.ws, recs)
		}
	case errors.As(err, &notValid):
		rep.Check = notValid.Report
		code = cli.ExitFor(notValid.Report.Verdict.Indication)
		if code == cli.ExitIncomplete && notValid.Report.EarliestFinal.After(env.Now()) {
			advice = fmt.Sprintf("A kivárási idő %s-kor ér véget; utána küldje: sender send %s / The grace period ends at %s; send it after that: sender send %s",
				fmtTime(notValid.Report.EarliestFinal), path, fmtTime(notValid.Report.EarliestFinal), path)
		} else {
			advice = "Részletek / Details: sender verify " + path
		}
	case errors.As(err, &later):
		code = cli.ExitIncomplete
		advice = fmt.Sprintf("Próbálja újra / Try again: sender send %s (ugyanazok a bájtok, a pénztár az eredeti nyugtát adja vissza / the same bytes: the fund returns the original receipt)", path)
	case errors.As(err, &refused):
		code = cli.ExitUsage
	default:
		return err
	}
	rep.Refused = err.Error()
	if asJSON {
		if werr := cli.WriteJSON(env.Stdout, rep); werr != nil {
			return werr
		}
	} else if notValid != nil {
		report.WriteText(env.Stdout, *notValid.Report)
	}
	msg := "sender: " + err.Error()
	if advice != "" {
		msg += "\n  " + advice
	}
	return &cli.ExitError{Code: code, Msg: msg}
}
