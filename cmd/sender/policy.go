package main

import (
	"context"
	"flag"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/policy"
)

// policyCmd groups the commands about the signature policy (SIG-19, SND-08).
var policyCmd = &cli.Command{
	Name:    "policy",
	Summary: "az aláírási szabályzat megtekintése / view the signature policy",
	Sub:     []*cli.Command{policyShowCmd},
}

// policyFlag declares the --policy flag every command that evaluates a policy shares.
func policyFlag(fs *flag.FlagSet) {
	fs.String("policy", "production", "aláírási szabályzat: production, sandbox vagy egy fájl / signature policy: production, sandbox or a `FILE`")
}

// selectedPolicy loads the policy the --policy flag names.
func selectedPolicy(fs *flag.FlagSet) (*policy.Policy, error) {
	return policy.Select(fs.Lookup("policy").Value.String())
}

var policyShowCmd = &cli.Command{
	Name:    "show",
	Summary: "a szabályzat teljes szövege / the whole policy in readable form",
	Usage:   "[--policy production|sandbox|FILE] [--lang hu|en] [--html OUT.html] [--raw]",
	Help: "Megmutatja az aláírási szabályzat hatályát, feltételeit, kivárási idejét, időkorlátait és\n" +
		"algoritmusait, azonosítójával és SHA-256 lenyomatával (SIG-19). --raw a pontos XML-t írja ki,\n" +
		"amelynek lenyomatát az aláírások hordozzák.\n" +
		"/ Shows the signature policy's scope, conditions, grace periods, time gaps and algorithms with its\n" +
		"identifier and SHA-256 (SIG-19). --raw prints the exact XML whose digest signatures carry.",
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
		p, err := selectedPolicy(fs)
		if err != nil {
			return err
		}
		return cli.ShowPolicy(env, p, fs.Lookup("lang").Value.String(), fs.Lookup("raw").Value.(flag.Getter).Get().(bool),
			fs.Lookup("html").Value.String())
	},
}
