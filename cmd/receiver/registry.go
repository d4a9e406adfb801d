package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/declaration"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/schema"
)

var registryCmd = &cli.Command{
	Name:    "registry",
	Summary: "az elektronikus adatszolgáltatásra bejelentkezett munkáltatók és aláíróik / employers registered for e-filing and their signers",
	Sub:     []*cli.Command{registryImportCmd, registryAddCmd, registryListCmd, registryShowCmd, registryWithdrawCmd},
}

func jsonFlag(fs *flag.FlagSet) {
	configFlag(fs)
	fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
}

func asJSON(fs *flag.FlagSet) bool { return fs.Lookup("json").Value.(flag.Getter).Get().(bool) }

// keyFlags: the declarant and the fund of a registration.
func keyFlags(fs *flag.FlagSet) {
	fs.String("declarant", "", "a bevalló: TÍPUS:AZONOSÍTÓ, pl. adoszam:12345676 / the declarant as `TYPE:ID`, e.g. adoszam:12345676")
	fs.String("fund", "", "pénztárkód (alapértelmezés: a fogadóé) / fund `CODE` (default: the receiver's)")
}

func keyOf(fs *flag.FlagSet, defaultFund string) (registry.Key, error) {
	typ, id, ok := strings.Cut(fs.Lookup("declarant").Value.String(), ":")
	if !ok || id == "" {
		return registry.Key{}, cli.Usagef("--declarant TÍPUS:AZONOSÍTÓ kell / --declarant TYPE:ID is needed")
	}
	fund := fs.Lookup("fund").Value.String()
	if fund == "" {
		fund = defaultFund
	}
	return registry.NewKey(declaration.IDType(typ), id, fund), nil
}

var registryImportCmd = &cli.Command{
	Name:    "import",
	Summary: "bejelentkezési adatlap felvétele (XML) / import a registration sheet (XML)",
	Usage:   "FILE.xml [--config FILE] [--json]",
	Help: "Az adatlap a schema/bejelentkezes.xsd szerinti; a korábbi változatot felülírja, de az megmarad\n" +
		"(a már meghozott döntések nem változnak). / The sheet follows schema/bejelentkezes.xsd; it supersedes\n" +
		"the previous version, which is kept (decisions already made do not change).",
	Flags: jsonFlag,
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("egy XML fájl kell / exactly one XML file is needed")
		}
		data, err := cli.ReadFile(args[0], registry.MaxBytes)
		if err != nil {
			return err
		}
		set, err := schema.Load(libxml.Parser{})
		if err != nil {
			return err
		}
		defer set.Close()
		sh, err := registry.Decode(data, set)
		if err != nil {
			return &cli.ExitError{Code: cli.ExitInvalid, Msg: err.Error()}
		}
		s, err := openStore(ctx, env, fs)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.db.Registry().Put(ctx, sh); err != nil {
			return err
		}
		return showSheet(env.Stdout, sh, asJSON(fs), "Felvéve / Imported")
	},
}

var registryAddCmd = &cli.Command{
	Name:    "add",
	Summary: "aláíró hozzáadása egy bejelentkezéshez (új változat) / add a signer to a registration (a new version)",
	Usage:   "--declarant TYPE:ID --id ID --name NAME --cert CERT.pem --role ONALLO|EGYUTTES --from DATE [--to DATE] [--mandatory] [--cosigner ID] [--deputy ID] [--fund CODE] [--config FILE] [--json]",
	Help: "A tanúsítványt SHA-256 lenyomata és kiadó+sorozatszáma azonosítja. Az érvényesség napjai\n" +
		"Europe/Budapest szerint értendők, mindkét végükön bezárólag. / The certificate is identified by its\n" +
		"SHA-256 and its issuer and serial. Validity days are Europe/Budapest calendar days, inclusive.",
	Flags: func(fs *flag.FlagSet) {
		jsonFlag(fs)
		keyFlags(fs)
		fs.String("id", "", "az aláíró helyi azonosítója / the signer's local `ID`")
		fs.String("name", "", "az aláíró neve / the signer's `NAME`")
		fs.String("cert", "", "az aláíró tanúsítványa (PEM vagy DER) / the signer's certificate `FILE`")
		fs.String("role", "ONALLO", "ONALLO (önálló) vagy EGYUTTES (együttes) / ONALLO (alone) or EGYUTTES (jointly)")
		fs.Bool("mandatory", false, "kötelező aláíró / a mandatory signer")
		fs.String("cosigner", "", "a társaláíró helyi azonosítója (EGYUTTES) / the co-signer's local `ID` (EGYUTTES)")
		fs.String("deputy", "", "a helyettes helyi azonosítója / the deputy's local `ID`")
		fs.String("from", "", "érvényesség kezdete / valid from `DATE` (YYYY-MM-DD)")
		fs.String("to", "", "érvényesség vége / valid to `DATE` (YYYY-MM-DD)")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 0 {
			return cli.Usagef("nem vár fájlnevet / takes no file names")
		}
		get := func(n string) string { return fs.Lookup(n).Value.String() }
		certs, err := trust.ReadCertificates(get("cert"))
		if err != nil {
			return cli.Usagef("--cert: %v", err)
		}
		from, err := declaration.ParseDate(get("from"))
		if err != nil {
			return cli.Usagef("--from: %v", err)
		}
		var to declaration.Date
		if v := get("to"); v != "" {
			if to, err = declaration.ParseDate(v); err != nil {
				return cli.Usagef("--to: %v", err)
			}
		}
		c := certs[0]
		sum := sha256.Sum256(c.Raw)
		signer := registry.Signer{ID: get("id"), Name: get("name"), Role: registry.Role(get("role")),
			Mandatory: fs.Lookup("mandatory").Value.(flag.Getter).Get().(bool), CoSigner: get("cosigner"), Deputy: get("deputy"),
			ValidFrom: from, ValidTo: to,
			Cert: registry.CertID{IssuerDN: c.Issuer.String(), Serial: c.SerialNumber.String(), SHA256: sum[:]}}
		s, err := openStore(ctx, env, fs)
		if err != nil {
			return err
		}
		defer s.Close()
		k, err := keyOf(fs, s.cfg.Fund.Code)
		if err != nil {
			return err
		}
		reg := s.db.Registry()
		cur, err := reg.Current(ctx, k)
		if err != nil {
			return notFound(err, k)
		}
		next, err := registry.WithSigner(cur, signer)
		if err != nil {
			return &cli.ExitError{Code: cli.ExitInvalid, Msg: err.Error()}
		}
		if err := reg.Put(ctx, next); err != nil {
			return err
		}
		return showSheet(env.Stdout, next, asJSON(fs), "Új változat / New version")
	},
}

func notFound(err error, k registry.Key) error {
	if errors.Is(err, registry.ErrNotFound) {
		return &cli.ExitError{Code: cli.ExitInvalid, Msg: fmt.Sprintf("nincs bejelentkezés / not registered: %s", k)}
	}
	return err
}

var registryListCmd = &cli.Command{
	Name:    "list",
	Summary: "a bejelentkezések listája / list the registrations",
	Usage:   "[--config FILE] [--json]",
	Flags:   jsonFlag,
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		s, err := openStore(ctx, env, fs)
		if err != nil {
			return err
		}
		defer s.Close()
		list, err := s.db.Registry().List(ctx)
		if err != nil {
			return err
		}
		if asJSON(fs) {
			return cli.WriteJSON(env.Stdout, list)
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "Bevalló / Declarant\tPénztár / Fund\tNév / Name\tElső időszak / First period\tAláírók / Signers\tVisszavonva / Withdrawn\tVáltozatok / Versions")
		for _, r := range list {
			w := ""
			if !r.Withdrawn.IsZero() {
				w = r.Withdrawn.String()
			}
			fmt.Fprintf(tw, "%s:%s\t%s\t%s\t%s\t%d\t%s\t%d\n", r.Key.IDType, r.Key.ID, r.Key.Fund, r.Name, r.FirstPeriod, r.Signers, w, r.Versions)
		}
		return tw.Flush()
	},
}

var registryShowCmd = &cli.Command{
	Name:    "show",
	Summary: "egy bejelentkezés aláírói / one registration and its signers",
	Usage:   "--declarant TYPE:ID [--fund CODE] [--xml] [--config FILE] [--json]",
	Flags: func(fs *flag.FlagSet) {
		jsonFlag(fs)
		keyFlags(fs)
		fs.Bool("xml", false, "az adatlap XML-je / the sheet as XML")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		s, err := openStore(ctx, env, fs)
		if err != nil {
			return err
		}
		defer s.Close()
		k, err := keyOf(fs, s.cfg.Fund.Code)
		if err != nil {
			return err
		}
		sh, err := s.db.Registry().Current(ctx, k)
		if err != nil {
			return notFound(err, k)
		}
		if fs.Lookup("xml").Value.(flag.Getter).Get().(bool) {
			b, err := registry.Encode(sh)
			if err != nil {
				return err
			}
			_, err = env.Stdout.Write(b)
			return err
		}
		return showSheet(env.Stdout, sh, asJSON(fs), "")
	},
}

var registryWithdrawCmd = &cli.Command{
	Name:    "withdraw",
	Summary: "bejelentkezés visszavonása / withdraw a registration",
	Usage:   "--declarant TYPE:ID --date DATE --reason TEXT [--fund CODE] [--config FILE] [--json]",
	Help: "A megadott naptól (Europe/Budapest) a bevalló nem adhat be elektronikusan; a korábbi döntések\n" +
		"nem változnak. / From the given day (Europe/Budapest) the declarant may no longer file electronically;\n" +
		"decisions already made do not change.",
	Flags: func(fs *flag.FlagSet) {
		jsonFlag(fs)
		keyFlags(fs)
		fs.String("date", "", "a visszavonás napja / the withdrawal `DATE` (YYYY-MM-DD)")
		fs.String("reason", "", "indoklás / `REASON`")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		date, err := declaration.ParseDate(fs.Lookup("date").Value.String())
		if err != nil {
			return cli.Usagef("--date: %v", err)
		}
		s, err := openStore(ctx, env, fs)
		if err != nil {
			return err
		}
		defer s.Close()
		k, err := keyOf(fs, s.cfg.Fund.Code)
		if err != nil {
			return err
		}
		sh, err := s.db.Registry().Withdraw(ctx, k, date, fs.Lookup("reason").Value.String())
		if err != nil {
			var re *registry.Error
			if errors.As(err, &re) || errors.Is(err, registry.ErrWithdrawn) {
				return &cli.ExitError{Code: cli.ExitInvalid, Msg: err.Error()}
			}
			return notFound(err, k)
		}
		return showSheet(env.Stdout, sh, asJSON(fs), "Visszavonva / Withdrawn")
	},
}

// sheetJSON is the --json form of a sheet.
type sheetJSON struct {
	Key   string          `json:"key"`
	Sheet *registry.Sheet `json:"sheet"`
}

func showSheet(w io.Writer, sh *registry.Sheet, jsonOut bool, heading string) error {
	if jsonOut {
		return cli.WriteJSON(w, sheetJSON{Key: sh.Key().String(), Sheet: sh})
	}
	if heading != "" {
		fmt.Fprintf(w, "%s: %s\n", heading, sh.ID)
	}
	fmt.Fprintf(w, "Bevalló / Declarant:  %s (%s:%s)\nPénztár / Fund:       %s\nElső időszak / First period: %s\nBenyújtva / Filed:    %s\n",
		sh.Declarant.Name, sh.Declarant.IDType, sh.Declarant.ID, sh.Fund, sh.FirstPeriod, sh.Filed)
	if sh.Withdrawal != nil {
		fmt.Fprintf(w, "Visszavonva / Withdrawn: %s (%s)\n", sh.Withdrawal.Date, sh.Withdrawal.Reason)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Azonosító / ID\tNév / Name\tSzerep / Role\tKötelező / Mandatory\tTársaláíró / Co-signer\tHelyettes / Deputy\tÉrvényes / Valid\tTanúsítvány / Certificate")
	for _, s := range sh.Signers {
		valid := s.ValidFrom.String() + " –"
		if !s.ValidTo.IsZero() {
			valid += " " + s.ValidTo.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\t%s\n", s.ID, s.Name, s.Role, s.Mandatory, s.CoSigner, s.Deputy, valid, s.Cert)
	}
	return tw.Flush()
}
