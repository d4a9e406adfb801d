// Command auditor is the tax auditor's and the fund's internal audit's program (SPEC §1): offline
// verification, years later, of Tagdíj packages and receipt packages, of other e-akta dossiers and of
// any XMLDSig/XAdES document, with bilingual text and JSON reports; and the signature policy.
//
// The logic lives in cmd/auditor/internal/audit; this file only wires flags to it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/cmd/auditor/internal/audit"
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

var commands = []*cli.Command{verifyCmd, policyCmd}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with buffers.
func run(ctx context.Context, env *cli.Env, args []string) int {
	return cli.Main(ctx, env, "auditor", commands, args)
}

// maxFileBytes bounds what is read: the XML parser's own limit.
var maxFileBytes = libxml.DefaultLimits().MaxBytes

func policyFlag(fs *flag.FlagSet) {
	fs.String("policy", "production", "aláírási szabályzat: production, sandbox vagy egy fájl / signature policy: production, sandbox or a `FILE`")
}

var verifyCmd = &cli.Command{
	Name:    "verify",
	Summary: "aláírt fájlok ellenőrzése (alapértelmezésben hálózat nélkül) / verify signed files (offline by default)",
	Usage:   "FILE... [--format text|json] [--at TIME] [--trust FILE] [--policy production|sandbox|FILE] [--online] [--kind auto|package|receipt|container|e-akta|xmldsig]",
	Help: "Utólagos ellenőrzés (DEF-11, SIG-00): a fájl fajtáját a gyökérelem dönti el: Tagdíj csomag\n" +
		"(bevallas.xml), nyugtacsomag (nyugta.xml) vagy beküldői konténer (kontener.xml, a benne őrzött\n" +
		"ellenőrzési adatokkal) szigorú módban, más e-akta dosszié általános módban,\n" +
		"bármely más XML az XMLDSig/XAdES aláírásaival. Alapértelmezésben nincs hálózat: csak a fájlba\n" +
		"ágyazott ellenőrzési adatok számítanak (kiterjesztett, XAdES-A csomag így is érvényes); --online\n" +
		"letölti a hiányzó visszavonási adatokat. --at az ellenőrzés időpontja. Minden aláírásnál megadja az\n" +
		"XMLDSig alapérvényességet is (lenyomatok és aláírásérték). Bizalmi beállítás (--trust) nélkül\n" +
		"lánc nem építhető, az eredmény legfeljebb befejezetlen. Több fájlnál a JSON egy tömb.\n" +
		"Kilépési kód: a legrosszabb eredmény: 0 érvényes, 1 érvénytelen, 2 befejezetlen, 3 hiba.\n" +
		"/ Later check (DEF-11, SIG-00): the root element decides what a file is: a Tagdíj package\n" +
		"(bevallas.xml), receipt package (nyugta.xml) or sender container (kontener.xml, with the validation data\n" +
		"it keeps), strictly; any other e-akta dossier in generic mode;\n" +
		"any other XML by its XMLDSig/XAdES signatures. Offline by default: only validation data embedded in\n" +
		"the file counts (an extended XAdES-A package verifies so); --online fetches missing revocation\n" +
		"evidence. --at is the validation time. Every signature's XMLDSig core validity (digests and\n" +
		"signature value) is reported too. Without a trust configuration (--trust) no chain can be built and\n" +
		"the result is at best incomplete. With several files the JSON is one array.\n" +
		"Exit status: the worst result: 0 valid, 1 invalid, 2 incomplete, 3 error.",
	Flags: func(fs *flag.FlagSet) {
		fs.String("format", "text", "kimenet: text vagy json / output `FORMAT`: text or json")
		fs.String("at", "", "az ellenőrzés időpontja (RFC 3339), alapértelmezés: most / validation `TIME` (RFC 3339), default now")
		fs.String("trust", "", "bizalmi beállítások (JSON), pl. SANDBOX/trust.json / trust configuration `FILE` (JSON), e.g. SANDBOX/trust.json")
		policyFlag(fs)
		fs.Bool("online", false, "hiányzó visszavonási adatok letöltése / fetch missing revocation evidence")
		fs.String("kind", "auto", "a fájl fajtája: auto, package, receipt, container, e-akta, xmldsig / what the files are: auto, package, receipt, container, e-akta, xmldsig")
	},
	Run: runVerify,
}

func runVerify(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return cli.Usagef("legalább egy fájl kell / at least one file is needed")
	}
	format := fs.Lookup("format").Value.String()
	if format != "text" && format != "json" {
		return cli.Usagef("--format: text vagy json / text or json")
	}
	kind, err := audit.ParseKind(fs.Lookup("kind").Value.String())
	if err != nil {
		return cli.Usagef("--kind: %v", err)
	}
	now := env.Now()
	if at := fs.Lookup("at").Value.String(); at != "" {
		if now, err = time.Parse(time.RFC3339, at); err != nil {
			return cli.Usagef("--at: RFC 3339 időpont kell / an RFC 3339 time is needed: %v", err)
		}
	}
	pol, err := policy.Select(fs.Lookup("policy").Value.String())
	if err != nil {
		return err
	}
	online := fs.Lookup("online").Value.(flag.Getter).Get().(bool)
	var tenv *trust.Env
	if path := fs.Lookup("trust").Value.String(); path != "" {
		var err error
		if tenv, err = audit.LoadTrust(path, pol, online, env.Now); err != nil {
			return err
		}
	} else {
		if online {
			return cli.Usagef("--online csak --trust mellett / --online needs --trust")
		}
		fmt.Fprintln(env.Stderr, "auditor: nincs bizalmi beállítás (--trust): csak a szerkezet és az alapérvényesség ellenőrizhető / "+
			"no trust configuration (--trust): only structure and core validity can be checked")
		tenv = audit.NoTrust(pol)
	}
	set, err := schema.Load(libxml.Parser{})
	if err != nil {
		return err
	}
	defer set.Close()

	var results []*audit.Result
	failed := false
	for _, path := range args {
		data, err := cli.ReadFile(path, maxFileBytes)
		if err != nil {
			fmt.Fprintf(env.Stderr, "auditor: %v\n", err)
			failed = true
			continue
		}
		res, err := audit.Verify(ctx, data, audit.Options{Env: tenv, Kind: kind, Now: now, FileName: filepath.Base(path), Schemas: set})
		if err != nil {
			fmt.Fprintf(env.Stderr, "auditor: %s: %v\n", path, err)
			failed = true
			continue
		}
		results = append(results, res)
	}
	if format == "json" {
		var v any = results
		if len(args) == 1 && len(results) == 1 {
			v = results[0]
		}
		if err := cli.WriteJSON(env.Stdout, v); err != nil {
			return err
		}
	} else {
		for i, r := range results {
			if i > 0 {
				fmt.Fprintln(env.Stdout)
			}
			if err := writeText(env.Stdout, r); err != nil {
				return err
			}
		}
	}
	if failed {
		return cli.Exit(cli.ExitUsage)
	}
	verdicts := make([]report.Indication, 0, len(results))
	for _, r := range results {
		verdicts = append(verdicts, r.Verdict.Indication)
	}
	return cli.VerdictExit(verdicts...)
}

func writeText(w io.Writer, r *audit.Result) error {
	if err := report.WriteText(w, r.Document); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  Fajta / Verified as: %s\n", r.VerifiedAs)
	for _, s := range r.Signatures {
		fmt.Fprintf(w, "  XMLDSig alapérvényesség / core validity %s: %s\n", s.ID, s.CoreValidity)
	}
	for _, p := range r.Parts {
		hu, en := p.Verdict.Indication.Words()
		fmt.Fprintf(w, "  Rész / Part %s (%s): %s / %s %s\n", p.File, p.Kind, hu, en, p.Verdict.Sub)
	}
	if r.ReceiptError != "" {
		fmt.Fprintf(w, "  Nyugta / Receipt: %s\n", r.ReceiptError)
	}
	if r.Receipt != nil {
		fmt.Fprintln(w)
		return receipt.Text(w, r.Receipt, "")
	}
	return nil
}

var policyCmd = &cli.Command{
	Name:    "policy",
	Summary: "az aláírási szabályzat megtekintése / view the signature policy",
	Sub: []*cli.Command{{
		Name:    "show",
		Summary: "a szabályzat teljes szövege / the whole policy in readable form",
		Usage:   "[--policy production|sandbox|FILE] [--lang hu|en] [--html OUT.html] [--raw]",
		Help: "A szabályzat hatálya, feltételei, kivárási ideje, időkorlátai és algoritmusai, azonosítójával és\n" +
			"SHA-256 lenyomatával (SIG-19). --raw: a pontos XML, amelynek lenyomatát az aláírások hordozzák.\n" +
			"/ The policy's scope, conditions, grace periods, time gaps and algorithms with its identifier and\n" +
			"SHA-256 (SIG-19). --raw: the exact XML whose digest signatures carry.",
		Flags: func(fs *flag.FlagSet) {
			policyFlag(fs)
			fs.String("lang", "", "nyelv: hu, en, üres = mindkettő / language: hu, en, empty = both")
			fs.String("html", "", "nyomtatható HTML oldal ide / also write a printable page to `OUT.html`")
			fs.Bool("raw", false, "a szabályzat XML-je változatlanul / the policy XML as published")
		},
		Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("nem vár fájlnevet / takes no file names")
			}
			p, err := policy.Select(fs.Lookup("policy").Value.String())
			if err != nil {
				return err
			}
			return cli.ShowPolicy(env, p, fs.Lookup("lang").Value.String(), fs.Lookup("raw").Value.(flag.Getter).Get().(bool),
				fs.Lookup("html").Value.String())
		},
	}},
}
