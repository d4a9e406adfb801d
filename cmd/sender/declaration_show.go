package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/progress"
	"github.com/tagdij/tagdij/internal/sheet"
)

var declarationShowCmd = &cli.Command{
	Name:    "show",
	Summary: "összesítő adatlap és tételes lista megjelenítése / show the summary sheet and itemised list",
	Usage:   "[--limit N] [--html OUT.html] FILE",
	Help: "Aláírás előtt ezt kell átnéznie az aláírónak (SND-08). A táblázat a terminálra kerül; --html\n" +
		"nyomtatható oldalt is ír, amely minden tételt tartalmaz. Tartalmi hibák esetén is megjelenít\n" +
		"(a hibákat a táblázat után sorolja fel, a HTML oldal minden tétel sorában a saját hibakódjait); csak\n" +
		"olvashatatlan vagy sémahibás fájlnál lép ki 1-gyel. A táblázat a terminál szélességéhez igazodik.\n" +
		"/ What the signer reviews before signing (SND-08). The table goes to the terminal; --html also\n" +
		"writes a printable page with every item. Content errors are listed after the table (the HTML page\n" +
		"shows each item's codes on its row) and do not stop the display; the exit status is 1 only for a\n" +
		"file that fails the schema. The table fits the terminal's width.",
	Flags: func(fs *flag.FlagSet) {
		fs.Int("limit", 100, "legfeljebb ennyi tételsor a terminálon, 0: mind / at most this many item rows on the terminal, 0: all")
		fs.String("html", "", "nyomtatható HTML oldal ide / write a printable HTML page to `OUT.html`")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("egy fájlnév kell / exactly one file name is needed")
		}
		limit := fs.Lookup("limit").Value.(flag.Getter).Get().(int)
		if limit < 0 {
			return cli.Usagef("--limit: ≥ 0")
		}
		data, err := cli.ReadFile(args[0], maxDeclarationBytes)
		if err != nil {
			return err
		}
		set, err := loadSchemas()
		if err != nil {
			return err
		}
		defer set.Close()
		stop := progress.Spin(env.Stderr, "ellenőrzés / validating")
		d, findings, err := declaration.Validate(data, set, declaration.CheckContext{Now: env.Now()})
		stop()
		if err != nil {
			return err
		}
		if d == nil {
			cli.WriteFindings(env.Stderr, findings)
			return &cli.ExitError{Code: cli.ExitInvalid, Msg: args[0] + ": nem jeleníthető meg / cannot be shown"}
		}
		sum := sha256.Sum256(data)
		if findings == nil {
			findings = []errcode.Finding{} // checked, nothing found: the page says valid
		}
		opts := sheet.Options{Limit: limit, Source: args[0], SHA256: hex.EncodeToString(sum[:]), Width: env.Width(), Findings: findings}
		if err := sheet.Text(env.Stdout, d, opts); err != nil {
			return err
		}
		if len(findings) > 0 {
			fmt.Fprintf(env.Stdout, "\nELLENŐRZÉS / CHECK\n")
			cli.WriteFindings(env.Stdout, findings)
		}
		if out := fs.Lookup("html").Value.String(); out != "" {
			if err := cli.CreateFile(out, func(w io.Writer) error { return sheet.HTML(w, d, opts) }); err != nil {
				return err
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				abs = out
			}
			fmt.Fprintf(env.Stdout, "\nHTML: %s\n", abs)
		}
		return nil
	},
}
