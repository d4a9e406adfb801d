package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/outbox"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/workspace"
)

var backupCmd = &cli.Command{
	Name:    "backup",
	Summary: "a teljes munkaterület mentése egy fájlba / back up the whole workspace into one file",
	Usage:   "OUT.tar [--config FILE] [--json]",
	Help: "Az állapotkönyvtár egésze (ADM-04): az adatbázis konzisztens pillanatképe (VACUUM INTO), a fájltár, a csomagok,\n" +
		"az értesítések, a sorszámok és az aláírási napló, a végén MANIFEST.json a fájlok méretével és SHA-256-jával.\n" +
		"/ The whole state directory (ADM-04): a consistent snapshot of the database (VACUUM INTO), the file store, the\n" +
		"packages, notifications, sequence counters and the signature log, with MANIFEST.json (size, SHA-256) last.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("egy kimeneti fájl kell / exactly one output file is needed")
		}
		cfg, err := loadConfig(env, fs)
		if err != nil {
			return err
		}
		ws, err := workspace.Open(ctx, cfg.StateDir)
		if err != nil {
			return err
		}
		defer ws.Close()
		m, err := ws.Backup(ctx, args[0], env.Now())
		if err != nil {
			return err
		}
		if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
			return cli.WriteJSON(env.Stdout, m)
		}
		var size int64
		for _, f := range m.Files {
			size += f.Size
		}
		fmt.Fprintf(env.Stdout, "Mentés / Backup: %s — %d fájl / files, %d bájt / bytes, sémaverzió / schema version %d\n", args[0], len(m.Files), size, m.SchemaVersion)
		fmt.Fprintf(env.Stdout, "Visszaállítás / Restore: sender restore %s --config …\n", args[0])
		return nil
	},
}

var restoreCmd = &cli.Command{
	Name:    "restore",
	Summary: "munkaterület visszaállítása mentésből, minden elem újraellenőrzésével / restore a workspace from a backup and re-verify every item",
	Usage:   "IN.tar [--config FILE] [--json]",
	Help: "A beállítás stateDir könyvtárába állít vissza, amely nem létezhet vagy üres kell legyen. Minden fájlt a MANIFEST.json-hoz,\n" +
		"minden tárolt elemet a SHA-256-jához, az adatbázist az integritás-ellenőrzéssel vet össze, csak utána kerül a helyére;\n" +
		"végül minden csomagot, nyugtát és konténert újraellenőriz a megőrzött ellenőrzési adatokkal.\n" +
		"Kilépési kód: 0 minden rendben, 1 valamelyik elem nem ellenőrizhető úgy, mint mentéskor, 3 hibás mentés vagy hiba.\n" +
		"/ Restores into the configuration's stateDir, which must not exist or be empty. Every file is checked against\n" +
		"MANIFEST.json, every stored item against its SHA-256, the database with the integrity check, before anything is\n" +
		"moved into place; then every package, receipt and container is re-verified with its kept validation data.\n" +
		"Exit status: 0 all good, 1 an item does not verify as it did, 3 a damaged backup or an error.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runRestore,
}

// itemView is an audited item in the output.
type itemView struct {
	Kind          string `json:"kind"`
	Name          string `json:"name"`
	SHA256        string `json:"sha256"`
	Indication    string `json:"indication,omitempty"`
	SubIndication string `json:"subIndication,omitempty"`
	Recorded      string `json:"recorded,omitempty"`
	OK            bool   `json:"ok"`
	Detail        string `json:"detail,omitempty"`
}

func runRestore(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy mentésfájl kell / exactly one backup file is needed")
	}
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	m, err := workspace.Restore(ctx, args[0], cfg.StateDir)
	if err != nil {
		return err
	}
	st, err := openOutboxConfig(ctx, env, cfg, false, false)
	if err != nil {
		return err
	}
	defer st.close()
	items, err := st.sender.Audit(ctx)
	if err != nil {
		return err
	}
	return writeAudit(env, fs, fmt.Sprintf("Visszaállítva / Restored: %s → %s (%d fájl / files, mentve / backed up %s)", args[0], cfg.StateDir, len(m.Files), fmtTime(m.Created)), items)
}

func writeAudit(env *cli.Env, fs *flag.FlagSet, head string, items []outbox.Item) error {
	views := []itemView{}
	bad := false
	for _, it := range items {
		views = append(views, itemView{Kind: it.Kind, Name: it.Name, SHA256: hexSum(it.SHA256), Indication: string(it.Indication), SubIndication: string(it.Sub),
			Recorded: string(it.Recorded), OK: it.OK, Detail: it.Detail})
		bad = bad || !it.OK
	}
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		if err := cli.WriteJSON(env.Stdout, views); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(env.Stdout, head)
		for _, v := range views {
			mark := "rendben / ok"
			if !v.OK {
				mark = "!!! ELTÉR / DIFFERS"
			}
			hu, en := report.Indication(v.Indication).Words()
			fmt.Fprintf(env.Stdout, "  %-9s %s: %s / %s %s (%s) %s\n", v.Kind, v.Name, hu, en, v.SubIndication, mark, v.Detail)
		}
	}
	if bad {
		return cli.Exit(cli.ExitInvalid)
	}
	return nil
}

var evidenceCmd = &cli.Command{
	Name:    "evidence",
	Summary: "bizonyíték-csomag harmadik félnek: csomag, nyugta, konténer, jelentések / evidence for a third party: package, receipt, container, reports",
	Usage:   "PACKAGE --out DIR [--config FILE] [--json]",
	Help: "Mindent összegyűjt, ami a csomag és a nyugta hitelességének igazolásához kell (SND-32): a csomagot és a nyugtát\n" +
		"változatlanul, a konténer legfrissebb változatát (előtte a nyugtát újraellenőrzi: a kivárási idő után végleges\n" +
		"ellenőrzési adatokkal új konténerváltozat készül), a nyugta nyomtatható oldalát, az ellenőrzési jelentéseket, a\n" +
		"küldési naplót, az értesítéseket, SHA256SUMS-t és egy OLVASSEL.txt-t az ellenőrzés módjával (auditor verify).\n" +
		"/ Gathers everything needed to prove the package and the receipt (SND-32): both unchanged, the latest container\n" +
		"(the receipt is checked again first: after its grace period a new container version gets final validation data),\n" +
		"the receipt's printable page, the verification reports, the send log, the notifications, SHA256SUMS and a\n" +
		"README.txt saying how to verify (auditor verify).",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.String("out", "", "kimeneti könyvtár (nem létezhet vagy üres) / output `DIR` (new or empty)")
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runEvidence,
}

func runEvidence(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy csomag kell / exactly one package is needed")
	}
	out := fs.Lookup("out").Value.String()
	if out == "" {
		return cli.Usagef("--out DIR kell / --out DIR is needed")
	}
	if es, err := os.ReadDir(out); err == nil && len(es) > 0 {
		return cli.Usagef("--out %s: nem üres / not empty", out)
	}
	st, err := openOutbox(ctx, env, fs, false, false)
	if err != nil {
		return err
	}
	defer st.close()
	sum, err := packageKey(ctx, st.ws, args[0])
	if err != nil {
		return err
	}
	pkg, err := st.ws.Package(ctx, sum)
	if err != nil {
		return notFoundExit(err, args[0])
	}
	if _, err := st.ws.ReceiptFor(ctx, sum); err == nil {
		if _, err := st.sender.Recheck(ctx, sum); err != nil {
			return err
		}
	}
	files, err := outbox.Evidence(ctx, st.sender, sum, out)
	if err != nil {
		return err
	}
	if r, err := st.ws.ReceiptFor(ctx, sum); err == nil {
		// The receipt's printable page (SND-28) beside the rest.
		content, rep, ns, err := loadStored(ctx, st, r)
		if err != nil {
			return err
		}
		var page bytes.Buffer
		if err := receiptHTML(&page, r, content, &rep, ns); err != nil {
			return err
		}
		if err := writeFileDurable(filepath.Join(out, outbox.EvidenceReceiptPage), page.Bytes()); err != nil {
			return err
		}
		files = append(files[:len(files)-1], outbox.EvidenceReceiptPage)
		if err := outbox.WriteSums(out, files); err != nil {
			return err
		}
		files = append(files, outbox.EvidenceSums)
	}
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		return cli.WriteJSON(env.Stdout, struct {
			Package string   `json:"package"`
			Dir     string   `json:"dir"`
			Files   []string `json:"files"`
		}{pkg.Name, out, files})
	}
	fmt.Fprintf(env.Stdout, "Bizonyíték / Evidence: %s → %s\n", pkg.Name, out)
	for _, f := range files {
		fmt.Fprintf(env.Stdout, "  %s\n", filepath.Join(out, f))
	}
	return nil
}
