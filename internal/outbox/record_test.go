package outbox_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/internal/container"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/workspace"
)

// readContainer parses a stored container version.
func readContainer(t *testing.T, f *fixture, c *workspace.Container) *container.Parsed {
	t.Helper()
	b, err := f.ws.Blob(c.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	d, err := es3.Parse(b, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err := container.Read(d, f.sender.Schemas)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// letterName is the SND-30 letter's file name rule (notify.go).
var letterName = regexp.MustCompile(`^notifications/ERTESITES_(PENZTAR|FELUGYELET)_([0-9a-f]{16})_(\d{8}T\d{6}Z)\.txt$`)

// TestInvalidReceiptNotified (SND-27, SND-29, SND-30): a receipt whose fund signature is invalid, or
// that is about another package, is stored as received (the sender still accepts it), flagged, and
// produces the two notification records (rows and letters, Hungarian and English) that the container
// carries; a sound receipt produces none.
func TestInvalidReceiptNotified(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	configured := f.sender.Parties
	bare := configured
	bare.FundAddress, bare.SupervisorAddress = "", ""
	cases := []struct {
		name    string
		parties outbox.Parties
		// fault makes the answer (given the seed); nil: the receiver's own.
		fault func(t *testing.T, seed uint64) fault
		// flagged: want a flag whose problem contains this; "" a sound receipt.
		flagged string
		invalid bool // the signature check fails (ERVENYTELEN)
	}{
		{name: "sound receipt", parties: configured},
		{name: "signature broken, addresses configured", parties: configured, invalid: true, flagged: "INVALID",
			fault: func(*testing.T, uint64) fault { return fault{edit: flipSignature} }},
		{name: "signature broken, no addresses configured", parties: bare, invalid: true, flagged: "INVALID",
			fault: func(*testing.T, uint64) fault { return fault{edit: flipSignature} }},
		{name: "receipt about another package", parties: configured, flagged: "another package",
			fault: func(t *testing.T, seed uint64) fault {
				z, zName := f.pkg(t, receivertest.PackageOptions{Seed: seed + 1000})
				if out := f.stack.Submit(t, z, zName); out.Receipt == nil {
					t.Fatalf("submit %s: %+v", zName, out)
				}
				return fault{swap: z}
			}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seed := uint64(500 + i)
			f.front.plan()
			if tc.fault != nil {
				f.front.plan(tc.fault(t, seed))
			}
			data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
			s := *f.sender
			s.Parties = tc.parties
			res, err := s.Send(ctx, data, name)
			// The receipt is accepted whatever its signature says (SND-30).
			if err != nil || res.Receipt == nil {
				t.Fatalf("send: %+v %v", res, err)
			}
			rec := res.Receipt
			stored, err := f.ws.ReceiptFor(ctx, sha256.Sum256(data))
			if err != nil || stored.SHA256 != rec.SHA256 || stored.Problem != rec.Problem || stored.State != rec.State {
				t.Fatalf("stored receipt %+v %v, sent %+v", stored, err, rec)
			}
			ups := f.front.uploads()
			if b, _ := f.ws.Blob(rec.SHA256); !bytes.Equal(b, ups[len(ups)-1].answer) {
				t.Error("the stored receipt is not the bytes received")
			}
			c, err := f.ws.LatestContainer(ctx, res.Package.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			parsed := readContainer(t, f, c)
			if len(parsed.Findings) != 0 || parsed.Receipt == nil || parsed.Receipt.SHA256 != rec.SHA256 || parsed.CheckState != rec.State {
				t.Errorf("container %+v", parsed)
			}
			ns, err := f.ws.Notifications(ctx, rec.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if tc.flagged == "" {
				if rec.Flagged() || len(ns) != 0 || len(res.Notifications) != 0 || len(parsed.Notifications) != 0 {
					t.Errorf("a sound receipt flagged or notified: %q %+v", rec.Problem, ns)
				}
				if es, _ := os.ReadDir(filepath.Join(f.ws.Dir(), workspace.NotificationsDir)); len(es) != 0 {
					t.Errorf("letters written for a sound receipt: %d", len(es))
				}
				return
			}
			if !rec.Flagged() || !strings.Contains(rec.Problem, tc.flagged) || !strings.Contains(rec.Problem, " / ") {
				t.Errorf("problem %q, want %q (bilingual)", rec.Problem, tc.flagged)
			}
			if tc.invalid {
				if rec.State != string(receipt.Invalid) || rec.Indication != string(report.TotalFailed) || !strings.Contains(rec.Problem, string(errcode.A001)) {
					t.Errorf("receipt check %s %s %q", rec.State, rec.Indication, rec.Problem)
				}
			} else if rec.State == string(receipt.Invalid) || rec.ReceiptID == "" {
				t.Errorf("a soundly signed receipt about another package: %s, id %q", rec.State, rec.ReceiptID)
			}
			// Two rows, fund then supervisor, the same as Send reported.
			if len(ns) != 2 || len(res.Notifications) != 2 {
				t.Fatalf("notifications %+v, reported %+v", ns, res.Notifications)
			}
			wantTo := []struct{ who, addr string }{
				{workspace.RecipientFund, tc.parties.FundAddress}, {workspace.RecipientSupervisor, tc.parties.SupervisorAddress}}
			for k, n := range ns {
				if n != res.Notifications[k] || n.Receipt != rec.SHA256 || n.Recipient != wantTo[k].who {
					t.Errorf("row %d %+v, reported %+v", k, n, res.Notifications[k])
				}
				if wantTo[k].addr != "" && n.Address != wantTo[k].addr {
					t.Errorf("row %d address %q, want %q", k, n.Address, wantTo[k].addr)
				}
				if wantTo[k].addr == "" && (!strings.Contains(n.Address, "not configured") || !strings.Contains(n.Address, "nincs beállítva")) {
					t.Errorf("row %d address %q, want the bilingual not-configured text", k, n.Address)
				}
				m := letterName.FindStringSubmatch(filepath.ToSlash(n.File))
				if m == nil || m[1] != n.Recipient || m[2] != hex.EncodeToString(rec.SHA256[:8]) || m[3] != n.Created.UTC().Format("20060102T150405Z") {
					t.Errorf("letter file %q", n.File)
				}
				// The letter: who, where, when, and the text in both languages naming the package and the receipt.
				letter, err := os.ReadFile(filepath.Join(f.ws.Dir(), n.File))
				if err != nil {
					t.Fatal(err)
				}
				if st, _ := os.Stat(filepath.Join(f.ws.Dir(), n.File)); st.Mode().Perm() != 0o600 {
					t.Errorf("letter mode %v", st.Mode())
				}
				for _, want := range []string{n.Text, "Cím / Address: " + n.Address, n.Created.Format(time.RFC3339)} {
					if !bytes.Contains(letter, []byte(want)) {
						t.Errorf("letter %s lacks %q", n.File, want)
					}
				}
				for _, want := range []string{"SND-30", "Tisztelt Címzett", "Dear recipient", "A nyugtát változatlanul megőriztük",
					"The receipt is kept unchanged", res.Package.Name, hex.EncodeToString(res.Package.SHA256[:]), rec.Name,
					hex.EncodeToString(rec.SHA256[:]), rec.Problem, tc.parties.Employer, tc.parties.FundCode, tc.parties.FundName} {
					if !strings.Contains(n.Text, want) {
						t.Errorf("letter text lacks %q:\n%s", want, n.Text)
					}
				}
				if hu, en := strings.Index(n.Text, "Tisztelt Címzett"), strings.Index(n.Text, "Dear recipient"); hu < 0 || en < hu {
					t.Errorf("the letter is not Hungarian then English")
				}
			}
			// The container records both (kontener.xsd: an ERVENYTELEN check is followed by both).
			if len(parsed.Notifications) != 2 || parsed.Notifications[0].Recipient != workspace.RecipientFund ||
				parsed.Notifications[1].Recipient != workspace.RecipientSupervisor || parsed.Notifications[0].Address != ns[0].Address {
				t.Errorf("container notifications %+v", parsed.Notifications)
			}
			// Checked again later, the receipt stays flagged and is not notified twice.
			f.stack.SB.Clock.Advance(time.Minute)
			rc, err := f.sender.Recheck(ctx, res.Package.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if !rc.Receipt.Flagged() || rc.Receipt.Problem != rec.Problem {
				t.Errorf("after a recheck: %q", rc.Receipt.Problem)
			}
			if again, _ := f.ws.Notifications(ctx, rec.SHA256); len(again) != 2 {
				t.Errorf("after a recheck %d notifications", len(again))
			}
		})
	}
}

// TestEvidence (SND-32): the bundle has the package and the receipt as sent and received, the reports,
// the send log, the letters, the container and SHA256SUMS over all; a notification row naming a file
// other than a letter directly under notifications/ (a tampered database from a restored backup) is
// refused, and nothing outside that directory is copied.
func TestEvidence(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	f.front.plan(fault{edit: flipSignature})
	data, name := f.pkg(t, receivertest.PackageOptions{Seed: 600})
	res, err := f.sender.Send(ctx, data, name)
	if err != nil || !res.Receipt.Flagged() || len(res.Notifications) != 2 {
		t.Fatalf("send: %+v %v", res, err)
	}
	sum := res.Package.SHA256
	const secret = "NOT FOR THIRD PARTIES"
	outside := filepath.Join(filepath.Dir(f.ws.Dir()), "secret.txt")
	if err := os.WriteFile(outside, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		// file is the tampered row's File ("": no tampered row); prepare runs on the copied state dir.
		file    string
		prepare func(t *testing.T, dir string)
		// refused: Evidence must fail saying the path is not under notifications/; missing: fail
		// reading it.
		refused, missing bool
	}{
		{name: "untouched"},
		{name: "extra letter under notifications/", file: "notifications/ERTESITES_kezi.txt", prepare: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "notifications", "ERTESITES_kezi.txt"), []byte("kézzel írt levél / a letter by hand"), 0o600)
		}},
		{name: "a second row for a letter already in the bundle", file: res.Notifications[0].File},
		{name: "missing letter", file: "notifications/ERTESITES_nincs.txt", missing: true},
		{name: "parent of the state directory", file: "../secret.txt", refused: true},
		{name: "absolute path", file: outside, refused: true},
		{name: "dot-dot inside", file: "notifications/../../secret.txt", refused: true},
		{name: "the database through notifications/..", file: "notifications/../sender.db", refused: true},
		{name: "another workspace directory", file: "packages/" + name, refused: true},
		{name: "nested under notifications", file: "notifications/sub/x.txt", refused: true, prepare: func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "notifications", "sub"), 0o700)
			os.WriteFile(filepath.Join(dir, "notifications", "sub", "x.txt"), []byte(secret), 0o600)
		}},
		{name: "the directory itself", file: "notifications", refused: true},
		// Named as letters are, but not directly under notifications/.
		{name: "a letter name at the top of the state directory", file: "ERTESITES_felso.txt", refused: true, prepare: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "ERTESITES_felso.txt"), []byte(secret), 0o600)
		}},
		{name: "a letter name under packages/", file: "packages/ERTESITES_x.txt", refused: true, prepare: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "packages", "ERTESITES_x.txt"), []byte(secret), 0o600)
		}},
		{name: "a letter name nested under notifications/", file: "notifications/sub/ERTESITES_x.txt", refused: true, prepare: func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "notifications", "sub"), 0o700)
			os.WriteFile(filepath.Join(dir, "notifications", "sub", "ERTESITES_x.txt"), []byte(secret), 0o600)
		}},
		{name: "a letter name beside the state directory", file: "../ERTESITES_x.txt", refused: true, prepare: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(filepath.Dir(dir), "ERTESITES_x.txt"), []byte(secret), 0o600)
		}},
		// A file under notifications/ named like another part of the bundle would replace that part (and
		// SHA256SUMS would vouch for the replacement).
		{name: "named like the package check report", file: "notifications/" + outbox.EvidencePackageReport, refused: true,
			prepare: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "notifications", outbox.EvidencePackageReport), []byte(`{"forged": "`+secret+`"}`), 0o600)
			}},
		{name: "named like the package", file: "notifications/" + name, refused: true, prepare: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "notifications", name), []byte(secret), 0o600)
		}},
		{name: "empty", file: ".", refused: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := copyState(t, f.ws)
			if tc.prepare != nil {
				tc.prepare(t, ws.Dir())
			}
			if tc.file != "" {
				if _, err := ws.AddNotification(ctx, workspace.Notification{Receipt: res.Receipt.SHA256, Created: f.stack.SB.Clock.Now(),
					Recipient: workspace.RecipientFund, Address: "x", Text: "x", File: tc.file}); err != nil {
					t.Fatal(err)
				}
			}
			s := *f.sender
			s.WS = ws
			out := filepath.Join(t.TempDir(), "bizonyitek")
			files, err := outbox.Evidence(ctx, &s, sum, out)
			// Whatever happened, nothing from outside notifications/ is in the bundle.
			filepath.WalkDir(out, func(p string, d os.DirEntry, _ error) error {
				if b, _ := os.ReadFile(p); d != nil && !d.IsDir() && bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s went into the bundle", p)
				}
				return nil
			})
			switch {
			case tc.refused:
				if err == nil || !strings.Contains(err.Error(), "notifications/") {
					t.Fatalf("a notification row %q was followed: %v", tc.file, err)
				}
				return
			case tc.missing:
				if err == nil || !strings.Contains(err.Error(), tc.file) {
					t.Fatalf("a missing letter: %v", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("bundle directory %v %v", st, err)
			}
			want := map[string][]byte{name: data}
			rb, _ := ws.Blob(res.Receipt.SHA256)
			want[res.Receipt.Name] = rb
			c, _ := ws.LatestContainer(ctx, sum)
			want[c.Name], _ = ws.Blob(c.SHA256)
			for _, n := range res.Notifications {
				want[filepath.Base(n.File)], _ = os.ReadFile(filepath.Join(ws.Dir(), n.File))
			}
			if tc.file != "" {
				want[filepath.Base(tc.file)], _ = os.ReadFile(filepath.Join(ws.Dir(), tc.file))
			}
			for _, n := range []string{outbox.EvidencePackageReport, outbox.EvidenceReceiptReport, outbox.EvidenceSendLog, outbox.EvidenceRoots,
				outbox.EvidenceReadme} {
				want[n] = nil
			}
			got := map[string]bool{}
			for _, n := range files {
				got[n] = true
			}
			for n, b := range want {
				have, err := os.ReadFile(filepath.Join(out, n))
				if !got[n] || err != nil {
					t.Errorf("the bundle lacks %s (%v)", n, err)
				} else if b != nil && !bytes.Equal(have, b) {
					t.Errorf("%s in the bundle differs from the record", n)
				}
			}
			if len(files) != len(want)+1 || files[len(files)-1] != outbox.EvidenceSums {
				t.Errorf("files %v, want %d and SHA256SUMS last", files, len(want)+1)
			}
			// SHA256SUMS: every other file, each hash right.
			sums, _ := os.ReadFile(filepath.Join(out, outbox.EvidenceSums))
			lines := 0
			sc := bufio.NewScanner(bytes.NewReader(sums))
			for sc.Scan() {
				h, n, ok := strings.Cut(sc.Text(), "  ")
				b, err := os.ReadFile(filepath.Join(out, n))
				if !ok || err != nil || h != fmt.Sprintf("%x", sha256.Sum256(b)) {
					t.Errorf("SHA256SUMS line %q does not check", sc.Text())
				}
				lines++
			}
			if lines != len(files)-1 {
				t.Errorf("SHA256SUMS has %d lines for %d files", lines, len(files)-1)
			}
			readme, _ := os.ReadFile(filepath.Join(out, outbox.EvidenceReadme))
			for _, w := range []string{"HIBÁS NYUGTA / DEFECTIVE RECEIPT", res.Receipt.Problem, c.Name, hex.EncodeToString(sum[:])} {
				if !bytes.Contains(readme, []byte(w)) {
					t.Errorf("README lacks %q", w)
				}
			}
		})
	}
}

// TestEvidenceNames: the bundle's file names come from the records (a package's, a receipt's, a
// container's name), which a doctored backup may have changed; each must be a plain file name that
// no other part of the bundle has, so that nothing is written outside the bundle or in place of
// another part.
func TestEvidenceNames(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	data, name := f.pkg(t, receivertest.PackageOptions{Seed: 650})
	res, err := f.sender.Send(ctx, data, name)
	if err != nil {
		t.Fatal(err)
	}
	pkgRow := fmt.Sprintf("UPDATE packages SET name = '%%s' WHERE name = '%s'", name)
	rcptRow := fmt.Sprintf("UPDATE receipts SET name = '%%s' WHERE name = '%s'", res.Receipt.Name)
	contRow := fmt.Sprintf("UPDATE containers SET name = '%%s' WHERE name = '%s'", res.Container.Name)
	outside := filepath.Join(t.TempDir(), "kivul.es3")
	cases := []struct {
		name    string
		tamper  string
		escapes string // a path outside the bundle the tampered name points at ("" none)
		ok      bool
	}{
		{name: "untouched", ok: true},
		{name: "package renamed within the rules", tamper: fmt.Sprintf(pkgRow, "TBA_masik.es3"), ok: true},
		{name: "package name climbing out", tamper: fmt.Sprintf(pkgRow, "../kivul.es3"), escapes: "../kivul.es3"},
		{name: "package name absolute", tamper: fmt.Sprintf(pkgRow, outside), escapes: outside},
		{name: "receipt name in a subdirectory", tamper: fmt.Sprintf(rcptRow, "al/TBN_x.es3")},
		{name: "container name climbing out", tamper: fmt.Sprintf(contRow, "../TBK_x.es3"), escapes: "../TBK_x.es3"},
		{name: "receipt named as the package", tamper: fmt.Sprintf(rcptRow, name)},
		{name: "package named as the send log", tamper: fmt.Sprintf(pkgRow, outbox.EvidenceSendLog)},
		{name: "package named as the README", tamper: fmt.Sprintf(pkgRow, outbox.EvidenceReadme)},
		{name: "package named SHA256SUMS", tamper: fmt.Sprintf(pkgRow, outbox.EvidenceSums)},
		{name: "receipt named as the printable page", tamper: fmt.Sprintf(rcptRow, outbox.EvidenceReceiptPage)},
		{name: "receipt named as the printable page in capitals", tamper: fmt.Sprintf(rcptRow, strings.ToUpper(outbox.EvidenceReceiptPage))},
		{name: "package named as the send log in capitals", tamper: fmt.Sprintf(pkgRow, strings.ToUpper(outbox.EvidenceSendLog))},
		{name: "container named as the receipt report", tamper: fmt.Sprintf(contRow, outbox.EvidenceReceiptReport)},
		{name: "empty receipt name", tamper: fmt.Sprintf(rcptRow, "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tamper []string
			if tc.tamper != "" {
				tamper = append(tamper, tc.tamper)
			}
			ws := copyState(t, f.ws, tamper...)
			s := *f.sender
			s.WS = ws
			out := filepath.Join(t.TempDir(), "bizonyitek")
			files, err := outbox.Evidence(ctx, &s, res.Package.SHA256, out)
			if tc.escapes != "" {
				p := tc.escapes
				if !filepath.IsAbs(p) {
					p = filepath.Join(out, p)
				}
				if _, err := os.Stat(p); err == nil {
					t.Errorf("the bundle wrote %s", p)
				}
			}
			if !tc.ok {
				if err == nil {
					t.Fatalf("a tampered name was written: %v", files)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, n := range files {
				if seen[n] || filepath.Base(n) != n {
					t.Errorf("file %q twice or not plain", n)
				}
				seen[n] = true
			}
		})
	}
}

// TestContainerVersions (SND-31): the container gets a new version when what it records changes — the
// receipt's check becoming final after its grace period, waited for by Send within Retry.FinalWait
// or found by Recheck — and none when nothing changed.
func TestContainerVersions(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	cases := []struct {
		name      string
		finalWait time.Duration
		// waited: Send waits for the grace period's end (and the check is final at once).
		waited bool
	}{
		{name: "no final wait", finalWait: 0},
		{name: "final wait too short", finalWait: time.Millisecond},
		{name: "final wait long enough", finalWait: time.Hour, waited: true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, name := f.pkg(t, receivertest.PackageOptions{Seed: uint64(700 + i)})
			f.front.plan()
			f.waits, f.onWait = nil, nil
			var waitFrom []time.Time
			s := *f.sender
			s.Retry.FinalWait = tc.finalWait
			s.Events = func(e outbox.Event) {
				if e.Wait > 0 {
					waitFrom = append(waitFrom, f.stack.SB.Clock.Now())
				}
			}
			start := f.stack.SB.Clock.Now()
			res, err := s.Send(ctx, data, name)
			if err != nil || res.Receipt.Flagged() {
				t.Fatalf("send: %+v %v", res, err)
			}
			sum := res.Package.SHA256
			versions := func() []workspace.Container {
				all, err := f.ws.Containers(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var out []workspace.Container
				for _, c := range all {
					if c.Package == sum {
						out = append(out, c)
					}
				}
				return out
			}
			cs := versions()
			final := res.ReceiptReport.EarliestFinal
			if final.IsZero() {
				t.Fatal("the receipt report names no end of its grace period")
			}
			if !tc.waited {
				// The grace period runs on: the check is incomplete and the container is v1.
				if len(f.waits) != 0 || res.ReceiptReport.Verdict.Indication != report.Indeterminate || res.ReceiptReport.Verdict.Sub != report.TryLater ||
					res.Receipt.State != string(receipt.Incomplete) || len(cs) != 1 || cs[0].Version != 1 || res.Container.Version != 1 {
					t.Fatalf("waits %v, check %s/%s, containers %+v", f.waits, res.ReceiptReport.Verdict.Indication, res.ReceiptReport.Verdict.Sub, cs)
				}
				if p := readContainer(t, f, &cs[0]); p.CheckState != string(receipt.Incomplete) {
					t.Errorf("v1 records the check as %s", p.CheckState)
				}
				// The grace period's end: the check becomes final, a new version records it.
				f.stack.SB.Clock.Advance(final.Sub(f.stack.SB.Clock.Now()) + time.Second)
				rc, err := s.Recheck(ctx, sum)
				if err != nil {
					t.Fatal(err)
				}
				if !rc.Changed || rc.Report.Verdict.Indication != report.TotalPassed || rc.Receipt.State != string(receipt.Valid) || rc.Container == nil || rc.Container.Version != 2 {
					t.Fatalf("recheck after the grace period: changed %v, %s, container %+v", rc.Changed, rc.Report.Verdict.Indication, rc.Container)
				}
			} else {
				// The wait ends a second past the grace period (the evidence must be issued after it).
				if len(f.waits) != 1 || !waitFrom[0].Equal(start) || f.waits[0] != final.Sub(start)+time.Second {
					t.Fatalf("waits %v from %v, the grace period ends %v", f.waits, waitFrom, final)
				}
				if res.ReceiptReport.Verdict.Indication != report.TotalPassed || res.Receipt.State != string(receipt.Valid) || len(cs) != 2 || res.Container.Version != 2 {
					t.Fatalf("check %s, containers %+v", res.ReceiptReport.Verdict.Indication, cs)
				}
			}
			cs = versions()
			if len(cs) != 2 || cs[0].Version != 1 || cs[1].Version != 2 || cs[0].SHA256 == cs[1].SHA256 || cs[0].Name != cs[1].Name {
				t.Fatalf("versions %+v", cs)
			}
			if p := readContainer(t, f, &cs[1]); p.CheckState != string(receipt.Valid) || len(p.Findings) != 0 {
				t.Errorf("v2 records the check as %s (%v)", p.CheckState, p.Findings)
			}
			stored, _ := f.ws.ReceiptFor(ctx, sum)
			if stored.State != string(receipt.Valid) || stored.Indication != string(report.TotalPassed) {
				t.Errorf("stored receipt %s %s", stored.State, stored.Indication)
			}
			// Nothing changed since: no new version.
			f.stack.SB.Clock.Advance(time.Minute)
			rc, err := s.Recheck(ctx, sum)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Changed || rc.Container == nil || rc.Container.SHA256 != cs[1].SHA256 || len(versions()) != 2 {
				t.Errorf("a recheck without change: changed %v, container %+v, %d versions", rc.Changed, rc.Container, len(versions()))
			}
		})
	}
}

// TestAudit (ADM-04): every stored package, receipt and container re-verifies from the workspace's
// bytes with the kept validation data; a damaged blob is reported, not passed.
func TestAudit(t *testing.T) {
	f := newFixture(t, receivertest.Options{})
	ctx := context.Background()
	f.sender.Retry.FinalWait = time.Hour
	var sums [][32]byte
	for seed := uint64(800); seed < 802; seed++ {
		data, name := f.pkg(t, receivertest.PackageOptions{Seed: seed})
		res, err := f.sender.Send(ctx, data, name)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, res.Receipt.SHA256)
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, ws *workspace.Workspace) string // returns the damaged item's name
	}{
		{name: "untouched"},
		{name: "a receipt's bytes changed", damage: func(t *testing.T, ws *workspace.Workspace) string {
			h := hex.EncodeToString(sums[0][:])
			p := filepath.Join(ws.Dir(), workspace.BlobDir, "sha256", h[:2], h)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, 0o600)
			if err := os.WriteFile(p, flipSignature(b), 0o600); err != nil {
				t.Fatal(err)
			}
			r, _ := ws.Receipts(ctx)
			for _, x := range r {
				if x.SHA256 == sums[0] {
					return x.Name
				}
			}
			t.Fatal("no such receipt")
			return ""
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := copyState(t, f.ws)
			bad := ""
			if tc.damage != nil {
				bad = tc.damage(t, ws)
			}
			s := *f.sender
			s.WS = ws
			items, err := s.Audit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, it := range items {
				count[it.Kind]++
				if want := it.Kind != "receipt" || it.Name != bad; it.OK != want {
					t.Errorf("%s %s: OK %v, want %v (%s/%s, recorded %s: %s)", it.Kind, it.Name, it.OK, want, it.Indication, it.Sub, it.Recorded, it.Detail)
				}
			}
			// Two packages, two receipts, two container versions each.
			if count["package"] != 2 || count["receipt"] != 2 || count["container"] != 4 {
				t.Errorf("audited %v", count)
			}
		})
	}
}
