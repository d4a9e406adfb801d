package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagdij/tagdij/archive"
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/pack"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/receiver/receivertest"
	"github.com/tagdij/tagdij/internal/sandbox"
	"github.com/tagdij/tagdij/internal/sandbox/sandboxtest"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

// world is a sandbox with an archive holding real packages: each signed by two sandbox signers,
// time-stamped, extended to XAdES-A, with its signed receipt, archived and sealed as the processor
// does it.
type world struct {
	sb      *sandboxtest.Env
	dir, db string
	flags   []string
	entries []*archive.Entry
	plain   [][]byte // the unextended packages, per entry
}

func newWorld(t *testing.T, n int) *world {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.SharedKeys())
	ctx := context.Background()
	b := receivertest.NewBuilder(t, sb)
	w := &world{sb: sb, dir: filepath.Join(t.TempDir(), "archive"), db: filepath.Join(t.TempDir(), "store.db")}
	db, err := sqlite.Open(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rk := sb.World.MustEntity(sandbox.FundReceipt)
	a, err := archive.New(w.dir, db.ArchiveIndex(), archive.Options{Signer: rk.Key, Certificate: rk.Cert, Chain: rk.Chain, TSA: b.TSA, Now: sb.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// A package as the receiver accepted it, read through the one verified-package result.
		data, name := b.Package(t, receivertest.PackageOptions{Signers: []int{0, 1}, Seed: uint64(10 + i)})
		v, err := pack.Verify(ctx, data, pack.VerifyOptions{Env: b.Env, Schemas: b.Schemas, Now: sb.Clock.Now(), FileName: name})
		if err != nil || v.Metadata == nil {
			t.Fatalf("the package: %v", err)
		}
		m := v.Metadata
		// After the grace period: extended, with the fund's signed receipt (as the processor does).
		sb.Clock.Advance(6 * time.Second)
		ext, rep, err := xades.Extend(ctx, data, xades.ExtendOptions{Verify: xades.VerifyOptions{Env: b.Env, Kind: policy.KindPackage, Now: sb.Clock.Now()}, TSA: b.TSA})
		if err != nil {
			t.Fatalf("Extend: %v %+v", err, rep)
		}
		sum := sha256.Sum256(data)
		period, _ := declaration.ParsePeriod(m.Period)
		r, err := receipt.NewAcceptance(receipt.ReceivedPackage{FileName: name, Size: int64(len(data)), SHA256: sum,
			SubmissionID: m.ID, Period: period, Type: declaration.Type(m.Type)}, sb.Clock.Now(), b.Fund,
			receipt.Declarant{IDType: declaration.IDType(m.Declarant.IDType), ID: m.Declarant.ID, Name: m.Declarant.Name},
			receipt.PreCheck{State: receipt.Incomplete}, sb.Clock.Now().Add(2*time.Second), []errcode.Finding{})
		if err != nil {
			t.Fatal(err)
		}
		rcpt, rname, err := receiptpkg.Build(ctx, r, receiptpkg.BuildOptions{Signer: rk.Key, Certificate: rk.Cert, Chain: rk.Chain, Policy: b.Policy, TSA: b.TSA, Now: sb.Clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		e, err := a.Put(ctx, archive.Input{PackageSHA256: sum, PackageName: name, Original: data, Extended: ext,
			ReceiptName: rname, Receipt: rcpt, Report: []byte(`{"verdict":"TOTAL-PASSED"}`),
			SubmissionID: m.ID, DeclarantType: m.Declarant.IDType, DeclarantID: m.Declarant.ID, Fund: m.Fund,
			Period: m.Period, DeclType: m.Type, Outcome: "valid"})
		if err != nil {
			t.Fatal(err)
		}
		w.entries = append(w.entries, e)
		w.plain = append(w.plain, data)
	}
	if _, err := a.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	w.flags = []string{"--dir", w.dir, "--db", w.db, "--trust", filepath.Join(sb.Dir, sandbox.TrustConfigFile), "--policy", "sandbox", "--signer", sb.World.Path(rk.Files.Cert)}
	return w
}

func (w *world) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: w.sb.Clock.Now}
	code := run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func (w *world) sql(t *testing.T, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

type verifyOut struct {
	OK         bool              `json:"ok"`
	Entries    int               `json:"entries"`
	TreeHeads  int               `json:"treeHeads"`
	BadEntries []string          `json:"badEntries"`
	Problems   []archive.Problem `json:"problems"`
}

// TestArchiveCommands: `archive verify` and `archive show` through their command functions, on an
// archive of real extended packages re-verified offline with pack.Verify.
func TestArchiveCommands(t *testing.T) {
	w := newWorld(t, 2)
	args := func(a ...string) []string { return append(a, w.flags...) }

	code, out, errs := w.run(t, args("archive", "verify")...)
	if code != cli.ExitOK || !strings.Contains(out, "ÉP / INTACT") {
		t.Fatalf("verify of a good archive: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = w.run(t, args("archive", "verify", "--json")...)
	var v verifyOut
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &v) != nil || !v.OK || v.Entries != 2 || v.TreeHeads != 1 || len(v.BadEntries) != 0 || len(v.Problems) != 0 {
		t.Fatalf("verify --json: %d %s", code, out)
	}

	id := w.entries[1].ID
	code, out, errs = w.run(t, args("archive", "show", id)...)
	if code != cli.ExitOK || !strings.Contains(out, id) || !strings.Contains(out, "Inclusion proof") || !strings.Contains(out, "time-stamped") {
		t.Fatalf("show: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = w.run(t, args("archive", "show", "--json", id)...)
	var p struct {
		Entry struct {
			ID         string `json:"id"`
			LeafIndex  uint64 `json:"leafIndex"`
			LeafHash   string `json:"leafHash"`
			LeafRecord string `json:"leafRecord"`
		} `json:"entry"`
		Sealed   bool `json:"sealed"`
		TreeHead struct {
			Size        uint64    `json:"size"`
			Root        string    `json:"root"`
			TimeStamped time.Time `json:"timeStamped"`
		} `json:"treeHead"`
		Path []string `json:"inclusionPath"`
	}
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &p) != nil || p.Entry.ID != id || !p.Sealed || p.TreeHead.Size != 2 || len(p.Path) != 1 || p.TreeHead.TimeStamped.IsZero() {
		t.Fatalf("show --json: %d %s", code, out)
	}
	// The printed proof verifies by hand (archive/README.md): the leaf record file hashes to the
	// leaf, SHA-256(0x00 || record); leaf 1 of 2 → root = SHA-256(0x01 || path[0] || leaf).
	record, err := os.ReadFile(filepath.Join(w.dir, "leaves", "sha256", p.Entry.LeafRecord[:2], p.Entry.LeafRecord))
	if err != nil {
		t.Fatal(err)
	}
	if lh := sha256.Sum256(append([]byte{0}, record...)); hex.EncodeToString(lh[:]) != p.Entry.LeafHash {
		t.Errorf("the leaf record does not hash to the printed leaf")
	}
	leaf, _ := hex.DecodeString(p.Entry.LeafHash)
	sib, _ := hex.DecodeString(p.Path[0])
	root := sha256.Sum256(append(append([]byte{1}, sib...), leaf...))
	if hex.EncodeToString(root[:]) != p.TreeHead.Root {
		t.Errorf("the printed inclusion proof does not lead to the printed root")
	}

	// Usage and system errors: 3.
	for name, a := range map[string][]string{
		"unknown entry":   args("archive", "show", "00000000-0000-4000-8000-000000000000"),
		"no entry":        args("archive", "show"),
		"verify with arg": args("archive", "verify", "extra"),
		"no signer":       {"archive", "verify", "--dir", w.dir, "--db", w.db, "--trust", filepath.Join(w.sb.Dir, sandbox.TrustConfigFile)},
		"no subcommand":   {"archive"},
		"bad flag":        args("archive", "verify", "--nope"),
	} {
		if code, _, _ := w.run(t, a...); code != cli.ExitUsage {
			t.Errorf("%s: exit %d, want 3", name, code)
		}
	}

	// One byte of the first entry's extended package changed: 1, the entry named.
	ext := w.entries[0].Extended.SHA256
	h := hex.EncodeToString(ext[:])
	path := filepath.Join(w.dir, "parts", "sha256", h[:2], h)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(orig)
	bad[len(bad)/2] ^= 1
	os.WriteFile(path, bad, 0o600)
	code, out, _ = w.run(t, args("archive", "verify", "--json")...)
	v = verifyOut{}
	if code != cli.ExitInvalid || json.Unmarshal([]byte(out), &v) != nil || v.OK || len(v.BadEntries) != 1 || v.BadEntries[0] != w.entries[0].ID {
		t.Fatalf("verify after a changed byte: %d %s", code, out)
	}
	if code, out, _ := w.run(t, args("archive", "verify")...); code != cli.ExitInvalid || !strings.Contains(out, "SÉRÜLT / TAMPERED") || !strings.Contains(out, string(archive.PartChanged)) {
		t.Errorf("verify text after a changed byte: %d\n%s", code, out)
	}
	os.WriteFile(path, orig, 0o600)

	// The byte restored: intact again.
	if code, _, _ := w.run(t, args("archive", "verify")...); code != cli.ExitOK {
		t.Fatalf("restored archive: %d", code)
	}

	// An edited index row: verify names it, show refuses it.
	w.sql(t, `UPDATE archive_entries SET outcome = 'invalid' WHERE id = ?`, id)
	code, out, _ = w.run(t, args("archive", "verify", "--json")...)
	v = verifyOut{}
	if code != cli.ExitInvalid || json.Unmarshal([]byte(out), &v) != nil || len(v.BadEntries) != 1 || v.BadEntries[0] != id {
		t.Fatalf("verify after an index edit: %d %s", code, out)
	}
	if code, _, errs := w.run(t, args("archive", "show", id)...); code != cli.ExitInvalid || !strings.Contains(errs, "TAMPERED") {
		t.Errorf("show of an edited entry: %d %s", code, errs)
	}
}

// TestArchiveVerifyRechecksPackages: an archived "extended" package that does not verify offline
// (here: the package before extension, which lacks validation data) is named by the re-verification
// with its code, although every hash is right; --no-packages skips the re-verification.
func TestArchiveVerifyRechecksPackages(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	rk := w.sb.World.MustEntity(sandbox.FundReceipt)
	a, err := archive.New(w.dir, db.ArchiveIndex(), archive.Options{Certificate: rk.Cert, Now: w.sb.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// A renewal entry whose "extended" package is the unextended one: a renewal gone wrong.
	e := w.entries[0]
	orig, _ := a.Read(ctx, e, archive.Original)
	rcpt, _ := a.Read(ctx, e, archive.Receipt)
	rep, _ := a.Read(ctx, e, archive.Report)
	bad, err := a.Put(ctx, archive.Input{PackageSHA256: e.PackageSHA256, PackageName: e.PackageName, Original: orig, Extended: w.plain[0],
		ReceiptName: e.ReceiptName, Receipt: rcpt, Report: rep, SubmissionID: e.SubmissionID, DeclarantType: e.DeclarantType,
		DeclarantID: e.DeclarantID, Fund: e.Fund, Period: e.Period, DeclType: e.DeclType, Outcome: e.Outcome, Renews: e.ID})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, _ := w.run(t, append([]string{"archive", "verify", "--json"}, w.flags...)...)
	var v verifyOut
	if code != cli.ExitInvalid || json.Unmarshal([]byte(out), &v) != nil || len(v.BadEntries) != 1 || v.BadEntries[0] != bad.ID {
		t.Fatalf("verify with a package that does not verify offline: %d %s", code, out)
	}
	found := false
	for _, p := range v.Problems {
		found = found || (p.Kind == archive.PackageInvalid && p.Entry == bad.ID && p.Code != "")
	}
	if !found {
		t.Errorf("no coded package-invalid problem: %s", out)
	}
	if code, out, _ := w.run(t, append([]string{"archive", "verify", "--no-packages"}, w.flags...)...); code != cli.ExitOK {
		t.Errorf("--no-packages: %d\n%s", code, out)
	}
}
