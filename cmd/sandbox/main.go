// Command sandbox creates and serves Tagdíj's local test PKI and test trust
// services (RFC 3161 TSA, OCSP responder, CRL distribution) on loopback.
//
//	sandbox init DIR [--listen 127.0.0.1:8901] [--softhsm]
//	sandbox serve DIR [--listen 127.0.0.1:8901]
//	sandbox revoke DIR CERT [--reason R] [--at TIME]
//	sandbox list DIR [--json]
//
// Exit status: 0 success, 3 usage or system error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tagdij/tagdij/internal/keys/softhsm"
	"github.com/tagdij/tagdij/internal/sandbox"
)

const (
	exitOK    = 0
	exitError = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: sandbox <command> [arguments]

Tagdíj sandbox: local test PKI and trust services (TSA, OCSP, CRL) on loopback.
Tagdíj sandbox: helyi teszt PKI és bizalmi szolgáltatások (időbélyeg, OCSP, CRL) loopback címen.

Commands:
  init DIR    create a new test PKI in DIR
  serve DIR   serve the TSA, OCSP responder and CRLs of DIR
  revoke DIR CERT
              revoke a certificate (manifest name or hex serial)
  list DIR    list the entities of DIR

Run "sandbox <command> --help" for the options of a command.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"init": cmdInit, "serve": cmdServe, "revoke": cmdRevoke, "list": cmdList,
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sandbox: unknown command %q (ismeretlen parancs)\n\n%s", args[0], usage)
		return exitError
	}
	return cmd(args[1:], stdout, stderr)
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("revoke DIR CERT --reason 1").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(name, synopsis, desc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sandbox %s\n\n%s\n\nOptions:\n", synopsis, desc)
		fs.PrintDefaults()
	}
	return fs
}

// flagResult maps a flag parsing error to an exit status (--help is success).
func flagResult(err error, stdout io.Writer, fs *flag.FlagSet) int {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	return exitError
}

func fail(stderr io.Writer, err error) int {
	msg := err.Error()
	if !strings.HasPrefix(msg, "sandbox:") {
		msg = "sandbox: " + msg
	}
	fmt.Fprintln(stderr, msg)
	return exitError
}

func cmdInit(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("init", "init DIR [options]",
		"Create a new test PKI in DIR (CAs, TSA, OCSP responder, demo signers, encryption,\nreceipt and TLS certificates). Új teszt PKI létrehozása.", stderr)
	listen := fs.String("listen", "127.0.0.1:8901", "loopback `address` the sandbox will be served at; goes into the certificates' AIA/CRL URLs")
	now := fs.String("now", "", "build validity windows around this `time` (RFC 3339) instead of the current time")
	rootKey := fs.String("root-key", string(sandbox.ECDSAP384), "root CA key `algorithm` (RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384)")
	caKey := fs.String("ca-key", string(sandbox.ECDSAP384), "issuing CA key `algorithm`")
	tsaKey := fs.String("tsa-key", string(sandbox.RSA2048), "TSA unit key `algorithm`")
	ocspKey := fs.String("ocsp-key", string(sandbox.ECDSAP256), "OCSP responder key `algorithm`")
	withHSM := fs.Bool("softhsm", false, "also import the signer, receipt and fund decryption keys into a SoftHSM2 token in DIR/softhsm (needs softhsm2)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagResult(err, stdout, fs)
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError
	}
	opts := sandbox.InitOptions{
		BaseURL: "http://" + *listen,
		RootKey: sandbox.KeyAlg(*rootKey), CAKey: sandbox.KeyAlg(*caKey),
		TSAKey: sandbox.KeyAlg(*tsaKey), OCSPKey: sandbox.KeyAlg(*ocspKey),
	}
	if *now != "" {
		if opts.Now, err = time.Parse(time.RFC3339, *now); err != nil {
			return fail(stderr, fmt.Errorf("--now: %w", err))
		}
	}
	start := time.Now()
	if err := sandbox.Init(pos[0], opts); err != nil {
		return fail(stderr, err)
	}
	w, err := sandbox.Load(pos[0])
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "sandbox: created %d certificates in %s (%.1fs); base URL %s\n",
		len(w.Entities()), w.Dir, time.Since(start).Seconds(), w.BaseURL())
	fmt.Fprintf(stdout, "sandbox: PKCS#12 password in %s\n", w.PasswordFile())
	fmt.Fprintf(stdout, "sandbox: trust configuration in %s (use --trust %s --policy sandbox)\n",
		w.Path(sandbox.TrustConfigFile), w.Path(sandbox.TrustConfigFile))
	if *withHSM {
		// SoftHSM2 reads SOFTHSM2_CONF when this process first loads the module.
		conf := sandbox.SoftHSMConfPath(w)
		if err := os.Setenv(softhsm.ConfEnv, conf); err != nil {
			return fail(stderr, err)
		}
		info, err := sandbox.ImportToSoftHSM(context.Background(), w, sandbox.SoftHSMOptions{})
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "sandbox: SoftHSM2 token %q with %d keys; PIN in %s; key specs in %s\n",
			info.TokenLabel, len(info.Keys), w.Path(info.PINFile), w.Path(sandbox.SoftHSMFile))
		fmt.Fprintf(stdout, "sandbox: before using the token run / a token használata előtt:\n  export %s=%s\n", softhsm.ConfEnv, conf)
	}
	return exitOK
}

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve DIR [options]",
		"Serve the TSA (POST /tsa), OCSP responder (POST /ocsp, GET /ocsp/...), CRLs\n(GET /crl/NAME.crl) and CA certificates (GET /ca/NAME.crt) of DIR on a loopback\naddress until SIGINT/SIGTERM. Prints \"sandbox: ready pid=PID url=URL\" when listening.", stderr)
	listen := fs.String("listen", "", "loopback `address` to listen on (default: the host:port of the sandbox's base URL)")
	caSigned := fs.Bool("ocsp-ca-signed", false, "sign the qualified CA's OCSP responses with the CA key instead of the delegated responder")
	ocspValidity := fs.Duration("ocsp-validity", time.Hour, "OCSP nextUpdate − thisUpdate")
	crlValidity := fs.Duration("crl-validity", 24*time.Hour, "CRL nextUpdate − thisUpdate")
	pidFile := fs.String("pid-file", "", "write the process id to this `file`")
	logJSON := fs.Bool("log-json", false, "log as JSON instead of text")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagResult(err, stdout, fs)
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError
	}
	w, err := sandbox.Load(pos[0])
	if err != nil {
		return fail(stderr, err)
	}
	addr := *listen
	if addr == "" {
		u, err := url.Parse(w.BaseURL())
		if err != nil {
			return fail(stderr, err)
		}
		addr = u.Host
	}
	ln, err := sandbox.Listen(addr)
	if err != nil {
		return fail(stderr, err)
	}
	if want := strings.TrimPrefix(w.BaseURL(), "http://"); want != ln.Addr().String() {
		fmt.Fprintf(stderr, "sandbox: warning: listening on %s but the certificates point at %s\n", ln.Addr(), w.BaseURL())
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logJSON {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	if *pidFile != "" {
		if err := os.WriteFile(*pidFile, fmt.Appendf(nil, "%d\n", os.Getpid()), 0o644); err != nil {
			ln.Close()
			return fail(stderr, err)
		}
		defer os.Remove(*pidFile)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	handler := w.Handler(sandbox.ServeOptions{Logger: log, OCSPSignedByCA: *caSigned, OCSPValidity: *ocspValidity, CRLValidity: *crlValidity})
	fmt.Fprintf(stdout, "sandbox: ready pid=%d url=http://%s\n", os.Getpid(), ln.Addr())
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	if err := sandbox.Serve(ctx, ln, handler); err != nil {
		return fail(stderr, err)
	}
	log.Info("sandbox: stopped")
	return exitOK
}

func cmdRevoke(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("revoke", "revoke DIR CERT [--reason R] [--at TIME]",
		"Revoke CERT (a manifest name such as signer-pelda-1, or a hexadecimal serial).\nA running server picks the change up with its next response. Tanúsítvány visszavonása.", stderr)
	reason := fs.String("reason", "unspecified", "CRL `reason`: code or RFC 5280 name (keyCompromise, superseded, cessationOfOperation, certificateHold, ...)")
	at := fs.String("at", "", "revocation `time` (RFC 3339); default now; a future time takes effect then")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagResult(err, stdout, fs)
	}
	if len(pos) != 2 {
		fs.Usage()
		return exitError
	}
	code, err := sandbox.ParseReason(*reason)
	if err != nil {
		return fail(stderr, err)
	}
	var when time.Time
	if *at != "" {
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return fail(stderr, fmt.Errorf("--at: %w", err))
		}
	}
	if err := sandbox.Revoke(pos[0], pos[1], code, when); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "sandbox: revoked %s (%s)\n", pos[1], sandbox.ReasonName(code))
	return exitOK
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("list", "list DIR [--json]", "List the entities of the sandbox in DIR. A sandbox tanúsítványainak listája.", stderr)
	asJSON := fs.Bool("json", false, "print the manifest entities as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagResult(err, stdout, fs)
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitError
	}
	w, err := sandbox.Load(pos[0])
	if err != nil {
		return fail(stderr, err)
	}
	revs, err := w.Revocations()
	if err != nil {
		return fail(stderr, err)
	}
	revoked := map[string]sandbox.Revocation{}
	for _, r := range revs {
		revoked[r.Name] = r
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Entities    []*sandbox.Entity    `json:"entities"`
			Revocations []sandbox.Revocation `json:"revocations"`
		}{w.Entities(), revs}); err != nil {
			return fail(stderr, err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
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
	tw.Flush()
	return exitOK
}
