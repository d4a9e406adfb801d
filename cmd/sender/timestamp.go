package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/es3"
	"github.com/tagdij/tagdij/internal/progress"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/internal/xades"
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
		"Időbélyeg előtt ellenőrzi az aláírásokat: hibás aláírást nem időbélyegez. / Before stamping it checks the\n" +
		"signatures: a broken one is not time-stamped.\n" +
		"Kilépési kód / Exit status: 0 kész / done, 1 nem csomag, hibás aláírás vagy nincs mit időbélyegezni /\n" +
		"not a package, a broken signature or nothing to stamp, 3 használati vagy rendszerhiba (pl. elérhetetlen\n" +
		"időbélyeg-szolgáltató) / usage or system error (e.g. the time-stamping service cannot be reached).",
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
	parsed, err := es3.Parse(data, es3.ParseOptions{Mode: es3.Strict})
	if err != nil {
		return cli.Invalidf("%s: nem Tagdíj csomag / not a Tagdíj package: %v", path, err)
	}
	defer parsed.Close()
	if _, err := inspectPackage(parsed); err != nil {
		return cli.Invalidf("%s: nem Tagdíj csomag / not a Tagdíj package: %v", path, err)
	}
	// A time-stamp vouches for the signature it covers: a broken one is refused, not stamped (its
	// time-stamp would make a package that can never be valid look finished).
	existing := existingSignatures(ctx, parsed, data, cfg, pol, env.Now())
	if len(existing) == 0 {
		return cli.Invalidf("%s: a csomagon nincs aláírás, nincs mit időbélyegezni (előbb: sender sign) / the package carries no signature, "+
			"there is nothing to time-stamp (first: sender sign)", path)
	}
	signer := map[string]string{}
	for _, e := range existing {
		if e.Broken != "" {
			return cli.Invalidf("%s: a csomagon hibás aláírás van (%s), nem kap időbélyeget; csomagolja és írja alá újra (sender pack, sender sign) / "+
				"the package carries a broken signature (%s): it is not time-stamped; pack and sign it again (sender pack, sender sign): %s",
				path, e.ID, e.ID, e.Broken)
		}
		signer[e.ID] = e.SignerName
	}
	log, closer, err := signatureLog(cfg)
	if err != nil {
		return err
	}
	defer closer.Close()
	abs, _ := filepath.Abs(path)
	var stamped []stampedSig
	stop := progress.Spin(env.Stderr, "időbélyegzés / time-stamping")
	out, ids, err := xades.Timestamp(ctx, data, xades.TimestampOptions{TSA: client, Logger: log.With("file", abs),
		Stamped: func(id string, tok *tsp.Token) {
			st := stampedSig{ID: id, Signer: signer[id], GenTime: tok.GenTime.UTC()}
			if tok.TSA != nil {
				st.TSA = tok.TSA.Subject.String()
			}
			stamped = append(stamped, st)
		}})
	stop()
	if err != nil {
		return tsaError(cfg.TSAURL, err)
	}
	if len(ids) == 0 {
		return cli.Invalidf("%s: minden aláírásnak van már időbélyege / every signature is already time-stamped", path)
	}
	if err := replaceFile(path, sum, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if fs.Lookup("json").Value.(flag.Getter).Get().(bool) {
		return cli.WriteJSON(env.Stdout, struct {
			Package    string       `json:"package"`
			SHA256     string       `json:"sha256"`
			Signatures []stampedSig `json:"timestamped"`
		}{abs, hexSum(sha256Sum(out)), stamped})
	}
	for _, s := range stamped {
		fmt.Fprintf(env.Stdout, "Időbélyeg / Time-stamp: %s (%s) genTime %s, TSA %s\n", s.ID, s.Signer, s.GenTime.Format(time.RFC3339Nano), s.TSA)
	}
	fmt.Fprintf(env.Stdout, "Csomag / Package: %s (SHA-256 %s)\n", abs, hexSum(sha256Sum(out)))
	fmt.Fprintf(env.Stdout, "Következő lépés / Next: sender verify %s\n", path)
	return nil
}

// tsaError explains a failed time-stamp request in both languages: a service that cannot be reached,
// or one whose answer is not accepted (untrusted TSA, a token for other data, a clock far off). Both
// are system errors (3): nothing is wrong with the package.
func tsaError(url string, err error) error {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) {
		return cli.Systemf("az időbélyeg-szolgáltató (%s) nem érhető el; ellenőrizze a hálózatot és a beállítás tsaURL mezőjét, majd próbálja újra / "+
			"the time-stamping service (%s) cannot be reached; check the network and the configuration's tsaURL, then try again: %v", url, url, err)
	}
	return cli.Systemf("az időbélyeg-szolgáltató (%s) válasza nem fogadható el / the answer of the time-stamping service (%s) is not acceptable: %v", url, url, err)
}
