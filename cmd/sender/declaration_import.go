package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/declaration/csvimport"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/progress"
)

var declarationImportCmd = &cli.Command{
	Name:    "import",
	Summary: "bevallás bérszámfejtési CSV exportból / a declaration from a payroll CSV export",
	Usage: "FILE.csv [--config FILE] [--period YYYY-MM] [--type B|O|H] [--predecessor UUID] [--address \"1111 Budapest, Minta utca 1.\"]\n" +
		"       [--encoding auto|utf-8|windows-1250|iso-8859-2] [--separator auto|;|,] [--out FILE] [--json]",
	Help: "A bérszámfejtő program CSV exportjából elkészíti a bevallást (bevallas.xml): tagonként egy sor, az első\n" +
		"sor az oszlopok neve (sorrendjük tetszőleges; kis- és nagybetű, ékezet, szóköz, kötőjel, aláhúzás nem\n" +
		"számít). / Builds the declaration (bevallas.xml) from a payroll program's CSV export: one line per member,\n" +
		"the first line names the columns (in any order; case, accents, spaces, hyphens, underscores do not matter).\n" +
		"\n" +
		"Oszlopok / Columns (* kötelező / required):\n" +
		"  sorszam / row                        tétel sorszáma (1–1 000 000, egyedi); alapértelmezés: a sor helye\n" +
		"                                       item row number (unique); default: the line's position\n" +
		"* nev / name                           név, családnév elöl, legfeljebb 120 karakter / name, family name first\n" +
		"* szuletesi_datum / birth_date         dátum / date: 1980-05-20, 1980.05.20., 1980. 05. 20.\n" +
		"* taj / taj_szam                       TAJ szám, 9 számjegy (szóköz, kötőjel megengedett) / 9 digits\n" +
		"* adoazonosito / tax_id                adóazonosító jel, 10 számjegy / personal tax id, 10 digits\n" +
		"* jogviszony_kezdete / employment_from dátum / date\n" +
		"  jogviszony_vege / employment_to      dátum, üres ha fennáll / date, empty while employed\n" +
		"* jarulekalap / base                   járulékalap, egész forint / contribution base, whole forints\n" +
		"* tagdij / member_contribution         levont tagdíj, egész forint / member contribution, whole forints\n" +
		"  munkaltatoi_kiegeszites / supplement munkáltatói kiegészítés (alapértelmezés 0) / employer supplement (default 0)\n" +
		"Összegek / Amounts: 1234567, 1 234 567, 1.234.567, 1 234 567 Ft; tizedesvessző csak nulla törttel\n" +
		"(1 234,00) / a decimal comma only with a zero fraction; tört forint hiba (D004) / a fraction is an error.\n" +
		"Kódolás / Encoding: UTF-8 (BOM is), Windows-1250 vagy / or ISO-8859-2, felismerve vagy --encoding;\n" +
		"elválasztó / separator: ; vagy / or , (a fejlécből / from the header, or --separator).\n" +
		"\n" +
		"A bevalló és a pénztár a beállítófájlból jön; a bevalló címe --address vagy a kapcsolattartó címe\n" +
		"(contact.address). Minden hibás sort egyszerre jelez, sorszámmal és D-kóddal; hibás fájlból nem készül\n" +
		"bevallás. / The declarant and the fund come from the configuration; the declarant's address from\n" +
		"--address or the contact's address. Every bad line is reported at once, by line number and D-code; a\n" +
		"file with errors gives no declaration.\n" +
		"Kilépési kód / Exit status: 0 kész / written (figyelmeztetéssel is / warnings allowed), 1 hibás fájl /\n" +
		"errors in the file, 3 használati vagy rendszerhiba / usage or system error.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.String("period", "", "`YYYY-MM` időszak / period (alapértelmezés: előző hónap / default: last month)")
		fs.String("type", "B", "bevallás típusa / declaration type: `B|O|H`")
		fs.String("predecessor", "", "O és H: az előzmény beküldési azonosítója / O and H: the predecessor's submission `UUID`")
		fs.String("address", "", "a bevalló címe / the declarant's `ADDRESS` (\"1111 Budapest, Minta utca 1.\"; alapértelmezés / default: contact.address)")
		fs.String("encoding", "auto", "a CSV kódolása / the CSV's `ENCODING`: auto, utf-8, windows-1250, iso-8859-2")
		fs.String("separator", "auto", "elválasztó / `SEPARATOR`: auto, ; vagy / or ,")
		fs.String("out", "", "kimeneti `FILE` (alapértelmezés: szabványos kimenet) / output file (default: stdout)")
		fs.Bool("json", false, "géppel olvasható jelentés (--out kell hozzá) / machine-readable report (needs --out)")
	},
	Run: runImport,
}

// importReport is the --json output.
type importReport struct {
	File         string            `json:"file"`
	Valid        bool              `json:"valid"`
	Out          string            `json:"out,omitempty"`
	SubmissionID string            `json:"submissionId,omitempty"`
	Items        int               `json:"items"`
	Lines        int               `json:"lines"`
	Encoding     string            `json:"encoding,omitempty"`
	Separator    string            `json:"separator,omitempty"`
	Errors       int               `json:"errors"`
	Warnings     int               `json:"warnings"`
	Findings     []errcode.Finding `json:"findings"`
	Dropped      int               `json:"findingsNotShown,omitempty"`
}

// addressRE reads an address written as Address.String writes it.
var addressRE = regexp.MustCompile(`^\s*([0-9]{4})\s+([^,]+?)\s*,\s*(.+?)\s*$`)

func parseAddress(s string) (declaration.Address, bool) {
	m := addressRE.FindStringSubmatch(s)
	if m == nil {
		return declaration.Address{}, false
	}
	return declaration.Address{PostalCode: m[1], City: m[2], Street: m[3]}, true
}

func runImport(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy CSV fájl kell / exactly one CSV file is needed")
	}
	asJSON := fs.Lookup("json").Value.(flag.Getter).Get().(bool)
	out := fs.Lookup("out").Value.String()
	if asJSON && (out == "" || out == "-") {
		return cli.Usagef("--json mellé --out FILE kell (a szabványos kimenet a jelentésé) / --json needs --out FILE (stdout carries the report)")
	}
	enc, err := csvimport.ParseEncoding(fs.Lookup("encoding").Value.String())
	if err != nil {
		return cli.Usagef("--encoding: %v", err)
	}
	var sep rune
	switch s := fs.Lookup("separator").Value.String(); s {
	case "", "auto":
	case ";", ",":
		sep = rune(s[0])
	default:
		return cli.Usagef("--separator: auto, ; vagy / or ,")
	}
	typ := declaration.Type(fs.Lookup("type").Value.String())
	if !typ.Valid() {
		return cli.Usagef("--type: B, O vagy / or H")
	}
	now := env.Now().UTC().Truncate(time.Second)
	period := declaration.PeriodOf(now).Prev()
	if p := fs.Lookup("period").Value.String(); p != "" {
		if period, err = declaration.ParsePeriod(p); err != nil {
			return cli.Usagef("--period: %v", err)
		}
	}
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	addr := fs.Lookup("address").Value.String()
	if addr == "" {
		addr = cfg.Contact.Address
	}
	address, ok := parseAddress(addr)
	if !ok {
		return cli.Usagef("a bevalló címe nem olvasható (%q): --address \"1111 Budapest, Minta utca 1.\" / the declarant's address cannot be read (%q): "+
			"--address \"1111 Budapest, Minta utca 1.\"", addr, addr)
	}

	path := args[0]
	data, err := readWithProgress(env, path)
	if err != nil {
		return err
	}
	bar := progress.New(env.Stderr, int64(bytes.Count(data, []byte("\n"))+1), "sorok / lines", false)
	res, err := csvimport.Import(data, csvimport.Options{
		Header: declaration.Header{ID: uuid.NewString(), Type: typ, PredecessorID: fs.Lookup("predecessor").Value.String(), Period: period,
			Created: now, Program: declaration.Program{Name: programName, Version: programVersion}},
		Declarant: declaration.Declarant{Name: cfg.Employer.Name, ID: declaration.DeclarantID{Type: cfg.Employer.IDType, Value: cfg.Employer.ID},
			Address: address},
		Fund:      declaration.Fund{Code: cfg.Fund.Code, Name: cfg.Fund.Name},
		Encoding:  enc,
		Separator: sep,
		Now:       env.Now(),
		Progress:  func(lines int) { bar.Set(int64(lines)) },
	})
	bar.Finish()
	if err != nil {
		return cli.Usagef("%v", err)
	}
	rep := importReport{File: path, Items: res.Items, Lines: res.Lines, Encoding: string(res.Encoding), Findings: res.Findings, Dropped: res.Dropped}
	if res.Separator != 0 {
		rep.Separator = string(res.Separator)
	}
	var xml []byte
	if res.OK() {
		if xml, err = res.Declaration.Marshal(); err != nil {
			return err
		}
		// The declaration written must pass what pack will check: the schema and the content rules.
		set, err := loadSchemas()
		if err != nil {
			return err
		}
		stop := progress.Spin(env.Stderr, "ellenőrzés / validating")
		_, findings, err := declaration.Validate(xml, set, declaration.CheckContext{Now: env.Now()})
		stop()
		set.Close()
		if err != nil {
			return err
		}
		if declaration.Rejects(findings) {
			rep.Findings = append(rep.Findings, findings...)
			xml = nil
		}
	}
	rep.Errors, rep.Warnings = declaration.Count(rep.Findings)
	rep.Errors += res.Dropped // dropped findings count as problems: the report is not complete
	rep.Valid = xml != nil
	if rep.Findings == nil {
		rep.Findings = []errcode.Finding{}
	}
	// The report goes to stdout, unless stdout carries the declaration.
	report := env.Stdout
	if out == "" || out == "-" {
		report = env.Stderr
	}
	if rep.Valid {
		rep.SubmissionID = res.Declaration.Header.ID
		write := func(w io.Writer) error { _, err := w.Write(xml); return err }
		if out == "" || out == "-" {
			if err := write(env.Stdout); err != nil {
				return err
			}
		} else {
			if err := cli.CreateFile(out, write); err != nil {
				return err
			}
			rep.Out = out
		}
	}
	if asJSON {
		if err := cli.WriteJSON(report, rep); err != nil {
			return err
		}
	} else {
		cli.WriteFindings(report, rep.Findings)
		if res.Dropped > 0 {
			fmt.Fprintf(report, "… és további %d megállapítás / … and %d more findings\n", res.Dropped, res.Dropped)
		}
		if rep.Valid {
			where := out
			if where == "" || where == "-" {
				where = "-"
			}
			fmt.Fprintf(report, "%s → %s: %d tétel / items, időszak / period %s, beküldési azonosító / submission id %s (kódolás / encoding %s, elválasztó / separator %q)\n",
				path, where, rep.Items, period, rep.SubmissionID, rep.Encoding, rep.Separator)
		} else {
			fmt.Fprintf(report, "%s: HIBÁS, nem készült bevallás (%d hiba, %d figyelmeztetés) / ERRORS, no declaration was written (%d errors, %d warnings)\n",
				path, rep.Errors, rep.Warnings, rep.Errors, rep.Warnings)
		}
	}
	if !rep.Valid {
		return cli.Exit(cli.ExitInvalid)
	}
	return nil
}

// readWithProgress reads a file the user named, at most csvimport.MaxBytes, with a bar over its bytes.
func readWithProgress(env *cli.Env, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &os.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	if st.Size() > csvimport.MaxBytes {
		return nil, cli.Invalidf("%s: nagyobb, mint %d bájt / larger than %d bytes", path, csvimport.MaxBytes, csvimport.MaxBytes)
	}
	bar := progress.New(env.Stderr, st.Size(), "beolvasás / reading", true)
	defer bar.Finish()
	data, err := io.ReadAll(io.LimitReader(bar.Reader(f), csvimport.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > csvimport.MaxBytes {
		return nil, cli.Invalidf("%s: nagyobb, mint %d bájt / larger than %d bytes", path, csvimport.MaxBytes, csvimport.MaxBytes)
	}
	return data, nil
}
