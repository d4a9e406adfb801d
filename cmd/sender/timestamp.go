package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/report"
	"github.com/tagdij/tagdij/internal/xades"
	"github.com/tagdij/tagdij/policy"
)

var timestampCmd = &cli.Command{
	Name:    "timestamp",
	Summary: "időbélyeg kérése az utolsó aláíró után / time-stamp the package after the last signer",
	Usage:   "PACKAGE.es3 [--config FILE] [--json]",
	Help: "Az utolsó aláíró után (SND-12) a beállított időbélyeg-szolgáltatótól (tsaURL, RFC 3161) minden még\n" +
		"időbélyeg nélküli aláírás saját SignatureTimeStamp-et kap (SND-24); a szolgáltatót a bizalmi beállítás\n" +
		"időbélyeg-horgonyaihoz ellenőrzi. Időbélyeg után további aláíró nem írhat alá. A csomag helyben,\n" +
		"atomikusan cserélődik. Utána: sender verify.\n" +
		"/ After the last signer (SND-12) every signature without one gets its own SignatureTimeStamp from the\n" +
		"configured RFC 3161 service (tsaURL, SND-24), which must chain to the trust configuration's TSA\n" +
		"anchors. No one can sign after time-stamping. The package is replaced atomically. Next: sender verify.\n" +
		"Kilépési kód / Exit status: 0 kész / done, 1 nincs mit időbélyegezni / nothing to stamp, 3 hiba / error.",
	Flags: func(fs *flag.FlagSet) {
		configFlag(fs)
		fs.Bool("json", false, "géppel olvasható kimenet / machine-readable output")
	},
	Run: runTimestamp,
}

// stampedSig is one time-stamped signature in the output.
type stampedSig struct {
	ID      string    `json:"id"`
	Signer  string    `json:"signerName,omitempty"`
	GenTime time.Time `json:"genTime,omitzero"`
	TSA     string    `json:"tsa,omitempty"`
}

func runTimestamp(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("egy csomagfájl kell / exactly one package file is needed")
	}
	path := args[0]
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	pol, err := configPolicy(cfg)
	if err != nil {
		return err
	}
	tenv, err := configTrust(cfg, pol, false, env.Now)
	if err != nil {
		return err
	}
	client, err := tsaClient(cfg, tenv, env.Now)
	if err != nil {
		return err
	}
	data, sum, err := readPackage(path)
	if err != nil {
		return err
	}
	log, closer, err := signatureLog(cfg)
	if err != nil {
		return err
	}
	defer closer.Close()
	abs, _ := filepath.Abs(path)
	out, ids, err := xades.Timestamp(ctx, data, xades.TimestampOptions{TSA: client, Logger: log.With("file", abs)})
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return &cli.ExitError{Code: cli.ExitInvalid, Msg: path + ": minden aláírásnak van már időbélyege, vagy nincs aláírás / every signature is already time-stamped, or there is none"}
	}
	if err := replaceFile(path, sum, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// Read the genTimes back from what was written, through the verifier (offline: only the
	// time-stamps matter here, and they prove themselves).
	stamped := make([]stampedSig, 0, len(ids))
	byID := map[string]report.Signature{}
	if off, err := configTrust(cfg, pol, true, env.Now); err == nil {
		if rep, err := xades.Verify(ctx, out, xades.VerifyOptions{Env: off, Kind: policy.KindPackage, Now: env.Now(), Mode: es3.Strict}); err == nil {
			for _, s := range rep.Signatures {
				byID[s.ID] = s
			}
		}
	}
	for _, id := range ids {
		st := stampedSig{ID: id}
		if s, ok := byID[id]; ok {
			st.Signer = s.SignerName
			for _, ts := range s.Timestamps {
				if ts.Kind == "SignatureTimeStamp" {
					st.GenTime, st.TSA = ts.GenTime.UTC(), ts.TSA
				}
			}
			if st.GenTime.IsZero() {
				st.GenTime = s.TimestampTime.UTC()
			}
		}
		stamped = append(stamped, st)
	}
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		return cli.WriteJSON(env.Stdout, struct {
			Package    string       `json:"package"`
			SHA256     string       `json:"sha256"`
			Signatures []stampedSig `json:"timestamped"`
		}{abs, hexSum(sha256Sum(out)), stamped})
	}
	for _, s := range stamped {
		fmt.Fprintf(env.Stdout, "Időbélyeg / Time-stamp: %s (%s) genTime %s %s\n", s.ID, s.Signer, s.GenTime.Format(time.RFC3339Nano), s.TSA)
	}
	fmt.Fprintf(env.Stdout, "Csomag / Package: %s (SHA-256 %s)\n", abs, hexSum(sha256Sum(out)))
	fmt.Fprintf(env.Stdout, "Következő lépés / Next: sender verify %s\n", path)
	return nil
}
