// Command receiver is the fund's HTTPS intake service (SPEC §1, §9): `receiver serve --config FILE`
// answers every upload with a signed, time-stamped receipt after storing the package durably, and
// `receiver registry …` keeps the registry of employers registered for e-filing and their signers.
//
// This file only wires: it loads the configuration, opens the keys and stores, builds the services
// (internal/intake, internal/receiver) and runs them. The logic lives in those packages.
package main

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tagdij/tagdij/internal/blob"
	"github.com/tagdij/tagdij/internal/cli"
	"github.com/tagdij/tagdij/internal/config"
	"github.com/tagdij/tagdij/internal/errcode"
	"github.com/tagdij/tagdij/internal/intake"
	"github.com/tagdij/tagdij/internal/keys"
	"github.com/tagdij/tagdij/internal/libxml"
	"github.com/tagdij/tagdij/internal/pathval"
	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/receiptpkg"
	"github.com/tagdij/tagdij/internal/receiver"
	"github.com/tagdij/tagdij/internal/store/sqlite"
	"github.com/tagdij/tagdij/internal/trust"
	"github.com/tagdij/tagdij/internal/tsp"
	"github.com/tagdij/tagdij/policy"
	"github.com/tagdij/tagdij/schema"
)

const programVersion = "0.9"

var commands = []*cli.Command{serveCmd, registryCmd}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with buffers.
func run(ctx context.Context, env *cli.Env, args []string) int {
	return cli.Main(ctx, env, "receiver", commands, args)
}

func configFlag(fs *flag.FlagSet) {
	fs.String("config", "receiver.json", "a fogadó beállításai / the receiver's configuration `FILE`")
}

var serveCmd = &cli.Command{
	Name:    "serve",
	Summary: "a HTTPS fogadószolgáltatás futtatása / run the HTTPS intake service",
	Usage:   "[--config FILE]",
	Help: "Fogadja a csomagokat (POST /v1/packages), minden feltöltésre aláírt, időbélyegzett nyugtával válaszol,\n" +
		"miután a csomagot és adatait tartósan tárolta. Adminisztrációs címen: /healthz, /readyz, /metrics.\n" +
		"SIGTERM: nem fogad újat, befejezi a folyamatban lévő feltöltéseket, majd kilép.\n" +
		"/ Accepts packages (POST /v1/packages) and answers every upload with a signed, time-stamped receipt\n" +
		"after storing the package and its row durably. On the admin address: /healthz, /readyz, /metrics.\n" +
		"SIGTERM: stops accepting, finishes the uploads in progress, then exits.",
	Flags: configFlag,
	Run:   runServe,
}

// services is everything serve and the registry commands open.
type services struct {
	cfg     *config.Receiver
	pol     *policy.Policy
	db      *sqlite.DB
	closers []func()
}

func (s *services) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func openStore(ctx context.Context, env *cli.Env, fs *flag.FlagSet) (*services, error) {
	cfg, err := config.LoadReceiver(fs.Lookup("config").Value.String(), env.Getenv)
	if err != nil {
		return nil, err
	}
	pol, err := policy.Select(cfg.Policy)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return nil, err
	}
	s := &services{cfg: cfg, pol: pol, db: db}
	s.closers = append(s.closers, func() { db.Close() })
	return s, nil
}

func runServe(ctx context.Context, env *cli.Env, fs *flag.FlagSet, args []string) error {
	if len(args) != 0 {
		return cli.Usagef("nem vár argumentumot / takes no arguments")
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, nil)).With("program", "receiver")
	s, err := openStore(ctx, env, fs)
	if err != nil {
		return err
	}
	defer s.Close()
	cfg := s.cfg
	tenv, err := trust.Load(cfg.Trust, "", s.pol)
	if err != nil {
		return err
	}
	in, _ := env.Stdin.(*os.File)
	tlsKey, err := keys.OpenSpecs(ctx, cfg.TLSKey, cfg.TLSSecret, in, env.Stderr, "TLS kulcs jelszava/PIN / TLS key password or PIN")
	if err != nil {
		return fmt.Errorf("tlsKey: %w", err)
	}
	s.closers = append(s.closers, func() { tlsKey.Close() })
	rkey, err := keys.OpenSpecs(ctx, cfg.ReceiptKey, cfg.ReceiptSecret, in, env.Stderr, "Nyugtakulcs jelszava/PIN / Receipt key password or PIN")
	if err != nil {
		return fmt.Errorf("receiptKey: %w", err)
	}
	s.closers = append(s.closers, func() { rkey.Close() })
	tlsCert, err := serverCertificate(cfg, tlsKey)
	if err != nil {
		return err
	}
	// SEC-14: the receipt key is never the TLS key; refuse to start otherwise.
	if err := s.pol.CheckReceiptKey(rkey.Certificate(), tlsCert.Leaf); err != nil {
		return fmt.Errorf("receiptKey (SEC-14): %w", err)
	}
	tsa := &tsp.Client{URL: cfg.TSAURL, HTTP: tsp.NewHTTPClient(cmp.Or(cfg.Limits.MaxConcurrentUploads, receiver.DefaultLimits().MaxConcurrentUploads)), Trust: pathval.TSAVerifier{Anchors: tenv.TSAs, Algorithms: tenv.Algorithms(), SigCache: tenv.SigCache},
		ParseCertificates: tenv.SigCache.ParseCertificates}
	blobs, err := blob.Open(cfg.BlobDir())
	if err != nil {
		return err
	}
	schemas, err := schema.Load(libxml.Parser{})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, schemas.Close)
	signer := &intake.KeySigner{Options: receiptpkg.BuildOptions{Signer: rkey, Certificate: rkey.Certificate(), Chain: rkey.Chain(),
		TLSCertificates: []*x509.Certificate{tlsCert.Leaf}, Policy: s.pol, TSA: tsa, Generator: "Tagdíj receiver " + programVersion, Logger: log}}
	fund := receipt.Fund{Code: cfg.Fund.Code, Name: cfg.Fund.Name}
	svc, err := intake.New(intake.Config{Fund: fund, Env: tenv, Schemas: schemas, Blobs: blobs, Store: s.db,
		Signers: &intake.RegistrySigners{Store: s.db.Registry()}, Receipt: signer, MaxBytes: cfg.MaxPackageBytes, Logger: log})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	l := cfg.Limits
	api := receiver.New(svc, s.db, receiver.Options{Logger: log, Metrics: receiver.NewMetrics(reg),
		Limits: receiver.Limits{MaxConcurrentUploads: l.MaxConcurrentUploads, MaxInFlightBytes: l.MaxInFlightBytes, PerAddressRate: l.PerAddressRate, PerAddressBurst: l.PerAddressBurst, MinBodyRate: l.MinBodyRate},
		PanicReceipt: func(ctx context.Context) []byte {
			r := receipt.NewRejection(receipt.ReceivedPackage{}, time.Now(), fund, []errcode.Finding{errcode.New(errcode.R001, "", "belső hiba / internal error")})
			if b, _, err := signer.SignUnstamped(ctx, r); err == nil {
				return b
			}
			return nil
		}})
	mux := http.NewServeMux()
	api.Route(mux)
	srv := receiver.Server(mux, []tls.Certificate{tlsCert}, receiver.DefaultServerTimeouts(), log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		ln.Close()
		return err
	}
	admin := &http.Server{Handler: receiver.Admin(reg, readiness(s.db, blobs, rkey, tsa), log), ReadHeaderTimeout: 5 * time.Second}
	errs := make(chan error, 2)
	go func() { errs <- srv.ServeTLS(ln, "", "") }()
	go func() { errs <- admin.Serve(adminLn) }()
	log.Info("listening", slog.String("event", "receiver.started"), slog.String("listen", ln.Addr().String()),
		slog.String("admin", adminLn.Addr().String()), slog.String("data", cfg.DataDir), slog.String("policy", s.pol.ID()))
	select {
	case <-ctx.Done():
	case err := <-errs:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	// Graceful shutdown: stop accepting, let uploads in progress finish (their receipts are stored
	// before they are sent), then close the stores.
	log.Info("shutting down", slog.String("event", "receiver.stopping"))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	err = srv.Shutdown(sctx)
	admin.Shutdown(sctx)
	log.Info("stopped", slog.String("event", "receiver.stopped"))
	return err
}

// serverCertificate builds the TLS certificate: the key's own certificate and chain, or the PEM file
// tlsCert names (which must hold the key's certificate first).
func serverCertificate(cfg *config.Receiver, key keys.Key) (tls.Certificate, error) {
	certs := append([]*x509.Certificate{key.Certificate()}, key.Chain()...)
	if cfg.TLSCert != "" {
		fromFile, err := trust.ReadCertificates(cfg.TLSCert)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("tlsCert: %w", err)
		}
		if !fromFile[0].Equal(key.Certificate()) {
			return tls.Certificate{}, errors.New("tlsCert: az első tanúsítvány nem a TLS-kulcsé / the first certificate is not the TLS key's")
		}
		certs = fromFile
	}
	tc := tls.Certificate{PrivateKey: key, Leaf: certs[0]}
	for _, c := range certs {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc, nil
}

// readiness: the store is writable, the receipt key signs, the TSA answers (cached for 30 s: a
// probe every few seconds must not cost a time-stamp each).
func readiness(db *sqlite.DB, blobs *blob.Store, rkey keys.Key, tsa *tsp.Client) []receiver.Check {
	var mu sync.Mutex
	var tsaOK time.Time
	return []receiver.Check{
		{Name: "store", Run: func(ctx context.Context) error { return db.Ping(ctx) }},
		{Name: "blobs", Run: func(ctx context.Context) error { return blobs.Writable() }},
		{Name: "receiptKey", Run: func(ctx context.Context) error {
			sum := sha256.Sum256([]byte("readyz"))
			_, err := rkey.Sign(rand.Reader, sum[:], crypto.SHA256)
			return err
		}},
		{Name: "tsa", Run: func(ctx context.Context) error {
			mu.Lock()
			fresh := time.Since(tsaOK) < 30*time.Second
			mu.Unlock()
			if fresh {
				return nil
			}
			if _, err := tsa.StampData(ctx, []byte("readyz")); err != nil {
				return err
			}
			mu.Lock()
			tsaOK = time.Now()
			mu.Unlock()
			return nil
		}},
	}
}
