package main

import (
	"context"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/encoding/charmap"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/hunid"
	"github.com/tagdij/tagdij/internal/processor"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/synth"
	"github.com/tagdij/tagdij/internal/upload"
	"github.com/tagdij/tagdij/internal/workspace"
)

// hungarianAmount writes a whole forint amount the way Hungarian payroll programs do: groups of three
// separated by a space, and (when zeroFraction) a decimal comma with a zero fraction.
func hungarianAmount(v int64, zeroFraction bool) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	if zeroFraction {
		b.WriteString(",00")
	}
	return b.String()
}

// windows1250CSV writes members as a payroll export in Windows-1250: ";", the header in Hungarian with
// accents, dotted dates, amounts with thousands separators, "Ft" and a zero decimal fraction.
func windows1250CSV(t *testing.T, items []declaration.Item) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("Sorszám;Név;Születési dátum;TAJ szám;Adóazonosító jel;Jogviszony kezdete;Jogviszony vége;Járulékalap;Tagdíj;Munkáltatói kiegészítés\r\n")
	date := func(d declaration.Date) string { return fmt.Sprintf("%04d.%02d.%02d.", d.Year, int(d.Month), d.Day) }
	for _, it := range items {
		to := ""
		if it.EmploymentTo != nil {
			to = date(*it.EmploymentTo)
		}
		fmt.Fprintf(&b, "%d;%s;%s;%s;%s;%s;%s;%s Ft;%s;%s\r\n", it.Row, it.Name, date(it.BirthDate), hunid.FormatTAJ(it.TAJ), it.TaxID,
			date(it.EmploymentFrom), to, hungarianAmount(it.Base, false), hungarianAmount(it.MemberContribution, true),
			hungarianAmount(it.Supplement, false))
	}
	enc, err := charmap.Windows1250.NewEncoder().String(b.String())
	if err != nil {
		t.Fatalf("the synthetic members do not fit Windows-1250: %v", err)
	}
	return []byte(enc)
}

// newFixtureProcessor builds the fund's processor in-process over the fixture receiver's store: its
// SQLite queue and registry, blob store, an archive and hand-off directory in the receiver's data
// directory, the sandbox fund's decryption key, and the sandbox's clock (which the sender's waits
// advance).
func newFixtureProcessor(t *testing.T, s *receivertest.Stack) *processor.Processor {
	t.Helper()
	arch, err := archive.New(filepath.Join(s.DataDir, "archive"), s.DB.ArchiveIndex(), archive.Options{Now: s.SB.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	handoff := filepath.Join(s.DataDir, "handoff")
	if err := os.MkdirAll(handoff, 0o700); err != nil {
		t.Fatal(err)
	}
	enc := s.SB.World.MustEntity(sandbox.FundEncryption)
	p, err := processor.New(processor.Config{Queue: s.DB, Receipts: s.DB, Registry: s.DB.Registry(), Blobs: s.Blobs, Archive: arch,
		Env: s.Env, Schemas: s.Schemas, TSA: s.TSA, DecryptionCert: enc.Cert, Decrypter: enc.Key.(crypto.Decrypter), HandOffDir: handoff,
		Owner: "e2e-1", Lease: time.Minute, Workers: 1, Backoff: processor.Backoff{Min: time.Second, Max: 4 * time.Second},
		Clock: s.SB.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// importAndSubmit imports the CSV with the extra import flags, submits the declaration and returns
// the package the workspace recorded for its submission id.
// encoding is what the import must report it read (auto-detection takes the Windows-1250 bytes of
// Hungarian letters for ISO-8859-2: the two agree on all of them).
func importAndSubmit(t *testing.T, f *sendFixture, items []declaration.Item, encoding string, extra ...string) workspace.Package {
	t.Helper()
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "berek.csv")
	if err := os.WriteFile(csvPath, windows1250CSV(t, items), 0o600); err != nil {
		t.Fatal(err)
	}
	decl := filepath.Join(dir, "bevallas.xml")
	args := append([]string{"declaration", "import", csvPath, "--config", f.cfg, "--out", decl, "--json"}, extra...)
	code, out, errOut := f.run(t, args...)
	var rep importReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.Valid || rep.Items != len(items) ||
		rep.Encoding != encoding || rep.Separator != ";" || rep.Errors != 0 {
		t.Fatalf("import: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	// The names came through the 8-bit encoding intact (in the declaration, UTF-8).
	xml, err := os.ReadFile(decl)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if !strings.Contains(string(xml), ">"+it.Name+"<") {
			t.Errorf("the declaration lacks the member %q", it.Name)
		}
	}
	code, out, errOut = f.run(t, "submit", decl, "--config", f.cfg, "--yes")
	if code != 0 || !strings.Contains(out, "BEFOGADVA") || !strings.Contains(out, "Konténer / Container: TBK_") {
		t.Fatalf("submit: exit %d\n%s\n%s", code, out, errOut)
	}
	ws := f.workspace(t)
	pkgs, err := ws.PackagesBySubmission(context.Background(), rep.SubmissionID)
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("packages of submission %s: %+v %v", rep.SubmissionID, pkgs, err)
	}
	return pkgs[0]
}

// statusOf runs `sender status` on the package, as JSON and as text; it returns the exit status, the
// parsed answer and the text.
func statusOf(t *testing.T, f *sendFixture, name string) (int, upload.Status, string) {
	t.Helper()
	code, out, errOut := f.run(t, "status", name, "--config", f.cfg, "--json")
	var st upload.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	textCode, text, errOut := f.run(t, "status", name, "--config", f.cfg)
	if textCode != code {
		t.Errorf("status: exit %d as text, %d as JSON\n%s", textCode, code, errOut)
	}
	return code, st, text
}

// TestImportSubmitProcessEndToEnd is issue 10's acceptance path: a Windows-1250 payroll CSV → sender
// declaration import → sender submit against the receiver on loopback (real TLS) → a verified receipt
// in the workspace database (receipts list) → a container auditor verify accepts → sender status while
// the final check is due → the processor runs once after the grace period → sender status reports
// processed (exit 0). A second import, a self-revision naming a predecessor the fund never received,
// passes every check the sender can make and is accepted by the receiver, but the processor rejects its
// content (D008): status reports content-rejected with D008 and its text, exit 1.
func TestImportSubmitProcessEndToEnd(t *testing.T) {
	f := newSendFixture(t, receivertest.Options{})
	ctx := context.Background()
	period := declaration.PeriodOf(f.stack.SB.Clock.Now().UTC()).Prev()
	good := synth.Generate(synth.Options{Members: 4, Seed: 11, Period: period}).Items
	revision := synth.Generate(synth.Options{Members: 3, Seed: 12, Period: period}).Items

	p1 := importAndSubmit(t, f, good, "windows-1250", "--period", period.String(), "--encoding", "windows-1250")
	p2 := importAndSubmit(t, f, revision, "iso-8859-2", "--period", period.String(),
		"--type", string(declaration.SelfRevision), "--predecessor", uuid.NewString())

	// Both receipts are in the workspace database, verified and accepted.
	code, out, _ := f.run(t, "receipts", "list", "--config", f.cfg, "--json")
	var list []receiptView
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 {
		t.Fatalf("receipts list: exit %d %v\n%s", code, err, out)
	}
	ws := f.workspace(t)
	for _, p := range []workspace.Package{p1, p2} {
		r, err := ws.ReceiptFor(ctx, p.SHA256)
		if err != nil {
			t.Fatalf("%s: no receipt: %v", p.Name, err)
		}
		var listed *receiptView
		for i := range list {
			if list[i].ID == r.ReceiptID {
				listed = &list[i]
			}
		}
		if listed == nil || listed.Signature != string(receipt.Valid) || listed.Result != string(receipt.Accepted) || listed.Problem != "" {
			t.Errorf("%s: receipt %s listed as %+v", p.Name, r.ReceiptID, listed)
		}
	}

	// The auditor accepts the good package's container offline.
	c, err := ws.LatestContainer(ctx, p1.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := ws.Blob(c.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	cPath := filepath.Join(t.TempDir(), c.Name)
	if err := os.WriteFile(cPath, cb, 0o600); err != nil {
		t.Fatal(err)
	}
	at := f.stack.SB.Clock.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	aout, err := exec.Command(buildAuditor(t), "verify", "--trust", filepath.Join(f.stack.SB.Dir, sandbox.TrustConfigFile),
		"--policy", "sandbox", "--at", at, cPath).CombinedOutput()
	if err != nil || !strings.Contains(string(aout), "TOTAL-PASSED") {
		t.Errorf("auditor verify %s: %v\n%s", c.Name, err, aout)
	}

	// Before the processor ran: both await the final check (exit 2).
	proc := newFixtureProcessor(t, f.stack)
	due := time.Time{}
	for _, p := range []workspace.Package{p1, p2} {
		code, st, text := statusOf(t, f, p.Name)
		if code != cli.ExitIncomplete || st.Status != "awaiting-final-check" || st.FinalCheck == nil || st.FinalCheck.Done ||
			!strings.Contains(text, "awaiting the final check") {
			t.Errorf("%s before processing: exit %d %+v\n%s", p.Name, code, st, text)
		}
		if st.EarliestFinalCheck.After(due) {
			due = st.EarliestFinalCheck
		}
	}
	if due.IsZero() {
		t.Fatal("no earliest final check in the status")
	}

	// Past the grace period (the sandbox clock, never the wall clock), one pass of the processor.
	if d := due.Sub(f.stack.SB.Clock.Now()); d > 0 {
		f.stack.SB.Clock.Advance(d)
	}
	f.stack.SB.Clock.Advance(time.Second)
	sum, err := proc.RunOnce(ctx)
	if err != nil {
		t.Fatalf("processor: %v", err)
	}
	if sum.Processed != 1 || sum.ContentRejected != 1 || sum.Jobs() != 2 {
		t.Fatalf("processor pass: %+v", sum)
	}

	code, st, text := statusOf(t, f, p1.Name)
	if code != cli.ExitOK || st.Status != "processed" || st.FinalCheck == nil || !st.FinalCheck.Done ||
		st.FinalCheck.State != string(receipt.Valid) || st.FinalCheck.ArchiveID == "" ||
		!strings.Contains(text, "feldolgozva") || !strings.Contains(text, "processed") || !strings.Contains(text, st.FinalCheck.ArchiveID) {
		t.Errorf("status of the processed package: exit %d %+v\n%s", code, st, text)
	}
	t.Logf("status %s:\n%s", p1.Name, text)
	code, st, text = statusOf(t, f, hex.EncodeToString(p2.SHA256[:]))
	if code != cli.ExitInvalid || st.Status != "content-rejected" || st.FinalCheck == nil || !st.FinalCheck.Done ||
		!strings.Contains(strings.Join(st.FinalCheck.Codes, ","), "D008") ||
		!strings.Contains(text, "content rejected") || !strings.Contains(text, "a tartalom hibás") || !strings.Contains(text, "  D008 ") {
		t.Errorf("status of the rejected revision: exit %d %+v\n%s", code, st, text)
	}
	t.Logf("status %s:\n%s", p2.Name, text)
}

// TestStatusExit: every status the receiver reports maps to one exit status, and a status the sender
// does not know is not taken for an outcome.
func TestStatusExit(t *testing.T) {
	for _, c := range []struct {
		status string
		want   int
	}{
		{"processed", cli.ExitOK},
		{"rejected", cli.ExitInvalid},
		{"final-invalid", cli.ExitInvalid},
		{"content-rejected", cli.ExitInvalid},
		{"awaiting-final-check", cli.ExitIncomplete},
		{"final-valid", cli.ExitUsage},
		{"", cli.ExitUsage},
	} {
		if got := cli.ExitCode(statusExit(&upload.Status{Status: c.status})); got != c.want {
			t.Errorf("%q: exit %d, want %d", c.status, got, c.want)
		}
		if hu, en := statusWords(c.status); (hu == "ismeretlen állapot") != (c.want == cli.ExitUsage) || en == "" {
			t.Errorf("%q: words %q / %q", c.status, hu, en)
		}
	}
}
