package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/synth"
)

var declarationGenerateCmd = &cli.Command{
	Name:    "generate",
	Summary: "szintetikus (teszt) bevallás előállítása / generate a synthetic (test) declaration",
	Usage:   "--members N --seed S [--period YYYY-MM] [--type B|O|H] [--config FILE] [--out FILE]",
	Help: "Determinisztikus: azonos kapcsolók azonos bájtokat adnak. Az adatok kitaláltak, de minden azonosító\n" +
		"ellenőrzőszáma helyes. / Deterministic: the same flags give the same bytes. The data are invented, but\n" +
		"every identifier has a correct check digit. --config esetén a bevalló és a pénztár a beállítófájlból\n" +
		"jön, így a bevallás becsomagolható. / With --config the declarant and the fund come from the\n" +
		"configuration file, so the declaration can be packed.",
	Flags: func(fs *flag.FlagSet) {
		fs.Int("members", 10, "tagok (tételek) száma / number of members (items)")
		fs.Uint64("seed", 1, "véletlenmag / random seed")
		fs.String("period", "", "`YYYY-MM` időszak / period (alapértelmezés: előző hónap / default: last month)")
		fs.String("type", "B", "bevallás típusa / declaration type: `B|O|H`")
		fs.String("out", "", "kimeneti `FILE` (alapértelmezés: szabványos kimenet) / output file (default: stdout)")
		fs.String("config", "", "a beküldő beállítófájlja: bevalló és pénztár innen / the sender's configuration `FILE`: declarant and fund from it")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 0 {
			return cli.Usagef("fölösleges argumentum / unexpected argument %q", args[0])
		}
		members := fs.Lookup("members").Value.(flag.Getter).Get().(int)
		if members < 0 || members > declaration.MaxItems {
			return cli.Usagef("--members: 0…%d", declaration.MaxItems)
		}
		opts := synth.Options{
			Members: members,
			Seed:    fs.Lookup("seed").Value.(flag.Getter).Get().(uint64),
			Type:    declaration.Type(fs.Lookup("type").Value.String()),
			Now:     env.Now(),
			Program: declaration.Program{Name: programName, Version: programVersion},
		}
		if !opts.Type.Valid() {
			return cli.Usagef("--type: B, O vagy / or H")
		}
		if p := fs.Lookup("period").Value.String(); p != "" {
			period, err := declaration.ParsePeriod(p)
			if err != nil {
				return cli.Usagef("--period: %v", err)
			}
			opts.Period = period
		}
		if path := fs.Lookup("config").Value.String(); path != "" {
			cfg, err := loadConfigFile(env, path)
			if err != nil {
				return err
			}
			opts.Fund = declaration.Fund{Code: cfg.Fund.Code, Name: cfg.Fund.Name}
			opts.Declarant = declaration.Declarant{
				Name:    cfg.Employer.Name,
				ID:      declaration.DeclarantID{Type: cfg.Employer.IDType, Value: cfg.Employer.ID},
				Address: synth.DefaultAddress,
			}
		}
		d := synth.Generate(opts)
		write := func(w io.Writer) error { _, err := d.WriteTo(w); return err }
		out := fs.Lookup("out").Value.String()
		if out == "" || out == "-" {
			return write(env.Stdout)
		}
		if err := cli.CreateFile(out, write); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "%s: %d tétel / items, %s, %s\n", out, len(d.Items), d.Header.Period, d.Header.ID)
		return nil
	},
}
