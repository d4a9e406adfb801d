package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/report"
)

var submitCmd = &cli.Command{
	Name:    "submit",
	Summary: "bevallásból nyugta egy lépésben: csomagolás, aláírás, időbélyeg, ellenőrzés, küldés / from declaration to receipt: pack, sign, time-stamp, verify, send",
	Usage:   "DECL.xml [--config FILE] [--yes]",
	Help: "Egy aláíró esete (a beállítás signingKey kulcsával): ugyanazok a lépések, mint a sender pack, sign, timestamp,\n" +
		"verify és send parancsoké, ugyanazzal a kóddal, sorban; az első hibánál megáll, és megmondja, mi a teendő és\n" +
		"melyik paranccsal lehet onnan folytatni. Az aláírás előtt ugyanazt mutatja és kérdezi, mint a sender sign\n" +
		"(--yes: kérdés nélkül). Ha a kezdeti ellenőrzés a kivárási idő miatt befejezetlen, legfeljebb send.finalWait ideig\n" +
		"vár (alapértelmezés: nem vár, hanem megmondja, mikor küldhető: sender send CSOMAG).\n" +
		"Kilépési kód: mint a sender send-é; az előző lépések hibájánál az adott parancsé.\n" +
		"/ The single-signer case (with the configuration's signingKey): the same steps as sender pack, sign, timestamp,\n" +
		"verify and send, through the same code, in order; it stops at the first problem and says what to do and which\n" +
		"command continues from there. Before signing it shows and asks what sender sign does (--yes: without asking).\n" +
		"When the initial check is incomplete only because of the grace period, it waits at most send.finalWait\n" +
		"(default: it does not wait but says when the package can be sent: sender send PACKAGE).\n" +
		"Exit status: as sender send's; at an earlier step's problem, that command's.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("yes", false, "aláírás megerősítés kérdés nélkül (szkriptekhez) / sign without asking (for scripts)")
	},
}

// submit runs the other commands through the command table, which lists submit itself: its Run is
// set here to break the initialization cycle.
func init() { submitCmd.Run = runSubmit }

func runSubmit(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy bevallásfájl kell / exactly one declaration file is needed")
	}
	decl := args[0]
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	if cfg.SigningKey == "" {
		return cli.Usagef("a beállításban nincs aláíró kulcs (signingKey); több aláírónál: sender pack, sign, timestamp, send / " +
			"the configuration names no signing key (signingKey); with several signers: sender pack, sign, timestamp, send")
	}
	withCfg := func(a ...string) []string { return append(a, "--config", cfg.File) }
	w := env.Stdout
	stop := func(code int, hu, en string) error {
		return &cli.ExitError{Code: code, Msg: "sender submit: " + hu + "\n  " + en}
	}

	// 1. Pack.
	fmt.Fprintf(w, "== 1/5 Csomagolás / Packing: %s\n", decl)
	var packOut bytes.Buffer
	sub := *env
	sub.Stdout = &packOut
	code := run(ctx, &sub, withCfg("pack", decl, "--json"))
	var pr packReport
	perr := json.Unmarshal(packOut.Bytes(), &pr) // a failed pack may print no report: its findings, if any
	if code != cli.ExitOK {
		cli.WriteFindings(w, pr.Findings)
		return stop(code, "a bevallás nem csomagolható; javítsa, majd: sender declaration validate "+decl,
			"the declaration cannot be packed; fix it, then: sender declaration validate "+decl)
	}
	if perr != nil || pr.Path == "" {
		return fmt.Errorf("submit: a csomagolás jelentése olvashatatlan / the packing report cannot be read: %v", cmp.Or(perr, errors.New("no path")))
	}
	pkg := pr.Path
	fmt.Fprintf(w, "   %s (SHA-256 %s)\n", pkg, pr.SHA256)

	// 2. Sign: the same preview and question as sender sign.
	fmt.Fprintf(w, "== 2/5 Aláírás / Signing\n")
	signArgs := withCfg("sign", pkg)
	if fs.Lookup("yes").Value.(flag.Getter).Get().(bool) {
		signArgs = append(signArgs, "--yes")
	}
	if code := run(ctx, env, signArgs); code != cli.ExitOK {
		return stop(code, "nincs aláírva; ha a hiba elhárult: sender sign "+pkg+", majd sender timestamp, sender send",
			"not signed; once the problem is solved: sender sign "+pkg+", then sender timestamp, sender send")
	}

	// 3. Time-stamp after the (only) signer.
	fmt.Fprintf(w, "== 3/5 Időbélyeg / Time-stamping\n")
	if code := run(ctx, env, withCfg("timestamp", pkg)); code != cli.ExitOK {
		return stop(code, "nincs időbélyeg (elérhető az időbélyeg-szolgáltató?); utána: sender timestamp "+pkg+", majd sender send "+pkg,
			"no time-stamp (is the TSA reachable?); then: sender timestamp "+pkg+", then sender send "+pkg)
	}

	// 4. The initial check, waiting out the grace period when allowed.
	fmt.Fprintf(w, "== 4/5 Kezdeti ellenőrzés / Initial check\n")
	_, _, _, finalWait := cfg.Send.Durations()
	deadline := env.Now().Add(finalWait)
	for {
		var vout bytes.Buffer
		sub := *env
		sub.Stdout = &vout
		code := run(ctx, &sub, withCfg("verify", pkg, "--json"))
		var rep report.Document
		if err := json.Unmarshal(vout.Bytes(), &rep); err != nil {
			return stop(cli.ExitUsage, "az ellenőrzés nem futott le: sender verify "+pkg, "the check did not run: sender verify "+pkg)
		}
		if code == cli.ExitOK {
			fmt.Fprintf(w, "   érvényes / valid\n")
			break
		}
		final := rep.EarliestFinal
		if code == cli.ExitIncomplete && rep.Verdict.Sub == report.TryLater && final.After(env.Now()) && !final.After(deadline) {
			wait := final.Sub(env.Now()) + time.Second
			fmt.Fprintf(w, "   kivárási idő / grace period: várakozás / waiting %s\n", wait.Round(time.Second))
			if err := env.SleepFor(ctx, wait); err != nil {
				return err
			}
			continue
		}
		report.WriteText(w, rep)
		if code == cli.ExitIncomplete && final.After(env.Now()) {
			return stop(code, fmt.Sprintf("a kivárási idő %s-kor ér véget; utána: sender send %s", fmtTime(final), pkg),
				fmt.Sprintf("the grace period ends at %s; after that: sender send %s", fmtTime(final), pkg))
		}
		if code == cli.ExitIncomplete {
			return stop(code, "befejezetlen; a teendő: sender verify "+pkg, "incomplete; what to do: sender verify "+pkg)
		}
		return stop(code, "a csomag ÉRVÉNYTELEN, nem küldhető (SND-14); csomagolja és írja alá újra: sender submit "+decl,
			"the package is INVALID and must not be sent (SND-14); pack and sign again: sender submit "+decl)
	}

	// 5. Send.
	fmt.Fprintf(w, "== 5/5 Küldés / Sending\n")
	st, err := openOutboxConfig(ctx, env, cfg, true, false)
	if err != nil {
		return err
	}
	defer st.close()
	return sendPackage(ctx, env, st, pkg, false)
}
