// Command sandbox creates and serves Tagdíj's local test PKI and test trust
// services (RFC 3161 TSA, OCSP responder, CRL distribution) on loopback.
//
//	sandbox init DIR [--listen 127.0.0.1:8901] [--softhsm]
//	sandbox serve DIR [--listen 127.0.0.1:8901]
//	sandbox revoke DIR CERT [--reason R] [--at TIME]
//	sandbox list DIR [--json]
//
// Exit status: 0 success, 3 usage or system error (internal/cli).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/sandbox"
)

// commands is the sandbox's command table.
var commands = []*cli.Command{initCmd, serveCmd, revokeCmd, listCmd}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with buffers.
func run(ctx context.Context, env *cli.Env, args []string) int {
	return cli.Main(ctx, env, "sandbox", commands, args)
}

// fail ends a command with the usage/system status and err's message, prefixed with "sandbox:" once.
func fail(err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "sandbox:") {
		msg = "sandbox: " + msg
	}
	return &cli.ExitError{Code: cli.ExitUsage, Msg: msg}
}

// oneDir returns the single directory argument of a command.
func oneDir(args []string) (string, error) {
	if len(args) != 1 {
		return "", cli.Usagef("egy könyvtár kell / exactly one directory is needed")
	}
	return args[0], nil
}

func str(fs *flag.FlagSet, name string) string { return fs.Lookup(name).Value.String() }

func boolean(fs *flag.FlagSet, name string) bool {
	return fs.Lookup(name).Value.(flag.Getter).Get().(bool)
}

func duration(fs *flag.FlagSet, name string) time.Duration {
	return fs.Lookup(name).Value.(flag.Getter).Get().(time.Duration)
}

var initCmd = &cli.Command{
	Name:    "init",
	Summary: "új teszt PKI létrehozása DIR-ben / create a new test PKI in DIR",
	Usage:   "DIR [--listen ADDRESS] [--now TIME] [--softhsm] [--root-key ALG] [--ca-key ALG] [--tsa-key ALG] [--ocsp-key ALG]",
	Help: "Létrehozza a teszt PKI-t (CA-k, időbélyegző, OCSP válaszadó, bemutató aláírók, titkosító, nyugta-\n" +
		"és TLS-tanúsítványok) a még nem létező DIR könyvtárban.\n" +
		"/ Creates the test PKI (CAs, TSA, OCSP responder, demo signers, encryption, receipt and TLS\n" +
		"certificates) in DIR, which must not exist yet.",
	Flags: func(fs *flag.FlagSet) {
		fs.String("listen", "127.0.0.1:8901", "a kiszolgálás loopback címe; a tanúsítványok AIA/CRL címeibe kerül / "+
			"loopback `address` the sandbox will be served at; goes into the certificates' AIA/CRL URLs")
		fs.String("now", "", "az érvényességi időszakok e körül az időpont (RFC 3339) körül / build validity windows around this `time` (RFC 3339) instead of the current time")
		fs.String("root-key", string(sandbox.ECDSAP384), "a gyökér CA kulcsa / root CA key `algorithm` (RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384)")
		fs.String("ca-key", string(sandbox.ECDSAP384), "a kibocsátó CA kulcsa / issuing CA key `algorithm`")
		fs.String("tsa-key", string(sandbox.RSA2048), "az időbélyegző kulcsa / TSA unit key `algorithm`")
		fs.String("ocsp-key", string(sandbox.ECDSAP256), "az OCSP válaszadó kulcsa / OCSP responder key `algorithm`")
		fs.Bool("softhsm", false, "az aláíró, nyugta- és visszafejtő kulcsok SoftHSM2 tokenbe is (DIR/softhsm; softhsm2 kell) / "+
			"also import the signer, receipt and fund decryption keys into a SoftHSM2 token in DIR/softhsm (needs softhsm2)")
	},
	Run: runInit,
}

func runInit(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	dir, err := oneDir(args)
	if err != nil {
		return err
	}
	opts := sandbox.InitOptions{
		BaseURL: "http://" + str(fs, "listen"),
		RootKey: sandbox.KeyAlg(str(fs, "root-key")), CAKey: sandbox.KeyAlg(str(fs, "ca-key")),
		TSAKey: sandbox.KeyAlg(str(fs, "tsa-key")), OCSPKey: sandbox.KeyAlg(str(fs, "ocsp-key")),
	}
	if now := str(fs, "now"); now != "" {
		if opts.Now, err = time.Parse(time.RFC3339, now); err != nil {
			return fail(fmt.Errorf("--now: %w", err))
		}
	}
	start := time.Now()
	if err := sandbox.Init(dir, opts); err != nil {
		return fail(err)
	}
	w, err := sandbox.Load(dir)
	if err != nil {
		return fail(err)
	}
	out := env.Stdout
	fmt.Fprintf(out, "sandbox: created %d certificates in %s (%.1fs); base URL %s\n",
		len(w.Entities()), w.Dir, time.Since(start).Seconds(), w.BaseURL())
	fmt.Fprintf(out, "sandbox: PKCS#12 password in %s\n", w.PasswordFile())
	fmt.Fprintf(out, "sandbox: trust configuration in %s (use --trust %s --policy sandbox)\n",
		w.Path(sandbox.TrustConfigFile), w.Path(sandbox.TrustConfigFile))
	if !boolean(fs, "softhsm") {
		return nil
	}
	// SoftHSM2 reads SOFTHSM2_CONF when this process first loads the module.
	conf := sandbox.SoftHSMConfPath(w)
	if err := os.Setenv(softhsm.ConfEnv, conf); err != nil {
		return fail(err)
	}
	info, err := sandbox.ImportToSoftHSM(ctx, w, sandbox.SoftHSMOptions{})
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(out, "sandbox: SoftHSM2 token %q with %d keys; PIN in %s; key specs in %s\n",
		info.TokenLabel, len(info.Keys), w.Path(info.PINFile), w.Path(sandbox.SoftHSMFile))
	fmt.Fprintf(out, "sandbox: before using the token run / a token használata előtt:\n  export %s=%s\n", softhsm.ConfEnv, conf)
	return nil
}

var serveCmd = &cli.Command{
	Name:    "serve",
	Summary: "a DIR időbélyegzőjének, OCSP válaszadójának és CRL-jeinek kiszolgálása / serve the TSA, OCSP responder and CRLs of DIR",
	Usage:   "DIR [--listen ADDRESS] [--ocsp-ca-signed] [--ocsp-validity D] [--crl-validity D] [--pid-file FILE] [--log-json]",
	Help: "Loopback címen szolgálja ki DIR időbélyegzőjét (POST /tsa), OCSP válaszadóját (POST /ocsp, GET /ocsp/...),\n" +
		"CRL-jeit (GET /crl/NAME.crl) és CA-tanúsítványait (GET /ca/NAME.crt) SIGINT/SIGTERM jelzésig. Induláskor\n" +
		"kiírja: \"sandbox: ready pid=PID url=URL\".\n" +
		"/ Serves the TSA (POST /tsa), OCSP responder (POST /ocsp, GET /ocsp/...), CRLs (GET /crl/NAME.crl)\n" +
		"and CA certificates (GET /ca/NAME.crt) of DIR on a loopback address until SIGINT/SIGTERM. Prints\n" +
		"\"sandbox: ready pid=PID url=URL\" when listening.",
	Flags: func(fs *flag.FlagSet) {
		fs.String("listen", "", "loopback cím (alapértelmezés: a sandbox alap-URL-jének host:port része) / "+
			"loopback `address` to listen on (default: the host:port of the sandbox's base URL)")
		fs.Bool("ocsp-ca-signed", false, "a minősített CA OCSP-válaszait a CA kulcsa írja alá / "+
			"sign the qualified CA's OCSP responses with the CA key instead of the delegated responder")
		fs.Duration("ocsp-validity", time.Hour, "OCSP nextUpdate − thisUpdate")
		fs.Duration("crl-validity", 24*time.Hour, "CRL nextUpdate − thisUpdate")
		fs.String("pid-file", "", "a folyamat azonosítója ebbe a fájlba / write the process id to this `file`")
		fs.Bool("log-json", false, "JSON napló szöveg helyett / log as JSON instead of text")
	},
	Run: runServe,
}

func runServe(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	dir, err := oneDir(args)
	if err != nil {
		return err
	}
	w, err := sandbox.Load(dir)
	if err != nil {
		return fail(err)
	}
	addr := str(fs, "listen")
	if addr == "" {
		u, err := url.Parse(w.BaseURL())
		if err != nil {
			return fail(err)
		}
		addr = u.Host
	}
	ln, err := sandbox.Listen(addr)
	if err != nil {
		return fail(err)
	}
	if want := strings.TrimPrefix(w.BaseURL(), "http://"); want != ln.Addr().String() {
		fmt.Fprintf(env.Stderr, "sandbox: warning: listening on %s but the certificates point at %s\n", ln.Addr(), w.BaseURL())
	}
	var h slog.Handler = slog.NewTextHandler(env.Stderr, nil)
	if boolean(fs, "log-json") {
		h = slog.NewJSONHandler(env.Stderr, nil)
	}
	log := slog.New(h)
	if pidFile := str(fs, "pid-file"); pidFile != "" {
		if err := os.WriteFile(pidFile, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
			ln.Close()
			return fail(err)
		}
		defer os.Remove(pidFile)
	}
	handler := w.Handler(sandbox.ServeOptions{Logger: log, OCSPSignedByCA: boolean(fs, "ocsp-ca-signed"),
		OCSPValidity: duration(fs, "ocsp-validity"), CRLValidity: duration(fs, "crl-validity")})
	fmt.Fprintf(env.Stdout, "sandbox: ready pid=%d url=http://%s\n", os.Getpid(), ln.Addr())
	if f, ok := env.Stdout.(*os.File); ok {
		f.Sync()
	}
	if err := sandbox.Serve(ctx, ln, handler); err != nil {
		return fail(err)
	}
	log.Info("sandbox: stopped")
	return nil
}

var revokeCmd = &cli.Command{
	Name:    "revoke",
	Summary: "tanúsítvány visszavonása / revoke a certificate",
	Usage:   "DIR CERT [--reason R] [--at TIME]",
	Help: "Visszavonja CERT-et (jegyzékbeli név, pl. signer-pelda-1, vagy hexadecimális sorozatszám); a futó\n" +
		"kiszolgáló a következő válaszától ismeri.\n" +
		"/ Revokes CERT (a manifest name such as signer-pelda-1, or a hexadecimal serial). A running server\n" +
		"picks the change up with its next response.",
	Flags: func(fs *flag.FlagSet) {
		fs.String("reason", "unspecified", "CRL-ok: kód vagy RFC 5280 név / CRL `reason`: code or RFC 5280 name (keyCompromise, superseded, cessationOfOperation, certificateHold, ...)")
		fs.String("at", "", "a visszavonás időpontja (RFC 3339), alapértelmezés: most; jövőbeli időpont akkor hat / "+
			"revocation `time` (RFC 3339); default now; a future time takes effect then")
	},
	Run: func(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
		if len(args) != 2 {
			return cli.Usagef("egy könyvtár és egy tanúsítvány kell / a directory and a certificate are needed")
		}
		code, err := sandbox.ParseReason(str(fs, "reason"))
		if err != nil {
			return fail(err)
		}
		var when time.Time
		if at := str(fs, "at"); at != "" {
			if when, err = time.Parse(time.RFC3339, at); err != nil {
				return fail(fmt.Errorf("--at: %w", err))
			}
		}
		if err := sandbox.Revoke(args[0], args[1], code, when); err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "sandbox: revoked %s (%s)\n", args[1], sandbox.ReasonName(code))
		return nil
	},
}

var listCmd = &cli.Command{
	Name:    "list",
	Summary: "a sandbox tanúsítványainak listája / list the entities of the sandbox",
	Usage:   "DIR [--json]",
	Help:    "A DIR-beli sandbox tanúsítványai és visszavonásai. / The entities and revocations of the sandbox in DIR.",
	Flags: func(fs *flag.FlagSet) {
		fs.Bool("json", false, "a jegyzék JSON-ként / print the manifest entities as JSON")
	},
	Run: runList,
}

func runList(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	dir, err := oneDir(args)
	if err != nil {
		return err
	}
	w, err := sandbox.Load(dir)
	if err != nil {
		return fail(err)
	}
	revs, err := w.Revocations()
	if err != nil {
		return fail(err)
	}
	if boolean(fs, "json") {
		return cli.WriteJSON(env.Stdout, struct {
			Entities    []*sandbox.Entity    `json:"entities"`
			Revocations []sandbox.Revocation `json:"revocations"`
		}{w.Entities(), revs})
	}
	revoked := map[string]sandbox.Revocation{}
	for _, r := range revs {
		revoked[r.Name] = r
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tOWNER\tKEY\tSERIAL\tNOT AFTER\tSTATE\tSUBJECT")
	for _, e := range w.Entities() {
		state := "valid"
		switch {
		case e.HasTag(sandbox.TagExpired):
			state = "expired"
		case e.HasTag(sandbox.TagNotYetValid):
			state = "not-yet-valid"
		}
		if r, ok := revoked[e.Name]; ok {
			state = "revoked " + r.RevokedAt.Format(time.RFC3339) + " " + sandbox.ReasonName(r.Reason)
		}
		if e.Qualified {
			state += ",qualified"
		}
		owner := e.Owner
		if owner == "" {
			owner = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Role, owner, e.KeyAlgorithm, e.Serial,
			e.NotAfter.Format(time.DateOnly), state, e.Subject)
	}
	return tw.Flush()
}
