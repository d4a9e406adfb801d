package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/progress"
)

var declarationValidateCmd = &cli.Command{
	Name:    "validate",
	Summary: "bevallás ellenőrzése (XSD és tartalmi szabályok) / validate a declaration (XSD and content rules)",
	Usage:   "[--json] FILE",
	Help: "Kilépési kód / exit status: 0 érvényes / valid (figyelmeztetésekkel is / warnings allowed),\n" +
		"1 érvénytelen / invalid (E0 hiba / any E0 finding), 3 használati vagy rendszerhiba / usage or system error.\n" +
		"Az előzmény (O/H) létezését itt nem lehet ellenőrizni; azt a pénztár teszi meg. / Whether the\n" +
		"predecessor of an O/H declaration exists cannot be checked here; the fund checks it.",
	Flags: func(fs *flag.FlagSet) {
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("egy fájlnév kell / exactly one file name is needed")
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
		_, findings, err := declaration.Validate(data, set, declaration.CheckContext{Now: env.Now()})
		stop()
		if err != nil {
			return err
		}
		nerr, nwarn := declaration.Count(findings)
		valid := !declaration.Rejects(findings)
		if fs.Lookup("json").Value.String() == "true" {
			if findings == nil {
				findings = []errcode.Finding{}
			}
			if err := cli.WriteJSON(env.Stdout, struct {
				File     string            `json:"file"`
				Valid    bool              `json:"valid"`
				Errors   int               `json:"errors"`
				Warnings int               `json:"warnings"`
				Findings []errcode.Finding `json:"findings"`
			}{args[0], valid, nerr, nwarn, findings}); err != nil {
				return err
			}
		} else {
			if err := cli.WriteFindings(env.Stdout, findings); err != nil {
				return err
			}
			state := "érvényes / valid"
			if !valid {
				state = "ÉRVÉNYTELEN / INVALID"
			}
			fmt.Fprintf(env.Stdout, "%s: %s (%d hiba / errors, %d figyelmeztetés / warnings)\n", args[0], state, nerr, nwarn)
		}
		if !valid {
			return cli.Exit(cli.ExitInvalid)
		}
		return nil
	},
}
